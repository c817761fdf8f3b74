import { concatSamples, headSamples, type Samples } from '@ouroboros/core'
import type { Policy } from './policy.js'

export const fresh: Policy<{ kind: 'fresh'; nReal: number; nSynthetic: number }> = {
  kind: 'fresh',
  description: 'nReal fresh real samples plus nSynthetic of the last generation (Alemohammad et al.)',
  needsAllGenerations: false,
  trainingSet(config, inputs) {
    const parts: Samples[] = []
    if (config.nReal > 0) parts.push(inputs.freshReal(config.nReal))
    if (config.nSynthetic > 0) parts.push(headSamples(inputs.samples(inputs.generation - 1), config.nSynthetic))
    return concatSamples(parts)
  },
}
