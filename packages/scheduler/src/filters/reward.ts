import { z } from 'zod'
import { concatSamples, defineFilter, goldRewardSchema, takeSamples } from '@ouroboros/core'
import { goldReward } from '@ouroboros/posttrain'

/**
 * Curation by a reward, as users curate what a model shows them (Ferbach et al. 2024): each kept
 * sample is one of `choices` fresh draws, picked with Luce's choice probabilities
 * exp(r/temperature) / Σ exp(r/temperature) (Bradley–Terry for two), or the best of them with
 * `choice: 'best'`. Retraining on such data raises the reward generation after generation and
 * narrows the samples onto the reward's maximisers; mixing in real data keeps them diverse.
 */
export const reward = defineFilter({
  id: 'reward',
  description: 'keep one of every `choices` draws, chosen by a reward (Luce / Bradley–Terry choice, or the best)',
  params: z.strictObject({
    reward: goldRewardSchema,
    choices: z.int().min(2).max(1000).default(2),
    choice: z.enum(['luce', 'best']).default('luce'),
    temperature: z.number().positive().default(1),
  }),
  async check(params, { dataset }, where) {
    await goldReward(params.reward, dataset, `${where}.reward`)
  },
  outputInfo: {
    filter_reward: { title: 'reward of the model’s own draws', better: 'higher' },
    filter_reward_kept: { title: 'reward of the samples the filter kept', better: 'higher' },
  },
  async apply(params, inputs) {
    const gold = await goldReward(params.reward, inputs.dataset, 'filter.reward')
    const { n } = inputs
    const pool = concatSamples([inputs.first, await inputs.draw(n * (params.choices - 1), 1)])
    const r = await gold.score(pool)
    const rng = inputs.rng
    // Candidate c of kept sample i is draw i + c·n: the first draw (what metrics score) and the
    // same position of the further batch.
    const chosen = new Uint32Array(n)
    const logits = new Float64Array(params.choices)
    for (let i = 0; i < n; i++) {
      let best = 0
      for (let c = 0; c < params.choices; c++) {
        logits[c] = r[i + c * n]! / params.temperature
        if (logits[c]! > logits[best]!) best = c
      }
      if (params.choice === 'best') {
        chosen[i] = i + best * n
        continue
      }
      let total = 0
      // Shifted by the largest logit, so the exponentials never overflow.
      const top = logits[best]!
      for (let c = 0; c < params.choices; c++) total += logits[c] = Math.exp(logits[c]! - top)
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
})
