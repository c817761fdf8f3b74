import { describe, expect, it } from 'vitest'
import { Rng, vectors, type DatasetInfo } from '@ouroboros/core'
import { modes } from './modes.js'
import { moments } from './moments.js'
import { evaluate, mixture, readFixture, ringCenters, toVectors, type Points } from '../fixtures/load.js'

interface ModesCase {
  dataset: string
  name: string
  centers: number[]
  std: number
  generated: Points
  expected: Record<string, number>
}

function modeDataset(centers: Float64Array, std: number): DatasetInfo {
  const k = centers.length / 2
  return { kind: 'ring', modality: 'vectors', d: 2, modes: { centers, k, std, weights: new Float64Array(k).fill(1 / k) } }
}

describe('modes against the peer modes.py (fixtures/modes.json)', () => {
  for (const c of readFixture<ModesCase>('modes.json').cases) {
    it(`${c.dataset}, ${c.name} samples`, async () => {
      const x = toVectors(c.generated)
      const dataset = modeDataset(Float64Array.from(c.centers), c.std)
      const got = await evaluate(modes, { real: x, generated: x, dataset })
      expect(got.modes_covered).toBe(c.expected['modes_covered'])
      expect(got.modes_covered_1pct).toBe(c.expected['modes_covered_1pct'])
      expect(got.pct_high_quality).toBeCloseTo(c.expected['pct_high_quality']!, 11)
      expect(got.reverse_kl).toBeCloseTo(c.expected['reverse_kl']!, 13)
      // Uniform weights: the KL to uniform would repeat reverse_kl, and no mode is off the support.
      expect(got.reverse_kl_uniform).toBeNull()
      expect(got.off_support_share).toBeNull()
      // modes.py reports total variance too; here it belongs to the moments group.
      const m = await evaluate(moments, { real: x, generated: x, dataset })
      expect(m.total_variance).toBeCloseTo(c.expected['total_variance']!, 11)
    })
  }
})

describe('modes on real ring data (METRICS.md sanity values)', () => {
  const centers = ringCenters()
  const dataset = modeDataset(centers, 0.02)
  const n = 10_000

  it('has HQ = 1 − e^{−4.5} = 98.89 % within sampling error, all modes covered, ring total variance 4.0008', async () => {
    const { samples } = mixture(centers, 2, 0.02, n, Rng.from(31))
    const got = await evaluate(modes, { real: samples, generated: samples, dataset })
    const p = 1 - Math.exp(-4.5)
    const se = 100 * Math.sqrt((p * (1 - p)) / n)
    expect(Math.abs(got.pct_high_quality! - 100 * p)).toBeLessThan(4 * se)
    expect(got.modes_covered).toBe(8)
    expect(got.modes_covered_1pct).toBe(8)
    // Σ‖x − x̄‖²/n: E = 4 + 2·0.02² less about 4/n for the fitted mean; SD about 0.08/√n.
    const m = await evaluate(moments, { real: samples, generated: samples, dataset })
    expect(Math.abs(m.total_variance! - 4.0008)).toBeLessThan(0.004)
  })

  it('has reverse_kl ≈ (K − 1)/(2n) on average', async () => {
    // 2n·KL is about χ²(K − 1): mean (K − 1)/(2n), SD √(2(K − 1))/(2n); averaged over 20 samples.
    const K = 8
    let sum = 0
    for (let s = 0; s < 20; s++) {
      const { samples } = mixture(centers, 2, 0.02, n, Rng.from(100 + s))
      sum += (await evaluate(modes, { real: samples, generated: samples, dataset })).reverse_kl!
    }
    const sd = Math.sqrt(2 * (K - 1)) / (2 * n) / Math.sqrt(20)
    expect(Math.abs(sum / 20 - (K - 1) / (2 * n))).toBeLessThan(4 * sd)
  })

  it('sees a single collapsed mode', async () => {
    const collapsed = vectors(100, 2, new Float64Array(200).map((_, i) => (i % 2 === 0 ? 2 : 0)))
    const got = await evaluate(modes, { real: collapsed, generated: collapsed, dataset })
    expect(got).toEqual({ modes_covered: 1, modes_covered_1pct: 1, pct_high_quality: 100, reverse_kl: Math.log(8), reverse_kl_uniform: null, off_support_share: null })
  })

  it('profiles the share of samples that are high-quality samples of each mode', async () => {
    // Mode 0 is at (2, 0), mode 2 at (0, 2) (angles 2πk/8); HQ radius 3 · 0.02 = 0.06.
    const points = [
      [2, 0], [2.05, 0], [2.1, 0], // two HQ at mode 0, one near it but outside the radius
      [0, 2], // HQ at mode 2
      [0, 0.5], // nearest to mode 2, far outside the radius
    ]
    const x = vectors(points.length, 2, Float64Array.from(points.flat()))
    const { hq_share } = await modes.profile!({ real: x, generated: x, dataset, options: { qualityStds: 3, coveredShare: 0.01 }, prepared: undefined, rng: Rng.from(0) })
    expect(hq_share).toEqual([2 / 5, 0, 1 / 5, 0, 0, 0, 0, 0])
  })

  it('needs a dataset with modes', async () => {
    const x = vectors(2, 2, new Float64Array(4))
    await expect(evaluate(modes, { real: x, generated: x })).rejects.toThrow(/no mode centres/)
  })
})

describe('reverse_kl against the data\'s own mode weights', () => {
  const centers = ringCenters()
  /** Points exactly at the given ring modes (mode k at angle 2πk/8). */
  const at = (...modesOf: number[]) => vectors(modesOf.length, 2, Float64Array.from(modesOf.flatMap((k) => [centers[2 * k]!, centers[2 * k + 1]!])))
  const weighted = (weights: number[]): DatasetInfo => ({ kind: 'ring', modality: 'vectors', d: 2, modes: { centers, k: 8, std: 0.02, weights: Float64Array.from(weights) } })
  const w = weighted([0.5, 0.25, 0.25, 0, 0, 0, 0, 0])

  it('is 0 when the samples follow the weights; the uniform reference is Σ p ln(8p)', async () => {
    const got = await evaluate(modes, { real: at(0), generated: at(0, 0, 1, 2), dataset: w })
    expect(got.reverse_kl).toBe(0)
    // p = (1/2, 1/4, 1/4): ½ ln 4 + ¼ ln 2 + ¼ ln 2 = 1.5 ln 2.
    expect(got.reverse_kl_uniform).toBeCloseTo(1.5 * Math.LN2, 15)
    expect(got.off_support_share).toBe(0)
  })

  it('is Σ p ln(p / w) for other shares, whatever the scale of the weights', async () => {
    // p = (1/4, 1/2, 1/4) against w = (1/2, 1/4, 1/4): ¼ ln ½ + ½ ln 2 + 0 = ¼ ln 2.
    const generated = at(0, 1, 1, 2)
    const got = await evaluate(modes, { real: at(0), generated, dataset: w })
    expect(got.reverse_kl).toBeCloseTo(0.25 * Math.LN2, 15)
    const scaled = await evaluate(modes, { real: at(0), generated, dataset: weighted([8, 4, 4, 0, 0, 0, 0, 0]) })
    expect(scaled.reverse_kl).toBeCloseTo(0.25 * Math.LN2, 15)
  })

  it('is null, with the share off the support, when samples reach a mode of weight 0', async () => {
    // Mode 3 has weight 0 and gets one of four samples: KL = +∞.
    const got = await evaluate(modes, { real: at(0), generated: at(0, 0, 1, 3), dataset: w })
    expect(got.reverse_kl).toBeNull()
    expect(got.off_support_share).toBe(0.25)
    expect(got.reverse_kl_uniform).toBeCloseTo(1.5 * Math.LN2, 15)
    expect(modes.nullWhen?.['reverse_kl']).toContain('weight 0')
  })

  it('records no share off the support for unequal weights that are all positive, where it could only be 0', async () => {
    // The ring of gan-ring-data-balance: weights 8, 4, 2, 1, …, 1; every sample is on the support.
    const got = await evaluate(modes, { real: at(0), generated: at(0, 0, 1, 3), dataset: weighted([8, 4, 2, 1, 1, 1, 1, 1]) })
    expect(got.off_support_share).toBeNull()
    expect(modes.nullWhen?.['off_support_share']).toContain('weight 0')
    // p = (1/2, 1/4, 0, 1/4, 0, …) against w = (8, 4, 2, 1, …)/19: ½ ln(9.5/8) + ¼ ln(4.75/4) + ¼ ln(4.75).
    expect(got.reverse_kl).toBeCloseTo(0.5 * Math.log(9.5 / 8) + 0.25 * Math.log(4.75 / 4) + 0.25 * Math.log(4.75), 14)
  })
})
