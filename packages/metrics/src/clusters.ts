import { z } from 'zod'
import { asVectors, defineMetric, inputError, takeRows, vectors, type DatasetInfo, type Rng, type VectorSamples } from '@ouroboros/core'
import { nearest } from './distance.js'
import { checkPrepared, entropyOfCounts, fingerprint, vectorPair } from './vectors.js'
import { ENTROPY_HALVES, HALVES, KL_RISES } from './outputs.js'
import { notRegression } from './defaults.js'

/**
 * Reference-cluster coverage (METRICS.md): k-means is fit once on the real data; its centroids are
 * the "reference modes". Each generation is histogrammed over its nearest centroids and compared
 * with the real histogram.
 *
 * The k-means++ seeding is done here, drawn from the prepare rng, and ml-kmeans runs Lloyd's
 * iterations from it: ml-kmeans' own k-means++ copies every point pair it compares into new
 * arrays and took 18 s for 2000 points in 784-D with k = 100 (this seeding: well under a second
 * for 10,000 points); see the README's performance section.
 *
 * A centroid that no real sample is nearest to (k-means can leave one empty) has no real share to
 * cover, so clusters_covered counts only centroids with real samples.
 */
const clustersOptions = z.strictObject({
  /**
   * Number of clusters; null: 25 in 2-D, else 10 · the dataset's modes when it has them, else 100,
   * and at most a tenth of the real samples (a few dozen points of one's own make clusters of one).
   */
  k: z.int().min(1).nullable().default(null),
  /** A cluster is covered when its generated share is at least this fraction of its real share. */
  coveredFraction: z.number().min(0).default(0.01),
  /** Pseudo-count added to every cluster of both histograms before cluster_kl. */
  smoothing: z.number().min(0).default(0.5),
  maxIterations: z.int().min(1).default(100),
})
type ClustersOptions = z.output<typeof clustersOptions>

export const clusters = defineMetric({
  id: 'clusters',
  modality: 'vectors',
  description: 'Coverage of k-means reference clusters of the real data: entropy, clusters covered, KL to the real histogram',
  outputs: ['cluster_entropy', 'clusters_covered', 'cluster_kl'],
  byDefault: notRegression,
  outputInfo: {
    cluster_entropy: { title: 'cluster entropy', unit: 'nats', threshold: ENTROPY_HALVES, diversity: 18 },
    clusters_covered: { title: 'clusters covered', unit: 'clusters', threshold: HALVES, diversity: 17 },
    cluster_kl: { title: 'cluster KL', unit: 'nats', threshold: KL_RISES, diversity: 19 },
  },
  options: clustersOptions,
  async prepare({ real, dataset, options, rng }) {
    const x = asVectors(real, 'clusters: real samples')
    const k = clusterCount(options, dataset, x.d, x.n)
    if (k > x.n) throw inputError(`clusters: k = ${k} clusters needs at least ${k} real samples, got ${x.n}`, `set metricOptions.clusters.k to at most ${x.n}, or name the run's metrics without 'clusters'`)
    const rows: number[][] = []
    for (let i = 0; i < x.n; i++) rows.push(Array.from(x.data.subarray(i * x.d, (i + 1) * x.d)))
    const initialization = (await kmeansPlusPlus(x, k, rng)).map((i) => rows[i]!.slice())
    // Imported here, once per chain: loading ml-kmeans (and ml-matrix under it) takes about 0.1 s,
    // which every run without this group would otherwise pay at start-up, in every thread.
    const { kmeans } = await import('ml-kmeans')
    const fit = kmeans(rows, k, { initialization, maxIterations: options.maxIterations })
    const centroids = Float64Array.from(fit.centroids.flat())
    return { realFingerprint: fingerprint(x), k, centroids, realCounts: await histogram(x, centroids, k) }
  },
  async compute({ real, generated, options, prepared }) {
    const { real: x, generated: y } = vectorPair('clusters', real, generated)
    checkPrepared('clusters', prepared, x)
    if (y.n === 0) return { cluster_entropy: null, clusters_covered: null, cluster_kl: null }
    const { centroids, realCounts } = prepared
    const k = realCounts.length
    const counts = await histogram(y, centroids, k)

    let covered = 0
    let kl = 0
    const a = options.smoothing
    const generatedTotal = y.n + k * a
    const realTotal = x.n + k * a
    for (let c = 0; c < k; c++) {
      const realShare = realCounts[c]! / x.n
      if (realShare > 0 && counts[c]! / y.n >= options.coveredFraction * realShare) covered++
      const q = (counts[c]! + a) / generatedTotal
      const p = (realCounts[c]! + a) / realTotal
      if (q > 0) kl += q * Math.log(q / p)
    }
    return { cluster_entropy: entropyOfCounts(counts, y.n), clusters_covered: covered, cluster_kl: kl }
  },
})

/** Real samples per cluster that the default k leaves at least, on average. */
const SAMPLES_PER_CLUSTER = 10

function clusterCount(options: ClustersOptions, dataset: DatasetInfo, d: number, n: number): number {
  if (options.k !== null) return options.k
  const k = d === 2 ? 25 : dataset.modes === undefined ? 100 : 10 * dataset.modes.k
  return Math.max(1, Math.min(k, Math.floor(n / SAMPLES_PER_CLUSTER)))
}

/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007): the first centre uniformly, each next one with
 * probability proportional to the squared distance to the nearest centre so far. Returns row
 * indices of x.
 */
async function kmeansPlusPlus(x: VectorSamples, k: number, rng: Rng): Promise<number[]> {
  const chosen = [rng.int(x.n)]
  const d2 = (await nearest(x, takeRows(x, chosen))).d2
  while (chosen.length < k) {
    let total = 0
    for (let i = 0; i < x.n; i++) total += d2[i]!
    // Every point already sits on a centre (fewer distinct points than k): any point will do.
    const next = total > 0 ? rng.categorical(d2, total) : rng.int(x.n)
    chosen.push(next)
    const toNext = (await nearest(x, takeRows(x, [next]))).d2
    for (let i = 0; i < x.n; i++) if (toNext[i]! < d2[i]!) d2[i] = toNext[i]!
  }
  return chosen
}

async function histogram(s: VectorSamples, centroids: Float64Array, k: number): Promise<Float64Array> {
  const counts = new Float64Array(k)
  const { index } = await nearest(s, vectors(k, s.d, centroids))
  for (let i = 0; i < s.n; i++) counts[index[i]!]!++
  return counts
}
