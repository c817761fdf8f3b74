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

/** log(Σ exp(v_i)) without overflow. */
export function logSumExp(v: ArrayLike<number>, n = v.length): number {
  let max = -Infinity
  for (let i = 0; i < n; i++) if (v[i]! > max) max = v[i]!
  if (max === -Infinity) return -Infinity
  let s = 0
  for (let i = 0; i < n; i++) s += Math.exp(v[i]! - max)
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

/** Column means and the (ddof 0) covariance of n x d row-major data. */
export function meanAndCovariance(data: Float64Array, n: number, d: number): { mean: Float64Array; cov: Float64Array } {
  const mean = new Float64Array(d)
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += data[i * d + j]!
  for (let j = 0; j < d; j++) mean[j]! /= n
  const cov = new Float64Array(d * d)
  const row = new Float64Array(d)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = data[i * d + j]! - mean[j]!
    for (let a = 0; a < d; a++) {
      const ra = row[a]!
      for (let b = a; b < d; b++) cov[a * d + b]! += ra * row[b]!
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b]! / n
      cov[a * d + b] = v
      cov[b * d + a] = v
    }
  }
  return { mean, cov }
}
