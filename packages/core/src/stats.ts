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
    // The same sums in the same order as below, without the inner loops: cheap 1-D chains run
    // this once per chain and generation.
    let m = 0
    for (let i = 0; i < n; i++) m += data[at + i]!
    m /= n
    let v = 0
    for (let i = 0; i < n; i++) {
      const r = data[at + i]! - m
      if (r !== 0) v += r * r
    }
    mean[0] = m
    cov[0] = v / divisor
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
