import { asVectors, type DatasetInfo, type MetricValues, type ModelPlugin, type OutputInfo, type OutputInfoTable, type PosttrainStageConfig, type Rng, type Samples, type TaskView } from '@ouroboros/core'
import { estimateKl, hasSampleLikelihood, monteCarloKl, nearestNeighbourKl, type KlEstimate } from './kl.js'
import { mean, stageRewards, type Reward, type RewardPair } from './rewards/index.js'
import type { CurvePoint, Sampler, StageContext, TaskData } from './stage.js'
import { bestOfN } from './stages/best-of-n.js'
import { dpo, dpoRewards } from './stages/dpo.js'
import { finetune } from './stages/finetune.js'
import { rl } from './stages/rl.js'

export interface PosttrainInputs<S> {
  readonly stages: readonly PosttrainStageConfig[]
  readonly model: ModelPlugin<any, S>
  /**
   * How messages about the model's hooks name it, as the config does: "model 'mymodel'
   * (./my-model.js)"; "model '<its id>'" when absent.
   */
  readonly modelName?: string
  readonly params: unknown
  /** The generation's streams: every stage derives its own from it. */
  readonly rng: Rng
  readonly dataset: DatasetInfo
  /** The data the generation's model was fit on. */
  readonly pretraining: Samples
  readonly samplesPerGeneration: number
  readonly temperature: number
  /** The task data of finetuning stage `index`. */
  task(index: number): Promise<TaskData>
  /** The gold reward of rl / best-of-n stage `index` (built once per chain). */
  gold(index: number): Promise<Reward>
  score(samples: Samples, state: S, task: TaskView | undefined): Promise<MetricValues>
  /**
   * After each step of a training stage (finetune, rl): which stage, and how far it is. Before a
   * stage's steps, work that has none of its own (fitting a proxy reward model: minutes for
   * thousands of labels) is said once by its `phase`, with step and steps 0.
   */
  onStep?(stage: { index: number; kind: string; phase?: string }, step: number, steps: number): void
}

export interface Posttrained<S> {
  /** The state the generation's samples come from (and the next generation may warm-start from). */
  readonly state: S
  /** Every stage's training curve. */
  readonly curve: CurvePoint[]
  /** Draws the generation's samples: best-of-n's selection when it is the last stage. */
  sample(n: number, rng: Rng): Promise<Samples>
  /**
   * The metric group `posttrain` of the generation's samples (which `sample` just drew): the
   * last reward-bearing stage's `reward` and `gold_reward`, and `kl` to the model as fit.
   */
  summarize(samples: Samples): Promise<MetricValues>
  /** How `summarize` estimated the KL. */
  klEstimator(): string | null
}

/**
 * How a report shows what `summarize` records. Rewards move where post-training pushes them, so
 * no level of them is collapse.
 */
export const POSTTRAIN_OUTPUT_INFO: OutputInfoTable = {
  reward: { title: 'reward (the one optimised)', better: 'higher' },
  gold_reward: { title: 'gold reward', better: 'higher' },
  kl: { title: 'KL to the model as fit', unit: 'nats', better: 'neither' },
}

/**
 * Whether a generation's `reward`, the last reward-bearing stage's, is a proxy (a reward model fit
 * on labels): the stage raises it, and only the gold reward says whether that is better.
 */
export function optimisesProxy(stages: readonly PosttrainStageConfig[]): boolean {
  const last = stages.findLast((stage) => stage.kind !== 'finetune')
  return last !== undefined && last.kind !== 'dpo' && last.reward.kind === 'proxy'
}

/** How a report shows `reward` where it is a proxy. */
export const PROXY_REWARD_INFO: OutputInfo = { title: 'proxy reward (the one optimised)', better: 'raised' }

/** Runs the stages in order on the fitted state. */
export async function runPosttrain<S>(inputs: PosttrainInputs<S>, fitted: S): Promise<Posttrained<S>> {
  const { model } = inputs
  const curve: CurvePoint[] = []
  const draw = async (state: S, n: number, rng: Rng, temperature = inputs.temperature): Promise<Samples> =>
    model.sample(state, n, { rng, temperature, dataset: inputs.dataset })
  let state = fitted
  let sampler: Sampler | undefined
  let rewards: RewardPair | undefined
  for (const [index, stage] of inputs.stages.entries()) {
    // A reward stage's first point says what it optimises, for the report.
    let described = stage.kind === 'finetune'
    const ctx: StageContext<S> = {
      model,
      modelName: inputs.modelName ?? `model '${model.id}'`,
      params: inputs.params,
      rng: inputs.rng.derive('stage', index),
      dataset: inputs.dataset,
      pretraining: inputs.pretraining,
      samplesPerGeneration: inputs.samplesPerGeneration,
      temperature: inputs.temperature,
      score: inputs.score,
      onPoint: (p) => {
        curve.push(described || rewards === undefined ? p : { ...p, reward_description: rewards.description })
        described = true
      },
      onStep: (step, steps) => inputs.onStep?.({ index, kind: stage.kind }, step, steps),
    }
    if (stage.kind === 'finetune') {
      state = (await finetune(stage, index, ctx, state, await inputs.task(index))).state
      continue
    }
    if (stage.kind === 'dpo') {
      rewards = dpoRewards(stage, await inputs.gold(index))
      state = (await dpo(stage, index, ctx, state, rewards)).state
      continue
    }
    if (stage.reward.kind === 'proxy') inputs.onStep?.({ index, kind: stage.kind, phase: `fitting its reward model on ${stage.reward.labels} labels` }, 0, 0)
    rewards = await stageRewards(stage.reward, await inputs.gold(index), model, state, (s, n, rng) => draw(s, n, rng, 1), ctx.rng.derive('reward'))
    const result = stage.kind === 'rl' ? await rl(stage, index, ctx, state, rewards) : await bestOfN(stage, index, ctx, state, rewards)
    state = result.state
    sampler = result.sampler
  }
  let estimator: string | null = null
  return {
    state,
    curve,
    sample: (n, rng) => (sampler !== undefined ? sampler.sample(n, rng) : draw(state, n, rng)),
    async summarize(samples) {
      const kl = await klToFitted(samples)
      estimator = kl.estimator
      return {
        reward: rewards === undefined ? null : await mean(rewards.reward, samples),
        gold_reward: rewards === undefined ? null : await mean(rewards.gold, samples),
        kl: kl.value,
      }
    },
    klEstimator: () => estimator,
  }

  async function klToFitted(samples: Samples): Promise<KlEstimate> {
    const rng = inputs.rng.derive('summary')
    const fittedDraws = (n: number): Promise<Samples> => draw(fitted, n, rng.derive('fitted'), 1)
    if (sampler === undefined) {
      // KL is of the model itself: at another sampling temperature its samples are not its draws.
      const own = inputs.temperature === 1 ? samples : await draw(state, samples.n, rng.derive('own'), 1)
      return estimateKl(model, state, fitted, own, fittedDraws)
    }
    // KL(bon ‖ fit) = KL(bon ‖ π) + E_bon[log π − log fit], π the model best-of-n selects from.
    const selection = sampler.lastKl()
    if (state === fitted) return { value: selection, estimator: 'best-of-n ranks' }
    if (hasSampleLikelihood(model, state) && hasSampleLikelihood(model, fitted)) {
      const rest = await monteCarloKl(model, state, fitted, samples)
      return { value: selection === null || rest === null ? null : selection + rest, estimator: 'best-of-n ranks + monte-carlo' }
    }
    if (samples.modality === 'vectors') return { value: nearestNeighbourKl(asVectors(samples), asVectors(await fittedDraws(samples.n))), estimator: 'nearest-neighbour' }
    return { value: null, estimator: null }
  }
}

