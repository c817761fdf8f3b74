import type { Samples } from '@ouroboros/core'

/** A reward: one number per sample, higher is better. */
export interface Reward {
  readonly description: string
  score(s: Samples): Float64Array | Promise<Float64Array>
  /**
   * For a reward that is a sum of per-token values (a lexicon summed per sentence): the value of
   * each token id, so that the KL-regularised optimum of a unigram model has its closed form.
   */
  readonly perToken?: Float64Array | undefined
}

/** What a stage optimises, and the known function behind it (the same reward when it is gold). */
export interface RewardPair {
  readonly reward: Reward
  readonly gold: Reward
  readonly proxy: boolean
  /** What the stage optimises in words: the gold reward, or the proxy and how it was labelled. */
  readonly description: string
}

export async function mean(reward: Reward, s: Samples): Promise<number | null> {
  if (s.n === 0) return null
  const r = await reward.score(s)
  let sum = 0
  for (let i = 0; i < r.length; i++) sum += r[i]!
  return sum / r.length
}
