import { inputError } from './errors.js'

/**
 * Checks the item weights a model is fit or trained with (fitWeighted, a trainer step): one per
 * item, finite and ≥ 0. Returns their sum, which may be 0; callers that need data say so.
 */
export function checkWeights(weights: ArrayLike<number>, n: number, what: string): number {
  if (weights.length !== n) throw inputError(`${what}: got ${weights.length} weights for ${n} items`, 'give one weight per item')
  let sum = 0
  for (let i = 0; i < n; i++) {
    const w = weights[i]!
    if (!(w >= 0 && w < Infinity)) {
      const hint = w < 0 ? 'weights here are ≥ 0; signed advantages go to trainers that take signed weights' : 'compute exp(r/β) as exp((r − max r)/β), which does not overflow'
      throw inputError(`${what}: weight ${i} is ${w}; weights must be finite and ≥ 0`, hint)
    }
    sum += w
  }
  if (!(sum < Infinity)) throw inputError(`${what}: the weights sum to ${sum}`, 'rescale the weights; only their ratios matter')
  return sum
}

/**
 * Weighted column means and the weighted scatter Σ_i w_i (x_i − m)(x_i − m)ᵀ / Σ_i w_i (ddof 0)
 * of n x d row-major data, for weights ≥ 0 with a positive sum.
 */
export function weightedMeanAndCovariance(data: Float64Array, n: number, d: number, weights: ArrayLike<number>): { mean: Float64Array; cov: Float64Array } {
  let total = 0
  for (let i = 0; i < n; i++) total += weights[i]!
  const mean = new Float64Array(d)
  for (let i = 0; i < n; i++) {
    const w = weights[i]!
    if (w !== 0) for (let j = 0; j < d; j++) mean[j]! += w * data[i * d + j]!
  }
  for (let j = 0; j < d; j++) mean[j]! /= total
  const cov = new Float64Array(d * d)
  const row = new Float64Array(d)
  for (let i = 0; i < n; i++) {
    const w = weights[i]!
    if (w === 0) continue
    for (let j = 0; j < d; j++) row[j] = data[i * d + j]! - mean[j]!
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[a * d + b]! += w * row[a]! * row[b]!
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b]! / total
      cov[a * d + b] = v
      cov[b * d + a] = v
    }
  }
  return { mean, cov }
}

/**
 * Kish's effective sample size (Σw)² / Σw²: the number of equally weighted items whose mean has
 * the variance of this weighted mean. n for equal weights.
 */
export function effectiveSampleSize(weights: ArrayLike<number>): number {
  let s = 0
  let s2 = 0
  for (let i = 0; i < weights.length; i++) {
    s += weights[i]!
    s2 += weights[i]! * weights[i]!
  }
  return (s * s) / s2
}
