import { describe, expect, it } from 'vitest'
import { ErrorCode, Rng, samplesAreFinite } from '@ouroboros/core'
import { loadTf } from '@ouroboros/tf'
import { ringDataset, ringSamples } from '@ouroboros/testkit'
import { model, type GanParams } from './index.js'

/** The ring of METRICS.md, as runs draw it. */
const dataset = ringDataset

const small = { steps: 10, batch: 32, generator: [16, 16], discriminator: [16, 16], lr: 1e-3 }

describe('gan params', () => {
  it("fills in the settings each loss is trained with (Arjovsky et al.'s RMSprop and 5 critic steps for WGAN), where the config leaves them out", () => {
    expect(model.params.parse({ loss: 'wgan' })).toMatchObject({ optimizer: 'rmsprop', dSteps: 5, lrG: 1e-4, lrD: 1e-4 })
    expect(model.params.parse({ loss: 'wgan-gp', lr: 3e-4 })).toMatchObject({ optimizer: 'adam', dSteps: 5, lrG: 3e-4, lrD: 3e-4 })
    expect(model.params.parse({ loss: 'hinge', lrD: 4e-4 })).toMatchObject({ optimizer: 'adam', dSteps: 1, lrG: 1e-4, lrD: 4e-4 })
    // Given, they stand; Adam's betas are then WGAN's too.
    expect(model.params.parse({ loss: 'wgan', optimizer: 'adam', beta1: 0, dSteps: 2 })).toMatchObject({ optimizer: 'adam', beta1: 0, dSteps: 2 })
  })
})

describe('gan variants', () => {
  const variants: Record<string, Partial<GanParams>> = {
    minimax: { loss: 'minimax' },
    'non-saturating': { loss: 'non-saturating' },
    wgan: { loss: 'wgan' },
    'wgan-gp': { loss: 'wgan-gp' },
    hinge: { loss: 'hinge' },
    ttur: { lrG: 1e-4, lrD: 4e-4 },
    'minibatch stddev': { minibatchStddev: true },
    unrolled: { unrolledSteps: 3 },
    'spectral norm': { spectralNorm: true, loss: 'hinge' },
    'pack 4': { pack: 4 },
    'wgan-gp + spectral norm + pack': { loss: 'wgan-gp', spectralNorm: true, pack: 2 },
    'everything but the penalty': { minibatchStddev: true, unrolledSteps: 2, spectralNorm: true, pack: 3, lrD: 2e-3 },
  }
  for (const [name, extra] of Object.entries(variants)) {
    it(`${name}: trains a few steps to finite samples and losses`, async () => {
      const data = ringSamples(400, Rng.from(1))
      const losses: Record<string, number>[] = []
      const params = model.params.parse({ ...small, ...extra, evalEvery: 5, evalSamples: 64 })
      const state = await model.fit(data, params, {
        rng: Rng.from(2),
        generation: 0,
        dataset,
        onTrainingStep: async (step, report) => {
          losses.push(report.losses!)
          expect(report.samples!.n).toBe(64)
          expect(samplesAreFinite(report.samples!)).toBe(true)
        },
      })
      expect(losses).toHaveLength(2)
      for (const l of losses) for (const v of Object.values(l)) expect(Number.isFinite(v)).toBe(true)
      const s = await model.sample(state, 100, { rng: Rng.from(3), temperature: 1, dataset })
      expect(s.n).toBe(100)
      expect(samplesAreFinite(s)).toBe(true)
    })
  }
})

describe('gan', () => {
  it('trains the same with and without training-curve reports, and leaves no tensors behind', async () => {
    const { tf } = await loadTf()
    const data = ringSamples(400, Rng.from(6))
    const params = model.params.parse({ ...small, spectralNorm: true, minibatchStddev: true })
    const fit = async (evalEvery: number) => {
      const state = await model.fit(data, { ...params, evalEvery, evalSamples: 32 }, { rng: Rng.from(6), generation: 0, dataset, onTrainingStep: async () => {} })
      return (await model.sample(state, 50, { rng: Rng.from(7), temperature: 1, dataset })).data
    }
    const before = tf.memory().numTensors
    const quiet = await fit(0)
    expect(await fit(3)).toEqual(quiet)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('reports a blown-up training as a diverged generation', async () => {
    const params = model.params.parse({ ...small, steps: 200, lr: 1e6 })
    const err = await model.fit(ringSamples(400, Rng.from(4)), params, { rng: Rng.from(4), generation: 3, dataset }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: ErrorCode.DIVERGED })
    // The weights grow without bound while every value stays finite: caught by the sample scale.
    expect((err as Error).message).toMatch(/^gan generation 3: the generated samples have a root-mean-square norm of [0-9.e+]+, over 1000x the training data's 2\.00/)
  })

  it('keeps the critic weights inside the clipping bound with the wgan loss', async () => {
    const params = model.params.parse({ ...small, loss: 'wgan', clip: 0.05, lr: 1e-2 })
    const state = await model.fit(ringSamples(400, Rng.from(5)), params, { rng: Rng.from(5), generation: 0, dataset })
    for (const w of state.discriminator) for (const v of w.data) expect(Math.abs(v)).toBeLessThanOrEqual(0.05 + 1e-7)
  })
})
