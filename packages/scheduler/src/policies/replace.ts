import { z } from 'zod'
import { definePolicy } from '@ouroboros/core'

export const replace = definePolicy({
  id: 'replace',
  description: "only the last generation's samples",
  params: z.strictObject({}),
  needsAllGenerations: false,
  largestTrainingSet: (_p, sizes) => Math.max(sizes.n, sizes.samplesPerGeneration),
  smallestTrainingSet: (_p, sizes) => sizes.samplesPerGeneration,
  trainingSet: (_p, inputs) => ({ parts: [{ from: 'generation', generation: inputs.generation - 1 }] }),
})
