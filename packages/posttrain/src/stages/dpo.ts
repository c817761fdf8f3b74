import { inputError, takeSamples, type DpoStageConfig, type ModelPlugin } from '@ouroboros/core'
import { preferencesOf, sigmoid } from '../rewards/preferences.js'
import type { Reward, RewardPair } from '../rewards/reward.js'
import type { StageContext, StageResult } from '../stage.js'
import { evalSamplesOf, isCurveStep, recordPoint } from './curve.js'
import { trainsOnSignedWeights } from './rl.js'
import { stageTrainer } from './trainer.js'

/** Whether DPO can train this model, or why not (the CLI checks before a run). */
export function dpoSupport(model: ModelPlugin<any, any>): true | string {
  if (trainsOnSignedWeights(model)) return true
  return `model '${model.id}' has no trainer that takes signed weights with a log-likelihood of its samples, which DPO needs; use an rl stage (method 'refit') or best-of-n`
}

/** What a DPO stage optimises, in words: its preferences, and the gold reward that labels them. */
export function dpoRewards(stage: DpoStageConfig, gold: Reward): RewardPair {
  const noise = stage.noise > 0 ? `; the scores have noise of sd ${stage.noise}` : ''
  const loss = stage.loss === 'sigmoid' ? '' : `; the ${stage.loss === 'ipo' ? 'IPO' : 'hinge (SLiC)'} loss`
  return { reward: gold, gold, proxy: false, description: `${stage.pairs} pairs of the stage's input, each labelled by a Bradley–Terry preference scored by ${gold.description}${noise}${loss}` }
}

/**
 * A preference loss ℓ(Δ) of the margin Δ = (log π − log π_ref)(y_w) − (log π − log π_ref)(y_l),
 * and its derivative. DPO's −log σ(β·Δ) has the population optimum π* ∝ π_ref·exp(r/β), RL's with
 * the same β; IPO's (Δ − 1/(2β))² has π ∝ π_ref·exp(P(y ≻ π_ref)/β) (Azar et al. 2023).
 */
const LOSSES: Readonly<Record<DpoStageConfig['loss'], (delta: number, beta: number) => { loss: number; slope: number }>> = {
  sigmoid: (delta, beta) => {
    const h = beta * delta
    // −log σ(h), stably.
    return { loss: h >= 0 ? Math.log1p(Math.exp(-h)) : -h + Math.log1p(Math.exp(h)), slope: -beta * sigmoid(-h) }
  },
  ipo: (delta, beta) => {
    const off = delta - 1 / (2 * beta)
    return { loss: off * off, slope: 2 * off }
  },
  hinge: (delta, beta) => (beta * delta < 1 ? { loss: 1 - beta * delta, slope: -beta } : { loss: 0, slope: 0 }),
}

/**
 * Direct preference optimisation (Rafailov et al. 2023). The stage draws `pairs` pairs from its
 * input model π_ref and labels each once, a preferred to b with probability σ(r(a) − r(b)) (r the
 * gold reward plus noise). Each step takes `batch` pairs and one trainer step on the mean of the
 * loss ℓ(Δ): its gradient is ℓ'(Δ)·(∇log π(y_w) − ∇log π(y_l)), so the trainer ascends its
 * weighted log-likelihood with weight −2ℓ'(Δ) on each winner and 2ℓ'(Δ) on each loser (a mean
 * over 2·batch items).
 */
export async function dpo<S>(stage: DpoStageConfig, index: number, ctx: StageContext<S>, input: S, rewards: RewardPair): Promise<StageResult<S>> {
  const { model } = ctx
  const support = dpoSupport(model)
  if (support !== true) throw inputError(`posttrain.${index}.kind: ${support}`)
  const evalSamples = evalSamplesOf(ctx as StageContext<unknown>, stage.evalSamples)
  const point = async (step: number, state: S, losses?: Record<string, number>): Promise<void> =>
    recordPoint(ctx, { stage: index, kind: 'dpo', step, ...(losses === undefined ? {} : { losses }) }, state, input, evalSamples, ctx.rng.derive('curve', step), rewards, undefined)
  await point(0, input)

  const items = await model.sample(input, 2 * stage.pairs, { rng: ctx.rng.derive('pairs'), temperature: 1, dataset: ctx.dataset })
  const noise = ctx.rng.derive('noise')
  const scores = Float64Array.from(await rewards.gold.score(items), (g) => g + stage.noise * noise.normal())
  const prefers = preferencesOf(scores, ctx.rng.derive('labels'))
  const winner = (p: number): number => (prefers[p] === 1 ? 2 * p : 2 * p + 1)
  const reference = await model.logLikelihood!(input, items)

  const trainer = await stageTrainer(ctx, `posttrain.${index} (dpo)`, input, { rng: ctx.rng.derive('trainer'), dataset: ctx.dataset, ...(stage.lr === undefined ? {} : { lr: stage.lr }), anchor: 0, reference: input })
  try {
    if (!trainer.signedWeights) throw inputError(`posttrain.${index}.kind: model '${model.id}': its trainer takes only weights ≥ 0, so DPO cannot train it`)
    const lossOf = LOSSES[stage.loss]
    const batch = Math.min(stage.pairs, stage.batch ?? (typeof trainer.batch === 'number' ? Math.max(1, Math.floor(trainer.batch / 2)) : stage.pairs))
    // Pairs in a fresh random order each pass over them.
    let order: Uint32Array = new Uint32Array(0)
    let at = 0
    let pass = 0
    let state = input
    for (let step = 1; step <= stage.steps; step++) {
      const chosen: number[] = []
      while (chosen.length < batch) {
        if (at === order.length) {
          order = ctx.rng.derive('order', pass++).permutation(stage.pairs)
          at = 0
        }
        chosen.push(order[at++]!)
      }
      const rows = [...chosen.map(winner), ...chosen.map((p) => winner(p) ^ 1)]
      const x = takeSamples(items, rows)
      const own = await model.logLikelihood!(state, x)
      const weights = new Float64Array(2 * batch)
      let loss = 0
      let right = 0
      for (let i = 0; i < batch; i++) {
        const w = rows[i]!
        const l = rows[batch + i]!
        const delta = own[i]! - reference[w]! - (own[batch + i]! - reference[l]!)
        const ell = lossOf(delta, stage.beta)
        weights[i] = -2 * ell.slope
        weights[batch + i] = 2 * ell.slope
        loss += ell.loss
        if (delta > 0) right++
      }
      const stepLosses = await trainer.step(x, weights, step)
      state = await trainer.state()
      if (isCurveStep(step, stage.steps, stage.evalEvery)) await point(step, state, { ...stepLosses, preference_loss: loss / batch, preference_accuracy: right / batch })
      ctx.onStep(step, stage.steps)
    }
    return { state }
  } finally {
    trainer.dispose()
  }
}
