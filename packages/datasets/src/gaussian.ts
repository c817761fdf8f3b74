import { z } from 'zod'
import { defineDataset, vectors } from '@ouroboros/core'

export const gaussian = defineDataset({
  id: 'gaussian',
  modality: 'vectors',
  description: 'Isotropic Gaussian N(mean, std²·I) in d dimensions (the Shumailov et al. chain in 1-D)',
  params: z.strictObject({
    d: z.int().min(1).max(100_000).default(1),
    mean: z.number().default(0),
    std: z.number().positive().default(1),
  }),
  create(p) {
    return {
      info: { kind: 'gaussian', modality: 'vectors', d: p.d, gaussian: { mean: p.mean, std: p.std } },
      sample(n, rng) {
        return vectors(n, p.d, rng.fillNormal(new Float64Array(n * p.d), p.mean, p.std))
      },
    }
  },
})
