import { z } from 'zod'

/**
 * Post-training stages (DESIGN.md "Post-training stages"): run on each generation's fitted model,
 * in order; the generation's samples come from the last one. Key names are a contract.
 */

/** Gold rewards: known functions of a sample. */
export const goldRewardSchema = z.discriminatedUnion('kind', [
  /** Ring/grid: the value of the sample's nearest mode (one value per mode). */
  z.strictObject({ kind: z.literal('modes'), values: z.array(z.number()).min(1) }),
  /** Vectors: −‖x − at‖² / scale². */
  z.strictObject({ kind: z.literal('point'), at: z.array(z.number()).min(1), scale: z.number().positive().default(1) }),
  /**
   * Tokens: Σ over the sentence's words of their value (words not listed count 0); `per: 'token'`
   * divides by the sentence's length.
   */
  z.strictObject({
    kind: z.literal('lexicon'),
    words: z.union([z.array(z.string().min(1)).min(1), z.record(z.string().min(1), z.number())], {
      error: 'expected a list of words (each worth 1) or an object of words and their values',
    }),
    per: z.enum(['sentence', 'token']).default('sentence'),
  }),
  /** Tokens: −|length − target| / scale (a preference for sentences of a length). */
  z.strictObject({ kind: z.literal('length'), target: z.number().min(0), scale: z.number().positive().default(1) }),
  /** Brown sentences: the genre classifier's log-probability of this genre. */
  z.strictObject({ kind: z.literal('genre'), genre: z.string().min(1) }),
  /** MNIST images: the digit classifier's log-probability of this digit. */
  z.strictObject({ kind: z.literal('digit'), digit: z.int().min(0).max(9) }),
])
export type GoldRewardConfig = z.infer<typeof goldRewardSchema>

/**
 * A learned reward model: fit to `labels` samples of the stage's reference model, scored by the
 * gold reward plus Gaussian noise of sd `noise`, or (preferences) by Bradley–Terry comparisons of
 * pairs. Optimising it is what reward hacking exploits (Gao et al. 2023).
 */
export const proxyRewardSchema = z.strictObject({
  kind: z.literal('proxy'),
  of: goldRewardSchema,
  /** The fit is exact kernel regression: labels² numbers of memory and labels³ steps (10,000: 0.8 GB, minutes). */
  labels: z.int().min(2).max(10_000).default(200),
  noise: z.number().min(0).default(0),
  /**
   * Label by preferences instead: the `labels` samples form labels/2 pairs, a preferred to b with
   * probability σ(r(a) − r(b)) (Bradley–Terry, r = gold + noise), and the model is fit to them.
   */
  preferences: z.boolean().default(false),
  /** Ridge penalty of the reward model's fit. */
  ridge: z.number().positive().default(1e-3),
  /**
   * An ensemble of this many reward models (Coste et al. 2023), each fit to a bootstrap resample of
   * the same labels (of the labelled pairs, under preferences): the label budget of one model.
   */
  members: z.int().min(1).max(64).default(1),
  /**
   * How the members' rewards make the one optimised: their mean; their minimum (worst-case
   * optimisation); or 'uwo', the mean less `variancePenalty` times their variance
   * (uncertainty-weighted optimisation).
   */
  combine: z.enum(['mean', 'min', 'uwo']).default('mean'),
  variancePenalty: z.number().min(0).default(1),
})

// One discriminated union, so that a mistyped kind is named as such (a union of the two said only "Invalid input").
export const rewardSchema = z.discriminatedUnion('kind', [...goldRewardSchema.options, proxyRewardSchema])
export type RewardConfig = z.infer<typeof rewardSchema>

const steps = z.int().min(0).max(10_000_000)

export const finetuneStageSchema = z.strictObject({
  kind: z.literal('finetune'),
  /** The task data: a data spec laid over the run's `data` (say {"weights": [1, 1, 0, …]}). */
  data: z.looseObject({ kind: z.string().min(1).optional(), n: z.int().min(1).max(10_000_000).optional() }),
  steps: steps.default(1000),
  /** Step size; the model's own when absent (EM and interpolation models read it their way). */
  lr: z.number().positive().optional(),
  /** Share of every batch drawn from the generation's pretraining data. */
  replay: z.number().min(0).max(1).default(0),
  /** L2-SP: pull toward the pretrained parameters. */
  anchor: z.number().min(0).default(0),
  /** Record a training-curve point every this many steps (0: only the start and the end). */
  evalEvery: steps.default(100),
  /** Samples drawn at each curve point; default min(samplesPerGeneration, 2000). */
  evalSamples: z.int().min(1).max(1_000_000).optional(),
  /** Held-out task items for task metrics; default 1000, or as many as the task's data set aside. */
  heldout: z.int().min(1).max(1_000_000).optional(),
})

export const rlStageSchema = z.strictObject({
  kind: z.literal('rl'),
  reward: rewardSchema,
  beta: z.number().min(0),
  steps: steps.default(500),
  lr: z.number().positive().optional(),
  /**
   * 'policy-gradient' (REINFORCE with a leave-one-out baseline and a per-sample KL penalty) needs a
   * model whose trainer takes signed weights; 'refit' (reward-weighted refitting, weights ∝
   * exp(r/β)) a model that fits weighted data; 'auto' prefers the first.
   */
  method: z.enum(['auto', 'policy-gradient', 'refit']).default('auto'),
  /** Samples per policy-gradient step; the model trainer's batch when absent. */
  batch: z.int().min(2).max(1_000_000).optional(),
  /**
   * Adapts β toward this KL (nats) instead of holding it, as Ziegler et al. (2019) and TRL's
   * adaptive KL controller do: after each policy-gradient step, β ← β·(1 + e·batch/klHorizon), e the
   * step's KL estimate over the target less 1, clipped to ±0.2. `beta` is where it starts.
   */
  klTarget: z.number().positive().optional(),
  /** How many samples the controller takes to move β by its error; default a tenth of the stage's (steps × batch). */
  klHorizon: z.int().min(1).max(1_000_000_000).optional(),
  /** Draws from the current model per refit step; default samplesPerGeneration. */
  samples: z.int().min(2).max(10_000_000).optional(),
  evalEvery: steps.default(25),
  evalSamples: z.int().min(1).max(1_000_000).optional(),
})

/**
 * Direct preference optimisation (Rafailov et al. 2023): `pairs` pairs of samples of the stage's
 * input model, each labelled once by a Bradley–Terry comparison of their gold rewards (plus noise
 * of sd `noise`), then `steps` steps on the DPO loss −log σ(β·Δ), Δ = log π/π_ref(y_w) −
 * log π/π_ref(y_l), over `batch` pairs a step. No reward model: the preferences train the policy
 * directly. `loss` names the loss of Δ as TRL's `loss_type` does: 'sigmoid' (DPO), 'ipo'
 * ((Δ − 1/(2β))², Azar et al. 2023) or 'hinge' (max(0, 1 − β·Δ), SLiC, Zhao et al. 2023).
 */
export const dpoStageSchema = z.strictObject({
  kind: z.literal('dpo'),
  reward: goldRewardSchema,
  loss: z.enum(['sigmoid', 'ipo', 'hinge']).default('sigmoid'),
  pairs: z.int().min(1).max(1_000_000).default(1000),
  noise: z.number().min(0).default(0),
  beta: z.number().positive(),
  steps: steps.default(500),
  lr: z.number().positive().optional(),
  /** Pairs a step; half the model trainer's batch when absent (a pair is two items). */
  batch: z.int().min(1).max(1_000_000).optional(),
  evalEvery: steps.default(25),
  evalSamples: z.int().min(1).max(1_000_000).optional(),
}).superRefine((stage, ctx) => {
  // A step takes `batch` of the stage's pairs: more than there are would be all of them, without a word.
  if (stage.batch !== undefined && stage.batch > stage.pairs) {
    ctx.addIssue({ code: 'custom', path: ['batch'], message: `${stage.batch} pairs a step of the stage's ${stage.pairs} pairs: a step takes at most every pair once; give batch at most pairs (${stage.pairs}), or more pairs` })
  }
})

export const bestOfNStageSchema = z.strictObject({
  kind: z.literal('best-of-n'),
  n: z.int().min(1).max(100_000),
  reward: rewardSchema,
  /** Samples of the curve over n' = 1, 2, 4, …, n (it draws n times as many); default min(samplesPerGeneration, 2000). */
  evalSamples: z.int().min(1).max(1_000_000).optional(),
})

export const posttrainStageSchema = z.discriminatedUnion('kind', [finetuneStageSchema, rlStageSchema, dpoStageSchema, bestOfNStageSchema])
export type PosttrainStageConfig = z.infer<typeof posttrainStageSchema>
export type FinetuneStageConfig = z.infer<typeof finetuneStageSchema>
export type RlStageConfig = z.infer<typeof rlStageSchema>
export type DpoStageConfig = z.infer<typeof dpoStageSchema>
export type BestOfNStageConfig = z.infer<typeof bestOfNStageSchema>

export const posttrainSchema = z
  .array(posttrainStageSchema)
  .max(32)
  .refine((stages) => stages.every((s, i) => s.kind !== 'best-of-n' || i === stages.length - 1), {
    message: 'best-of-n changes how samples are drawn, so it must be the last stage',
  })
