import type { VectorSamples } from '@ouroboros/core'
import type { LoadedTf, Tensor2D } from '@ouroboros/tf'
import type { Block } from './distance.js'

/**
 * Bounds on squared distances from a float32 matrix multiply (tfjs; XNNPACK with SIMD on the wasm
 * backend, 42 · 10⁹ flop/s here against the float64 tiles' 6 · 10⁹), for the metrics that only
 * compare distances: a pair whose bounds leave a comparison undecided is recomputed in float64 by
 * the caller (Block.exact), so every decision is the one the float64 tiles would make.
 *
 * Blocks of up to FLOAT32_BLOCK rows are multiplied against blocks of as many columns, the column
 * blocks uploaded once per pass. The multiply runs at the same rate for blocks from 128 to 2000
 * (README, "Performance"); 512 keeps each block's bounds (2 x 2 MiB) small.
 */
export const FLOAT32_BLOCK = 512

const U32 = 2 ** -24
const U64 = 2 ** -53
/** Coordinates beyond this (after centring) could overflow float32 products and sums. */
const MAX_ABS = 2 ** 40

/**
 * The bound. Both sets are centred on the column means of `a` (a distance does not change, and
 * data far from the origin would otherwise lose their distances to cancellation) and rounded to
 * float32: x̃ = fl32(x − c). The approximation is a = m̃_x + m̃_y − 2 s̃, where m̃ = Σ x̃_t² is
 * summed in float64 and s̃ is the float32 product x̃·ỹ. With ρ ≥ ‖x − c‖, ‖x̃‖ for each point,
 * S = ρ_x + ρ_y and n_x = ‖x‖² as the float64 tiles compute it, |a − v| for v the float64 tiles'
 * value is at most the sum of (γ_d = d·u/(1 − d·u)):
 *
 * - the float64 sums m̃: γ_d(64) · S²;
 * - 2|s̃ − x̃·ỹ|: (γ_d(32) + 2u_in + u_in²) · S²/2, for any summation order (2‖x̃‖‖ỹ‖ ≤ S²/2), where
 *   u_in is a further rounding of the inputs inside the multiply: 0 for wasm and cpu; 2⁻¹¹ for
 *   TensorFlow, which may run float32 products as TF32 on NVIDIA GPUs;
 * - the rounding of the inputs, |‖x̃ − ỹ‖² − ‖x − y‖²| ≤ (2u₁ + u₁²) · S² with u₁ = u(32) + u(64)
 *   (x − c rounded to float64, then to float32);
 * - the float64 roundings in forming a, and in the float64 tiles' own value: |v − ‖x − y‖²| ≤
 *   (2γ_d(64) + 4u(64)) · (n_x + n_y) for the dot-product form, and as much again for the
 *   coordinate-difference form of d ≤ 16 (‖x − y‖² ≤ 2(n_x + n_y));
 * - absolute terms for underflow, even with subnormals flushed to zero (at most 2⁻¹²⁶ per
 *   coordinate and per operation): d · (max|x − c| + 1) · 2⁻¹²⁰ covers them.
 *
 * The factor 1.01 covers the float64 rounding of the bound arithmetic itself (a few units of 2⁻⁵³
 * relative to S², far below 1 % of the smallest coefficient, 2u₁). The pair's margin is split into
 * per-point parts with S² ≤ 2ρ_x² + 2ρ_y², so that a block costs one addition per pair for it.
 * In 784-D it comes to about 5 · 10⁻⁵ of ‖x − c‖² + ‖y − c‖².
 */
interface Coefficients {
  /** Margin per ρ² of a point (the S² terms, doubled for the split). */
  readonly perRho2: number
  /** Margin per float64 squared norm of a point. */
  readonly perNorm: number
}

function coefficients(d: number, backend: LoadedTf['backend']): Coefficients {
  const g32 = (d * U32) / (1 - d * U32)
  const g64 = (d * U64) / (1 - d * U64)
  const uIn = backend === 'tensorflow' ? 2 ** -11 : 0
  const u1 = U32 + U64 + U32 * U64
  const perS2 = 1.01 * ((g32 + (2 * uIn + uIn * uIn) * (1 + g32)) / 2 + 2 * u1 + u1 * u1 + g64 + 8 * U64)
  return { perRho2: 2 * perS2, perNorm: 1.01 * (2 * g64 + 8 * U64) }
}

interface Float32Rows {
  /** fl32(row − centre), row-major. */
  readonly data: Float32Array
  /** Σ of the squared float32 coordinates of each row, in float64. */
  readonly norm2: Float64Array
  /** Largest |x − c| over all coordinates (NaN when some coordinate is not finite). */
  readonly maxAbs: number
}

function centredFloat32(s: VectorSamples, centre: Float64Array): Float32Rows {
  const { n, d } = s
  const data = new Float32Array(n * d)
  const norm2 = new Float64Array(n)
  let maxAbs = 0
  for (let i = 0; i < n; i++) {
    let m = 0
    for (let t = 0; t < d; t++) {
      const v = s.data[i * d + t]! - centre[t]!
      // Written as a comparison so that NaN poisons maxAbs.
      if (!(Math.abs(v) <= maxAbs)) maxAbs = Math.abs(v)
      data[i * d + t] = v
      const f = data[i * d + t]!
      m += f * f
    }
    norm2[i] = m
  }
  return { data, norm2, maxAbs }
}

function columnMeans(s: VectorSamples): Float64Array {
  const mean = new Float64Array(s.d)
  for (let i = 0; i < s.n; i++) for (let t = 0; t < s.d; t++) mean[t]! += s.data[i * s.d + t]!
  for (let t = 0; t < s.d; t++) mean[t]! /= s.n
  return mean
}

/** Per point, its part of every pair's margin (see Coefficients). */
function pointMargins(f: Float32Rows, norms: Float64Array, d: number, c: Coefficients, absolute: number): Float64Array {
  const out = new Float64Array(f.norm2.length)
  for (let i = 0; i < out.length; i++) {
    const rho = (Math.sqrt(f.norm2[i]!) + Math.sqrt(d) * 2 ** -126) * (1 + 2 ** -20)
    out[i] = c.perRho2 * rho * rho + c.perNorm * norms[i]! + absolute / 2
  }
  return out
}

/** Block length for n points: at most FLOAT32_BLOCK, as even as possible. */
function blockLength(n: number): number {
  return Math.ceil(n / Math.ceil(n / FLOAT32_BLOCK))
}

/**
 * Visits blocks of a × b (with `upper`, a === b and only blocks holding pairs j > i) whose low and
 * high bound the float64 tiles' squared distances; false, visiting nothing, when the data are out
 * of float32's safe range (the caller then uses the float64 tiles). `aNorms` and `bNorms` are the
 * float64 squared norms the tiles use; `exact` gives a pair's float64 value.
 */
export function float32Blocks(
  loaded: LoadedTf,
  a: VectorSamples,
  b: VectorSamples,
  upper: boolean,
  aNorms: Float64Array,
  bNorms: Float64Array,
  exact: (i: number, j: number) => number,
  visit: (block: Block) => void,
): boolean {
  const { tf, backend } = loaded
  const d = a.d
  // Beyond this the γ_d bounds above stop being small; no data set here comes near it.
  if (d * U32 > 0.01) return false
  if (a.n === 0 || b.n === 0) return true
  const centre = columnMeans(a)
  const fa = centredFloat32(a, centre)
  const fb = upper ? fa : centredFloat32(b, centre)
  const maxAbs = Math.max(fa.maxAbs, fb.maxAbs)
  if (!(maxAbs <= MAX_ABS)) return false
  const c = coefficients(d, backend)
  const absolute = d * (maxAbs + 1) * 2 ** -120
  const aMargin = pointMargins(fa, aNorms, d, c, absolute)
  const bMargin = upper ? aMargin : pointMargins(fb, bNorms, d, c, absolute)

  const rowLength = blockLength(a.n)
  const colLength = blockLength(b.n)
  const low = new Float64Array(rowLength * colLength)
  const high = new Float64Array(rowLength * colLength)
  const columns: Tensor2D[] = []
  try {
    // Column blocks as d x m: tfjs-wasm multiplies [m, d] x [d, m] at 42 · 10⁹ flop/s here but
    // transposes the second operand itself (transposeB) at 3.5 · 10⁹.
    for (let j0 = 0; j0 < b.n; j0 += colLength) {
      const m = Math.min(colLength, b.n - j0)
      const t = new Float32Array(d * m)
      for (let j = 0; j < m; j++) for (let k = 0; k < d; k++) t[k * m + j] = fb.data[(j0 + j) * d + k]!
      columns.push(tf.tensor2d(t, [d, m]))
    }
    for (let i0 = 0; i0 < a.n; i0 += rowLength) {
      const i1 = Math.min(i0 + rowLength, a.n)
      const rows = tf.tensor2d(fa.data.subarray(i0 * d, i1 * d), [i1 - i0, d])
      try {
        for (let c0 = 0, jb = 0; c0 < b.n; c0 += colLength, jb++) {
          const c1 = Math.min(c0 + colLength, b.n)
          if (upper && c1 <= i0 + 1) continue
          const product = tf.matMul(rows, columns[jb]!)
          const dots = product.dataSync() as Float32Array
          product.dispose()
          bound(dots, fa.norm2, aMargin, i0, i1, fb.norm2, bMargin, c0, c1, low, high)
          visit({ rowStart: i0, rowEnd: i1, colStart: c0, colEnd: c1, stride: c1 - c0, low, high, exact })
        }
      } finally {
        rows.dispose()
      }
    }
  } finally {
    tf.dispose(columns)
  }
  return true
}

/** low and high of a block from its dot products (row-major, rows i0..i1 by columns c0..c1). */
function bound(
  dots: Float32Array,
  rowNorm2: Float64Array,
  rowMargin: Float64Array,
  i0: number,
  i1: number,
  colNorm2: Float64Array,
  colMargin: Float64Array,
  c0: number,
  c1: number,
  low: Float64Array,
  high: Float64Array,
): void {
  // One running index: V8 runs these loops 2.5 times faster than with (row offset + j).
  let at = 0
  for (let i = i0; i < i1; i++) {
    const mi = rowNorm2[i]!
    const ei = rowMargin[i]!
    for (let j = c0; j < c1; j++, at++) {
      const v = mi + colNorm2[j]! - 2 * dots[at]!
      const e = ei + colMargin[j]!
      low[at] = v - e
      high[at] = v + e
    }
  }
}
