import { describe, expect, it } from 'vitest'
import { Rng, takeRows, vectors, type VectorSamples } from '@ouroboros/core'
import { kthNeighbourSq } from './distance.js'
import { FLOAT32_BLOCK } from './float32-distance.js'
import { ballCounts, prdc } from './prdc.js'
import { evaluate, gaussianSamples, mixture, readFixture, ringCenters, toVectors, type Points } from '../fixtures/load.js'

interface PrdcCase {
  name: string
  real: Points
  generated: Points
  results: { k: number; operator: '<=' | '<'; expected: Record<string, number> }[]
}

describe('prdc against numpy/scipy (fixtures/prdc.json)', () => {
  for (const c of readFixture<PrdcCase>('prdc.json').cases) {
    for (const r of c.results) {
      it(`${c.name}, k = ${r.k}, operator ${r.operator}`, async () => {
        const got = await evaluate(prdc, { real: toVectors(c.real), generated: toVectors(c.generated), options: { k: r.k, operator: r.operator } })
        for (const name of prdc.outputs) expect(got[name]).toBeCloseTo(r.expected[name]!, 12)
      })
    }
  }
})

describe('prdc identities', () => {
  const rng = Rng.from(21)
  const real = gaussianSamples(600, 3, rng)

  // d = 40 takes the dot-product form of the distances, which must also put a copy at exactly 0.
  it.each([3, 40])('gives precision = recall = coverage = 1 for a set against itself, density (k+1)/k with "<=" and 1 with "<" (%i-D)', async (d) => {
    const real = gaussianSamples(600, d, Rng.from(d))
    const copy = vectors(real.n, real.d, real.data.slice())
    for (const k of [1, 5]) {
      const le = await evaluate(prdc, { real, generated: copy, options: { k } })
      expect(le).toEqual({ precision: 1, recall: 1, density: (k + 1) / k, coverage: 1 })
      const lt = await evaluate(prdc, { real, generated: copy, options: { k, operator: '<' } })
      expect(lt.precision).toBe(1)
      expect(lt.recall).toBe(1)
      expect(lt.coverage).toBe(1)
      expect(lt.density).toBeCloseTo(1, 12)
    }
  })

  it('keeps duplicated points covered with "<=", unlike "<" (the edge case METRICS.md names)', async () => {
    // Every point twice: with k = 1 each radius is 0.
    const doubled = takeRows(real, Array.from({ length: 2 * real.n }, (_, i) => i % real.n))
    const le = await evaluate(prdc, { real: doubled, generated: doubled, options: { k: 1 } })
    expect(le.coverage).toBe(1)
    expect(le.precision).toBe(1)
    const lt = await evaluate(prdc, { real: doubled, generated: doubled, options: { k: 1, operator: '<' } })
    expect(lt.coverage).toBe(0)
    expect(lt.density).toBe(0)
  })

  it('gives density near 1 for two independent samples of one distribution', async () => {
    const a = gaussianSamples(3000, 2, Rng.from(1))
    const b = gaussianSamples(3000, 2, Rng.from(2))
    const got = await evaluate(prdc, { real: a, generated: b })
    expect(got.density).toBeGreaterThan(0.9)
    expect(got.density).toBeLessThan(1.1)
    expect(got.precision).toBeGreaterThan(0.7)
    expect(got.recall).toBeGreaterThan(0.7)
  })

  it('gives 0 everywhere for far-apart sets', async () => {
    const far = gaussianSamples(500, 3, Rng.from(3), 100)
    expect(await evaluate(prdc, { real, generated: far })).toEqual({ precision: 0, recall: 0, density: 0, coverage: 0 })
  })

  it('gives high precision and recall = the covered share when the generator drops modes', async () => {
    const centers = ringCenters()
    const { samples: ringReal, mode } = mixture(centers, 2, 0.02, 4000, Rng.from(4))
    const { samples: fourModes } = mixture(centers.subarray(0, 8), 2, 0.02, 4000, Rng.from(5))
    let share = 0
    for (let i = 0; i < mode.length; i++) if (mode[i]! < 4) share++
    share /= mode.length
    const got = await evaluate(prdc, { real: ringReal, generated: fourModes })
    expect(got.precision).toBeGreaterThan(0.97)
    expect(Math.abs(got.recall! - share)).toBeLessThan(0.02)
    expect(Math.abs(got.coverage! - share)).toBeLessThan(0.02)
  })

  it('is null when a set has no k other points', async () => {
    const tiny = gaussianSamples(5, 3, rng)
    expect(await evaluate(prdc, { real: tiny, generated: real })).toEqual({ precision: null, recall: null, density: null, coverage: null })
  })

  it('refuses real data other than what prepare() saw', async () => {
    const options = prdc.options.parse({})
    const prepared = (await prdc.prepare!({ real, dataset: { kind: 'test', modality: 'vectors' }, options, rng: Rng.from(0) })) as { realFingerprint: string; realRadiusSq: Float64Array }
    const other = gaussianSamples(600, 3, Rng.from(99))
    await expect(prdc.compute({ real: other, generated: real, options, prepared, dataset: { kind: 'test', modality: 'vectors' }, rng: Rng.from(0) })).rejects.toThrow(/other real data/)
  })
})

describe('prdc ball counts from float32 blocks', () => {
  /** Coordinates in {0, 1, 2} plus noise below float32 resolution, some rows repeated. */
  function nearlyTied(n: number, d: number, rng: Rng): VectorSamples {
    const grid = vectors(n, d, Float64Array.from({ length: n * d }, () => rng.int(3) + 1e-7 * rng.normal()))
    return takeRows(grid, [...Array.from({ length: n }, (_, i) => i), 0, 1, 1])
  }

  // Radii tie, and pairs sit within float32 error of them: every such comparison must be made in
  // float64, as the tiles make it.
  it.each([
    ['Gaussian', 40],
    ['nearly tied grid', 40],
    ['nearly tied grid', 12],
  ])('equal the float64 counts bit for bit (%s, %i-D)', async (kind, d) => {
    const rng = Rng.from(d)
    const n = FLOAT32_BLOCK + 40
    const x = kind === 'Gaussian' ? gaussianSamples(n, d, rng) : nearlyTied(n, d, rng)
    const y = kind === 'Gaussian' ? gaussianSamples(n - 30, d, rng, 0.1, 0.9) : nearlyTied(n - 30, d, rng)
    for (const k of [1, 5]) {
      const rx = await kthNeighbourSq(x, k, 'float64')
      const ry = await kthNeighbourSq(y, k, 'float64')
      for (const strict of [false, true]) {
        expect(await ballCounts(x, y, rx, ry, strict, 'float32')).toEqual(await ballCounts(x, y, rx, ry, strict, 'float64'))
      }
    }
  })
})
