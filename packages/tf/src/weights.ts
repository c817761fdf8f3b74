import { inputError, searchCumulative, type Rng } from '@ouroboros/core'

/**
 * Checks the per-item weights a post-training hook receives: one finite weight per item, and none
 * negative for updates that need them so (`signed` false).
 */
export function checkWeights(weights: Float64Array, n: number, what: string, signed: boolean): void {
  if (weights.length !== n) throw inputError(`${what}: ${weights.length} weights for ${n} items`)
  for (let i = 0; i < n; i++) {
    const w = weights[i]!
    if (!Number.isFinite(w)) throw inputError(`${what}: weight ${i} is ${w}`)
    if (!signed && w < 0) throw inputError(`${what}: weight ${i} is ${w}, but this model trains only on weights ≥ 0`)
  }
}

/** Draws item indices with probability ∝ weights (checked ≥ 0), with replacement. */
export class WeightedDraws {
  private readonly cumulative: Float64Array
  private readonly total: number

  /** `what` names the caller in the error for weights that are all 0. */
  constructor(weights: Float64Array, what: string) {
    this.cumulative = new Float64Array(weights.length)
    let acc = 0
    for (let i = 0; i < weights.length; i++) this.cumulative[i] = acc += weights[i]!
    if (!(acc > 0)) throw inputError(`${what}: every weight is 0, so there is nothing to train on`)
    this.total = acc
  }

  /** count draws into a new array. */
  next(rng: Rng, count: number): Int32Array {
    const out = new Int32Array(count)
    for (let i = 0; i < count; i++) out[i] = searchCumulative(this.cumulative, rng.uniform() * this.total)
    return out
  }
}
