import { ringDataset, ringSamples, runModelConformance } from '@ouroboros/testkit'
import { model } from './index.js'

runModelConformance(model, {
  params: { steps: 15, batch: 32, generator: [16, 16], discriminator: [16, 16], lr: 1e-3 },
  data: (rng) => ringSamples(300, rng),
  dataset: ringDataset,
  badParams: [
    { params: { loss: 'lsgan' }, field: 'loss' },
    { params: { steps: 0 }, field: 'steps' },
    { params: { steps: 10, evalEvery: 20 }, field: 'evalEvery' },
    { params: { generator: [] }, field: 'generator' },
    { params: { discriminator: [0] }, field: 'discriminator.0' },
    { params: { lrD: -1 }, field: 'lrD' },
    { params: { beta1: 1 }, field: 'beta1' },
    { params: { pack: 0 }, field: 'pack' },
    { params: { unrolledSteps: -1 }, field: 'unrolledSteps' },
    { params: { loss: 'wgan-gp', minibatchStddev: true }, field: 'minibatchStddev' },
    // Settings the loss or the optimizer would ignore.
    { params: { loss: 'minimax', gpWeight: 5 }, field: 'gpWeight' },
    { params: { loss: 'hinge', clip: 0.5 }, field: 'clip' },
    { params: { loss: 'wgan', beta1: 0.9 }, field: 'beta1' },
    { params: { optimizer: 'rmsprop', beta2: 0.99 }, field: 'beta2' },
  ],
})
