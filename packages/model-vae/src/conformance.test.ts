import { ringDataset, ringSamples, runModelConformance } from '@ouroboros/testkit'
import { model } from './index.js'

runModelConformance(model, {
  params: { epochs: 2, hidden: [16, 16], batch: 32 },
  data: (rng) => ringSamples(300, rng),
  dataset: ringDataset,
  badParams: [
    { params: { epochs: 0 }, field: 'epochs' },
    { params: { hidden: [] }, field: 'hidden' },
    { params: { hidden: [16.5] }, field: 'hidden.0' },
    { params: { latent: 0 }, field: 'latent' },
    { params: { batch: 0 }, field: 'batch' },
    { params: { lr: 0 }, field: 'lr' },
    { params: { obsStd: -0.1 }, field: 'obsStd' },
    { params: { likelihood: 'poisson' }, field: 'likelihood' },
    // The Gaussian likelihood's, which a Bernoulli one would ignore.
    { params: { likelihood: 'bernoulli', obsStd: 0.5 }, field: 'obsStd' },
    { params: { evalEvery: -1 }, field: 'evalEvery' },
  ],
})
