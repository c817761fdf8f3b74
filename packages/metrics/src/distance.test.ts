import { describe, expect, it } from 'vitest'
import { Rng, takeRows, vectors, type VectorSamples } from '@ouroboros/core'
import { forEachSelfTile, kthNeighbourSq, medianPairwiseDistance, nearest, TILE } from './distance.js'
import { gaussianSamples } from '../fixtures/load.js'

/** Squared distance summed from differences, pair by pair: the definition, no tiling. */
function bruteSq(a: VectorSamples, i: number, b: VectorSamples, j: number): number {
  let s = 0
  for (let t = 0; t < a.d; t++) s += (a.data[i * a.d + t]! - b.data[j * b.d + t]!) ** 2
  return s
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

// d = 3 takes the coordinate-difference path, d = 40 the dot-product path; sizes straddle the
// tile and the 4 x 4 register blocks.
describe.each([3, 40])('distance tiles in %i dimensions', (d) => {
  const rng = Rng.from(11)
  const a = gaussianSamples(TILE + 37, d, rng)
  const b = gaussianSamples(2 * TILE + 6, d, rng)

  it('visits every unordered pair of a set exactly once', () => {
    const seen = new Uint8Array(a.n * a.n)
    let worst = 0
    forEachSelfTile(a, (t) => {
      for (let i = t.rowStart; i < t.rowEnd; i++) {
        for (let j = t.rowStart === t.colStart ? i + 1 : t.colStart; j < t.colEnd; j++) {
          seen[i * a.n + j]!++
          worst = Math.max(worst, Math.abs(t.d2[(i - t.rowStart) * TILE + j - t.colStart]! - bruteSq(a, i, a, j)))
        }
      }
    })
    expect(worst).toBeLessThan(1e-10)
    const expected = new Uint8Array(a.n * a.n).map((_, at) => (at % a.n > Math.floor(at / a.n) ? 1 : 0))
    expect(seen).toEqual(expected)
  })

  it('finds the nearest reference point and the k-th neighbour as brute force does', () => {
    const { index, d2 } = nearest(b, a)
    const wantIndex: number[] = []
    const wantD2: number[] = []
    for (let i = 0; i < b.n; i++) {
      const all = Array.from({ length: a.n }, (_, j) => bruteSq(b, i, a, j))
      wantD2.push(Math.min(...all))
      wantIndex.push(all.indexOf(Math.min(...all)))
    }
    expect(Array.from(index)).toEqual(wantIndex)
    expect(maxDifference(d2, wantD2)).toBeLessThan(1e-10)
    const k = 4
    const wantKth = Array.from({ length: a.n }, (_, i) => {
      const others = Array.from({ length: a.n }, (_, j) => (j === i ? Infinity : bruteSq(a, i, a, j)))
      return others.sort((x, y) => x - y)[k - 1]!
    })
    expect(maxDifference(kthNeighbourSq(a, k), wantKth)).toBeLessThan(1e-10)
  })

  it('puts a point and its copy at distance exactly 0, from either side', () => {
    const doubled = takeRows(a, [...Array.from({ length: a.n }, (_, i) => i), 5, 77])
    const kth = kthNeighbourSq(doubled, 1)
    expect(kth[5]).toBe(0)
    expect(kth[77]).toBe(0)
    expect(kth[a.n]).toBe(0)
    expect(nearest(doubled, a).d2[a.n + 1]).toBe(0)
  })
})

describe('nearest', () => {
  it('keeps the first of tied reference points', () => {
    const ref = vectors(3, 1, Float64Array.of(1, -1, 1))
    expect(Array.from(nearest(vectors(1, 1, Float64Array.of(0)), ref).index)).toEqual([0])
  })
})

describe('kthNeighbourSq', () => {
  it('is Infinity when the set has no k other points', () => {
    expect(Array.from(kthNeighbourSq(vectors(3, 1, Float64Array.of(0, 1, 2)), 3))).toEqual([Infinity, Infinity, Infinity])
  })
})

describe('medianPairwiseDistance', () => {
  it('averages the middle two of an even number of distances', () => {
    // Pairs of {0, 1, 4}: 1, 4, 3 -> median 3.
    expect(medianPairwiseDistance(vectors(3, 1, Float64Array.of(0, 1, 4)))).toBe(3)
    // Pairs of {0, 1, 4, 6}: 1, 4, 6, 3, 5, 2 -> sorted 1 2 3 4 5 6 -> (3 + 4) / 2.
    expect(medianPairwiseDistance(vectors(4, 1, Float64Array.of(0, 1, 4, 6)))).toBe(3.5)
    expect(medianPairwiseDistance(vectors(1, 1, Float64Array.of(0)))).toBeNull()
  })
})
