import type { Policy, TrainingPart } from './policy.js'

export const fresh: Policy<{ kind: 'fresh'; nReal: number; nSynthetic: number }> = {
  kind: 'fresh',
  description: 'nReal fresh real samples plus nSynthetic of the last generation (Alemohammad et al.)',
  needsAllGenerations: false,
  trainingSet(config, inputs) {
    const parts: TrainingPart[] = []
    if (config.nReal > 0) parts.push({ from: 'fresh', n: config.nReal })
    if (config.nSynthetic > 0) parts.push({ from: 'generation', generation: inputs.generation - 1, head: config.nSynthetic })
    return { parts }
  },
}
