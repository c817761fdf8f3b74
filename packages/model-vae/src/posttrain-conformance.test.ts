import { ringDataset, ringSamples, runPosttrainConformance } from '@ouroboros/testkit'
import { model } from './index.js'

process.env['OUROBOROS_BACKEND'] = 'cpu'

runPosttrainConformance(model, {
  params: { epochs: 2, hidden: [8, 8], batch: 32 },
  data: (rng) => ringSamples(200, rng),
  dataset: ringDataset,
  // No log-likelihood: states are compared by their samples, bit for bit.
  tolerance: 0,
})
