import { inputError, searchCumulative, type Rng } from '@ouroboros/core'

/**
 * The items a weighted fit learns from: those of positive weight (an item of weight 0 has no
 * say in the objective), with their weights, and whether those are all equal (the objective is
 * then the plain fit's on these items). Weights must have been checked (core's checkWeights).
 */
export function positiveItems(weights: ArrayLike<number>, what: string): { readonly index: Int32Array; readonly weights: Float64Array; readonly equal: boolean } {
  const index: number[] = []
  for (let i = 0; i < weights.length; i++) if (weights[i]! > 0) index.push(i)
  if (index.length === 0) throw inputError(`${what}: every weight is 0, so there is nothing to train on`)
  const kept = Float64Array.from(index, (i) => weights[i]!)
  return { index: Int32Array.from(index), weights: kept, equal: kept.every((w) => w === kept[0]) }
}

/** Draws item indices with probability ∝ weights (≥ 0, with a positive sum), with replacement. */
export class WeightedDraws {
  private readonly cumulative: Float64Array
  private readonly total: number

  constructor(weights: ArrayLike<number>) {
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
