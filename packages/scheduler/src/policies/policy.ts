import type { PolicyConfig, Rng } from '@ouroboros/core'

/** One piece of a training set. */
export type TrainingPart =
  /** The real data generation 0 was fit on. */
  | { readonly from: 'real' }
  /** The samples generation `generation` emitted, or their first `head`. */
  | { readonly from: 'generation'; readonly generation: number; readonly head?: number }
  /** `n` fresh real samples drawn for this generation. */
  | { readonly from: 'fresh'; readonly n: number }

/**
 * A training set as a description, not as data: its parts one after another, then, when `pick`
 * is set, those rows of them in that order. The scheduler either builds it in memory or, when it
 * is large and the model trains on minibatches, reads its rows from the sample files on demand.
 */
export interface TrainingPlan {
  readonly parts: readonly TrainingPart[]
  readonly pick?: Uint32Array
}

/** What a policy may draw on to plan generation g's training set. */
export interface PolicyInputs {
  readonly generation: number
  /** Samples each generation emits. */
  readonly samplesPerGeneration: number
  /** Size of the real data. */
  readonly realN: number
  readonly rng: Rng
}

export interface Policy<C extends PolicyConfig = PolicyConfig> {
  readonly kind: C['kind']
  readonly description: string
  /** True when training sets use every earlier generation's samples (their files must all be kept). */
  readonly needsAllGenerations: boolean
  /** The training set of generation g ≥ 1 (generation 0 is fit on the real data). */
  trainingSet(config: C, inputs: PolicyInputs): TrainingPlan
}

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
