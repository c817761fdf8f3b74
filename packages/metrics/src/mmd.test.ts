import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import { medianPairwiseDistance } from './distance.js'
import { mmdRbf } from './mmd.js'
import { evaluate, gaussianSamples, readFixture, toVectors, type Points } from '../fixtures/load.js'

interface MmdCase {
  name: string
  real: Points
  generated: Points
  medianDistance: number
  results: { bandwidth: number | null; expected: number }[]
}

describe('mmd_rbf against numpy/scipy (fixtures/mmd.json)', () => {
  for (const c of readFixture<MmdCase>('mmd.json').cases) {
    it(`${c.name}: median bandwidth and MMD²`, async () => {
      const real = toVectors(c.real)
      expect(medianPairwiseDistance(real)).toBeCloseTo(c.medianDistance, 12)
      for (const r of c.results) {
        const got = await evaluate(mmdRbf, { real, generated: toVectors(c.generated), options: { bandwidth: r.bandwidth } })
        expect(got.mmd_rbf).toBeCloseTo(r.expected, 12)
      }
    })
  }
})

describe('mmd_rbf', () => {
  it('is slightly negative for a set against itself: 2(mean off-diagonal kernel − 1)/n', async () => {
    const x = gaussianSamples(400, 3, Rng.from(1))
    const h = 1.7
    let off = 0
    for (let i = 0; i < x.n; i++) {
      for (let j = 0; j < x.n; j++) {
        if (i === j) continue
        let d2 = 0
        for (let t = 0; t < 3; t++) d2 += (x.data[3 * i + t]! - x.data[3 * j + t]!) ** 2
        off += Math.exp(-d2 / (2 * h * h))
      }
    }
    off /= x.n * (x.n - 1)
    const got = (await evaluate(mmdRbf, { real: x, generated: x, options: { bandwidth: h } })).mmd_rbf!
    expect(got).toBeLessThan(0)
    expect(got).toBeCloseTo((2 * (off - 1)) / x.n, 12)
  })

  it('is near 0 for two samples of one distribution and clearly positive for a shifted one', async () => {
    const x = gaussianSamples(1000, 2, Rng.from(2))
    const same = (await evaluate(mmdRbf, { real: x, generated: gaussianSamples(1000, 2, Rng.from(3)) })).mmd_rbf!
    const shifted = (await evaluate(mmdRbf, { real: x, generated: gaussianSamples(1000, 2, Rng.from(4), 1) })).mmd_rbf!
    expect(Math.abs(same)).toBeLessThan(0.005)
    expect(shifted).toBeGreaterThan(0.1)
  })

  it('takes the median bandwidth from a seeded subsample of large real sets', async () => {
    const x = gaussianSamples(600, 2, Rng.from(5))
    const y = gaussianSamples(100, 2, Rng.from(6))
    const a = await evaluate(mmdRbf, { real: x, generated: y, options: { medianSubsample: 300 }, seed: 1 })
    expect(await evaluate(mmdRbf, { real: x, generated: y, options: { medianSubsample: 300 }, seed: 1 })).toEqual(a)
    expect(await evaluate(mmdRbf, { real: x, generated: y, options: { medianSubsample: 300 }, seed: 2 })).not.toEqual(a)
  })

  it('is null when there is no usable bandwidth or too few generated points', async () => {
    const x = gaussianSamples(50, 2, Rng.from(7))
    const point = toVectors({ n: 3, d: 2, data: [1, 1, 1, 1, 1, 1] })
    expect(await evaluate(mmdRbf, { real: point, generated: x })).toEqual({ mmd_rbf: null })
    expect(await evaluate(mmdRbf, { real: x, generated: toVectors({ n: 1, d: 2, data: [0, 0] }) })).toEqual({ mmd_rbf: null })
  })
})
