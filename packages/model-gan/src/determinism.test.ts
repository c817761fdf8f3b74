import { runCpuDeterminism } from '@ouroboros/testkit'
import { model } from './index.js'

// Every source of randomness at once: the penalty's interpolation, spectral norm's u, packing.
runCpuDeterminism(model, { loss: 'wgan-gp', spectralNorm: true, pack: 2, steps: 5, batch: 16, generator: [8], discriminator: [8] })
