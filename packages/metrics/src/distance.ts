import type { VectorSamples } from '@ouroboros/core'
import { loadTf, type LoadedTf } from '@ouroboros/tf'
import { float32Blocks } from './float32-distance.js'

/**
 * Exact squared Euclidean distances between two point sets, one tile at a time, so that n = 10,000
 * against 10,000 never holds an n x n matrix (a tile is TILE x TILE doubles, 128 KiB).
 *
 * Up to DIRECT_MAX_D dimensions a distance is summed from coordinate differences. Above it the
 * tile is ‖x‖² + ‖y‖² − 2 x·y with the norms computed once and the dot products blocked four rows
 * by four columns, so each loaded coordinate feeds four multiply-adds; clamped at 0 against
 * rounding. Both forms give every pair the same bits whichever set it is read from (the sums run
 * over coordinates in the same order), so a point and its exact copy are at distance 0 and
 * distances computed in two passes over the same pair agree; the "≤" comparisons of PRDC rely on it.
 *
 * The tiles serve the kernel sums of mmd_rbf and vendi, which need every distance. Metrics that
 * only compare distances with thresholds (k-NN radii, PRDC, nearest neighbours) read Blocks
 * instead: bounds from a float32 matrix multiply in many dimensions, the tiles' float64 value
 * wherever the bounds leave a comparison open, and so the same results.
 */
export const TILE = 128
const DIRECT_MAX_D = 16

export interface Tile {
  readonly rowStart: number
  readonly rowEnd: number
  readonly colStart: number
  readonly colEnd: number
  /** d2[(i - rowStart) * TILE + (j - colStart)] = ‖row i − col j‖². */
  readonly d2: Float64Array
}

/** Visits the tiles of rows × cols in row-major tile order (columns ascending within a row band). */
export function forEachCrossTile(rows: VectorSamples, cols: VectorSamples, visit: (tile: Tile) => void): void {
  if (rows.d !== cols.d) throw new RangeError(`distance tiles: dimension ${rows.d} differs from ${cols.d}`)
  tiles(rows, cols, false, visit)
}

/**
 * Visits the tiles of s × s on and above the diagonal. In a diagonal tile (rowStart === colStart)
 * only the entries with j > i are pairs not seen elsewhere; all other tiles hold only j > i.
 */
export function forEachSelfTile(s: VectorSamples, visit: (tile: Tile) => void): void {
  tiles(s, s, true, visit)
}

function tiles(a: VectorSamples, b: VectorSamples, upper: boolean, visit: (tile: Tile) => void): void {
  const d = a.d
  const direct = d <= DIRECT_MAX_D
  const aNorms = direct ? undefined : rowNorms(a)
  const bNorms = direct ? undefined : a === b ? aNorms : rowNorms(b)
  const d2 = new Float64Array(TILE * TILE)
  for (let i0 = 0; i0 < a.n; i0 += TILE) {
    const i1 = Math.min(i0 + TILE, a.n)
    for (let j0 = upper ? i0 : 0; j0 < b.n; j0 += TILE) {
      const j1 = Math.min(j0 + TILE, b.n)
      if (aNorms === undefined || bNorms === undefined) directTile(a.data, b.data, d, i0, i1, j0, j1, d2)
      else dotTile(a.data, aNorms, b.data, bNorms, d, i0, i1, j0, j1, d2)
      visit({ rowStart: i0, rowEnd: i1, colStart: j0, colEnd: j1, d2 })
    }
  }
}

function rowNorms(s: VectorSamples): Float64Array {
  const out = new Float64Array(s.n)
  for (let i = 0; i < s.n; i++) out[i] = dot(s.data, i * s.d, s.data, i * s.d, s.d)
  return out
}

function dot(x: Float64Array, xo: number, y: Float64Array, yo: number, d: number): number {
  let s = 0
  for (let t = 0; t < d; t++) s += x[xo + t]! * y[yo + t]!
  return s
}

function directTile(a: Float64Array, b: Float64Array, d: number, i0: number, i1: number, j0: number, j1: number, out: Float64Array): void {
  // 2-D (the ring and grid benchmarks) unrolled: 2.4 times faster than the loop below, same bits.
  if (d === 2) {
    for (let i = i0; i < i1; i++) {
      const x = a[2 * i]!
      const y = a[2 * i + 1]!
      const o = (i - i0) * TILE - j0
      for (let j = j0; j < j1; j++) {
        const dx = x - b[2 * j]!
        const dy = y - b[2 * j + 1]!
        out[o + j] = dx * dx + dy * dy
      }
    }
    return
  }
  for (let i = i0; i < i1; i++) {
    const ai = i * d
    const o = (i - i0) * TILE - j0
    for (let j = j0; j < j1; j++) {
      const bj = j * d
      let s = 0
      for (let t = 0; t < d; t++) {
        const diff = a[ai + t]! - b[bj + t]!
        s += diff * diff
      }
      out[o + j] = s
    }
  }
}

function dotTile(
  a: Float64Array,
  aNorms: Float64Array,
  b: Float64Array,
  bNorms: Float64Array,
  d: number,
  i0: number,
  i1: number,
  j0: number,
  j1: number,
  out: Float64Array,
): void {
  // Dot products first (4 x 4 register blocks, then the ragged edges one pair at a time) ...
  const iBlockEnd = i0 + ((i1 - i0) & ~3)
  const jBlockEnd = j0 + ((j1 - j0) & ~3)
  for (let i = i0; i < iBlockEnd; i += 4) {
    const a0 = i * d
    const a1 = a0 + d
    const a2 = a1 + d
    const a3 = a2 + d
    const o = (i - i0) * TILE - j0
    for (let j = j0; j < jBlockEnd; j += 4) {
      const b0 = j * d
      const b1 = b0 + d
      const b2 = b1 + d
      const b3 = b2 + d
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0
      let s10 = 0, s11 = 0, s12 = 0, s13 = 0
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0
      let s30 = 0, s31 = 0, s32 = 0, s33 = 0
      for (let t = 0; t < d; t++) {
        const y0 = b[b0 + t]!
        const y1 = b[b1 + t]!
        const y2 = b[b2 + t]!
        const y3 = b[b3 + t]!
        let x = a[a0 + t]!
        s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3
        x = a[a1 + t]!
        s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3
        x = a[a2 + t]!
        s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3
        x = a[a3 + t]!
        s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3
      }
      out[o + j] = s00; out[o + j + 1] = s01; out[o + j + 2] = s02; out[o + j + 3] = s03
      out[o + TILE + j] = s10; out[o + TILE + j + 1] = s11; out[o + TILE + j + 2] = s12; out[o + TILE + j + 3] = s13
      out[o + 2 * TILE + j] = s20; out[o + 2 * TILE + j + 1] = s21; out[o + 2 * TILE + j + 2] = s22; out[o + 2 * TILE + j + 3] = s23
      out[o + 3 * TILE + j] = s30; out[o + 3 * TILE + j + 1] = s31; out[o + 3 * TILE + j + 2] = s32; out[o + 3 * TILE + j + 3] = s33
    }
    for (let r = i; r < i + 4; r++) {
      for (let j = jBlockEnd; j < j1; j++) out[(r - i0) * TILE + j - j0] = dot(a, r * d, b, j * d, d)
    }
  }
  for (let i = iBlockEnd; i < i1; i++) {
    for (let j = j0; j < j1; j++) out[(i - i0) * TILE + j - j0] = dot(a, i * d, b, j * d, d)
  }
  // ... then distances from them.
  for (let i = i0; i < i1; i++) {
    const o = (i - i0) * TILE - j0
    const ni = aNorms[i]!
    for (let j = j0; j < j1; j++) {
      const v = ni + bNorms[j]! - 2 * out[o + j]!
      out[o + j] = v > 0 ? v : 0
    }
  }
}

/**
 * Which arithmetic gives the bounds of a Block. 'auto' takes float32 (float32-distance.ts) from
 * FLOAT32_MIN_D dimensions for passes of at least FLOAT32_MIN_WORK multiply-adds, when tfjs has a
 * native or wasm backend; 'float64' and 'float32' force one (tests compare the two).
 */
export type DistanceEngine = 'auto' | 'float64' | 'float32'

/**
 * From this many dimensions float32 blocks beat the float64 tiles, by 1.6 times at 8 and 3.6 at
 * 128 (README, "Performance"); in 2-D the unrolled float64 tile is faster.
 */
export const FLOAT32_MIN_D = 8
/**
 * Least multiply-adds (pairs · d) of a pass for which 'auto' loads tfjs (about a second, once per
 * process): smaller passes, such as the tests', take well under a second in float64.
 */
export const FLOAT32_MIN_WORK = 2 ** 28

/**
 * Lower and upper bounds on the squared distances of a block of pairs, for metrics that only
 * compare distances with thresholds: where a threshold lies between a pair's bounds, `exact` gives
 * the value of the float64 tiles above, so every comparison, and every value kept, is theirs bit
 * for bit whichever engine made the block. From the float64 tiles low = high = the distances.
 */
export interface Block {
  readonly rowStart: number
  readonly rowEnd: number
  readonly colStart: number
  readonly colEnd: number
  /** Pair (i, j) is at (i - rowStart) * stride + (j - colStart). */
  readonly stride: number
  readonly low: Float64Array
  readonly high: Float64Array
  exact(i: number, j: number): number
}

/** Blocks of rows × cols: each row's columns ascending, as forEachCrossTile visits them. */
export async function forEachCrossBlock(rows: VectorSamples, cols: VectorSamples, visit: (block: Block) => void, engine: DistanceEngine = 'auto'): Promise<void> {
  if (rows.d !== cols.d) throw new RangeError(`distance blocks: dimension ${rows.d} differs from ${cols.d}`)
  await blocks(rows, cols, false, visit, engine)
}

/** Blocks of s × s holding its pairs j > i; a block may hold pairs j ≤ i as well, to be skipped. */
export async function forEachSelfBlock(s: VectorSamples, visit: (block: Block) => void, engine: DistanceEngine = 'auto'): Promise<void> {
  await blocks(s, s, true, visit, engine)
}

async function blocks(a: VectorSamples, b: VectorSamples, upper: boolean, visit: (block: Block) => void, engine: DistanceEngine): Promise<void> {
  const pairs = upper ? (a.n * (a.n - 1)) / 2 : a.n * b.n
  const loaded = await float32Backend(a.d, pairs * a.d, engine)
  if (loaded !== undefined) {
    const aNorms = rowNorms(a)
    const bNorms = upper ? aNorms : rowNorms(b)
    const exact = (i: number, j: number): number => pairDistanceSq(a, aNorms, i, b, bNorms, j)
    if (float32Blocks(loaded, a, b, upper, aNorms, bNorms, exact, visit)) return
  }
  let tile: Tile | undefined
  const exact = (i: number, j: number): number => tile!.d2[(i - tile!.rowStart) * TILE + j - tile!.colStart]!
  tiles(a, b, upper, (t) => {
    tile = t
    visit({ rowStart: t.rowStart, rowEnd: t.rowEnd, colStart: t.colStart, colEnd: t.colEnd, stride: TILE, low: t.d2, high: t.d2, exact })
  })
}

/** tfjs when a pass of `work` multiply-adds in d dimensions is to run in float32 (DistanceEngine). */
async function float32Backend(d: number, work: number, engine: DistanceEngine): Promise<LoadedTf | undefined> {
  if (engine === 'float64') return undefined
  if (engine === 'float32') return loadTf()
  if (d < FLOAT32_MIN_D || work < FLOAT32_MIN_WORK) return undefined
  const loaded = await loadTf()
  // tfjs's pure-JS cpu backend multiplies at about 0.8 · 10⁹ flop/s, slower than the float64 tiles.
  return loaded.backend === 'cpu' ? undefined : loaded
}

/** The squared distance of a's row i and b's row j exactly as the tiles compute it. */
function pairDistanceSq(a: VectorSamples, aNorms: Float64Array, i: number, b: VectorSamples, bNorms: Float64Array, j: number): number {
  const d = a.d
  if (d <= DIRECT_MAX_D) {
    let s = 0
    for (let t = 0; t < d; t++) {
      const diff = a.data[i * d + t]! - b.data[j * d + t]!
      s += diff * diff
    }
    return s
  }
  const v = aNorms[i]! + bNorms[j]! - 2 * dot(a.data, i * d, b.data, j * d, d)
  return v > 0 ? v : 0
}

/** Per row of s, the squared distance to its k-th nearest other row (Infinity when s.n ≤ k). */
export async function kthNeighbourSq(s: VectorSamples, k: number, engine: DistanceEngine = 'auto'): Promise<Float64Array> {
  const best = new Float64Array(s.n * k).fill(Infinity)
  await forEachSelfBlock(
    s,
    (b) => {
      const lows = b.low
      for (let i = b.rowStart; i < b.rowEnd; i++) {
        const first = Math.max(b.colStart, i + 1)
        const kthOfI = i * k + k - 1
        for (let j = first, at = (i - b.rowStart) * b.stride + first - b.colStart; j < b.colEnd; j++, at++) {
          // A distance at or above both rows' current k-th would change neither list.
          const low = lows[at]!
          if (low < best[kthOfI]! || low < best[j * k + k - 1]!) {
            const v = b.exact(i, j)
            offerNeighbour(best, k, i, v)
            offerNeighbour(best, k, j, v)
          }
        }
      }
    },
    engine,
  )
  const kth = new Float64Array(s.n)
  for (let i = 0; i < s.n; i++) kth[i] = best[i * k + k - 1]!
  return kth
}

/**
 * Row `row` of `best` keeps its k smallest distances sorted ascending. Most candidates fail the
 * first comparison with the current k-th, so a short insertion buffer beats a heap here. (A
 * module-level function rather than a closure: V8 inlines a call only while its target stays the
 * same function object, and a closure made per call is a new one each time.)
 */
function offerNeighbour(best: Float64Array, k: number, row: number, v: number): void {
  const base = row * k
  let at = base + k - 1
  if (!(v < best[at]!)) return
  while (at > base && best[at - 1]! > v) {
    best[at] = best[at - 1]!
    at--
  }
  best[at] = v
}

/** For each query row, the nearest reference row (the first on ties) and its squared distance. */
export async function nearest(query: VectorSamples, reference: VectorSamples, engine: DistanceEngine = 'auto'): Promise<{ index: Int32Array; d2: Float64Array }> {
  const index = new Int32Array(query.n).fill(-1)
  const d2 = new Float64Array(query.n).fill(Infinity)
  await forEachCrossBlock(
    query,
    reference,
    (b) => {
      const lows = b.low
      for (let i = b.rowStart; i < b.rowEnd; i++) {
        let best = d2[i]!
        let bestAt = index[i]!
        for (let j = b.colStart, at = (i - b.rowStart) * b.stride; j < b.colEnd; j++, at++) {
          if (lows[at]! < best) {
            const v = b.exact(i, j)
            if (v < best) {
              best = v
              bestAt = j
            }
          }
        }
        d2[i] = best
        index[i] = bestAt
      }
    },
    engine,
  )
  return { index, d2 }
}

/** Median of the n(n−1)/2 pairwise distances of s; null when n < 2. */
export function medianPairwiseDistance(s: VectorSamples): number | null {
  if (s.n < 2) return null
  const all = new Float64Array((s.n * (s.n - 1)) / 2)
  let at = 0
  forEachSelfTile(s, (t) => {
    const diagonal = t.rowStart === t.colStart
    for (let i = t.rowStart; i < t.rowEnd; i++) {
      const o = (i - t.rowStart) * TILE - t.colStart
      for (let j = diagonal ? i + 1 : t.colStart; j < t.colEnd; j++) all[at++] = t.d2[o + j]!
    }
  })
  return medianDistance(all)
}

/**
 * Median of the distances whose squares are `squared` (sorted in place); the middle two are
 * averaged as distances, as numpy.median does on the distances themselves.
 */
export function medianDistance(squared: Float64Array): number {
  squared.sort()
  const mid = squared.length >> 1
  return squared.length % 2 === 1 ? Math.sqrt(squared[mid]!) : (Math.sqrt(squared[mid - 1]!) + Math.sqrt(squared[mid]!)) / 2
}
