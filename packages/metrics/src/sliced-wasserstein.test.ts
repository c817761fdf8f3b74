import { describe, expect, it } from 'vitest'
import { Rng, vectors } from '@ouroboros/core'
import { slicedWasserstein, wasserstein1Sorted } from './sliced-wasserstein.js'
import { evaluate, gaussianSamples, readFixture, toVectors, type Points } from '../fixtures/load.js'

interface WassersteinCase {
  name: string
  real: Points
  generated: Points
  expected: number
}

describe('sliced_wasserstein in 1-D is W1 (fixtures/wasserstein.json, scipy)', () => {
  for (const c of readFixture<WassersteinCase>('wasserstein.json').cases) {
    it(c.name, async () => {
      const got = await evaluate(slicedWasserstein, { real: toVectors(c.real), generated: toVectors(c.generated) })
      expect(got.sliced_wasserstein).toBeCloseTo(c.expected, 13)
    })
  }
})

describe('sliced_wasserstein', () => {
  it('computes W1 between sorted samples by both routes', () => {
    expect(wasserstein1Sorted(Float64Array.of(0, 1), Float64Array.of(1, 3))).toBe(1.5)
    // Point mass at 0 against {0, 0, 3}: the CDFs differ by 1/3 on [0, 3).
    expect(wasserstein1Sorted(Float64Array.of(0), Float64Array.of(0, 0, 3))).toBeCloseTo(1, 15)
  })

  it('is 0 for a set against itself', async () => {
    const x = gaussianSamples(300, 4, Rng.from(1))
    expect((await evaluate(slicedWasserstein, { real: x, generated: x })).sliced_wasserstein).toBe(0)
  })

  it('is ‖v‖ · E|u₁| for a shift by v (2-D: E|cos θ| = 2/π)', async () => {
    const x = gaussianSamples(200, 2, Rng.from(2))
    const shifted = vectors(x.n, 2, x.data.map((v, i) => v + (i % 2 === 0 ? 3 : 4)))
    // Every projection is the same sample shifted by u·v, so W1 = |u·v| exactly; the mean over
    // 4096 random directions is within a few percent of 5 · 2/π.
    const got = await evaluate(slicedWasserstein, { real: x, generated: shifted, options: { directions: 4096 } })
    expect(Math.abs(got.sliced_wasserstein! - (5 * 2) / Math.PI)).toBeLessThan(0.05)
  })

  it('is reproducible from the seed', async () => {
    const x = gaussianSamples(100, 3, Rng.from(3))
    const y = gaussianSamples(80, 3, Rng.from(4), 0.5)
    const a = await evaluate(slicedWasserstein, { real: x, generated: y, seed: 1 })
    expect(await evaluate(slicedWasserstein, { real: x, generated: y, seed: 1 })).toEqual(a)
    expect(await evaluate(slicedWasserstein, { real: x, generated: y, seed: 2 })).not.toEqual(a)
  })
})
