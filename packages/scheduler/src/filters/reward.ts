import { concatSamples, takeSamples, type FilterConfig } from '@ouroboros/core'
import { goldReward } from '@ouroboros/posttrain'
import type { Filter } from './filter.js'

type RewardFilterConfig = Extract<FilterConfig, { kind: 'reward' }>

/**
 * Curation by a reward, as users curate what a model shows them (Ferbach et al. 2024): each kept
 * sample is one of `choices` fresh draws, picked with Luce's choice probabilities
 * exp(r/temperature) / Σ exp(r/temperature) (Bradley–Terry for two), or the best of them with
 * `choice: 'best'`. Retraining on such data raises the reward generation after generation and
 * narrows the samples onto the reward's maximisers; mixing in real data keeps them diverse.
 */
export const rewardFilter: Filter<RewardFilterConfig> = {
  kind: 'reward',
  description: 'keep one of every `choices` draws, chosen by a reward (Luce / Bradley–Terry choice, or the best)',
  async apply(config, inputs) {
    const reward = await goldReward(config.reward, inputs.dataset, 'filter.reward')
    const { n } = inputs
    const pool = concatSamples([inputs.first, await inputs.draw(n * (config.choices - 1), 1)])
    const r = await reward.score(pool)
    const rng = inputs.rng
    // Candidate c of kept sample i is draw i + c·n: the first draw (what metrics score) and the
    // same position of the further batch.
    const chosen = new Uint32Array(n)
    const logits = new Float64Array(config.choices)
    for (let i = 0; i < n; i++) {
      let best = 0
      for (let c = 0; c < config.choices; c++) {
        logits[c] = r[i + c * n]! / config.temperature
        if (logits[c]! > logits[best]!) best = c
      }
      if (config.choice === 'best') {
        chosen[i] = i + best * n
        continue
      }
      let total = 0
      // Shifted by the largest logit, so the exponentials never overflow.
      const top = logits[best]!
      for (let c = 0; c < config.choices; c++) total += logits[c] = Math.exp(logits[c]! - top)
      chosen[i] = i + rng.categorical(logits, total) * n
    }
    let drawn = 0
    let curated = 0
    for (let i = 0; i < n; i++) {
      drawn += r[i]! / n
      curated += r[chosen[i]!]! / n
    }
    // The model's own draw (what the metrics score) and the curated samples the next generation sees.
    return { kept: takeSamples(pool, chosen), draws: pool.n, values: { filter_reward: drawn, filter_reward_kept: curated } }
  },
}
