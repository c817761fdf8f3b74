import { describe, expect, it } from 'vitest'
import { Rng, vectors } from '@ouroboros/core'
import { vendi } from './vendi.js'
import { evaluate, gaussianSamples, readFixture, toVectors, type Points } from '../fixtures/load.js'

interface VendiCase {
  name: string
  kernel: 'rbf' | 'linear'
  bandwidth: number | null
  generated: Points
  expected: number
}

describe('vendi against numpy eigvalsh (fixtures/vendi.json)', () => {
  for (const c of readFixture<VendiCase>('vendi.json').cases) {
    it(c.name, async () => {
      const y = toVectors(c.generated)
      const got = await evaluate(vendi, { real: y, generated: y, options: { kernel: c.kernel, bandwidth: c.bandwidth } })
      expect(got.vendi).toBeCloseTo(c.expected, 10)
    })
  }
})

describe('vendi', () => {
  const n = 40
  const identical = vectors(n, 3, new Float64Array(3 * n).fill(0.7))
  const oneHot = vectors(n, n, new Float64Array(n * n).map((_, i) => (i % (n + 1) === 0 ? 1 : 0)))

  it('is 1 for n identical points', async () => {
    for (const kernel of ['rbf', 'linear']) {
      const got = await evaluate(vendi, { real: identical, generated: identical, options: { kernel, bandwidth: 1 } })
      expect(got.vendi).toBeCloseTo(1, 12)
    }
  })

  it('is n for n orthogonal one-hot vectors (cosine kernel, and an RBF too narrow to see neighbours)', async () => {
    const linear = await evaluate(vendi, { real: oneHot, generated: oneHot, options: { kernel: 'linear' } })
    expect(linear.vendi).toBeCloseTo(n, 10)
    const rbf = await evaluate(vendi, { real: oneHot, generated: oneHot, options: { bandwidth: 0.01 } })
    expect(rbf.vendi).toBeCloseTo(n, 10)
  })

  it('averages over disjoint seeded subsets above subsetSize, reproducibly', async () => {
    const y = gaussianSamples(300, 2, Rng.from(1))
    const options = { bandwidth: 1, subsetSize: 100, subsets: 3 }
    const a = await evaluate(vendi, { real: y, generated: y, options, seed: 1 })
    expect(await evaluate(vendi, { real: y, generated: y, options, seed: 1 })).toEqual(a)
    expect(await evaluate(vendi, { real: y, generated: y, options, seed: 2 })).not.toEqual(a)
    // Three disjoint thirds of 300 points: each Vendi score is at most 100.
    expect(a.vendi).toBeLessThan(100)
    expect(a.vendi).toBeGreaterThan(1)
  })

  it('is null for a zero vector under the cosine kernel', async () => {
    const withZero = vectors(2, 2, Float64Array.of(1, 0, 0, 0))
    expect(await evaluate(vendi, { real: withZero, generated: withZero, options: { kernel: 'linear' } })).toEqual({ vendi: null })
  })
})
