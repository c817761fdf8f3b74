import { inputError, searchCumulative, type Rng } from '@ouroboros/core'

/**
 * Checks the per-item weights a post-training hook receives: one finite weight per item, and, for
 * updates that need them so (`signed` false), none negative and not all zero.
 */
export function checkWeights(weights: Float64Array, n: number, what: string, signed: boolean): void {
  if (weights.length !== n) throw inputError(`${what}: ${weights.length} weights for ${n} items`)
  let positive = false
  for (let i = 0; i < n; i++) {
    const w = weights[i]!
    if (!Number.isFinite(w)) throw inputError(`${what}: weight ${i} is ${w}`)
    if (!signed && w < 0) throw inputError(`${what}: weight ${i} is ${w}, but this model trains only on weights ≥ 0`)
    if (w > 0) positive = true
  }
  if (!signed && !positive) throw inputError(`${what}: every weight is 0, so there is nothing to train on`)
}

/** Draws item indices with probability ∝ weights (≥ 0, not all 0), with replacement. */
export class WeightedDraws {
  private readonly cumulative: Float64Array
  private readonly total: number

  constructor(weights: Float64Array) {
    this.cumulative = new Float64Array(weights.length)
    let acc = 0
    for (let i = 0; i < weights.length; i++) this.cumulative[i] = acc += weights[i]!
    this.total = acc
  }

  /** count draws into a new array. */
  next(rng: Rng, count: number): Int32Array {
    const out = new Int32Array(count)
    for (let i = 0; i < count; i++) out[i] = searchCumulative(this.cumulative, rng.uniform() * this.total)
    return out
  }
}
