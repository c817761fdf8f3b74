/**
 * Regression samples (rows x_1..x_p, y) as the report shows them: each row's label against the
 * least-squares fit to the chain's real data, ŵ₀. The design is fixed, so the rows' first
 * coordinates are the same in every generation and policy; what a chain changes is the labels,
 * and y − x·ŵ₀ shows how far each generation's labelling has drifted from the real data's.
 */

/** More features than this and the p × p solve would cost more than the page is worth. */
export const MAX_FIT_FEATURES = 500

/**
 * Ordinary least squares without intercept (as the data have none) on rows of width p + 1, the
 * label last: the normal equations XᵀX w = Xᵀy by Cholesky. Undefined when XᵀX is singular
 * (fewer independent rows than features).
 */
export function leastSquares(rows: Float64Array, n: number, p: number): Float64Array | undefined {
  const width = p + 1
  const a = new Float64Array(p * p)
  const b = new Float64Array(p)
  for (let i = 0; i < n; i++) {
    const o = i * width
    const y = rows[o + p]!
    for (let j = 0; j < p; j++) {
      const xj = rows[o + j]!
      b[j]! += xj * y
      for (let k = 0; k <= j; k++) a[j * p + k]! += xj * rows[o + k]!
    }
  }
  // In place: the lower triangle of a becomes L with L Lᵀ = XᵀX.
  for (let j = 0; j < p; j++) {
    let d = a[j * p + j]!
    for (let k = 0; k < j; k++) d -= a[j * p + k]! ** 2
    if (!(d > 1e-12 * Math.max(1, a[j * p + j]!))) return undefined
    const l = Math.sqrt(d)
    a[j * p + j] = l
    for (let i = j + 1; i < p; i++) {
      let s = a[i * p + j]!
      for (let k = 0; k < j; k++) s -= a[i * p + k]! * a[j * p + k]!
      a[i * p + j] = s / l
    }
  }
  const w = new Float64Array(p)
  for (let i = 0; i < p; i++) {
    let s = b[i]!
    for (let k = 0; k < i; k++) s -= a[i * p + k]! * w[k]!
    w[i] = s / a[i * p + i]!
  }
  for (let i = p - 1; i >= 0; i--) {
    let s = w[i]!
    for (let k = i + 1; k < p; k++) s -= a[k * p + i]! * w[k]!
    w[i] = s / a[i * p + i]!
  }
  return w
}

/** (x·w, y − x·w) of row `row`. */
export function residualPoint(rows: Float64Array, row: number, w: Float64Array): [number, number] {
  const p = w.length
  const o = row * (p + 1)
  let fit = 0
  for (let j = 0; j < p; j++) fit += rows[o + j]! * w[j]!
  return [fit, rows[o + p]! - fit]
}
