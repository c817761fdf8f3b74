import { vectors } from '@ouroboros/core'
import { runModelConformance, runPosttrainConformance } from '@ouroboros/testkit'
import { model } from './index.js'

runModelConformance(model, {
  params: { estimator: 'unbiased' },
  data: (rng) => vectors(200, 3, rng.fillNormal(new Float64Array(600), 1, 2)),
  dataset: { kind: 'gaussian', modality: 'vectors', d: 3, gaussian: { mean: 1, std: 2 } },
  badParams: [
    { params: { estimator: 'ml' }, field: 'estimator' },
    { params: { estimator: 1 }, field: 'estimator' },
  ],
})

runPosttrainConformance(model, {
  params: { estimator: 'unbiased' },
  data: (rng) => vectors(200, 3, rng.fillNormal(new Float64Array(600), 1, 2)),
  dataset: { kind: 'gaussian', modality: 'vectors', d: 3, gaussian: { mean: 1, std: 2 } },
  tolerance: 1e-10,
})
