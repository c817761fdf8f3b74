import { z } from 'zod'
import { asVectors, defineMetric } from '@ouroboros/core'
import { forEachCrossTile, kthNeighbourSq, TILE } from './distance.js'
import { checkPrepared, fingerprint, vectorPair } from './vectors.js'

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
  options: prdcOptions,
  prepare({ real, options }) {
    const x = asVectors(real, 'prdc: real samples')
    return { realFingerprint: fingerprint(x), realRadiusSq: kthNeighbourSq(x, options.k) }
  },
  compute({ real, generated, options, prepared }) {
    const { real: x, generated: y } = vectorPair('prdc', real, generated)
    checkPrepared('prdc', prepared, x)
    const { k } = options
    // NND_k needs k other points in the set.
    if (x.n <= k || y.n <= k) return { precision: null, recall: null, density: null, coverage: null }
    const realRadiusSq = prepared.realRadiusSq
    const generatedRadiusSq = kthNeighbourSq(y, k)
    const strict = options.operator === '<'

    const precisionHit = new Uint8Array(y.n)
    const coverageHit = new Uint8Array(x.n)
    const recallHit = new Uint8Array(x.n)
    let inBalls = 0
    forEachCrossTile(x, y, (t) => {
      for (let i = t.rowStart; i < t.rowEnd; i++) {
        const o = (i - t.rowStart) * TILE - t.colStart
        const rx = realRadiusSq[i]!
        let covered = 0
        let recalled = 0
        for (let j = t.colStart; j < t.colEnd; j++) {
          const v = t.d2[o + j]!
          const ry = generatedRadiusSq[j]!
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
    })
    return {
      precision: count(precisionHit) / y.n,
      recall: count(recallHit) / x.n,
      density: inBalls / (k * y.n),
      coverage: count(coverageHit) / x.n,
    }
  },
})

function count(flags: Uint8Array): number {
  let s = 0
  for (let i = 0; i < flags.length; i++) s += flags[i]!
  return s
}
