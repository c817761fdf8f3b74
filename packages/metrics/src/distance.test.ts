import { describe, expect, it, vi } from 'vitest'
import { Rng, takeRows, vectors, type VectorSamples } from '@ouroboros/core'
import { loadTf } from '@ouroboros/tf'
import {
  FLOAT32_MIN_D,
  FLOAT32_MIN_WORK,
  forEachCrossBlock,
  forEachCrossTile,
  forEachSelfBlock,
  forEachSelfTile,
  kthNeighbourSq,
  medianPairwiseDistance,
  nearest,
  TILE,
  type Block,
} from './distance.js'
import { FLOAT32_BLOCK } from './float32-distance.js'
import { gaussianSamples } from '../fixtures/load.js'

// Counts the loads of tfjs; the real one still runs.
vi.mock('@ouroboros/tf', async (importOriginal) => {
  const tf = await importOriginal<typeof import('@ouroboros/tf')>()
  return { ...tf, loadTf: vi.fn(tf.loadTf) }
})

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

  it('finds the nearest reference point and the k-th neighbour as brute force does', async () => {
    const { index, d2 } = await nearest(b, a)
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
    expect(maxDifference(await kthNeighbourSq(a, k), wantKth)).toBeLessThan(1e-10)
  })

  it('puts a point and its copy at distance exactly 0, from either side', async () => {
    const doubled = takeRows(a, [...Array.from({ length: a.n }, (_, i) => i), 5, 77])
    const kth = await kthNeighbourSq(doubled, 1)
    expect(kth[5]).toBe(0)
    expect(kth[77]).toBe(0)
    expect(kth[a.n]).toBe(0)
    expect((await nearest(doubled, a)).d2[a.n + 1]).toBe(0)
  })
})

describe('nearest', () => {
  it('keeps the first of tied reference points', async () => {
    const ref = vectors(3, 1, Float64Array.of(1, -1, 1))
    expect(Array.from((await nearest(vectors(1, 1, Float64Array.of(0)), ref)).index)).toEqual([0])
  })
})

describe('kthNeighbourSq', () => {
  it('is Infinity when the set has no k other points', async () => {
    expect(Array.from(await kthNeighbourSq(vectors(3, 1, Float64Array.of(0, 1, 2)), 3))).toEqual([Infinity, Infinity, Infinity])
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

/** Every pair's squared distance from the float64 tiles, row-major rows.n x cols.n. */
function tileMatrix(rows: VectorSamples, cols: VectorSamples): Float64Array {
  const out = new Float64Array(rows.n * cols.n)
  forEachCrossTile(rows, cols, (t) => {
    for (let i = t.rowStart; i < t.rowEnd; i++) {
      for (let j = t.colStart; j < t.colEnd; j++) out[i * cols.n + j] = t.d2[(i - t.rowStart) * TILE + j - t.colStart]!
    }
  })
  return out
}

/** n points with coordinates in {0, 1, 2}: integer distances, so the k-th radii tie often. */
function gridSamples(n: number, d: number, rng: Rng): VectorSamples {
  return vectors(n, d, Float64Array.from({ length: n * d }, () => rng.int(3)))
}

/** s moved by about 10⁻⁷ per coordinate: distances a few float32 units apart, tying no more. */
function jittered(s: VectorSamples, rng: Rng): VectorSamples {
  return vectors(s.n, s.d, s.data.map((v) => v + 1e-7 * rng.normal()))
}

/** s with some rows repeated: pairs at distance exactly 0. */
function withCopies(s: VectorSamples): VectorSamples {
  return takeRows(s, [...Array.from({ length: s.n }, (_, i) => i), 0, 3, 3, s.n - 1])
}

// Above the switch-over; 12-D still takes the coordinate-difference form in float64. Row counts
// exceed FLOAT32_BLOCK, so that blocks are ragged and a self pass has off-diagonal blocks.
describe.each([12, 40, 100])('float32 blocks in %i dimensions', (d) => {
  const rng = Rng.from(d)
  const n = FLOAT32_BLOCK + 90
  const sets: [string, VectorSamples, VectorSamples][] = [
    ['Gaussian', gaussianSamples(n, d, rng), gaussianSamples(n - 60, d, rng, 0.1, 0.9)],
    ['integer grid with copies', withCopies(gridSamples(n, d, rng)), withCopies(gridSamples(n - 60, d, rng))],
    ['far from the origin', gaussianSamples(n, d, rng, 1e4), gaussianSamples(n - 60, d, rng, 1e4 + 0.01)],
    // Distances a few float32 units apart: the float32 order of neighbours is often wrong.
    ['grid jittered below float32 resolution', jittered(gridSamples(n, d, rng), rng), jittered(gridSamples(n - 60, d, rng), rng)],
  ]

  it('bound the float64 distances, and give them exactly where asked', async () => {
    for (const [name, x, y] of sets) {
      let outside = 0
      let exactDiffers = 0
      for (const [rows, cols, self] of [[x, y, false], [x, x, true]] as const) {
        const want = tileMatrix(rows, cols)
        const visit = (b: Block): void => {
          for (let i = b.rowStart; i < b.rowEnd; i++) {
            for (let j = self ? Math.max(i + 1, b.colStart) : b.colStart; j < b.colEnd; j++) {
              const at = (i - b.rowStart) * b.stride + j - b.colStart
              const v = want[i * cols.n + j]!
              if (!(b.low[at]! <= v && v <= b.high[at]!)) outside++
              if (!Object.is(b.exact(i, j), v)) exactDiffers++
            }
          }
        }
        await (self ? forEachSelfBlock(rows, visit, 'float32') : forEachCrossBlock(rows, cols, visit, 'float32'))
      }
      expect(outside, name).toBe(0)
      expect(exactDiffers, name).toBe(0)
    }
  })

  it('give the k-th neighbour distances and nearest neighbours of the float64 tiles bit for bit', async () => {
    for (const [name, x, y] of sets) {
      for (const k of [1, 5]) {
        expect(Array.from(await kthNeighbourSq(x, k, 'float32')), `${name}, k = ${k}`).toEqual(Array.from(await kthNeighbourSq(x, k, 'float64')))
      }
      const got = await nearest(y, x, 'float32')
      const want = await nearest(y, x, 'float64')
      expect(Array.from(got.index), name).toEqual(Array.from(want.index))
      expect(Array.from(got.d2), name).toEqual(Array.from(want.d2))
    }
  })
})

describe('float32 blocks and tfjs memory', () => {
  it('leave no tensors behind, also when a visitor throws', async () => {
    const { tf } = await loadTf()
    const before = tf.memory().numTensors
    const x = gaussianSamples(FLOAT32_BLOCK + 10, 20, Rng.from(4))
    await kthNeighbourSq(x, 2, 'float32')
    const failing = (): void => {
      throw new Error('visitor failed')
    }
    await expect(forEachSelfBlock(x, failing, 'float32')).rejects.toThrow('visitor failed')
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('float32 blocks out of float32 range', () => {
  it('fall back to the float64 tiles', async () => {
    const x = gaussianSamples(300, 40, Rng.from(5))
    x.data.fill(1e50, 0, 40)
    expect(Array.from(await kthNeighbourSq(x, 3, 'float32'))).toEqual(Array.from(await kthNeighbourSq(x, 3, 'float64')))
  })
})

describe("the 'auto' engine", () => {
  it('loads tfjs only for passes in many dimensions with enough work', async () => {
    vi.mocked(loadTf).mockClear()
    await kthNeighbourSq(gaussianSamples(3000, 2, Rng.from(1)), 5)
    await kthNeighbourSq(gaussianSamples(600, 100, Rng.from(2)), 5)
    expect(loadTf).not.toHaveBeenCalled()
    const n = Math.ceil(Math.sqrt((2 * FLOAT32_MIN_WORK) / FLOAT32_MIN_D)) + 1
    await kthNeighbourSq(gaussianSamples(n, FLOAT32_MIN_D, Rng.from(3)), 5)
    expect(loadTf).toHaveBeenCalled()
  })
})
