import { ringDataset, ringSamples, runPosttrainConformance } from '@ouroboros/testkit'
import { model } from './index.js'

process.env['OUROBOROS_BACKEND'] = 'cpu'

runPosttrainConformance(model, {
  params: { steps: 20, batch: 16, generator: [8, 8], discriminator: [8, 8], lr: 1e-3 },
  data: (rng) => ringSamples(200, rng),
  dataset: ringDataset,
  // No log-likelihood: states are compared by their samples, bit for bit.
  tolerance: 0,
  equalStepWeights: true,
})
