import { z } from 'zod'
import { asVectors, defineMetric, inputError } from '@ouroboros/core'
import { kthNeighbourSq, medianDistance, nearest } from './distance.js'
import { checkPrepared, fingerprint, vectorPair } from './vectors.js'

/**
 * copy_rate (METRICS.md "Memorization vs collapse"): the share of generated samples whose nearest
 * sample of the model's own training set is closer than τ = (median nearest-neighbour distance
 * within the real data) / `thresholdDivisor`. τ depends only on the real data and is computed once
 * per chain. Null when no training set is given.
 */
export const copyRate = defineMetric({
  id: 'copy_rate',
  modality: 'vectors',
  description: 'Share of generated samples closer to a training sample than a third of the real data’s median nearest-neighbour distance',
  outputs: ['copy_rate'],
  options: z.strictObject({
    thresholdDivisor: z.number().positive().default(3),
  }),
  usesTraining: true,
  async prepare({ real, options }) {
    const x = asVectors(real, 'copy_rate: real samples')
    const threshold = x.n < 2 ? null : medianDistance(await kthNeighbourSq(x, 1)) / options.thresholdDivisor
    return { realFingerprint: fingerprint(x), threshold }
  },
  async compute({ real, generated, training, prepared }) {
    const { real: x, generated: y } = vectorPair('copy_rate', real, generated)
    checkPrepared('copy_rate', prepared, x)
    if (training === undefined || prepared.threshold === null || y.n === 0) return { copy_rate: null }
    const t = asVectors(training, 'copy_rate: training samples')
    if (t.d !== y.d) throw inputError(`copy_rate: training samples have dimension ${t.d} but generated samples have ${y.d}`)
    if (t.n === 0) return { copy_rate: null }
    const { d2 } = await nearest(y, t)
    let copies = 0
    for (let i = 0; i < y.n; i++) if (Math.sqrt(d2[i]!) < prepared.threshold) copies++
    return { copy_rate: copies / y.n }
  },
})
