import { takeSamples } from '@ouroboros/core'
import { everythingSoFar } from './accumulate.js'
import type { Policy } from './policy.js'

export const accumulateSubsample: Policy<{ kind: 'accumulate-subsample'; size?: number | undefined }> = {
  kind: 'accumulate-subsample',
  description: 'accumulate, then subsample without replacement to a fixed size (default samplesPerGeneration)',
  needsAllGenerations: true,
  trainingSet(config, inputs) {
    const all = everythingSoFar(inputs)
    const size = Math.min(config.size ?? inputs.samplesPerGeneration, all.n)
    const idx = inputs.rng.permutation(all.n).subarray(0, size)
    return takeSamples(all, idx)
  },
}
