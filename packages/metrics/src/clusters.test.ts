import { describe, expect, it } from 'vitest'
import { Rng, vectors, type DatasetInfo } from '@ouroboros/core'
import { clusters } from './clusters.js'
import { fingerprint } from './vectors.js'
import { evaluate, gaussianSamples, mixture, readFixture, toVectors, type Points } from '../fixtures/load.js'

interface ClustersCase {
  centroids: number[]
  real: Points
  generated: Points
  realCounts: number[]
  expected: Record<string, number>
}

const vectorData: DatasetInfo = { kind: 'test', modality: 'vectors' }

describe('clusters against numpy (fixtures/clusters.json)', () => {
  it('scores a generated histogram over fixed centroids', async () => {
    const [c] = readFixture<ClustersCase>('clusters.json').cases
    const real = toVectors(c!.real)
    const prepared = { realFingerprint: fingerprint(real), centroids: Float64Array.from(c!.centroids), realCounts: Float64Array.from(c!.realCounts) }
    const options = clusters.options.parse({})
    const got = await clusters.compute({ real, generated: toVectors(c!.generated), options, prepared, dataset: vectorData, rng: Rng.from(0) })
    expect(got.cluster_entropy).toBeCloseTo(c!.expected['cluster_entropy']!, 13)
    expect(got.clusters_covered).toBe(c!.expected['clusters_covered'])
    expect(got.cluster_kl).toBeCloseTo(c!.expected['cluster_kl']!, 13)
  })
})

describe('clusters', () => {
  // Four tight, well-separated blobs: k-means with k = 4 must put one centroid on each.
  const blobCenters = Float64Array.of(0, 0, 10, 0, 0, 10, 10, 10)
  const { samples: blobs, mode } = mixture(blobCenters, 2, 0.1, 800, Rng.from(41))
  const prepare = async (k: number | null, real = blobs, dataset = vectorData) => {
    const options = clusters.options.parse({ k })
    return (await clusters.prepare!({ real, dataset, options, rng: Rng.from(7) })) as { centroids: Float64Array; realCounts: Float64Array }
  }

  it('finds the blob centres and counts the real samples of each', async () => {
    const { centroids, realCounts } = await prepare(4)
    const sizes = [0, 1, 2, 3].map((m) => mode.filter((x) => x === m).length)
    for (let c = 0; c < 4; c++) {
      const x = centroids[2 * c]!
      const y = centroids[2 * c + 1]!
      const m = [0, 1, 2, 3].find((b) => Math.hypot(x - blobCenters[2 * b]!, y - blobCenters[2 * b + 1]!) < 0.05)
      expect(m).toBeDefined()
      expect(realCounts[c]).toBe(sizes[m!])
    }
  })

  it('is ln 4 / 4 covered / ~0 KL for the real data, and 0 / 1 / large for one blob', async () => {
    const self = await evaluate(clusters, { real: blobs, generated: blobs, options: { k: 4 } })
    const sizes = [0, 1, 2, 3].map((m) => mode.filter((x) => x === m).length / mode.length)
    expect(self.cluster_entropy).toBeCloseTo(-sizes.reduce((h, p) => h + p * Math.log(p), 0), 12)
    expect(self.clusters_covered).toBe(4)
    expect(self.cluster_kl).toBeCloseTo(0, 14)
    const oneBlob = vectors(50, 2, new Float64Array(100).fill(10))
    const collapsed = await evaluate(clusters, { real: blobs, generated: oneBlob, options: { k: 4 } })
    expect(collapsed.cluster_entropy).toBe(0)
    expect(collapsed.clusters_covered).toBe(1)
    expect(collapsed.cluster_kl).toBeGreaterThan(1)
  })

  it('defaults k to 25 in 2-D, 10 per mode with modes, else 100, and to at most a tenth of the real samples', async () => {
    expect((await prepare(null)).realCounts.length).toBe(25)
    const real3 = gaussianSamples(1000, 3, Rng.from(1))
    const withModes: DatasetInfo = { kind: 'test', modality: 'vectors', modes: { centers: new Float64Array(9), k: 3, std: 1, weights: new Float64Array(3) } }
    expect((await prepare(null, real3, withModes)).realCounts.length).toBe(30)
    expect((await prepare(null, real3)).realCounts.length).toBe(100)
    // 72 points in 3-D: 7 clusters, not 100 that 72 points cannot fill; 5 points: one cluster.
    expect((await prepare(null, gaussianSamples(72, 3, Rng.from(2)))).realCounts.length).toBe(7)
    expect((await prepare(null, gaussianSamples(5, 3, Rng.from(3)))).realCounts.length).toBe(1)
    expect((await prepare(null, gaussianSamples(120, 2, Rng.from(4)))).realCounts.length).toBe(12)
  })

  it('is reproducible from the prepare seed and needs k real samples', async () => {
    expect((await prepare(10)).centroids).toEqual((await prepare(10)).centroids)
    await expect(prepare(900)).rejects.toThrow(/needs at least 900 real samples/)
  })
})
