import { z } from 'zod'
import { defineModel, inputError } from '@ouroboros/core'
import { vaeBlocks } from './block.js'
import { fitVae, fitVaeRows, fitVaeWeighted, sampleVae, vaeTrainer, type VaeParams, type VaeState } from './vae.js'

export type { VaeParams, VaeState }

const OBS_STD = 0.1

/**
 * The defaults are those of ../shared/peers/vae_chain.py for the ring: encoder 2→128→128→(μ, log σ²),
 * decoder 2→128→128→2, latent 2, Gaussian likelihood with a fixed observation std of 0.1, Adam
 * 1e-3, batch 128; samples are decoder means. For MNIST use likelihood 'bernoulli', hidden [400],
 * latent 20 (Kingma & Welling's setting).
 */
const paramsSchema = z.strictObject({
  epochs: z.int().min(1).max(1_000_000).default(20),
  /** Hidden layer widths of the encoder; the decoder mirrors them. One number is one layer. */
  hidden: z
    .preprocess((v) => (typeof v === 'number' ? [v] : v), z.array(z.int().min(1).max(65_536)).min(1).max(32))
    .default([128, 128]),
  latent: z.int().min(1).max(4096).default(2),
  batch: z.int().min(1).max(1_000_000).default(128),
  lr: z.number().positive().max(1e9).default(1e-3),
  /** Fixed standard deviation of the Gaussian likelihood. */
  obsStd: z.number().positive().default(OBS_STD),
  likelihood: z.enum(['gaussian', 'bernoulli']).default('gaussian'),
  /** Report losses and samples to the run every this many optimiser steps; 0 = never. */
  evalEvery: z.int().min(0).default(0),
  /** Samples drawn at each of those reports. */
  evalSamples: z.int().min(1).max(1_000_000).default(2000),
})
  // Refused rather than ignored; the default is every recorded config's.
  .refine((p) => p.obsStd === OBS_STD || p.likelihood === 'gaussian', {
    path: ['obsStd'],
    message: "is the Gaussian likelihood's standard deviation, and likelihood is 'bernoulli'; leave obsStd out, or use likelihood 'gaussian'",
  }) satisfies z.ZodType<VaeParams, unknown>

export const model = defineModel<VaeParams, VaeState>({
  id: 'vae',
  modality: 'vectors',
  description: 'MLP variational autoencoder on tfjs (Gaussian or Bernoulli likelihood); samples are decoder means',
  params: paramsSchema,
  // z ~ N(0, T² I): T < 1 draws from the centre of the latent prior.
  acceptsTemperature: true,
  usesTfjs: true,
  lossInfo: { neg_elbo: { title: 'negative ELBO of the training data', unit: 'nats per item', better: 'lower' } },
  // Ring, grid, Gaussian and regression data are Gaussian draws, unbounded: a Bernoulli likelihood
  // would fail every chain at its first fit. Data from a file are checked as they are read.
  checkData(params, dataset) {
    const unbounded = dataset.modes !== undefined || dataset.gaussian !== undefined || dataset.regression !== undefined
    if (params.likelihood === 'bernoulli' && unbounded) {
      throw inputError(`likelihood: 'bernoulli' needs data in [0, 1], and ${dataset.kind} data are Gaussian draws, unbounded`, "use likelihood 'gaussian' (the default), or 'bernoulli' on data in [0, 1] such as MNIST")
    }
  },
  fit: fitVae,
  fitRows: fitVaeRows,
  sample: (state, n, ctx) => sampleVae(state, n, ctx.temperature, ctx.rng),
  summary: (state) => ({ neg_elbo: state.negElbo, steps: state.steps }),
  /** Adam steps on the weighted negative ELBO, weights ≥ 0 (see vaeTrainer). */
  trainer: vaeTrainer,
  /** Weighted ELBO training, rows drawn ∝ weight (see fitVaeWeighted). */
  fitWeighted: fitVaeWeighted,
  /** Replicates trained in one loop with one optimiser update, each chain bit for bit as alone (see fitVaeBlock). */
  blocks: vaeBlocks,
})

export default model
