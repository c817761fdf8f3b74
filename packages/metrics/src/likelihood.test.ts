import { describe, expect, it } from 'vitest'
import { Rng, vectors, type Samples } from '@ouroboros/core'
import { likelihood } from './likelihood.js'
import { evaluate, gaussianSamples } from '../fixtures/load.js'

/** log N(x; 0, 1) per point. */
const standardNormal = {
  async logLikelihood(data: Samples) {
    const x = (data as { data: Float64Array }).data
    return x.map((v) => -0.5 * Math.log(2 * Math.PI) - 0.5 * v * v)
  },
}

describe('likelihood', () => {
  const real = gaussianSamples(10, 1, Rng.from(1))

  it('is the mean negative log-likelihood of the held-out data', async () => {
    const heldout = vectors(3, 1, Float64Array.of(-1, 0, 2))
    const got = await evaluate(likelihood, { real, generated: real, heldout, model: standardNormal })
    // ½ ln 2π + mean(x²)/2 = ½ ln 2π + (1 + 0 + 4)/6.
    expect(got.nll_real).toBeCloseTo(0.5 * Math.log(2 * Math.PI) + 5 / 6, 14)
  })

  it('approaches the entropy of N(0, 1) on a large held-out sample from it', async () => {
    const heldout = gaussianSamples(200_000, 1, Rng.from(2))
    const got = await evaluate(likelihood, { real, generated: real, heldout, model: standardNormal })
    // Entropy ½ ln(2πe); SD of the mean = SD(x²/2)/√n = (√2/2)/√n.
    expect(Math.abs(got.nll_real! - 0.5 * Math.log(2 * Math.PI * Math.E))).toBeLessThan(4 * (Math.SQRT2 / 2) / Math.sqrt(200_000))
  })

  it('is null without a held-out set or a model likelihood', async () => {
    expect(await evaluate(likelihood, { real, generated: real, model: standardNormal })).toEqual({ nll_real: null })
    expect(await evaluate(likelihood, { real, generated: real, heldout: real, model: { summary: {} } })).toEqual({ nll_real: null })
  })
})
