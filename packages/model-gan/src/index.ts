import { z } from 'zod'
import { defineModel } from '@ouroboros/core'
import { fitGan, fitGanRows, ganTrainer, sampleGan, trainingSettings, type GanLoss, type GanParams, type GanState } from './gan.js'

export type { GanLoss, GanParams, GanState }

const width = z.int().min(1).max(65_536)
const CLIP = 0.01
const GP_WEIGHT = 10
const BETA1 = 0.5
const BETA2 = 0.999

/**
 * An MLP GAN with the losses and the mode-collapse mitigations of the literature, each switchable:
 * TTUR (lrG ≠ lrD, Heusel et al. 2017), the minibatch-stddev feature (Karras et al. 2018),
 * first-order unrolled critic steps (after Metz et al. 2017), spectral normalisation (Miyato et al.
 * 2018) and packing (PacGAN, Lin et al. 2018). Defaults: 3 hidden layers of 128 on both sides,
 * batch 256, non-saturating loss, Adam(1e-4, β = (0.5, 0.999)).
 */
const paramsSchema = z
  .strictObject({
    loss: z.enum(['minimax', 'non-saturating', 'wgan', 'wgan-gp', 'hinge']).default('non-saturating'),
    /** Generator updates per generation. */
    steps: z.int().min(1).max(100_000_000).default(5000),
    /** Discriminator inputs per batch (each a pack of `pack` samples). */
    batch: z.int().min(1).max(1_000_000).default(256),
    latent: z.int().min(1).max(4096).default(2),
    generator: z.array(width).min(1).max(32).default([128, 128, 128]),
    discriminator: z.array(width).min(1).max(32).default([128, 128, 128]),
    lr: z.number().positive().max(1e9).default(1e-4),
    /** Generator learning rate (default lr); a different lrD makes the two time-scale update rule. */
    lrG: z.number().positive().max(1e9).optional(),
    lrD: z.number().positive().max(1e9).optional(),
    beta1: z.number().min(0).lt(1).default(BETA1),
    beta2: z.number().min(0).lt(1).default(BETA2),
    /** Default: rmsprop for 'wgan' (as Arjovsky et al.), adam otherwise. */
    optimizer: z.enum(['adam', 'rmsprop']).optional(),
    /** Critic updates per generator update; default 5 for wgan and wgan-gp, else 1. */
    dSteps: z.int().min(1).max(1000).optional(),
    /** Weight clipping bound of 'wgan'. */
    clip: z.number().positive().default(CLIP),
    /** λ of the 'wgan-gp' gradient penalty. */
    gpWeight: z.number().min(0).default(GP_WEIGHT),
    minibatchStddev: z.boolean().default(false),
    /** Critic updates unrolled before each generator update (first-order); 0 = off. */
    unrolledSteps: z.int().min(0).max(100).default(0),
    spectralNorm: z.boolean().default(false),
    /** PacGAN packing: samples per discriminator input. */
    pack: z.int().min(1).max(64).default(1),
    /** Negative slope of the discriminator's leaky ReLUs. */
    leak: z.number().min(0).max(1).default(0.2),
    /** Report losses and samples to the run every this many generator updates; 0 = never. */
    evalEvery: z.int().min(0).default(0),
    /** Samples drawn at each of those reports. */
    evalSamples: z.int().min(1).max(1_000_000).default(2000),
  })
  .superRefine((p, ctx) => {
    if (p.minibatchStddev && p.loss === 'wgan-gp') {
      ctx.addIssue({ code: 'custom', path: ['minibatchStddev'], message: "the minibatch-stddev feature is not supported with loss 'wgan-gp' (its penalty is per sample)" })
    }
    // A setting the loss or optimizer would ignore is refused; its default is every recorded config's.
    if (p.gpWeight !== GP_WEIGHT && p.loss !== 'wgan-gp') {
      ctx.addIssue({ code: 'custom', path: ['gpWeight'], message: `weighs the gradient penalty of loss 'wgan-gp', and loss is '${p.loss}'; leave gpWeight out, or use loss 'wgan-gp'` })
    }
    if (p.clip !== CLIP && p.loss !== 'wgan') {
      ctx.addIssue({ code: 'custom', path: ['clip'], message: `bounds the critic's weights under loss 'wgan', and loss is '${p.loss}'; leave clip out, or use loss 'wgan'` })
    }
    // A run shortened by its steps alone, its evalEvery kept, would end before its first report.
    if (p.evalEvery > p.steps) {
      ctx.addIssue({ code: 'custom', path: ['evalEvery'], message: `${p.evalEvery} is more than steps (${p.steps}): no training curve would be recorded; give at most steps, or 0 for none` })
    }
    const { optimizer } = trainingSettings(p)
    for (const [key, value, fallback] of [['beta1', p.beta1, BETA1], ['beta2', p.beta2, BETA2]] as const) {
      if (value !== fallback && optimizer !== 'adam') {
        ctx.addIssue({ code: 'custom', path: [key], message: `is Adam's, and the optimizer is ${optimizer}${p.optimizer === undefined ? ` (the default for loss '${p.loss}')` : ''}; leave ${key} out, or give optimizer 'adam'` })
      }
    }
  })
  // The settings each loss is trained with by default, filled in: the resolved config shows them.
  .transform((p) => ({ ...p, ...trainingSettings(p) })) satisfies z.ZodType<GanParams, unknown>

export const model = defineModel<GanParams, GanState>({
  id: 'gan',
  modality: 'vectors',
  description: 'MLP GAN on tfjs: minimax, non-saturating, WGAN, WGAN-GP and hinge losses; TTUR, minibatch stddev, unrolling, spectral norm, packing',
  params: paramsSchema,
  // z ~ N(0, T² I): T < 1 is the truncation trick's milder cousin.
  acceptsTemperature: true,
  // On a fresh batch: for the minimax and non-saturating losses in nats, for WGAN and hinge in the critic's units.
  lossInfo: { d: { title: 'discriminator loss' }, g: { title: 'generator loss' } },
  usesTfjs: true,
  fit: fitGan,
  fitRows: fitGanRows,
  sample: (state, n, ctx) => sampleGan(state, n, ctx.temperature, ctx.rng),
  /** Training iterations on the items as the real batch, equal weights only (see ganTrainer). */
  trainer: ganTrainer,
})

export default model
