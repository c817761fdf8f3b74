import { z } from 'zod'
import { asVectors, defineMetric, type VectorSamples } from '@ouroboros/core'
import { forEachCrossTile, forEachSelfTile, medianPairwiseDistance, TILE } from './distance.js'
import { checkPrepared, fingerprint, subsampleRows, vectorPair } from './vectors.js'
import { DOUBLES } from './outputs.js'

/**
 * Unbiased MMD² (Gretton et al. 2012) with the Gaussian kernel k(x, y) = exp(−‖x − y‖² / (2h²)):
 * mean over i ≠ j of k(x_i, x_j) + mean over i ≠ j of k(y_i, y_j) − 2 · mean of k(x_i, y_j).
 * It is exact over all points (no subsampling) and, being unbiased, can be slightly negative when
 * the two distributions are equal.
 *
 * h defaults to the median pairwise distance of the real data (METRICS.md), computed once per
 * chain on a seeded subsample of at most `medianSubsample` points (all pairs of 2000 points are
 * 2 million distances; the median of more moves little). The real-real term depends only on the
 * real data, so prepare() computes it too.
 */
const mmdOptions = z.strictObject({
  /** Kernel bandwidth h; null: the median pairwise distance of the real data. */
  bandwidth: z.number().positive().nullable().default(null),
  /** Most real points the median bandwidth is computed from. */
  medianSubsample: z.int().min(2).default(2000),
})

export const mmdRbf = defineMetric({
  id: 'mmd_rbf',
  modality: 'vectors',
  description: 'Unbiased MMD² between real and generated samples with a Gaussian kernel (median-distance bandwidth)',
  outputs: ['mmd_rbf'],
  outputInfo: {
    mmd_rbf: { title: 'MMD² (RBF kernel)', unit: 'unitless', threshold: DOUBLES },
  },
  cost: 'expensive',
  nullWhen: { mmd_rbf: 'either set has fewer than 2 samples, or the real samples are all one point (median distance 0)' },
  options: mmdOptions,
  prepare({ real, options, rng }) {
    const x = asVectors(real, 'mmd_rbf: real samples')
    const bandwidth = options.bandwidth ?? medianPairwiseDistance(subsampleRows(x, options.medianSubsample, rng))
    // A zero median (mostly duplicated points) leaves no usable kernel.
    const usable = bandwidth !== null && bandwidth > 0 && x.n >= 2
    return {
      realFingerprint: fingerprint(x),
      bandwidth: usable ? bandwidth : null,
      realKernelMean: usable ? selfKernelMean(x, bandwidth) : null,
    }
  },
  compute({ real, generated, prepared }) {
    const { real: x, generated: y } = vectorPair('mmd_rbf', real, generated)
    checkPrepared('mmd_rbf', prepared, x)
    const { bandwidth, realKernelMean } = prepared
    if (bandwidth === null || realKernelMean === null || y.n < 2) return { mmd_rbf: null }
    const gamma = 1 / (2 * bandwidth * bandwidth)
    let cross = 0
    forEachCrossTile(x, y, (t) => {
      let s = 0
      for (let i = t.rowStart; i < t.rowEnd; i++) {
        const o = (i - t.rowStart) * TILE - t.colStart
        for (let j = t.colStart; j < t.colEnd; j++) s += Math.exp(-gamma * t.d2[o + j]!)
      }
      cross += s
    })
    return { mmd_rbf: realKernelMean + selfKernelMean(y, bandwidth) - (2 * cross) / (x.n * y.n) }
  },
})

/** Mean of k(s_i, s_j) over the ordered pairs i ≠ j. */
function selfKernelMean(s: VectorSamples, bandwidth: number): number {
  const gamma = 1 / (2 * bandwidth * bandwidth)
  let sum = 0
  forEachSelfTile(s, (t) => {
    const diagonal = t.rowStart === t.colStart
    let tileSum = 0
    for (let i = t.rowStart; i < t.rowEnd; i++) {
      const o = (i - t.rowStart) * TILE - t.colStart
      for (let j = diagonal ? i + 1 : t.colStart; j < t.colEnd; j++) tileSum += Math.exp(-gamma * t.d2[o + j]!)
    }
    sum += tileSum
  })
  return (2 * sum) / (s.n * (s.n - 1))
}
