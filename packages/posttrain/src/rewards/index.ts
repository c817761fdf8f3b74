import type { ModelPlugin, RewardConfig, Rng, Samples } from '@ouroboros/core'
import { fitProxy } from './proxy.js'
import type { Reward, RewardPair } from './reward.js'

export { GOLD_REWARD_TAKES, goldReward, rewardSamplesProblem } from './gold.js'
export { fitProxy, type ProxyOptions, type ProxyReward } from './proxy.js'
export { mean, type Reward, type RewardPair } from './reward.js'

/**
 * A stage's reward against the model it starts from: a gold reward as it is; a proxy fit now to
 * `labels` samples of that model (Gao et al.: the reward model is trained on the policy's
 * initial distribution), labelled by the gold reward with noise or by preferences.
 */
export async function stageRewards<S>(
  spec: RewardConfig,
  gold: Reward,
  model: ModelPlugin<any, S>,
  input: S,
  draw: (state: S, n: number, rng: Rng) => Promise<Samples>,
  rng: Rng,
): Promise<RewardPair> {
  if (spec.kind !== 'proxy') return { reward: gold, gold, proxy: false, description: gold.description }
  const labelled = await draw(input, spec.labels, rng.derive('labels'))
  const scores = await gold.score(labelled)
  const { noise, preferences, ridge, members, combine, variancePenalty } = spec
  const reward = fitProxy(labelled, scores, { noise, preferences, ridge, members, combine, variancePenalty }, rng.derive('proxy'))
  const labels = preferences
    ? `Bradley–Terry preferences between pairs scored by ${gold.description}${noise > 0 ? `; the scores have noise of sd ${noise}` : ''}`
    : `${gold.description}${noise > 0 ? `; the labels have noise of sd ${noise}` : ''}`
  return { reward, gold, proxy: true, description: `${reward.description}, labelled by ${labels}` }
}

/** The gold reward of a reward config: itself, or the function a proxy is fit to. */
export function goldOf(spec: RewardConfig): Exclude<RewardConfig, { kind: 'proxy' }> {
  return spec.kind === 'proxy' ? spec.of : spec
}

