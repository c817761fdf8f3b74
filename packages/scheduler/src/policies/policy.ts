import type { PolicyInputs, TrainingPart, TrainingPlan } from '@ouroboros/core'

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
