import { inputError, OuroborosError, toOuroborosError, type ModelPlugin, type RlStageConfig } from '@ouroboros/core'
import type { RewardPair } from '../rewards/reward.js'
import type { StageContext, StageResult } from '../stage.js'
import { evalSamplesOf, isCurveStep, recordPoint } from './curve.js'
import { stageTrainer } from './trainer.js'

export type RlMethod = 'policy-gradient' | 'refit'

/**
 * Whether the model's trainer may take signed weights on items scored by its log-likelihood (for a
 * model in another process, 'when-asked': its class says so only once it runs). Policy gradient and
 * DPO both train through it.
 */
export function trainsOnSignedWeights(model: ModelPlugin<any, any>): boolean {
  return model.trainer !== undefined && model.logLikelihood !== undefined && (model.policyGradient === true || model.policyGradient === 'when-asked')
}

/** Which way `rl` trains this model, or why it cannot (the CLI checks before a run). */
export function rlMethod(model: ModelPlugin<any, any>, asked: RlStageConfig['method']): RlMethod | string {
  const canPolicyGradient = trainsOnSignedWeights(model)
  const canRefit = model.fitWeighted !== undefined
  if (asked === 'policy-gradient') return canPolicyGradient ? 'policy-gradient' : `model '${model.id}' has no trainer that takes signed weights with a log-likelihood; use method 'refit' or 'auto'`
  if (asked === 'refit') return canRefit ? 'refit' : `model '${model.id}' does not fit weighted data; use method 'policy-gradient' or 'auto'`
  if (canPolicyGradient && (model.policyGradient === true || !canRefit)) return 'policy-gradient'
  if (canRefit) return 'refit'
  return `model '${model.id}' can be neither trained by policy gradient nor refit to weighted data; use a best-of-n stage`
}

/**
 * The adaptive KL controller's horizon, in samples: as given, else a tenth of the samples the stage
 * draws, so that over the stage β can move by a factor of up to e^±2 whatever its length (TRL's
 * fixed 10,000 would barely move it in a stage of a few thousand samples).
 */
export function klHorizonOf(stage: RlStageConfig, batch: number): number {
  return stage.klHorizon ?? Math.max(1, (stage.steps * batch) / 10)
}

/**
 * What is wrong with a stage's settings for the way it trains (a field and why, each): none when
 * empty. Each way reads its own sizes: policy gradient a step size and a batch, refitting its
 * draws. β adapts between policy-gradient steps only, multiplicatively, so from a β above 0.
 * `otherWay`: whether the model can also be trained the other way, which the advice then offers.
 */
export function rlSettingsProblems(stage: RlStageConfig, method: RlMethod, otherWay: boolean): string[] {
  const problems: string[] = []
  if (method === 'refit') {
    const refits = "reward-weighted refitting (method 'refit') fits each step's draws in full"
    const orPolicyGradient = otherWay ? ", or use method 'policy-gradient'" : ''
    if (stage.lr !== undefined) problems.push(`lr: the step size of policy gradient; ${refits}; leave lr out${orPolicyGradient}`)
    if (stage.batch !== undefined) problems.push(`batch: the draws of a policy-gradient step; ${refits}, \`samples\` of them (samplesPerGeneration by default): give samples instead${orPolicyGradient}`)
    if (stage.klTarget !== undefined) problems.push(`klTarget: β adapts between policy-gradient steps; reward-weighted refitting tilts by a fixed β (π ∝ π_ref·exp(r/β)), so sweep beta instead${orPolicyGradient}`)
  } else {
    if (stage.samples !== undefined) problems.push(`samples: the draws of a refit step; a policy-gradient step draws \`batch\` samples (the trainer's batch by default): give batch instead${otherWay ? ", or use method 'refit'" : ''}`)
    if (stage.klTarget !== undefined && stage.beta === 0) problems.push('beta: 0 cannot adapt (the controller multiplies it): give the β to start from, e.g. 0.1')
  }
  if (stage.klTarget === undefined && stage.klHorizon !== undefined) problems.push('klHorizon: sets the pace of the adaptive KL controller, which klTarget turns on; give klTarget too, or leave klHorizon out')
  return problems
}

/** Whether the model can be trained by RL the other way than `method`. */
export function otherRlWay(model: ModelPlugin<any, any>, method: RlMethod): boolean {
  return method === 'refit' ? trainsOnSignedWeights(model) : model.fitWeighted !== undefined
}

/**
 * Maximises E[r] − β·KL(π‖π_ref), π_ref the stage's input model.
 *
 * Policy gradient: each step draws `batch` samples from the current model, penalises each
 * reward by β·(log π(x) − log π_ref(x)) (the per-sample KL penalty of RLHF), subtracts the mean of
 * the other samples' penalised rewards (the leave-one-out baseline, which keeps the estimate
 * unbiased) and takes one trainer step with these advantages as weights: the REINFORCE gradient
 * of the objective.
 *
 * Refit: the objective's maximiser is π* ∝ π_ref·exp(r/β). Each of the `steps` steps draws
 * `samples` from the current model and refits it to them weighted by exp(r/(β·steps)), so that
 * after the last step π ∝ π_ref·exp(r/β) (tempering in steps keeps the weights of any one refit
 * tame). β = 0 keeps only the samples of highest reward.
 */
export async function rl<S>(stage: RlStageConfig, index: number, ctx: StageContext<S>, input: S, rewards: RewardPair): Promise<StageResult<S>> {
  const method = rlMethod(ctx.model, stage.method)
  if (method !== 'policy-gradient' && method !== 'refit') throw inputError(`posttrain.${index}.method: ${method}`)
  const problems = rlSettingsProblems(stage, method, otherRlWay(ctx.model, method))
  if (problems.length > 0) throw inputError(problems.map((p) => `posttrain.${index}.${p}`).join('\n'))
  const evalSamples = evalSamplesOf(ctx as StageContext<unknown>, stage.evalSamples)
  const point = async (step: number, state: S, losses?: Record<string, number>): Promise<void> =>
    recordPoint(ctx, { stage: index, kind: 'rl', step, ...(losses === undefined ? {} : { losses }) }, state, input, evalSamples, ctx.rng.derive('curve', step), rewards, undefined)
  // Under a KL target the curve's β starts where the config sets it, before any step adapts it.
  await point(0, input, stage.klTarget === undefined ? undefined : { kl_coefficient: stage.beta })
  return method === 'policy-gradient' ? policyGradient(stage, index, ctx, input, rewards, point) : refit(stage, ctx, input, rewards, point)
}

type Point<S> = (step: number, state: S, losses?: Record<string, number>) => Promise<void>

async function policyGradient<S>(stage: RlStageConfig, index: number, ctx: StageContext<S>, input: S, rewards: RewardPair, point: Point<S>): Promise<StageResult<S>> {
  const { model } = ctx
  const trainer = await stageTrainer(ctx, `posttrain.${index} (rl)`, input, { rng: ctx.rng.derive('trainer'), dataset: ctx.dataset, ...(stage.lr === undefined ? {} : { lr: stage.lr }), anchor: 0, reference: input })
  try {
    if (!trainer.signedWeights) throw inputError(`model '${model.id}': its trainer takes only weights ≥ 0, so policy gradient cannot train it; use method 'refit'`)
    const batch = stage.batch ?? (typeof trainer.batch === 'number' ? trainer.batch : 64)
    const draws = ctx.rng.derive('draws')
    let state = input
    let beta = stage.beta
    const horizon = klHorizonOf(stage, batch)
    for (let step = 1; step <= stage.steps; step++) {
      const x = await model.sample(state, batch, { rng: draws.derive(step), temperature: 1, dataset: ctx.dataset })
      const r = await rewards.reward.score(x)
      const own = await model.logLikelihood!(state, x)
      const ref = await model.logLikelihood!(input, x)
      let total = 0
      let kl = 0
      const penalised = Float64Array.from(r, (v, i) => {
        const logRatio = own[i]! - ref[i]!
        kl += logRatio
        const p = v - beta * logRatio
        total += p
        return p
      })
      const n = penalised.length
      const advantages = Float64Array.from(penalised, (v) => v - (total - v) / (n - 1))
      const stepLosses = await trainer.step(x, advantages, step)
      state = await trainer.state()
      if (isCurveStep(step, stage.steps, stage.evalEvery)) {
        const losses: Record<string, number> = { ...stepLosses, penalised_reward: total / n }
        if (stage.klTarget !== undefined) losses.kl_coefficient = beta
        await point(step, state, losses)
      }
      if (stage.klTarget !== undefined) {
        // The batch's KL estimate (the policy's samples, before this step's update) against the target.
        const error = Math.min(0.2, Math.max(-0.2, kl / n / stage.klTarget - 1))
        beta *= 1 + (error * n) / horizon
      }
      ctx.onStep(step, stage.steps)
    }
    return { state }
  } finally {
    trainer.dispose()
  }
}

async function refit<S>(stage: RlStageConfig, ctx: StageContext<S>, input: S, rewards: RewardPair, point: Point<S>): Promise<StageResult<S>> {
  const { model } = ctx
  const steps = Math.max(1, stage.steps)
  const m = stage.samples ?? ctx.samplesPerGeneration
  let state = input
  for (let step = 1; step <= steps; step++) {
    const rng = ctx.rng.derive('refit', step)
    const x = await model.sample(state, m, { rng: rng.derive('draws'), temperature: 1, dataset: ctx.dataset })
    const r = await rewards.reward.score(x)
    let best = -Infinity
    for (const v of r) best = Math.max(best, v)
    // Shifted by the best reward: the largest weight is 1, whatever the scale of r/β.
    const weights = Float64Array.from(r, (v) => (stage.beta === 0 ? (v === best ? 1 : 0) : Math.exp((v - best) / (stage.beta * steps))))
    let next: S
    try {
      next = await model.fitWeighted!(x, weights, ctx.params as never, { rng: rng.derive('fit'), generation: 0, dataset: ctx.dataset, init: state })
    } catch (err) {
      if (stage.beta !== 0) throw err
      // At β = 0 the refit sees only the draws of the highest reward, which may be too few for the
      // model (one, for a reward with no ties): said as such, not as the model's data being small.
      const e = toOuroborosError(err)
      const kept = weights.reduce((a, w) => a + w, 0)
      throw new OuroborosError(e.code, `rl at beta 0 refits on the draws of the highest reward alone, here ${kept} of ${m}: ${e.message}`, {
        cause: err,
        hint: 'give beta above 0: a small one (0.001) still weights the best draws far above the rest',
      })
    }
    // The refit before is held no longer; the input stays, the reference of the stage's KL.
    if (state !== input) model.release?.(state)
    state = next
    if (isCurveStep(step, steps, stage.evalEvery)) await point(step, state)
    ctx.onStep(step, steps)
  }
  return { state }
}
