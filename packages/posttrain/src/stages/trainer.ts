import { divergedError, ErrorCode, hookThrew, OuroborosError, type ModelTrainer, type Samples, type TrainerOptions } from '@ouroboros/core'
import type { StageContext } from '../stage.js'

/**
 * A model's trainer as a stage uses it: its hooks name the model, the hook and the stage in what
 * they throw, and what they return is checked. A trainer is the model author's code, and a bug
 * there would otherwise fail the chain with a bare "boom" or "Cannot read properties of
 * undefined", or record a loss that no plot can show.
 */
export interface StageTrainer<S> {
  readonly batch: number | 'all'
  readonly signedWeights: boolean
  /** One update; the losses its report names (none when it returns nothing). `step` numbers it in messages. */
  step(items: Samples, weights: Float64Array, step: number): Promise<Record<string, number>>
  state(): Promise<S>
  dispose(): void
}

const CONTRACT =
  "a model's trainer(state, params, options) returns { batch, signedWeights, step(items, weights), state() }: step returns { losses: { name: number } } or nothing, state() the trained state (ModelTrainer in packages/core/src/plugin.ts; docs/extending.md)"

/** `stage` names the stage in messages: "posttrain.0 (finetune)". */
export async function stageTrainer<S>(ctx: StageContext<S>, stage: string, input: S, options: TrainerOptions<S>): Promise<StageTrainer<S>> {
  const name = ctx.modelName
  const breach = (what: string): OuroborosError => new OuroborosError(ErrorCode.MODEL, `${name}: ${what}`, { hint: CONTRACT })
  // The model's own errors (a bug, not an OuroborosError) get the model, the hook and the stage; ours pass as they are.
  const named = (hook: string, when: string, err: unknown): unknown => hookThrew(name, hook, err, { when })
  let trainer: ModelTrainer<S>
  try {
    trainer = await ctx.model.trainer!(input, ctx.params, options)
  } catch (err) {
    throw named('trainer(state, params, options)', `the start of ${stage}`, err)
  }
  if (typeof trainer !== 'object' || trainer === null) throw breach(`trainer(state, params, options) returned ${shown(trainer)}, not a trainer, in ${stage}`)
  const missing = (['step', 'state'] as const).filter((f) => typeof trainer[f] !== 'function')
  if (missing.length > 0) throw breach(`trainer(state, params, options) returned a trainer without ${missing.map((f) => `a ${f} function`).join(' or ')}, in ${stage}`)
  const batch: unknown = trainer.batch
  if (!(batch === 'all' || (typeof batch === 'number' && Number.isInteger(batch) && batch >= 1))) {
    trainer.dispose?.()
    throw breach(`its trainer's batch is ${shown(batch)}, in ${stage}; expected a whole number ≥ 1 (items a step) or 'all'`)
  }
  return {
    batch,
    signedWeights: trainer.signedWeights === true,
    async step(items, weights, step) {
      const hook = `its trainer's step(items, weights)`
      let report: unknown
      try {
        report = await trainer.step(items, weights)
      } catch (err) {
        // An error the model already put in words (a model run as a process names its command and request) gets the step and stage.
        if (err instanceof OuroborosError) throw new OuroborosError(err.code, `${err.message} (at step ${step} of ${stage})`, { cause: err, ...(err.hint === undefined ? {} : { hint: err.hint }) })
        throw named(hook, `step ${step} of ${stage}`, err)
      }
      // Nothing returned is a step without losses to plot, as a Python train_step returning None.
      if (report === undefined || report === null) return {}
      const at = `${hook} at step ${step} of ${stage}`
      if (typeof report !== 'object' || Array.isArray(report)) throw breach(`${at} returned ${shown(report)}; expected { losses: { name: number } } or nothing`)
      const losses = (report as { losses?: unknown }).losses
      if (losses === undefined || losses === null) return {}
      if (typeof losses !== 'object' || Array.isArray(losses)) throw breach(`${at} returned losses that are ${shown(losses)}; expected { name: number }`)
      for (const [key, value] of Object.entries(losses)) {
        if (typeof value !== 'number') throw breach(`${at} returned a loss '${key}' that is ${shown(value)}, not a number`)
        // NaN is a computation that broke: a diverged generation, as the built-in trainers say it,
        // which the run's `retries` may retry. An infinite loss can be right (a probability of 0
        // under a model at discount 0) and is recorded, as null, as infinite metric values are.
        if (Number.isNaN(value)) throw divergedError(`${name}: ${at} returned a loss '${key}' of ${value}: the training diverged (a lower lr may help)`)
      }
      return losses as Record<string, number>
    },
    async state() {
      let state: S
      try {
        state = await trainer.state()
      } catch (err) {
        throw named(`its trainer's state()`, stage, err)
      }
      if (state === undefined || state === null) throw breach(`its trainer's state() returned ${String(state)} in ${stage}`)
      return state
    },
    dispose() {
      try {
        trainer.dispose?.()
      } catch (err) {
        throw named(`its trainer's dispose()`, `the end of ${stage}`, err)
      }
    },
  }
}

/** A value in a message: a string quoted, anything else by its type and, when short, its value. */
function shown(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null) return 'an object'
  if (typeof value === 'function') return 'a function'
  return String(value)
}
