import type { Rng, Samples, TaskView } from '@ouroboros/core'
import { estimateKl, hasKl, NO_KL, type KlEstimate } from '../kl.js'
import { mean, type RewardPair } from '../rewards/reward.js'
import type { StageContext } from '../stage.js'

/** When a stage of `steps` steps records a curve point: at 0, every `evalEvery`, and at the end. */
export function isCurveStep(step: number, steps: number, evalEvery: number): boolean {
  return step === 0 || step === steps || (evalEvery > 0 && step % evalEvery === 0)
}

export function evalSamplesOf(ctx: StageContext<unknown>, asked: number | undefined): number {
  return asked ?? Math.min(ctx.samplesPerGeneration, 2000)
}

/**
 * Records one curve point of a stage that has a state: samples drawn from it as the generation
 * would draw them, scored with the run's metrics, the stage's reward and its KL to `reference`.
 */
export async function recordPoint<S>(
  ctx: StageContext<S>,
  point: { stage: number; kind: string; step: number; losses?: Record<string, number> },
  state: S,
  reference: S,
  evalSamples: number,
  rng: Rng,
  rewards: RewardPair | undefined,
  task: TaskView | undefined,
): Promise<void> {
  const draw = async (of: S, n: number, stream: string, temperature: number): Promise<Samples> =>
    ctx.model.sample(of, n, { rng: rng.derive(stream), temperature, dataset: ctx.dataset })
  const samples = await draw(state, evalSamples, 'samples', ctx.temperature)
  // KL is of the model itself: at another sampling temperature its samples are not its draws.
  const own = ctx.temperature === 1 ? samples : await draw(state, evalSamples, 'kl', 1)
  // At step 0 the state is the reference: KL 0, where the model has a KL at all (a charlm's is
  // null at every later step, and a 0 before them would read as a measurement).
  const kl: KlEstimate =
    point.step === 0 ? (hasKl(ctx.model, state, own) ? { value: 0, estimator: 'exact' } : NO_KL) : await estimateKl(ctx.model, state, reference, own, (n) => draw(reference, n, 'reference', 1))
  ctx.onPoint({
    ...point,
    losses: point.losses ?? {},
    reward: rewards === undefined ? null : await mean(rewards.reward, samples),
    gold_reward: rewards === undefined ? null : await mean(rewards.gold, samples),
    kl: kl.value,
    kl_estimator: kl.estimator,
    metrics: await ctx.score(samples, state, task),
  })
}
