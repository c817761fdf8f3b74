import { z } from 'zod'
import { asVectors, defineMetric, takeRows, type Rng, type VectorSamples } from '@ouroboros/core'
import { forEachSelfTile, medianPairwiseDistance, TILE } from './distance.js'
import { symmetricEigenvalues } from './eigen.js'
import { subsampleRows, vectorPair } from './vectors.js'
import { HALVES } from './outputs.js'

/**
 * Vendi score (Friedman & Dieng 2023): exp(−Σ λ_i ln λ_i), λ the eigenvalues of K/n for a
 * similarity K with K_ii = 1, the effective number of distinct samples (1 for n copies of one
 * point, n for n mutually dissimilar points).
 *
 * - 'rbf': K_ij = exp(−‖x_i − x_j‖² / (2h²)), h defaulting to the median pairwise distance of the
 *   real data (computed once per chain, on at most `medianSubsample` real points), so that the score
 *   is on one scale for every generation of a chain. Its eigenvalues cost O(n³), so above
 *   `subsetSize` points the score is the mean over `subsets` disjoint seeded subsets of that size
 *   (fewer when the sample has fewer such subsets).
 * - 'linear': cosine similarity (rows scaled to unit length, so K_ii = 1). K/n = X Xᵀ/n has the
 *   same non-zero eigenvalues as the d x d matrix Xᵀ X/n, which is what is decomposed, over all
 *   points. A zero row has no direction, and the score is then null.
 */
const vendiOptions = z.strictObject({
  kernel: z.enum(['rbf', 'linear']).default('rbf'),
  /** RBF bandwidth h; null: the median pairwise distance of the real data. */
  bandwidth: z.number().positive().nullable().default(null),
  /** Most real points the median bandwidth is computed from. */
  medianSubsample: z.int().min(2).default(2000),
  subsetSize: z.int().min(1).default(2000),
  /** Most subsets of `subsetSize` points averaged when the sample is larger. */
  subsets: z.int().min(1).default(1),
})

export const vendi = defineMetric({
  id: 'vendi',
  modality: 'vectors',
  description: 'Vendi score: exp of the entropy of the eigenvalues of the normalised similarity matrix of the generated samples',
  outputs: ['vendi'],
  outputInfo: {
    vendi: { title: 'Vendi score', unit: 'effective number of samples', threshold: HALVES, diversity: 20 },
  },
  cost: 'expensive',
  nullWhen: { vendi: 'the real samples are all one point (RBF bandwidth 0), or a sample is the zero vector (cosine kernel)' },
  options: vendiOptions,
  prepare({ real, options, rng }) {
    if (options.kernel === 'linear') return { bandwidth: null }
    const x = asVectors(real, 'vendi: real samples')
    const bandwidth = options.bandwidth ?? medianPairwiseDistance(subsampleRows(x, options.medianSubsample, rng))
    return { bandwidth: bandwidth !== null && bandwidth > 0 ? bandwidth : null }
  },
  compute({ real, generated, options, prepared, rng }) {
    const y = vectorPair('vendi', real, generated).generated
    if (y.n === 0) return { vendi: null }
    if (options.kernel === 'linear') return { vendi: linearVendi(y) }
    if (prepared.bandwidth === null) return { vendi: null }
    const sets = subsets(y, options.subsetSize, options.subsets, rng)
    let total = 0
    for (const s of sets) total += rbfVendi(s, prepared.bandwidth)
    return { vendi: total / sets.length }
  },
})

/** The whole sample when it is small enough, else disjoint chunks of one seeded permutation. */
function subsets(s: VectorSamples, size: number, most: number, rng: Rng): VectorSamples[] {
  if (s.n <= size) return [s]
  const order = rng.permutation(s.n)
  const count = Math.min(most, Math.floor(s.n / size))
  return Array.from({ length: count }, (_, c) => takeRows(s, order.subarray(c * size, (c + 1) * size)))
}

function rbfVendi(s: VectorSamples, bandwidth: number): number {
  const n = s.n
  const gamma = 1 / (2 * bandwidth * bandwidth)
  // K/n, lower triangle only: that is all the eigenvalue routine reads.
  const k = new Float64Array(n * n)
  for (let i = 0; i < n; i++) k[i * n + i] = 1 / n
  forEachSelfTile(s, (t) => {
    const diagonal = t.rowStart === t.colStart
    for (let i = t.rowStart; i < t.rowEnd; i++) {
      const o = (i - t.rowStart) * TILE - t.colStart
      for (let j = diagonal ? i + 1 : t.colStart; j < t.colEnd; j++) k[j * n + i] = Math.exp(-gamma * t.d2[o + j]!) / n
    }
  })
  return expEntropy(symmetricEigenvalues(k, n))
}

function linearVendi(s: VectorSamples): number | null {
  const { n, d, data } = s
  const c = new Float64Array(d * d)
  const row = new Float64Array(d)
  for (let i = 0; i < n; i++) {
    let norm = 0
    for (let j = 0; j < d; j++) norm += data[i * d + j]! ** 2
    if (norm === 0) return null
    const scale = 1 / Math.sqrt(norm)
    for (let j = 0; j < d; j++) row[j] = data[i * d + j]! * scale
    for (let a = 0; a < d; a++) {
      const ra = row[a]!
      // Image rows are mostly zeros; their products add nothing.
      if (ra === 0) continue
      for (let b = 0; b <= a; b++) c[a * d + b]! += ra * row[b]!
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b <= a; b++) c[a * d + b]! /= n
  return expEntropy(symmetricEigenvalues(c, d))
}

/** exp(−Σ λ ln λ) over the positive eigenvalues (rounding leaves tiny negative ones for a PSD matrix). */
function expEntropy(eigenvalues: Float64Array): number {
  let h = 0
  for (let i = 0; i < eigenvalues.length; i++) {
    const l = eigenvalues[i]!
    if (l > 0) h -= l * Math.log(l)
  }
  return Math.exp(h)
}
