import { everythingSoFar } from './accumulate.js'
import { planRows, type Policy } from './policy.js'

export const accumulateSubsample: Policy<{ kind: 'accumulate-subsample'; size?: number | undefined }> = {
  kind: 'accumulate-subsample',
  description: 'accumulate, then subsample without replacement to a fixed size (default samplesPerGeneration)',
  needsAllGenerations: true,
  trainingSet(config, inputs) {
    const parts = everythingSoFar(inputs)
    const all = planRows({ parts }, inputs)
    const size = Math.min(config.size ?? inputs.samplesPerGeneration, all)
    return { parts, pick: inputs.rng.permutation(all).slice(0, size) }
  },
}
