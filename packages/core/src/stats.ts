/** Small numerical helpers shared by models and metrics. */

/** Digamma ψ(x) for x > 0 (recurrence to x ≥ 6, then the asymptotic series). */
export function digamma(x: number): number {
  let result = 0
  while (x < 6) {
    result -= 1 / x
    x += 1
  }
  const f = 1 / (x * x)
  return result + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))
}

/** Trigamma ψ′(x) for x > 0. */
export function trigamma(x: number): number {
  let result = 0
  while (x < 6) {
    result += 1 / (x * x)
    x += 1
  }
  const f = 1 / (x * x)
  return result + 1 / x + f / 2 + (1 / x) * f * (1 / 6 - f * (1 / 30 - f * (1 / 42 - f / 30)))
}

/** log(Σ exp(v_i)) over v[at .. at + n) without overflow. */
export function logSumExp(v: ArrayLike<number>, n = v.length, at = 0): number {
  let max = -Infinity
  for (let i = at; i < at + n; i++) if (v[i]! > max) max = v[i]!
  if (max === -Infinity) return -Infinity
  let s = 0
  for (let i = at; i < at + n; i++) s += Math.exp(v[i]! - max)
  return max + Math.log(s)
}

/**
 * In-place Cholesky factorisation of a symmetric positive-definite d x d matrix (row-major,
 * lower triangle out). Returns false when the matrix is not positive definite.
 */
export function choleskyInPlace(a: Float64Array, d: number): boolean {
  for (let j = 0; j < d; j++) {
    let s = a[j * d + j]!
    for (let k = 0; k < j; k++) s -= a[j * d + k]! * a[j * d + k]!
    if (!(s > 0)) return false
    const l = Math.sqrt(s)
    a[j * d + j] = l
    for (let i = j + 1; i < d; i++) {
      let t = a[i * d + j]!
      for (let k = 0; k < j; k++) t -= a[i * d + k]! * a[j * d + k]!
      a[i * d + j] = t / l
    }
    for (let k = j + 1; k < d; k++) a[j * d + k] = 0
  }
  return true
}

/**
 * Column means and the covariance of n x d row-major data: the sums of products of deviations
 * divided by `divisor` (n, ddof 0, by default; n − 1 for the unbiased estimate).
 */
export function meanAndCovariance(data: Float64Array, n: number, d: number, divisor = n): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(d)
  const cov = new Float64Array(d * d)
  meanAndCovarianceInto(data, 0, n, d, divisor, mean, cov, new Float64Array(d))
  return { mean, cov }
}

/**
 * meanAndCovariance of the n x d rows starting at data[at], into `mean` (d) and `cov` (d x d),
 * with `row` (d) as scratch: what a block of chains computes without an allocation per chain.
 */
export function meanAndCovarianceInto(data: Float64Array, at: number, n: number, d: number, divisor: number, mean: Float64Array, cov: Float64Array, row: Float64Array): void {
  if (d === 1) {
    // The same sums in the same order as below (skipping a zero adds nothing), without the inner
    // loops: cheap 1-D chains run this once per chain and generation.
    meansAndSquaredDeviations(data, at, n, 1, mean, cov)
    cov[0]! /= divisor
    return
  }
  mean.fill(0, 0, d)
  cov.fill(0, 0, d * d)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += data[at + i * d + j]!
  for (let j = 0; j < d; j++) mean[j]! /= n
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = data[at + i * d + j]! - mean[j]!
    for (let a = 0; a < d; a++) {
      const ra = row[a]!
      // Adding zeros changes no sum; rows of ReLU features are mostly zeros.
      if (ra === 0) continue
      for (let b = a; b < d; b++) cov[a * d + b]! += ra * row[b]!
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b]! / divisor
      cov[a * d + b] = v
      cov[b * d + a] = v
    }
  }
}

/**
 * For k runs of n values, run c at data[at + c·n ..]: mean[c] = Σ x / n and ss[c] = Σ (x − mean[c])²,
 * each sum taken in index order as a loop over one run takes it, so to the same bits. Four runs go
 * at a time: their sums do not depend on each other, so the processor overlaps their additions
 * instead of waiting for each to finish (a block of 1-D chains sums every sample twice a generation
 * to fit, and twice more to score).
 */
export function meansAndSquaredDeviations(data: Float64Array, at: number, n: number, k: number, mean: Float64Array, ss: Float64Array): void {
  let c = 0
  for (; c + 3 < k; c += 4) {
    const o0 = at + c * n
    const o1 = o0 + n
    const o2 = o1 + n
    const o3 = o2 + n
    let s0 = 0
    let s1 = 0
    let s2 = 0
    let s3 = 0
    for (let i = 0; i < n; i++) {
      s0 += data[o0 + i]!
      s1 += data[o1 + i]!
      s2 += data[o2 + i]!
      s3 += data[o3 + i]!
    }
    const m0 = s0 / n
    const m1 = s1 / n
    const m2 = s2 / n
    const m3 = s3 / n
    let q0 = 0
    let q1 = 0
    let q2 = 0
    let q3 = 0
    for (let i = 0; i < n; i++) {
      const r0 = data[o0 + i]! - m0
      const r1 = data[o1 + i]! - m1
      const r2 = data[o2 + i]! - m2
      const r3 = data[o3 + i]! - m3
      q0 += r0 * r0
      q1 += r1 * r1
      q2 += r2 * r2
      q3 += r3 * r3
    }
    mean[c] = m0
    mean[c + 1] = m1
    mean[c + 2] = m2
    mean[c + 3] = m3
    ss[c] = q0
    ss[c + 1] = q1
    ss[c + 2] = q2
    ss[c + 3] = q3
  }
  for (; c < k; c++) {
    const o = at + c * n
    let s = 0
    for (let i = 0; i < n; i++) s += data[o + i]!
    const m = s / n
    let q = 0
    for (let i = 0; i < n; i++) {
      const r = data[o + i]! - m
      q += r * r
    }
    mean[c] = m
    ss[c] = q
  }
}

/**
 * The first index in [start, end) whose cumulative sum exceeds u, by bisection: how a uniform draw
 * u picks an outcome from cumulative probabilities. The last index when rounding leaves every sum
 * at or below u; outcomes of zero weight are never picked.
 */
export function searchCumulative(cum: ArrayLike<number>, u: number, start = 0, end = cum.length): number {
  let lo = start
  let hi = end - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (cum[mid]! > u) hi = mid
    else lo = mid + 1
  }
  return lo
}
