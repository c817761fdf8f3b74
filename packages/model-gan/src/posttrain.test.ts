import { describe, expect, it } from 'vitest'
import { ErrorCode, Rng, type TrainerOptions, type VectorSamples } from '@ouroboros/core'
import { loadTf, type NamedWeights } from '@ouroboros/tf'
import { ringDataset, ringSamples, ringTask } from '@ouroboros/testkit'
import { model, type GanState } from './index.js'

// Small networks on the deterministic cpu backend.
process.env['OUROBOROS_BACKEND'] = 'cpu'

const dataset = ringDataset
const options = (reference: GanState, extra: Partial<TrainerOptions<GanState>> = {}): TrainerOptions<GanState> => ({ rng: Rng.from(0, 'post'), dataset, anchor: 0, reference, ...extra })

/** Share of n samples of the state within 0.5 of mode 0 or 1 (neighbouring centres are 1.53 apart). */
async function taskShare(state: GanState, n = 2000): Promise<number> {
  const s = (await model.sample(state, n, { rng: Rng.from(99), temperature: 1, dataset })) as VectorSamples
  const { centers } = ringDataset.modes!
  let near = 0
  for (let i = 0; i < n; i++) {
    for (const m of [0, 1]) if (Math.hypot(s.data[2 * i]! - centers[2 * m]!, s.data[2 * i + 1]! - centers[2 * m + 1]!) < 0.5) near++
  }
  return near / n
}

const flat = (ws: readonly NamedWeights[]): Float64Array => Float64Array.from(ws.flatMap((w) => Array.from(w.data)))
const maxDistance = (a: readonly NamedWeights[], b: readonly NamedWeights[]): number => {
  const x = flat(a)
  const y = flat(b)
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0)
}

describe('gan post-training', () => {
  const params = model.params.parse({ steps: 400, batch: 64, generator: [32, 32], discriminator: [32, 32], lr: 1e-3 })
  const pretrained = model.fit(ringSamples(2000, Rng.from(1)), params, { rng: Rng.from(1, 'fit'), generation: 0, dataset })
  const task = ringTask([1, 1, 0, 0, 0, 0, 0, 0])
  const finetune = async (anchor: number, steps: number, seed = 0) => {
    const start = await pretrained
    const trainer = await model.trainer!(start, params, options(start, { anchor, rng: Rng.from(seed, 'post') }))
    const rng = Rng.from(2)
    for (let s = 0; s < steps; s++) {
      const items = task.sample(trainer.batch as number, rng)
      await trainer.step(items, new Float64Array(items.n).fill(1))
    }
    return trainer.state()
  }
  const unanchored = finetune(0, 200)

  it('moves its samples to the task modes 0 and 1', async () => {
    // A GAN of the whole ring puts at most about 2/8 of its samples near them.
    expect(await taskShare(await pretrained)).toBeLessThan(0.3)
    expect(await taskShare(await unanchored)).toBeGreaterThan(0.8)
  })

  it('with a large anchor keeps the generator near the reference, and leaves the discriminator free', async () => {
    const start = await pretrained
    const anchored = await finetune(1e4, 200)
    // The generator's anchored optimum lies within max|∇ generator loss|/anchor of the start, about
    // 1e-4 here; Adam, whose steps are about lr = 1e-3 whatever the gradient's scale, moves around
    // it by about lr as each step's noise z moves the gradient.
    const g = maxDistance(anchored.generator, start.generator)
    expect(g).toBeLessThan(2e-3)
    expect(g).toBeLessThan(maxDistance((await unanchored).generator, start.generator) / 20)
    expect(maxDistance(anchored.discriminator, start.discriminator)).toBeGreaterThan(10 * g)
    expect(await taskShare(anchored)).toBeLessThan(0.3)
  })

  it('continues from the state: both networks start as the state has them, and a step moves both', async () => {
    const start = await pretrained
    const trainer = await model.trainer!(start, params, options(start))
    expect(await trainer.state()).toEqual(start)
    const items = task.sample(trainer.batch as number, Rng.from(3))
    await trainer.step(items, new Float64Array(items.n).fill(2))
    const after = await trainer.state()
    expect(after.steps).toBe(start.steps + 1)
    expect(flat(after.generator)).not.toEqual(flat(start.generator))
    expect(flat(after.discriminator)).not.toEqual(flat(start.discriminator))
  })

  it('leaves no tensors behind', async () => {
    const { tf } = await loadTf()
    const start = await pretrained
    const before = tf.memory().numTensors
    const trainer = await model.trainer!(start, params, options(start, { anchor: 1 }))
    for (let s = 0; s < 2; s++) await trainer.step(task.sample(trainer.batch as number, Rng.from(s)), new Float64Array(trainer.batch as number).fill(1))
    await trainer.state()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('gives the same steps for a seed and other steps for another, and snapshots that survive structuredClone', async () => {
    const a = await finetune(0.1, 3, 5)
    expect(await finetune(0.1, 3, 5)).toEqual(a)
    expect(flat((await finetune(0.1, 3, 6)).generator)).not.toEqual(flat(a.generator))
    const sampleCtx = () => ({ rng: Rng.from(7), temperature: 1, dataset })
    expect(await model.sample(structuredClone(a), 100, sampleCtx())).toEqual(await model.sample(a, 100, sampleCtx()))
  })

  it('takes the real rows of every critic update of an iteration: batch × pack × critic updates', async () => {
    const wgan = model.params.parse({ loss: 'wgan-gp', steps: 2, batch: 8, pack: 2, generator: [8], discriminator: [8] })
    const start = await model.fit(ringSamples(100, Rng.from(4)), wgan, { rng: Rng.from(4), generation: 0, dataset })
    const trainer = await model.trainer!(start, wgan, options(start))
    // wgan-gp updates the critic 5 times per generator update.
    expect(trainer.batch).toBe(8 * 2 * 5)
    const items = task.sample(80, Rng.from(5))
    const report = await trainer.step(items, new Float64Array(80).fill(1))
    for (const v of Object.values(report.losses!)) expect(Number.isFinite(v)).toBe(true)
    expect(() => trainer.step(task.sample(79, Rng.from(5)), new Float64Array(79).fill(1))).toThrow(/a step takes 80 items \(batch 8 × pack 2 × 5 critic updates\), got 79/)
  })

  it('refuses unequal weights, naming the stages', async () => {
    const start = await pretrained
    const trainer = await model.trainer!(start, params, options(start))
    const items = task.sample(trainer.batch as number, Rng.from(6))
    const weights = new Float64Array(items.n).fill(1)
    weights[5] = 0.5
    let err: unknown
    try {
      await trainer.step(items, weights)
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: ErrorCode.INPUT, message: expect.stringMatching(/^gan post-training step: item 5 has weight 0\.5, item 0 1; a GAN takes a step's items as its real batch/) })
    expect((err as { hint: string }).hint).toMatch(/finetune trains a GAN; the rl stage's reward weights cannot \(use best-of-n\)/)
  })
})
