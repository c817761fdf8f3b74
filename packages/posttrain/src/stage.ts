import type { DatasetInfo, MetricValues, ModelPlugin, Rng, Samples, TaskView } from '@ouroboros/core'
import type { KlEstimate } from './kl.js'
import type { RewardPair } from './rewards/reward.js'

/** A finetuning task's data, drawn once per chain. */
export interface TaskData {
  readonly train: Samples
  readonly view: TaskView
}

/** What a stage gets from the chain it runs in. */
export interface StageContext<S> {
  readonly model: ModelPlugin<any, S>
  /** How messages name the model: "model 'mymodel' (./my-model.js)". */
  readonly modelName: string
  readonly params: unknown
  /** This stage's random streams. */
  readonly rng: Rng
  readonly dataset: DatasetInfo
  /** The data the generation's model was fit on (replay draws from it). */
  readonly pretraining: Samples
  readonly samplesPerGeneration: number
  /** The run's sampling temperature: curve points show what the generation would emit. */
  readonly temperature: number
  /** Scores a curve point's samples with the run's metrics. */
  score(samples: Samples, state: S, task: TaskView | undefined): Promise<MetricValues>
  onPoint(point: CurvePoint): void
  /** After each of a training stage's `steps` steps: how far it is, for the run's progress display. */
  onStep(step: number, steps: number): void
}

/** One point of a stage's training curve (a line of gen-NNNNNN.posttrain.ndjson). */
export interface CurvePoint {
  /** Index of the stage in the config's `posttrain` list. */
  stage: number
  kind: string
  /** Steps done (best-of-n: the n of this point). */
  step: number
  /** Mean reward the stage optimises, and the gold reward behind it; null without a reward. */
  reward: number | null
  gold_reward: number | null
  /** KL to the stage's input model, and how it was estimated. */
  kl: number | null
  kl_estimator: KlEstimate['estimator']
  losses: Record<string, number>
  metrics: MetricValues
  /** On a reward stage's first point: what it optimises, in words (the reward's description). */
  reward_description?: string
}

/** The result of a stage: the state it leaves, and for best-of-n how samples are drawn. */
export interface StageResult<S> {
  readonly state: S
  readonly sampler?: Sampler | undefined
}

/** Draws a generation's samples; best-of-n replaces the model's own draw. */
export interface Sampler {
  sample(n: number, rng: Rng): Promise<Samples>
  /** KL(what the last `sample` returned ‖ the model it selects from), by the rank estimator. */
  lastKl(): number | null
  readonly rewards: RewardPair
}
