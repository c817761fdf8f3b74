import { vectors } from '@ouroboros/core'
import { runModelConformance } from '@ouroboros/testkit'
import { model } from './index.js'

runModelConformance(model, {
  params: { steps: 15, batch: 32, generator: [16, 16], discriminator: [16, 16], lr: 1e-3 },
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
    { params: { loss: 'lsgan' }, field: 'loss' },
    { params: { steps: 0 }, field: 'steps' },
    { params: { generator: [] }, field: 'generator' },
    { params: { discriminator: [0] }, field: 'discriminator.0' },
    { params: { lrD: -1 }, field: 'lrD' },
    { params: { beta1: 1 }, field: 'beta1' },
    { params: { pack: 0 }, field: 'pack' },
    { params: { unrolledSteps: -1 }, field: 'unrolledSteps' },
    { params: { loss: 'wgan-gp', minibatchStddev: true }, field: 'minibatchStddev' },
  ],
})
