import { z } from 'zod'
import { defineModel } from '@ouroboros/core'
import { charLmLogLikelihood, charLmTrainer, fitCharLm, fitCharLmWeighted, sampleCharLm, spelledVocabulary, type CharLmParams, type CharLmState } from './charlm.js'

export type { CharLmParams, CharLmState }

/**
 * Character level rather than word level: its softmax covers about 60 symbols instead of the
 * 49,816 Brown words (a word-level output layer costs ~800x more per token, beyond a few minutes
 * on two cores), and it can spell any word, so a rare word is lost by the model rather than by a
 * vocabulary cut-off. Feed-forward rather than recurrent: the whole batch is three matrix
 * products, which is what the wasm backend runs fast; a recurrent net runs dozens of small
 * kernels per character.
 *
 * The defaults train on 2M characters (4000 steps of 512, about 0.4 epoch of the Brown training
 * split) in one to two minutes on one core of the wasm backend, to 1.53 nats per character.
 */
const paramsSchema = z.strictObject({
  /** Characters of context. */
  context: z.int().min(1).max(1024).default(16),
  /** Embedding width per character. */
  embedding: z.int().min(1).max(4096).default(16),
  hidden: z.array(z.int().min(1).max(65_536)).min(1).max(32).default([256, 256]),
  /** Optimiser steps per generation, whatever the size of the training set. */
  steps: z.int().min(1).max(100_000_000).default(4000),
  /** Characters per step, drawn uniformly from the training text. */
  batch: z.int().min(1).max(1_000_000).default(512),
  /** Adam's initial learning rate; it decays linearly to 0 over the steps. */
  lr: z.number().positive().max(10).default(4e-3),
  /** Report the training loss to the run every this many steps; 0 = never. */
  evalEvery: z.int().min(0).default(500),
  /** Sample only from the k most probable next characters. */
  topK: z.int().min(1).optional(),
  /** Sample only from the fewest most probable next characters holding this share of probability. */
  topP: z.number().gt(0).max(1).optional(),
  /** Sampled sentences end after this many characters (Brown's longest sentence has about 900). */
  maxChars: z.int().min(1).max(1_000_000).default(1000),
  /**
   * Sentences per post-training step (finetuning, policy gradient): 16 Brown sentences are about
   * 2000 symbols, four pretraining batches, and give policy gradient's baseline 16 samples.
   */
  sentencesPerStep: z.int().min(1).max(1_000_000).default(16),
}) satisfies z.ZodType<CharLmParams, unknown>

export const model = defineModel<CharLmParams, CharLmState>({
  id: 'charlm',
  modality: 'tokens',
  description: 'Feed-forward character language model on tfjs (words spelled out; made-up words read as <unk>), sampled with temperature, top-k and top-p',
  params: paramsSchema,
  acceptsTemperature: true,
  usesTfjs: true,
  lossInfo: { loss: { title: 'cross-entropy of the last training batches', unit: 'nats per character', better: 'lower' } },
  checkData: (_params, dataset) => void spelledVocabulary(dataset),
  fit: fitCharLm,
  sample: (state, n, ctx) => sampleCharLm(state, n, ctx.temperature, ctx.rng),
  /** Per sentence, the natural-log probability of its spelling (characters, spaces, end). */
  logLikelihood: charLmLogLikelihood,
  summary: (state) => ({ train_loss: state.loss, steps: state.steps }),
  /** Adam steps on whole sentences' log-probabilities, weights of either sign (see charLmTrainer). */
  trainer: charLmTrainer,
  /**
   * Not trained by policy gradient: a sampled sentence keeps only <unk> of a made-up word's
   * spelling, so neither its probability nor its gradient is known, and nothing in a step would
   * discourage made-up words (40 steps of a length reward left 95 % of the sampled words <unk>).
   * rl refits it instead (fitWeighted), which needs only the sentences as the data give them.
   */
  policyGradient: false,
  /** For the same reason a Monte Carlo KL over its samples would score other strings than it drew. */
  scoresItsSamples: false,
  /** fit with each character drawn ∝ its sentence's weight. */
  fitWeighted: fitCharLmWeighted,
})

export default model
