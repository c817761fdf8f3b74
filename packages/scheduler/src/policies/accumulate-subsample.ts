import { z } from 'zod'
import { definePolicy } from '@ouroboros/core'
import { everythingRows, everythingSoFar } from './accumulate.js'
import { planRows } from './policy.js'

export const accumulateSubsample = definePolicy({
  id: 'accumulate-subsample',
  description: 'accumulate, then subsample without replacement to a fixed size (default samplesPerGeneration)',
  params: z.strictObject({
    /** Size of the subsampled training set; default samplesPerGeneration. */
    size: z.int().min(1).max(10_000_000).optional(),
  }),
  needsAllGenerations: true,
  // The subsample is gathered in memory; the history it is drawn from is read from the files.
  largestTrainingSet: (p, sizes) => Math.max(sizes.n, sizes.samplesPerGeneration, Math.min(p.size ?? sizes.samplesPerGeneration, everythingRows(sizes))),
  smallestTrainingSet: (p, sizes) => Math.min(p.size ?? sizes.samplesPerGeneration, sizes.n + sizes.samplesPerGeneration),
  trainingSet(p, inputs) {
    const parts = everythingSoFar(inputs)
    const all = planRows({ parts }, inputs)
    const size = Math.min(p.size ?? inputs.samplesPerGeneration, all)
    return { parts, pick: inputs.rng.permutation(all).slice(0, size) }
  },
})
