import { z } from 'zod'
import { definePolicy, type TrainingPart } from '@ouroboros/core'

export const mix = definePolicy({
  id: 'mix',
  description: 'round(realFraction·N) fresh real samples plus the first N − that of the last generation',
  params: z.strictObject({ realFraction: z.number().min(0).max(1).default(0.1) }),
  needsAllGenerations: false,
  freshPerGeneration: (p, sizes) => Math.round(p.realFraction * sizes.samplesPerGeneration),
  largestTrainingSet: (_p, sizes) => Math.max(sizes.n, sizes.samplesPerGeneration),
  smallestTrainingSet: (_p, sizes) => sizes.samplesPerGeneration,
  trainingSet(p, inputs) {
    const total = inputs.samplesPerGeneration
    const nReal = Math.round(p.realFraction * total)
    const parts: TrainingPart[] = []
    if (nReal > 0) parts.push({ from: 'fresh', n: nReal })
    if (nReal < total) parts.push({ from: 'generation', generation: inputs.generation - 1, head: total - nReal })
    return { parts }
  },
})
