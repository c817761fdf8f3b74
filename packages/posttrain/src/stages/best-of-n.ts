import { takeSamples, type BestOfNStageConfig, type Rng, type Samples } from '@ouroboros/core'
import { bestOfNKl } from '../kl.js'
import { mean, type RewardPair } from '../rewards/reward.js'
import type { Sampler, StageContext, StageResult } from '../stage.js'
import { evalSamplesOf } from './curve.js'

/**
 * Best-of-n: every sample is the highest-reward of n draws of the input model (the first on ties).
 * Nothing is trained; the stage replaces how samples are drawn. Its curve is over n' = 1, 2, 4, …,
 * n from one pool of draws, so that reward and KL can be read against each other as Gao et al. do.
 */
export async function bestOfN<S>(stage: BestOfNStageConfig, index: number, ctx: StageContext<S>, input: S, rewards: RewardPair): Promise<StageResult<S>> {
  const draw = (n: number, rng: Rng): Promise<Samples> => Promise.resolve(ctx.model.sample(input, n, { rng, temperature: ctx.temperature, dataset: ctx.dataset }))
  const evalSamples = evalSamplesOf(ctx as StageContext<unknown>, stage.evalSamples)
  const pool = await draw(evalSamples * stage.n, ctx.rng.derive('curve'))
  const scores = await rewards.reward.score(pool)
  const sizes = curveSizes(stage.n)
  for (const [point, n] of sizes.entries()) {
    const used = evalSamples * n
    const all = scores.subarray(0, used)
    const kept = select(all, n)
    const samples = takeSamples(pool, kept)
    ctx.onPoint({
      stage: index,
      kind: 'best-of-n',
      step: n,
      reward: await mean(rewards.reward, samples),
      gold_reward: await mean(rewards.gold, samples),
      kl: bestOfNKl(all, Float64Array.from(kept, (i) => all[i]!), n),
      kl_estimator: 'best-of-n ranks',
      losses: {},
      metrics: await ctx.score(samples, input, undefined),
    })
    // Its steps are the curve's points: each scores the pool's best of n' with every metric group.
    ctx.onStep(point + 1, sizes.length)
  }
  let lastKl: number | null = null
  const sampler: Sampler = {
    rewards,
    async sample(m, rng) {
      const drawn = await draw(m * stage.n, rng)
      const r = await rewards.reward.score(drawn)
      const kept = select(r, stage.n)
      lastKl = bestOfNKl(r, Float64Array.from(kept, (i) => r[i]!), stage.n)
      return takeSamples(drawn, kept)
    },
    lastKl: () => lastKl,
  }
  return { state: input, sampler }
}

/** 1, 2, 4, … below n, then n. */
function curveSizes(n: number): number[] {
  const sizes: number[] = []
  for (let k = 1; k < n; k *= 2) sizes.push(k)
  sizes.push(n)
  return sizes
}

/** Index of the highest reward in each consecutive group of n. */
function select(r: Float64Array, n: number): Uint32Array {
  const groups = Math.floor(r.length / n)
  const kept = new Uint32Array(groups)
  for (let g = 0; g < groups; g++) {
    let best = g * n
    for (let i = g * n + 1; i < (g + 1) * n; i++) if (r[i]! > r[best]!) best = i
    kept[g] = best
  }
  return kept
}
