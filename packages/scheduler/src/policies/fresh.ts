import { z } from 'zod'
import { definePolicy, type TrainingPart } from '@ouroboros/core'

export const fresh = definePolicy({
  id: 'fresh',
  description: 'nReal fresh real samples plus nSynthetic of the last generation (Alemohammad et al.)',
  params: z.strictObject({ nReal: z.int().min(0).max(10_000_000), nSynthetic: z.int().min(0).max(10_000_000) }),
  needsAllGenerations: false,
  check(p, sizes) {
    if (p.nReal + p.nSynthetic === 0) return { param: 'nReal', message: 'nReal + nSynthetic must be positive' }
    if (p.nSynthetic > sizes.samplesPerGeneration) return { param: 'nSynthetic', message: `${p.nSynthetic} is more than samplesPerGeneration (${sizes.samplesPerGeneration})` }
    return undefined
  },
  freshPerGeneration: (p) => p.nReal,
  largestTrainingSet: (p, sizes) => Math.max(sizes.n, p.nReal + p.nSynthetic),
  smallestTrainingSet: (p) => p.nReal + p.nSynthetic,
  trainingSet(p, inputs) {
    const parts: TrainingPart[] = []
    if (p.nReal > 0) parts.push({ from: 'fresh', n: p.nReal })
    if (p.nSynthetic > 0) parts.push({ from: 'generation', generation: inputs.generation - 1, head: p.nSynthetic })
    return { parts }
  },
})
