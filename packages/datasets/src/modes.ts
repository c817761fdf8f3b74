import { z } from 'zod'
import { defineDataset, vectors, type DatasetInstance, type Rng } from '@ouroboros/core'

/**
 * The 2-D mode-collapse benchmarks of the PacGAN / VEEGAN code (METRICS.md "Mode benchmark").
 * `weights` makes the modes unbalanced, the data-side knob of the mode-collapse literature.
 */
function modeInstance(kind: string, centers: Float64Array, std: number, weights: readonly number[] | undefined): DatasetInstance {
  const k = centers.length / 2
  const w = Float64Array.from(weights ?? Array.from({ length: k }, () => 1))
  const total = w.reduce((a, b) => a + b, 0)
  for (let i = 0; i < k; i++) w[i]! /= total
  const uniform = weights === undefined
  return {
    info: { kind, modality: 'vectors', d: 2, modes: { centers, k, std, weights: w } },
    sample(n: number, rng: Rng) {
      const out = new Float64Array(n * 2)
      for (let i = 0; i < n; i++) {
        const m = uniform ? rng.int(k) : rng.categorical(w, 1)
        out[2 * i] = centers[2 * m]! + std * rng.normal()
        out[2 * i + 1] = centers[2 * m + 1]! + std * rng.normal()
      }
      return vectors(n, 2, out)
    },
  }
}

const weightsSchema = (k: number) =>
  z
    .array(z.number().min(0))
    .length(k, `needs one weight per mode (${k})`)
    .refine((w) => w.some((x) => x > 0), 'at least one weight must be positive')
    .optional()

export const ring = defineDataset({
  id: 'ring',
  modality: 'vectors',
  description: '8 Gaussian modes on a circle of radius 2, std 0.02 (PacGAN/VEEGAN benchmark); optional per-mode weights',
  params: z.strictObject({
    modes: z.int().min(1).max(1000).default(8),
    radius: z.number().positive().default(2),
    std: z.number().positive().default(0.02),
    weights: z.array(z.number().min(0)).optional(),
  }).superRefine((p, ctx) => {
    if (p.weights !== undefined) {
      const r = weightsSchema(p.modes).safeParse(p.weights)
      // A weight's own issue (below 0) is the field's, reported already at its index.
      if (!r.success) for (const issue of r.error.issues) if (issue.path.length === 0) ctx.addIssue({ code: 'custom', path: ['weights'], message: issue.message })
    }
  }),
  create(p) {
    const centers = new Float64Array(p.modes * 2)
    for (let i = 0; i < p.modes; i++) {
      const t = (2 * Math.PI * i) / p.modes
      centers[2 * i] = p.radius * Math.cos(t)
      centers[2 * i + 1] = p.radius * Math.sin(t)
    }
    return modeInstance('ring', centers, p.std, p.weights)
  },
})

export const grid = defineDataset({
  id: 'grid',
  modality: 'vectors',
  description: '25 Gaussian modes at {-4,-2,0,2,4}², std 0.05 (PacGAN/VEEGAN benchmark); optional per-mode weights',
  params: z.strictObject({
    std: z.number().positive().default(0.05),
    weights: weightsSchema(25),
  }),
  create(p) {
    const centers = new Float64Array(50)
    // (x, y) pairs with y slowest, the order of numpy.meshgrid(g, g) reshaped in peers/modes.py.
    let i = 0
    for (const y of [-4, -2, 0, 2, 4]) {
      for (const x of [-4, -2, 0, 2, 4]) {
        centers[i++] = x
        centers[i++] = y
      }
    }
    return modeInstance('grid', centers, p.std, p.weights)
  },
})
