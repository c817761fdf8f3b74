import { ErrorCode, OuroborosError, type PolicyConfig, type PolicyInputs, type PolicyPlugin, type TrainingPart, type TrainingPlan } from '@ouroboros/core'
import { pluginName } from '../plugins.js'

export type { PolicyInputs, TrainingPart, TrainingPlan } from '@ouroboros/core'

/** Rows in the parts of a plan, before any pick. */
export function partRows(part: TrainingPart, inputs: Pick<PolicyInputs, 'realN' | 'samplesPerGeneration'>): number {
  if (part.from === 'real') return inputs.realN
  if (part.from === 'fresh') return part.n
  return Math.min(part.head ?? inputs.samplesPerGeneration, inputs.samplesPerGeneration)
}

/** Rows of the training set a plan describes. */
export function planRows(plan: TrainingPlan, inputs: Pick<PolicyInputs, 'realN' | 'samplesPerGeneration'>): number {
  if (plan.pick !== undefined) return plan.pick.length
  let n = 0
  for (const part of plan.parts) n += partRows(part, inputs)
  return n
}

/**
 * Fails a plan of generation g's training set that reads samples the chain does not keep for it:
 * a generation that is not an earlier one, or, for a policy without `needsAllGenerations`, any
 * but the last. Those files exist only by chance (the replicates below keepSamples keep a few for
 * the report), so such a read would fail hours into a large run and pass in a small one.
 */
export function checkPlan(policy: Pick<PolicyPlugin<unknown>, 'needsAllGenerations'>, config: PolicyConfig, plan: TrainingPlan, generation: number): void {
  for (const part of plan.parts) {
    if (part.from !== 'generation') continue
    const j = part.generation
    if (!Number.isInteger(j) || j < 0 || j >= generation) {
      throw planError(config, `generation ${generation}'s training set reads generation ${String(j)}, which is not an earlier generation (0 to ${generation - 1})`)
    }
    if (!policy.needsAllGenerations && j !== generation - 1) {
      throw planError(
        config,
        `generation ${generation}'s training set reads generation ${j}'s samples, but the policy does not declare needsAllGenerations: true, without which a chain keeps only the last generation's (${generation - 1})`,
        'set needsAllGenerations: true in its definePolicy, so that every generation\'s samples are kept for it',
      )
    }
  }
}

function planError(config: PolicyConfig, message: string, hint?: string): OuroborosError {
  return new OuroborosError(ErrorCode.PLUGIN, `${pluginName('policy', config.kind, config.module)}: ${message}`, hint === undefined ? {} : { hint })
}
