import { vectors } from '@ouroboros/core'
import { runModelConformance, runPosttrainConformance } from '@ouroboros/testkit'
import { model } from './index.js'

runModelConformance(model, {
  params: { bandwidth: 'silverman' },
  data: (rng) => vectors(300, 2, rng.fillNormal(new Float64Array(600), 0, 1.5)),
  dataset: { kind: 'gaussian', modality: 'vectors', d: 2, gaussian: { mean: 0, std: 1.5 } },
  badParams: [
    { params: { bandwidth: 'scot' }, field: 'bandwidth' },
    { params: { bandwidth: 0 }, field: 'bandwidth' },
    { params: { bandwidth: -0.5 }, field: 'bandwidth' },
  ],
})

runPosttrainConformance(model, {
  params: { bandwidth: 'silverman' },
  data: (rng) => vectors(300, 2, rng.fillNormal(new Float64Array(600), 0, 1.5)),
  dataset: { kind: 'gaussian', modality: 'vectors', d: 2, gaussian: { mean: 0, std: 1.5 } },
  tolerance: 1e-10,
})
