import { z } from 'zod'
import { defineModel } from '@ouroboros/core'
import { fitTransformer, sampleTransformer, transformerLogLikelihood, transformerTrainer, type TransformerParams, type TransformerState } from './transformer.js'
import { datasetVocabulary } from './vocabulary.js'

export type { TransformerParams, TransformerState }

/**
 * The defaults are a small GPT-2 (2 blocks, 4 heads, width 128, MLP 512, 64 positions; 1.45M
 * parameters, 1.05M of them the tied token embedding of 8,194 rows) trained for 1,000 AdamW steps
 * of 16 windows of 64 tokens: about a million tokens, one pass over the Brown training split.
 */
const paramsSchema = z
  .strictObject({
    /** Positions the model attends over (learned positional embeddings); longer sentences are scored and sampled in windows. */
    context: z.int().min(2).max(1024).default(64),
    layers: z.int().min(1).max(64).default(2),
    heads: z.int().min(1).max(64).default(4),
    /** Residual width; a multiple of heads. */
    dModel: z.int().min(1).max(4096).default(128),
    /** Hidden width of each block's MLP. */
    ffn: z.int().min(1).max(16_384).default(512),
    /** Words the model keeps: the most frequent of the chain's real training data; the rest are <unk>. */
    maxVocab: z.int().min(1).max(1_000_000).default(8192),
    /** AdamW steps per generation, whatever the size of the training set. */
    steps: z.int().min(1).max(100_000_000).default(1000),
    /** Windows of context + 1 tokens per step; sentences per post-training step. */
    batch: z.int().min(1).max(65_536).default(16),
    /** Peak learning rate: linear warm-up over `warmup` steps, then cosine decay to a tenth at the last step. */
    lr: z.number().positive().max(10).default(1e-3),
    warmup: z.int().min(0).default(50),
    /** AdamW's decoupled weight decay, on every 2-D parameter (embeddings included). */
    weightDecay: z.number().min(0).max(1).default(0.01),
    /** Largest global norm of the gradient; larger gradients are scaled down to it. */
    clip: z.number().positive().default(1),
    /** Report the training loss to the run every this many steps; 0 = never. */
    evalEvery: z.int().min(0).default(100),
    /** Sample only from the k most probable next tokens. */
    topK: z.int().min(1).optional(),
    /** Sample only from the fewest most probable next tokens holding this share of probability. */
    topP: z.number().gt(0).max(1).optional(),
    /** Longest sampled sentence, in words: one still going there is cut, with no end (as the n-gram model's). */
    maxLength: z.int().min(1).max(100_000).default(256),
  })
  .superRefine((p, ctx) => {
    if (p.dModel % p.heads !== 0) ctx.addIssue({ code: 'custom', path: ['heads'], message: `heads must divide dModel: got heads ${p.heads}, dModel ${p.dModel}` })
    // A schedule that ends inside its warm-up never reaches lr: a run shortened by its steps alone
    // (warmup's default, 50, kept) would train at a fraction of the rate it names.
    if (p.warmup > 0 && p.warmup >= p.steps) {
      ctx.addIssue({ code: 'custom', path: ['warmup'], message: `${p.warmup} warm-up steps of ${p.steps} steps: the learning rate would never reach lr; give warmup fewer than steps (0: none)` })
    }
  }) satisfies z.ZodType<TransformerParams, unknown>

export const model = defineModel<TransformerParams, TransformerState>({
  id: 'transformer',
  modality: 'tokens',
  description: 'GPT-style decoder over words on tfjs (pre-LayerNorm blocks, tied embeddings, AdamW), sampled with temperature, top-k and top-p',
  params: paramsSchema,
  acceptsTemperature: true,
  usesTfjs: true,
  lossInfo: { loss: { title: 'cross-entropy of the training batches since the last point', unit: 'nats per token', better: 'lower' } },
  checkData: (_params, dataset) => void datasetVocabulary(dataset),
  // Windows of context + 1 tokens of the training text, sentences and their ends; a sampled
  // sentence holds at most maxLength words and its end.
  minimumTokens: (p) => ({ tokens: p.context + 1, what: `a transformer of context ${p.context}`, param: 'context', perSample: p.maxLength + 1 }),
  fit: fitTransformer,
  sample: (state, n, ctx) => sampleTransformer(state, n, ctx.temperature, ctx.rng),
  /** Per sentence, the natural-log probability of its words and its end (see transformer.ts for long sentences and unknown words). */
  logLikelihood: transformerLogLikelihood,
  trainer: transformerTrainer,
  // The trainer takes signed weights, and logLikelihood scores a sentence as sampling draws it: an
  // unknown word's share of p(<unk>) is a constant, which neither the gradient nor a KL sees.
  policyGradient: true,
  summary: (state) => ({ train_loss: state.loss, steps: state.steps }),
})

export default model
