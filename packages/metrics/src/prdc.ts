import { z } from 'zod'
import { asVectors, defineMetric, type VectorSamples } from '@ouroboros/core'
import { forEachCrossBlock, kthNeighbourSq, type DistanceEngine } from './distance.js'
import { checkPrepared, fingerprint, vectorPair } from './vectors.js'
import { HALVES, SHARE } from './outputs.js'

/**
 * Precision, recall, density and coverage (METRICS.md; Kynkäänniemi et al. 2019, Naeem et al.
 * 2020), exact, with X = real (N points) and Y = generated (M points). Everything is compared in
 * squared distances, so a radius is the k-th smallest squared distance itself and no square root
 * can move a point across a boundary.
 *
 * `operator` '<=' is the METRICS.md rule. With it a set compared with itself has density
 * (k+1)/k, not 1, when no distances tie: each point lies inside its own ball and the balls of its
 * k nearest neighbours. '<' is the rule of the `prdc` code (density 1 there, but 0 for duplicated
 * points, whose radius is 0).
 *
 * The real radii depend only on the real data, so prepare() computes them once per chain.
 */
const prdcOptions = z.strictObject({
  /** Neighbour rank that sets each point's radius. */
  k: z.int().min(1).default(5),
  /** Whether a point exactly on a ball's boundary is inside it. */
  operator: z.enum(['<=', '<']).default('<='),
})

export const prdc = defineMetric({
  id: 'prdc',
  modality: 'vectors',
  description: 'Precision, recall, density and coverage with k-nearest-neighbour balls (exact)',
  outputs: ['precision', 'recall', 'density', 'coverage'],
  outputInfo: {
    precision: { title: 'precision', unit: 'fraction', bounds: SHARE, better: 'higher' },
    recall: { title: 'recall', unit: 'fraction', threshold: HALVES, bounds: SHARE, diversity: 21 },
    density: { title: 'density', unit: 'ratio' },
    coverage: { title: 'coverage', unit: 'fraction', threshold: HALVES, bounds: SHARE, diversity: 22 },
  },
  cost: 'expensive',
  nullWhen: Object.fromEntries(['precision', 'recall', 'density', 'coverage'].map((name) => [name, 'either set has k samples or fewer'])),
  options: prdcOptions,
  async prepare({ real, options }) {
    const x = asVectors(real, 'prdc: real samples')
    return { realFingerprint: fingerprint(x), realRadiusSq: await kthNeighbourSq(x, options.k) }
  },
  async compute({ real, generated, options, prepared }) {
    const { real: x, generated: y } = vectorPair('prdc', real, generated)
    checkPrepared('prdc', prepared, x)
    const { k } = options
    // NND_k needs k other points in the set.
    if (x.n <= k || y.n <= k) return { precision: null, recall: null, density: null, coverage: null }
    const generatedRadiusSq = await kthNeighbourSq(y, k)
    const { precisionHits, recallHits, coverageHits, inBalls } = await ballCounts(x, y, prepared.realRadiusSq, generatedRadiusSq, options.operator === '<')
    return {
      precision: precisionHits / y.n,
      recall: recallHits / x.n,
      density: inBalls / (k * y.n),
      coverage: coverageHits / x.n,
    }
  },
})

/**
 * The counts behind PRDC: generated points inside some real ball (precision), real points inside
 * some generated ball (recall) and with some generated point inside their own ball (coverage), and
 * the (real ball, generated point) incidences (density).
 */
export async function ballCounts(
  x: VectorSamples,
  y: VectorSamples,
  realRadiusSq: Float64Array,
  generatedRadiusSq: Float64Array,
  strict: boolean,
  engine: DistanceEngine = 'auto',
): Promise<{ precisionHits: number; recallHits: number; coverageHits: number; inBalls: number }> {
  const precisionHit = new Uint8Array(y.n)
  const coverageHit = new Uint8Array(x.n)
  const recallHit = new Uint8Array(x.n)
  let inBalls = 0
  await forEachCrossBlock(
    x,
    y,
    (b) => {
      const { low: lows, high: highs } = b
      for (let i = b.rowStart; i < b.rowEnd; i++) {
        const rx = realRadiusSq[i]!
        let covered = 0
        let recalled = 0
        for (let j = b.colStart, at = (i - b.rowStart) * b.stride; j < b.colEnd; j++, at++) {
          const low = lows[at]!
          const ry = generatedRadiusSq[j]!
          // Outside both balls: nothing to count (most pairs).
          if (low > rx && low > ry) continue
          const high = highs[at]!
          // A radius outside the pair's bounds is decided by them (`high` stands in for the
          // distance); a radius between them needs the float64 distance itself.
          const v = (low <= rx && rx <= high) || (low <= ry && ry <= high) ? b.exact(i, j) : high
          // Y_j inside real ball i: counts for precision (of j), coverage (of i) and density.
          if (strict ? v < rx : v <= rx) {
            precisionHit[j] = 1
            covered = 1
            inBalls++
          }
          // X_i inside generated ball j: counts for recall (of i).
          if (strict ? v < ry : v <= ry) recalled = 1
        }
        if (covered) coverageHit[i] = 1
        if (recalled) recallHit[i] = 1
      }
    },
    engine,
  )
  return { precisionHits: count(precisionHit), recallHits: count(recallHit), coverageHits: count(coverageHit), inBalls }
}

function count(flags: Uint8Array): number {
  let s = 0
  for (let i = 0; i < flags.length; i++) s += flags[i]!
  return s
}
