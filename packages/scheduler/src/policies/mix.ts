import type { Policy, TrainingPart } from './policy.js'

export const mix: Policy<{ kind: 'mix'; realFraction: number }> = {
  kind: 'mix',
  description: 'round(realFraction·N) fresh real samples plus the first N − that of the last generation',
  needsAllGenerations: false,
  trainingSet(config, inputs) {
    const total = inputs.samplesPerGeneration
    const nReal = Math.round(config.realFraction * total)
    const parts: TrainingPart[] = []
    if (nReal > 0) parts.push({ from: 'fresh', n: nReal })
    if (nReal < total) parts.push({ from: 'generation', generation: inputs.generation - 1, head: total - nReal })
    return { parts }
  },
}
