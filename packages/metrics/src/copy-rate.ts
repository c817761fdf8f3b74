import { z } from 'zod'
import { asVectors, defineMetric, inputError, rowChunks, type RowSource, type VectorSamples } from '@ouroboros/core'
import { kthNeighbourSq, medianDistance, nearest } from './distance.js'
import { checkPrepared, fingerprint, vectorPair } from './vectors.js'
import { SHARE } from './outputs.js'

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
  outputInfo: {
    copy_rate: { title: 'copy rate', unit: 'fraction', bounds: SHARE },
  },
  options: z.strictObject({
    thresholdDivisor: z.number().positive().default(3),
  }),
  usesTraining: true,
  cost: 'expensive',
  nullWhen: { copy_rate: 'the real data have fewer than 2 samples, or the training set is empty' },
  async prepare({ real, options }) {
    const x = asVectors(real, 'copy_rate: real samples')
    const threshold = x.n < 2 ? null : medianDistance(await kthNeighbourSq(x, 1)) / options.thresholdDivisor
    return { realFingerprint: fingerprint(x), threshold }
  },
  async compute({ real, generated, training, prepared }) {
    const { real: x, generated: y } = vectorPair('copy_rate', real, generated)
    checkPrepared('copy_rate', prepared, x)
    if (training === undefined || prepared.threshold === null || y.n === 0) return { copy_rate: null }
    const t = 'modality' in training ? asVectors(training, 'copy_rate: training samples') : training
    if (t.d !== y.d) throw inputError(`copy_rate: training samples have dimension ${t.d} but generated samples have ${y.d}`)
    if (t.n === 0) return { copy_rate: null }
    const d2 = await nearestDistances(y, t)
    let copies = 0
    for (let i = 0; i < y.n; i++) if (Math.sqrt(d2[i]!) < prepared.threshold) copies++
    return { copy_rate: copies / y.n }
  },
})

/**
 * Squared distance from each generated row to its nearest training row. A training set streamed
 * from disk is searched a chunk at a time; the minimum over chunks is the same exact distance.
 */
async function nearestDistances(y: VectorSamples, training: VectorSamples | RowSource): Promise<Float64Array> {
  if ('data' in training) return (await nearest(y, training)).d2
  const best = new Float64Array(y.n).fill(Infinity)
  for (const chunk of rowChunks(training, TRAINING_CHUNK)) {
    const { d2 } = await nearest(y, chunk)
    for (let i = 0; i < y.n; i++) if (d2[i]! < best[i]!) best[i] = d2[i]!
  }
  return best
}

/** Training rows searched at once when the training set is streamed. */
const TRAINING_CHUNK = 16_384
