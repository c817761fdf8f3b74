import { concatSamples, headSamples } from '@ouroboros/core'
import type { Policy } from './policy.js'

export const mix: Policy<{ kind: 'mix'; realFraction: number }> = {
  kind: 'mix',
  description: 'round(realFraction·N) fresh real samples plus the first N − that of the last generation',
  needsAllGenerations: false,
  trainingSet(config, inputs) {
    const total = inputs.samplesPerGeneration
    const nReal = Math.round(config.realFraction * total)
    const synthetic = headSamples(inputs.samples(inputs.generation - 1), total - nReal)
    if (nReal === 0) return synthetic
    return concatSamples(nReal === total ? [inputs.freshReal(nReal)] : [inputs.freshReal(nReal), synthetic])
  },
}
