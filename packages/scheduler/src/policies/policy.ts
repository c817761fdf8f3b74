import type { PolicyConfig, Rng, Samples } from '@ouroboros/core'

/** What a policy may draw on to build generation g's training set. */
export interface PolicyInputs {
  readonly generation: number
  /** Samples each generation emits. */
  readonly samplesPerGeneration: number
  /** The real data generation 0 was fit on. */
  real(): Samples
  /** The samples generation j emitted (j < generation). */
  samples(j: number): Samples
  /** n fresh real samples for this generation. */
  freshReal(n: number): Samples
  readonly rng: Rng
}

export interface Policy<C extends PolicyConfig = PolicyConfig> {
  readonly kind: C['kind']
  readonly description: string
  /** True when training sets use every earlier generation's samples (their files must all be kept). */
  readonly needsAllGenerations: boolean
  /** The training set of generation g ≥ 1 (generation 0 is fit on the real data). */
  trainingSet(config: C, inputs: PolicyInputs): Samples
}
