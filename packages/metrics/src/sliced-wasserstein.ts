import { z } from 'zod'
import { asVectors, defineMetric, ErrorCode, OuroborosError, type VectorSamples } from '@ouroboros/core'
import { vectorPair } from './vectors.js'
import { DOUBLES } from './outputs.js'
import { notRegression } from './defaults.js'

/**
 * Sliced Wasserstein-1 (METRICS.md): the mean over `directions` random unit directions of the
 * exact 1-D W₁ between the projected real and generated samples. The directions are drawn once per
 * chain in prepare(), so that every generation of a chain is measured along the same directions
 * and the curve over generations carries no direction noise.
 */
export const slicedWasserstein = defineMetric({
  id: 'sliced_wasserstein',
  modality: 'vectors',
  description: 'Sliced Wasserstein-1 distance between real and generated samples over seeded random directions',
  outputs: ['sliced_wasserstein'],
  byDefault: notRegression,
  outputInfo: {
    sliced_wasserstein: { title: 'sliced Wasserstein-1', unit: 'data units', threshold: DOUBLES },
  },
  options: z.strictObject({
    directions: z.int().min(1).default(128),
  }),
  prepare({ real, options, rng }) {
    const d = asVectors(real, 'sliced_wasserstein: real samples').d
    const directions = new Float64Array(options.directions * d)
    for (let l = 0; l < options.directions; l++) {
      const u = directions.subarray(l * d, (l + 1) * d)
      // A standard normal vector, normalised, is uniform on the sphere.
      let norm = 0
      while (norm === 0) {
        rng.fillNormal(u)
        for (let j = 0; j < d; j++) norm += u[j]! * u[j]!
        norm = Math.sqrt(norm)
      }
      for (let j = 0; j < d; j++) u[j]! /= norm
    }
    return { d, directions }
  },
  compute({ real, generated, prepared }) {
    const { real: x, generated: y } = vectorPair('sliced_wasserstein', real, generated)
    if (x.n === 0 || y.n === 0) return { sliced_wasserstein: null }
    const d = x.d
    if (prepared.d !== d) {
      throw new OuroborosError(ErrorCode.INTERNAL, `sliced_wasserstein: directions were drawn for dimension ${prepared.d}, the samples have ${d}`)
    }
    const L = prepared.directions.length / d
    const px = new Float64Array(x.n)
    const py = new Float64Array(y.n)
    let total = 0
    for (let l = 0; l < L; l++) {
      const u = prepared.directions.subarray(l * d, (l + 1) * d)
      project(x, u, px)
      project(y, u, py)
      px.sort()
      py.sort()
      total += wasserstein1Sorted(px, py)
    }
    return { sliced_wasserstein: total / L }
  },
})

function project(s: VectorSamples, u: Float64Array, out: Float64Array): void {
  const d = s.d
  for (let i = 0; i < s.n; i++) {
    let v = 0
    for (let j = 0; j < d; j++) v += s.data[i * d + j]! * u[j]!
    out[i] = v
  }
}

/**
 * Exact W₁ = ∫ |F_a − F_b| between the empirical distributions of two sorted samples. With equal
 * sizes that is the mean absolute difference of the order statistics; otherwise the integral is
 * summed between consecutive points of the merged samples.
 */
export function wasserstein1Sorted(a: Float64Array, b: Float64Array): number {
  const n = a.length
  const m = b.length
  if (n === m) {
    let s = 0
    for (let i = 0; i < n; i++) s += Math.abs(a[i]! - b[i]!)
    return s / n
  }
  let i = 0
  let j = 0
  let previous = Math.min(a[0]!, b[0]!)
  let total = 0
  while (i < n || j < m) {
    const takeA = j >= m || (i < n && a[i]! <= b[j]!)
    const next = takeA ? a[i]! : b[j]!
    total += Math.abs(i / n - j / m) * (next - previous)
    previous = next
    if (takeA) i++
    else j++
  }
  return total
}
