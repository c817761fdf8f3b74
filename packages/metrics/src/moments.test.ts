import { describe, expect, it } from 'vitest'
import { vectors } from '@ouroboros/core'
import { moments } from './moments.js'
import { evaluate, readFixture, toVectors, type Points } from '../fixtures/load.js'

interface MomentsCase {
  name: string
  generated: Points
  real?: Points
  gaussian?: { mean: number; std: number } | null
  expected: Record<string, number | null>
}

describe('moments against numpy (fixtures/moments.json)', () => {
  for (const c of readFixture<MomentsCase>('moments.json').cases) {
    it(c.name, async () => {
      const generated = toVectors(c.generated)
      const real = c.real === undefined ? generated : toVectors(c.real)
      const dataset = { kind: 'test', modality: 'vectors' as const, ...(c.gaussian ? { gaussian: c.gaussian } : {}) }
      const got = await evaluate(moments, { real, generated, dataset })
      for (const name of moments.outputs) {
        const want = c.expected[name]
        if (want === null || want === undefined) expect(got[name]).toBeNull()
        else expect(got[name]).toBeCloseTo(want, 11)
      }
    })
  }
})

describe('moments with a fitted Gaussian', () => {
  const generated = vectors(4, 1, Float64Array.of(-1, 0, 1, 2))
  const dataset = { kind: 'gaussian', modality: 'vectors' as const, gaussian: { mean: 0, std: 1 } }

  it('uses the model’s mean and covariance for everything but total_variance', async () => {
    const model = { summary: { mean: Float64Array.of(0.5), covariance: Float64Array.of(0.25) } }
    const got = await evaluate(moments, { real: generated, generated, dataset, model })
    // Sample variance of {-1, 0, 1, 2} is 1.25; the fit says σ² = 0.25, μ = 0.5.
    expect(got.total_variance).toBeCloseTo(1.25, 14)
    expect(got.log_variance).toBeCloseTo(Math.log(0.25), 14)
    expect(got.log_det_cov).toBeCloseTo(Math.log(0.25), 14)
    expect(got.w2_to_reference).toBeCloseTo(0.5 ** 2 + (0.5 - 1) ** 2, 14)
  })

  it('uses the sample moments when asked not to use the fit', async () => {
    const model = { summary: { mean: Float64Array.of(0.5), covariance: Float64Array.of(0.25) } }
    const got = await evaluate(moments, { real: generated, generated, dataset, model, options: { useModelFit: false } })
    expect(got.log_variance).toBeCloseTo(Math.log(1.25), 14)
    expect(got.w2_to_reference).toBeCloseTo(0.5 ** 2 + (Math.sqrt(1.25) - 1) ** 2, 14)
  })

  it('gives null where a log is undefined: a collapsed fit, a singular covariance', async () => {
    const model = { summary: { mean: Float64Array.of(3), covariance: Float64Array.of(0) } }
    const got = await evaluate(moments, { real: generated, generated, dataset, model })
    expect(got.log_variance).toBeNull()
    expect(got.log_det_cov).toBeNull()
    expect(got.w2_to_reference).toBeCloseTo(9 + 1, 14)
    const line = vectors(3, 2, Float64Array.of(0, 0, 1, 1, 2, 2))
    expect((await evaluate(moments, { real: line, generated: line })).log_det_cov).toBeNull()
  })

  it('rejects a fit of another dimension', async () => {
    const model = { summary: { mean: Float64Array.of(0, 0), covariance: new Float64Array(4) } }
    await expect(evaluate(moments, { real: generated, generated, dataset, model })).rejects.toThrow(/dimension 1/)
  })
})
