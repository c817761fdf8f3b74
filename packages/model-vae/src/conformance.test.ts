import { vectors } from '@ouroboros/core'
import { runModelConformance } from '@ouroboros/testkit'
import { model } from './index.js'

runModelConformance(model, {
  params: { epochs: 2, hidden: [16, 16], batch: 32 },
  data: (rng) => {
    const out = new Float64Array(300 * 2)
    for (let i = 0; i < 300; i++) {
      const t = (2 * Math.PI * rng.int(8)) / 8
      out[2 * i] = 2 * Math.cos(t) + 0.02 * rng.normal()
      out[2 * i + 1] = 2 * Math.sin(t) + 0.02 * rng.normal()
    }
    return vectors(300, 2, out)
  },
  dataset: { kind: 'ring', modality: 'vectors', d: 2 },
  badParams: [
    { params: { epochs: 0 }, field: 'epochs' },
    { params: { hidden: [] }, field: 'hidden' },
    { params: { hidden: [16.5] }, field: 'hidden.0' },
    { params: { latent: 0 }, field: 'latent' },
    { params: { batch: 0 }, field: 'batch' },
    { params: { lr: 0 }, field: 'lr' },
    { params: { obsStd: -0.1 }, field: 'obsStd' },
    { params: { likelihood: 'poisson' }, field: 'likelihood' },
    { params: { evalEvery: -1 }, field: 'evalEvery' },
  ],
})
