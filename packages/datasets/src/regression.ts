import { z } from 'zod'
import { defineDataset, vectors } from '@ouroboros/core'

/**
 * The fixed-design linear regression of Gerstgrasser et al. (2024) and Dohmatob et al. (2024):
 * a design X (T x d, rows ~ N(0, I)) and true weights w* (~ N(0, I/d)) drawn once per chain;
 * each draw of real data is fresh labels y = X w* + N(0, sigma²) on that same design. Rows are
 * (x_1..x_d, y); a draw of n > T rows cycles through the design.
 */
export const regression = defineDataset({
  id: 'regression',
  modality: 'vectors',
  description: 'Fixed-design linear regression: rows (x, y), y = x·w* + N(0, sigma²), design fixed per chain',
  params: z.strictObject({
    T: z.int().min(2).max(10_000_000).default(1000),
    d: z.int().min(1).max(10_000).default(10),
    sigma: z.number().positive().default(1),
  }),
  defaultN: (p) => p.T,
  create(p, rng) {
    const design = rng.derive('design').fillNormal(new Float64Array(p.T * p.d))
    const weights = rng.derive('weights').fillNormal(new Float64Array(p.d), 0, 1 / Math.sqrt(p.d))
    return {
      info: { kind: 'regression', modality: 'vectors', d: p.d + 1, regression: { weights, sigma: p.sigma, T: p.T } },
      sample(n, r) {
        const width = p.d + 1
        const out = new Float64Array(n * width)
        for (let i = 0; i < n; i++) {
          const row = i % p.T
          let y = 0
          for (let j = 0; j < p.d; j++) {
            const x = design[row * p.d + j]!
            out[i * width + j] = x
            y += x * weights[j]!
          }
          out[i * width + p.d] = y + p.sigma * r.normal()
        }
        return vectors(n, width, out)
      },
    }
  },
})
