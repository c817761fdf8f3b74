import { describe, expect, it } from 'vitest'
import { ErrorCode, Rng, vectors, type FitContext } from '@ouroboros/core'
import { loadTf } from '@ouroboros/tf'
import { ringDataset, ringSamples } from '@ouroboros/testkit'
import { model, type VaeState } from './index.js'

/** The ring of METRICS.md, as runs draw it. */
const dataset = ringDataset

const ctx = (seed: number, extra: Partial<FitContext<VaeState>> = {}): FitContext<VaeState> => ({ rng: Rng.from(seed, 'fit'), generation: 0, dataset, ...extra })

describe('vae', () => {
  it('learns the ring: most samples land near a mode, and every mode gets some, after a short training', async () => {
    const params = model.params.parse({ epochs: 40, batch: 32, lr: 3e-3, hidden: [64, 64] })
    const state = await model.fit(ringSamples(2000, Rng.from(1)), params, ctx(1))
    expect(state.steps).toBe(40 * Math.ceil(2000 / 32))
    const s = await model.sample(state, 2000, { rng: Rng.from(2), temperature: 1, dataset })
    // Near = within 0.3 of a mode centre. Samples spread evenly around the circle of radius 2
    // would be near a mode with probability 8 · 2 asin(0.3/4) / 2π = 0.38; neighbouring centres are
    // 1.53 apart, so a VAE that blurs the modes together puts its mass in the gaps between them.
    const perMode = new Array<number>(8).fill(0)
    for (let i = 0; i < s.n; i++) {
      for (let k = 0; k < 8; k++) {
        const t = (2 * Math.PI * k) / 8
        if (Math.hypot(s.data[2 * i]! - 2 * Math.cos(t), s.data[2 * i + 1]! - 2 * Math.sin(t)) < 0.3) perMode[k]!++
      }
    }
    const near = perMode.reduce((a, b) => a + b, 0)
    expect(near / s.n).toBeGreaterThan(0.5)
    for (const count of perMode) expect(count / s.n).toBeGreaterThan(0.02)
  })

  it('reports a blown-up training as a diverged generation', async () => {
    const err = await model.fit(ringSamples(500, Rng.from(3)), model.params.parse({ epochs: 5, hidden: [16], lr: 1e6 }), ctx(3)).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: ErrorCode.DIVERGED })
    expect((err as Error).message).toMatch(/NaN or infinite/)
  })

  it('trains the same with and without training-curve reports, and leaves no tensors behind', async () => {
    const { tf } = await loadTf()
    const data = ringSamples(256, Rng.from(10))
    const params = model.params.parse({ epochs: 2, hidden: [8], batch: 64, evalSamples: 20 })
    const fit = async (evalEvery: number) => {
      const state = await model.fit(data, { ...params, evalEvery }, ctx(10, { onTrainingStep: async () => {} }))
      return (await model.sample(state, 50, { rng: Rng.from(11), temperature: 1, dataset })).data
    }
    const before = tf.memory().numTensors
    const quiet = await fit(0)
    expect(await fit(2)).toEqual(quiet)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('reports losses and samples every evalEvery steps', async () => {
    const seen: { step: number; negElbo: number; n: number }[] = []
    await model.fit(
      ringSamples(256, Rng.from(4)),
      model.params.parse({ epochs: 2, hidden: [8], batch: 64, evalEvery: 3, evalSamples: 50 }),
      ctx(4, {
        onTrainingStep: async (step, report) => {
          seen.push({ step, negElbo: report.losses!['neg_elbo']!, n: report.samples!.n })
        },
      }),
    )
    expect(seen.map((s) => s.step)).toEqual([3, 6])
    for (const s of seen) {
      expect(Number.isFinite(s.negElbo)).toBe(true)
      expect(s.n).toBe(50)
    }
  })

  it('models pixels in [0, 1] with a Bernoulli likelihood and refuses data outside', async () => {
    const rng = Rng.from(5)
    const pixels = vectors(64, 12, Float64Array.from({ length: 64 * 12 }, () => (rng.uniform() < 0.3 ? 1 : 0)))
    const params = model.params.parse({ likelihood: 'bernoulli', hidden: [8], latent: 3, epochs: 2, batch: 16 })
    const state = await model.fit(pixels, params, ctx(5))
    const s = await model.sample(state, 20, { rng: Rng.from(6), temperature: 1, dataset })
    expect(s.d).toBe(12)
    for (const v of s.data) expect(v > 0 && v < 1).toBe(true)
    await expect(model.fit(ringSamples(64, Rng.from(7)), params, ctx(7))).rejects.toMatchObject({ code: ErrorCode.INPUT })
  })

  it('warm-starts from the previous weights and refuses another architecture', async () => {
    const params = model.params.parse({ epochs: 1, hidden: [8], batch: 64 })
    const data = ringSamples(256, Rng.from(8))
    const first = await model.fit(data, params, ctx(8))
    const warm = await model.fit(data, params, ctx(9, { init: first }))
    const cold = await model.fit(data, params, ctx(9))
    // One epoch from the previous weights ends closer to them than one epoch from scratch.
    const dist = (a: VaeState, b: VaeState) => a.weights.reduce((s, w, i) => s + w.data.reduce((t, v, j) => t + (v - b.weights[i]!.data[j]!) ** 2, 0), 0)
    expect(dist(warm, first)).toBeLessThan(dist(cold, first))
    await expect(model.fit(data, model.params.parse({ ...params, hidden: [9] }), ctx(9, { init: first }))).rejects.toThrow(/warm start/)
  })
})
