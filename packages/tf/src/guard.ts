import { divergedError, rowChunks, type RowSource, type VectorSamples } from '@ouroboros/core'

/**
 * How far outside the training data generated samples may lie before a fit counts as exploded: a
 * root-mean-square norm 1000x that of the data. A diverging GAN need not produce NaN: its weights
 * can grow without bound while every value stays finite, which would otherwise pass as samples.
 */
const MAX_SCALE = 1000

/** Mean squared norm of the rows. */
export function meanSquaredNorm(x: VectorSamples | RowSource): number {
  let s = 0
  for (const chunk of 'data' in x ? [x] : rowChunks(x)) for (let i = 0; i < chunk.data.length; i++) s += chunk.data[i]! * chunk.data[i]!
  return x.n === 0 ? 0 : s / x.n
}

/** Throws a diverged error when `generated` holds non-finite values or lies far outside `trainingScale` (meanSquaredNorm of the data). */
export function checkExploded(generated: VectorSamples, trainingScale: number, what: string): void {
  const scale = meanSquaredNorm(generated)
  if (!Number.isFinite(scale)) throw divergedError(`${what}: the generated samples hold NaN or infinite values (the training diverged)`)
  if (scale > MAX_SCALE ** 2 * Math.max(trainingScale, Number.MIN_VALUE)) {
    throw divergedError(
      `${what}: the generated samples have a root-mean-square norm of ${Math.sqrt(scale).toPrecision(3)}, over ${MAX_SCALE}x the training data's ${Math.sqrt(trainingScale).toPrecision(3)} (the training exploded; a lower learning rate may help)`,
    )
  }
}
