import { z } from 'zod'
import { definePolicy, type ChainSizes, type PolicyInputs, type TrainingPart } from '@ouroboros/core'

export function everythingSoFar(inputs: PolicyInputs): TrainingPart[] {
  const parts: TrainingPart[] = [{ from: 'real' }]
  for (let j = 0; j < inputs.generation; j++) parts.push({ from: 'generation', generation: j })
  return parts
}

/** Rows of the last generation's accumulated set: the real data and every generation before it. */
export function everythingRows(sizes: ChainSizes): number {
  return sizes.n + sizes.samplesPerGeneration * (sizes.generations - 1)
}

export const accumulate = definePolicy({
  id: 'accumulate',
  description: 'the real data plus every generation so far (Gerstgrasser et al.)',
  params: z.strictObject({}),
  needsAllGenerations: true,
  largestTrainingSet: (_p, sizes) => everythingRows(sizes),
  // Generation 1's: the real data and generation 0's samples.
  smallestTrainingSet: (_p, sizes) => sizes.n + sizes.samplesPerGeneration,
  trainingSet: (_p, inputs) => ({ parts: everythingSoFar(inputs) }),
})
