import { performance } from 'node:perf_hooks'
import { rmSync } from 'node:fs'
import {
  OuroborosError,
  ErrorCode,
  heldoutSize,
  inVocabulary,
  Rng,
  allRows,
  divergedError,
  outputsBreach,
  valuesBreach,
  pickRows,
  allFinite,
  samplesBreach,
  sameWords,
  toOuroborosError,
  type DatasetInstance,
  type DatasetPlugin,
  type FilterConfig,
  type FilterPlugin,
  type FilterResult,
  type FitContext,
  type MetricPlugin,
  type MetricProfile,
  type MetricValues,
  type ModelPlugin,
  type ModelView,
  type RowSource,
  type Samples,
  type TaskView,
} from '@ouroboros/core'
import { goldOf, goldReward, runPosttrain, type Posttrained, type Reward, type TaskData } from '@ouroboros/posttrain'
import { trainingProgressSender } from './training-progress.js'
import {
  chainDir,
  checkpointGenerations,
  posttrainCurvePath,
  readSamples,
  readState,
  samplesPath,
  statePath,
  trainingCurvePath,
  writeFileAtomic,
  writeSamples,
  writeState,
  recordBatch,
  type MetricRecord,
  type RecordBatch,
  type TrainingStepRecord,
} from '@ouroboros/store'
import { loadDataset, loadFilter, loadMetric, loadModel, loadPolicy, pluginName, thrownAt } from './plugins.js'
import { checkPlan, planRows, type TrainingPlan } from './policies/index.js'
import { keptGenerations, savesSamples, type ChainSpec, type MetricSpec, type Timings } from './spec.js'
import { buildTraining, remember, trainingRows, type PlanSources } from './training.js'

/** Fit and sample generations `from`, `from+1`, ... of one chain until `budgetMs` has passed. */
export interface AdvanceTask {
  kind: 'advance'
  runDir: string
  chain: ChainSpec
  from: number
  budgetMs: number
  /** Also score fresh real data against the real data (the generation -1 reference record). */
  reference: boolean
  /**
   * Score every generation here, however long it took, so that the result holds records only:
   * a task run on another machine returns no samples or model state by value.
   */
  scoreInline?: boolean
  /**
   * Set to non-zero (Atomics) by the run when it stops: the segment ends after the generation in
   * flight instead of running out its budget. On a SharedArrayBuffer, so every thread sees it.
   */
  stop?: Int32Array
  /** The run's channel for training progress (training-progress.ts); a local run's only. */
  progressChannel?: string
}

export interface GenerationResult {
  generation: number
  /** The model's samples, as scored (before any filter). */
  samples: Samples
  /** With a filter: the share of drawn samples it kept (`filter_kept`) and what else it measured. */
  filter?: MetricValues
  /** With post-training stages: the metric group `posttrain` (reward, gold_reward, kl). */
  posttrain?: MetricValues
  state: unknown
  /** The training set, for metrics that read it: in memory, or the plan of a streamed one. */
  training?: Samples | { plan: TrainingPlan }
  timings: Omit<Timings, 'evalMs'>
  /** Seed attempts used (> 0 when a diverged fit was retried). */
  retries: number
}

/**
 * A segment's records, for the generations that were quick enough to score right here (shipping
 * samples to another thread would cost more than scoring them), and the generation that filled
 * the budget on its own, if any, to be scored by an evaluate task that overlaps fitting the next
 * segment.
 */
export interface AdvanceResult {
  generations: GenerationResult[]
  scored?: RecordBatch
  /** The generation the next segment starts at. */
  next: number
  /** Set when generation `next` failed after the generations above succeeded. */
  failure?: FailureInfo
}

/** A failure as it crosses threads: errors thrown across threads lose their fields. */
export interface FailureInfo {
  message: string
  code: string
  hint?: string
  generation?: number
}

export function describeFailure(err: unknown): FailureInfo {
  const e = toOuroborosError(err)
  // An error none of ours (a plug-in's bug, or the simulator's) says where it was thrown: its
  // stack stays in this thread, and the message is all the author of the plug-in gets.
  const at = e.code === ErrorCode.INTERNAL ? thrownAt(err) : undefined
  return {
    message: at === undefined ? e.message : `${e.message} (at ${at})`,
    code: e.code,
    ...(e.hint === undefined ? {} : { hint: e.hint }),
    ...(err instanceof ChainError ? { generation: err.generation } : {}),
  }
}

export interface EvaluateTask {
  kind: 'evaluate'
  runDir: string
  chain: ChainSpec
  items: GenerationResult[]
  /** Also score fresh real data against the real data (the generation -1 reference record). */
  reference: boolean
}

/** Raised inside a chain: carries the generation it failed at. */
export class ChainError extends OuroborosError {
  readonly generation: number
  constructor(cause: unknown, generation: number) {
    const err = toOuroborosError(cause)
    super(err.code, err.message, { cause, ...(err.hint === undefined ? {} : { hint: err.hint }) })
    this.generation = generation
  }
}

/** What a worker keeps per chain between tasks: derived purely from the chain's seed. */
export interface ChainContext {
  dataset: DatasetInstance
  real: Samples
  heldout: Samples | undefined
  prepared: Map<string, Promise<unknown>>
  /** The last generation this thread produced, so the next segment need not read it back. */
  last: { generation: number; samples: Samples; state: unknown } | undefined
  /** Finetuning tasks and gold rewards of the post-training stages, by stage index. */
  tasks: Map<number, Promise<TaskData>>
  golds: Map<number, Promise<Reward>>
}

const contexts = new Map<string, ChainContext>()
const MAX_CONTEXTS = 32

export async function chainContext(runDir: string, chain: ChainSpec): Promise<ChainContext> {
  const key = `${runDir}\u0000${chain.id}`
  const hit = contexts.get(key)
  if (hit !== undefined) {
    contexts.delete(key)
    contexts.set(key, hit)
    return hit
  }
  const { plugin, dataset, real } = await chainRealData(chain)
  const heldoutRng = Rng.from(chain.seed, 'heldout')
  // A resolved config gives `heldout`; a chain built otherwise (a test's) gets the default.
  const heldoutN = chain.config.heldout ?? heldoutSize(undefined, plugin.limits?.(chain.datasetParams).heldout)
  const heldout = heldoutN === 0 ? undefined : dataset.heldout !== undefined ? dataset.heldout(heldoutN, heldoutRng) : dataset.sample(heldoutN, heldoutRng)
  const ctx: ChainContext = { dataset, real, heldout, prepared: new Map(), last: undefined, tasks: new Map(), golds: new Map() }
  contexts.set(key, ctx)
  if (contexts.size > MAX_CONTEXTS) contexts.delete(contexts.keys().next().value!)
  return ctx
}

/** A chain's dataset and its real data, generation 0's training set, as every task of the chain draws them, and the checks before a run. */
export async function chainRealData(chain: ChainSpec): Promise<{ plugin: DatasetPlugin<unknown>; dataset: DatasetInstance; real: Samples }> {
  const plugin = await loadDataset(chain.datasetModule, chain.datasetKind)
  const dataset = checkedDataset(await plugin.create(chain.datasetParams, Rng.from(chain.seed, 'dataset')), plugin.id, chain.config.data.module)
  return { plugin, dataset, real: dataset.sample(chain.n, Rng.from(chain.seed, 'real')) }
}

export async function advance(task: AdvanceTask): Promise<AdvanceResult> {
  const { runDir, chain, from } = task
  const ctx = await chainContext(runDir, chain)
  const model = await loadModel(chain.modelModule)
  const { config } = chain
  const policy = await loadPolicy(config.policy)
  const filter = config.filter === null ? undefined : await loadFilter(config.filter)
  const G = config.generations
  const modality = ctx.real.modality
  const wantsTraining = await usesTraining(chain)
  const stepGroups = await trainingStepGroups(chain)

  if (from === 0 && savesSamples(chain)) writeSamples(samplesPath(runDir, chain.id, 'real', modality), ctx.real)
  const keep = keptGenerations(chain)
  let prevState: unknown =
    from === 0 || !config.warmStart ? undefined : ctx.last?.generation === from - 1 ? ctx.last.state : readState(statePath(runDir, chain.id, from - 1))

  const started = performance.now()
  // The segment's scored records, its last finished generation, and one left for an evaluate task.
  const scored: MetricRecord[] = []
  const metricErrors: MetricError[] = []
  let lastGood: GenerationResult | undefined
  let unscored: GenerationResult | undefined
  let reference = task.reference
  const finish = async (): Promise<AdvanceResult> => {
    const next = lastGood!.generation + 1
    const batch = scored.length === 0 ? undefined : await withResolvedOptions(batchOf(scored, metricErrors, chain), chain, ctx, task.reference)
    return { generations: unscored === undefined ? [] : [unscored], ...(batch === undefined ? {} : { scored: batch }), next }
  }
  for (let g = from; g < G; g++) {
    let rows: RowSource | undefined
    try {
      const plan: TrainingPlan =
        g === 0
          ? { parts: [{ from: 'real' }] }
          : checkPlan(
              policy,
              config.policy,
              policy.trainingSet(config.policy, {
                generation: g,
                samplesPerGeneration: chain.samplesPerGeneration,
                realN: ctx.real.n,
                rng: Rng.from(chain.seed, 'policy', g),
              }),
              g,
              { n: ctx.real.n, samplesPerGeneration: chain.samplesPerGeneration, generations: G },
            )
      const sources: PlanSources = {
        ...planSources(runDir, chain, ctx, g),
        inMemory: (j) => (ctx.last?.generation === j ? ctx.last.samples : undefined),
      }
      // Streamed plans name only the real data and generations on disk (policies that keep them all).
      const streamed =
        model.fitRows !== undefined &&
        modality === 'vectors' &&
        policy.needsAllGenerations &&
        planRows(plan, { realN: ctx.real.n, samplesPerGeneration: chain.samplesPerGeneration }) * (ctx.dataset.info.d ?? 1) * 8 > chain.streamAboveBytes
      const training = g === 0 ? ctx.real : streamed ? undefined : buildTraining(plan, sources)
      if (streamed) rows = trainingRows(plan, sources)
      let attempt = 0
      for (;;) {
        try {
          const t0 = performance.now()
          const curve: TrainingStepRecord[] = []
          const sender = trainingProgressSender(task.progressChannel, chain.id, g)
          // `step` reads no `this`: it is passed on as it is.
          const progress = sender?.step
          const fitCtx: FitContext<unknown> = {
            rng: Rng.from(chain.seed, 'fit', g, attempt),
            generation: g,
            dataset: ctx.dataset.info,
            real: ctx.real,
            dir: chainDir(runDir, chain.id),
            ...(config.warmStart && prevState !== undefined ? { init: prevState } : {}),
            ...(progress === undefined ? {} : { onStep: (step: number, steps: number) => progress('fit', step, steps) }),
            onTrainingStep: async (step, report) => {
              const profiles: Record<string, MetricProfile> = {}
              const metrics = report.samples === undefined ? {} : await scoreAll(chain, ctx, g, report.samples, { only: stepGroups, profiles, errors: [] })
              curve.push({ step, losses: report.losses ?? {}, metrics, ...(Object.keys(profiles).length > 0 ? { profiles } : {}) })
            },
          }
          const fitted = checkFitted(chain, rows !== undefined ? await model.fitRows!(rows, chain.modelParams, fitCtx) : await model.fit(training!, chain.modelParams, fitCtx))
          if (curve.length > 0) writeFileAtomic(trainingCurvePath(runDir, chain.id, g), curve.map((l) => JSON.stringify(l) + '\n').join(''))
          const post =
            config.posttrain.length === 0
              ? undefined
              : await posttrain(runDir, chain, ctx, model, g, attempt, fitted, training ?? (rows === undefined ? ctx.real : replayPool(rows, chain.samplesPerGeneration, Rng.from(chain.seed, 'replay', g))), progress)
          const state = post?.state ?? fitted
          sender?.trained()
          const t1 = performance.now()
          // Batch 0 is the generation's sample; a filter may ask for further batches.
          const draw = async (n: number, batch: number): Promise<Samples> => {
            const rng = batch === 0 ? Rng.from(chain.seed, 'sample', g, attempt) : Rng.from(chain.seed, 'sample', g, attempt, 'filter', batch)
            const drawn = post !== undefined ? await post.sample(n, rng) : await model.sample(state, n, { rng, temperature: config.sampling.temperature, dataset: ctx.dataset.info })
            checkModelSamples(chain, drawn, n, ctx.real)
            // Text has no non-finite values: its ids were checked against the vocabulary above.
            if (drawn.modality === 'vectors' && !allFinite(drawn.data)) throw divergedError(`${modelName(chain)}: generation ${g}'s samples hold non-finite values (NaN or ±Infinity): its fit diverged, or its sample() made them`)
            return drawn
          }
          const samples = await draw(chain.samplesPerGeneration, 0)
          const posttrainValues = post === undefined ? undefined : await post.summarize(samples)
          // What later generations train on: the samples, or those of them (and of further draws) that pass the filter.
          const filtered =
            filter === undefined || config.filter === null
              ? undefined
              : await filter.apply(config.filter, {
                  n: chain.samplesPerGeneration,
                  first: samples,
                  draw,
                  ...(model.logLikelihood === undefined ? {} : { logLikelihood: async (s: Samples) => checkedLogLikelihood(chain, await model.logLikelihood!(state, s), s) }),
                  dataset: ctx.dataset.info,
                  rng: Rng.from(chain.seed, 'filter', g, attempt),
                })
          // Checked whatever apply returned: a forgotten return (undefined) would train on the unfiltered samples.
          if (filter !== undefined) checkFilterResult(filter, config.filter!, filtered, chain.samplesPerGeneration, ctx.real)
          const kept = filtered?.kept ?? samples
          const t2 = performance.now()
          const item: GenerationResult = {
            generation: g,
            samples,
            ...(filtered === undefined ? {} : { filter: { filter_kept: chain.samplesPerGeneration / filtered.draws, ...filtered.values } }),
            ...(posttrainValues === undefined ? {} : { posttrain: posttrainValues }),
            state,
            ...(wantsTraining ? { training: training ?? { plan } } : {}),
            timings: { fitMs: t1 - t0, sampleMs: t2 - t1 },
            retries: attempt,
          }
          // A generation that filled the budget on its own is scored in a task of its own, which
          // overlaps fitting the next; quicker ones are scored here, inside the budget, so that a
          // segment (and a stop) never waits long for scoring.
          const alone = task.scoreInline !== true && lastGood === undefined && t2 - started >= task.budgetMs
          if (alone) {
            unscored = item
          } else {
            scored.push(...(await scoreItems(runDir, chain, ctx, model, [item], reference, metricErrors)))
            reference = false
          }
          const last = alone || g === G - 1 || performance.now() - started >= task.budgetMs || stopRequested(task)
          if (policy.needsAllGenerations || last || keep.has(g)) {
            const path = samplesPath(runDir, chain.id, g, modality)
            writeSamples(path, kept)
            if (policy.needsAllGenerations) remember(runDir, chain.id, g, kept)
          }
          if (last) writeModelState(chain, statePath(runDir, chain.id, g), state)
          ctx.last = { generation: g, samples: kept, state }
          prevState = state
          lastGood = item
          rows?.close?.()
          if (last) return finish()
          break
        } catch (err) {
          if (toOuroborosError(err).code === ErrorCode.DIVERGED && attempt < config.retries) {
            attempt++
            continue
          }
          throw err
        }
      }
    } catch (err) {
      rows?.close?.()
      const failure = err instanceof ChainError ? err : new ChainError(err, g)
      if (lastGood === undefined) throw failure
      // Keep what this segment finished: checkpoint it (it is scored already), then report the failure.
      writeSamples(samplesPath(runDir, chain.id, lastGood.generation, modality), ctx.last!.samples)
      writeModelState(chain, statePath(runDir, chain.id, lastGood.generation), lastGood.state)
      return { ...(await finish()), failure: describeFailure(failure) }
    }
  }
  return finish()
}

/**
 * Fails the chain when a model's samples are not what sample(state, n) must give for the chain's
 * data (samplesBreach): the next generation would train on them, and metric groups would score them.
 */
export function checkModelSamples(chain: ChainSpec, drawn: Samples, n: number, real: Samples): void {
  const breach = samplesBreach(drawn, n, real)
  if (breach !== undefined) throw modelSamplesError(chain, `sample(state, ${n})`, breach)
}

/**
 * A dataset's instance whose draws are checked against its contract: n items of its info's modality,
 * dimension and vocabulary. Models train on these and metric groups read the info beside them, so
 * a dataset that misdescribes its data would have them computed on the wrong shape unsaid.
 */
export function checkedDataset(instance: DatasetInstance, id: string, module: string | undefined): DatasetInstance {
  const { info } = instance
  const name = `dataset '${id}'${module === undefined ? '' : ` (${module})`}`
  const check = (s: Samples, n: number, call: string): Samples => {
    const got = s as unknown as { d?: number; vocabSize?: number } | undefined
    const like = (info.modality === 'vectors' ? { modality: 'vectors', d: info.d ?? got?.d } : { modality: 'tokens', vocabSize: info.vocabulary?.length ?? got?.vocabSize }) as Samples
    const breach = samplesBreach(s, n, like) ?? notFinite(s)
    if (breach !== undefined) {
      throw new OuroborosError(ErrorCode.PLUGIN, `${name}: ${call}(${n}) returned ${breach}`, {
        hint: "a dataset's sample(n, rng) and heldout(n, rng) return n items as its info describes them: vectors of dimension info.d, or sentences over info.vocabulary (docs/extending.md)",
      })
    }
    return s
  }
  return {
    info,
    sample: (n, rng) => check(instance.sample(n, rng), n, 'sample'),
    ...(instance.heldout === undefined ? {} : { heldout: (n: number, rng: Rng) => check(instance.heldout!(n, rng), n, 'heldout') }),
  }
}

/** Where vectors hold a value that is not finite: a model fit on it fails, and says its training data are at fault. */
function notFinite(s: Samples): string | undefined {
  if (s.modality !== 'vectors') return undefined
  const i = s.data.findIndex((x) => !Number.isFinite(x))
  return i < 0 ? undefined : `${s.data[i]} at row ${Math.floor(i / s.d)}${s.d === 1 ? '' : `, coordinate ${i % s.d}`}`
}

/** The model as the config names it: `model 'kind'`, with its module where it has one. */
function modelName(chain: ChainSpec): string {
  const { kind, module } = chain.config.model
  return `model '${kind}'${typeof module === 'string' ? ` (${module})` : ''}`
}

/** A filter's log-likelihoods of the samples it ranks: one per item, or the model breaks its contract (a filter would rank the wrong items). */
function checkedLogLikelihood(chain: ChainSpec, ll: Float64Array, s: Samples): Float64Array {
  if (ll?.length !== s.n) throw new OuroborosError(ErrorCode.MODEL, `${modelName(chain)}: logLikelihood(state, samples) returned ${ll?.length ?? String(ll)} values for ${s.n} samples`, { hint: "a model's logLikelihood(state, samples) returns one log-likelihood per item (docs/extending.md)" })
  return ll
}

/**
 * Fails the chain when a filter's result breaks its contract: exactly n kept samples shaped as the
 * data, the number drawn (at least n), and the values its outputInfo declares; later generations
 * would train on the wrong number of samples, and records would hold undeclared values.
 */
function checkFilterResult(filter: FilterPlugin<any>, config: FilterConfig, result: FilterResult | undefined, n: number, real: Samples): void {
  const breach = (what: string): OuroborosError =>
    new OuroborosError(ErrorCode.PLUGIN, `${pluginName('filter', filter.id, config.module)}: apply returned ${what}`, { hint: "a filter's apply returns { kept, draws, values }: exactly samplesPerGeneration kept samples shaped as the data, the number of samples drawn to find them, and the values its outputInfo declares (docs/extending.md)" })
  if (typeof result !== 'object' || result === null) throw breach(String(result))
  const kept = samplesBreach(result.kept, n, real)
  if (kept !== undefined) throw breach(`kept samples of ${kept}`)
  if (!(Number.isInteger(result.draws) && result.draws >= n)) throw breach(`draws ${JSON.stringify(result.draws)}; expected the number of samples drawn, at least the ${n} kept`)
  const declared = Object.keys(filter.outputInfo ?? {})
  const values = outputsBreach(declared, result.values ?? {}) ?? valuesBreach(declared, result.values ?? {})
  if (values !== undefined) throw breach(`values with ${values}`)
}

/** A fitted state, or a model error where fit gave none: sample(undefined, n) would fail with a message about a property of undefined. */
export function checkFitted<S>(chain: ChainSpec, state: S): S {
  if (state === undefined || state === null) {
    throw new OuroborosError(ErrorCode.MODEL, `${modelName(chain)}: fit returned ${String(state)}`, { hint: "a model's fit(data, params, ctx) returns its fitted state, which sample(state, n, ctx) draws from (docs/extending.md)" })
  }
  return state
}

/**
 * A model's state written as the chain's checkpoint. V8 cannot serialise a function, a tensor or
 * a class's methods, and says only "() => 1 could not be cloned": the model is named, with the rule.
 */
export function writeModelState(chain: ChainSpec, path: string, state: unknown): void {
  try {
    writeState(path, state)
  } catch (err) {
    if (!(err instanceof Error) || !err.message.endsWith('could not be cloned.')) throw err
    throw new OuroborosError(ErrorCode.MODEL, `${modelName(chain)}: its state cannot be saved (${err.message.slice(0, -1)})`, {
      hint: "a model's state is plain data and typed arrays, with no functions, tensors or class instances: it is checkpointed and crosses worker threads (docs/extending.md)",
    })
  }
}

/** A model's samples that break the contract, naming the model as the config does. */
export function modelSamplesError(chain: ChainSpec, call: string, breach: string): OuroborosError {
  return new OuroborosError(ErrorCode.MODEL, `${modelName(chain)}: ${call} returned ${breach}`, {
    hint: "a model's sample(state, n, ctx) returns n items shaped as its training data: vectors of the data's dimension, or sentences over the data's vocabulary (docs/extending.md)",
  })
}

export function stopRequested(task: { stop?: Int32Array }): boolean {
  return task.stop !== undefined && Atomics.load(task.stop, 0) !== 0
}

/**
 * Runs the config's post-training stages on a generation's fitted state and writes their curves.
 * Every stream is keyed by (seed, 'posttrain', generation, attempt), so a resume repeats them.
 */
async function posttrain(
  runDir: string,
  chain: ChainSpec,
  ctx: ChainContext,
  model: ModelPlugin<any, any>,
  g: number,
  attempt: number,
  fitted: unknown,
  pretraining: Samples,
  progress: ((what: string, step: number, steps: number) => void) | undefined,
): Promise<Posttrained<unknown>> {
  const curveGroups = await curveMetricGroups(chain)
  const post = await runPosttrain(
    {
      stages: chain.config.posttrain,
      model,
      modelName: modelName(chain),
      params: chain.modelParams,
      rng: Rng.from(chain.seed, 'posttrain', g, attempt),
      dataset: ctx.dataset.info,
      pretraining,
      samplesPerGeneration: chain.samplesPerGeneration,
      temperature: chain.config.sampling.temperature,
      task: (index) => taskData(chain, ctx, index),
      gold: (index) => goldRewardOf(chain, ctx, index),
      score: (samples, state, task) => scoreAll(chain, ctx, g, samples, { model: modelView(model, state), only: curveGroups, ...(task === undefined ? {} : { task }), errors: [] }),
      ...(progress === undefined ? {} : { onStep: (stage: { kind: string; phase?: string }, step: number, steps: number) => progress(stage.phase === undefined ? stage.kind : `${stage.kind}: ${stage.phase}`, step, steps) }),
    },
    fitted,
  )
  writeFileAtomic(posttrainCurvePath(runDir, chain.id, g), post.curve.map((p) => JSON.stringify(p) + '\n').join(''))
  return post
}

/**
 * The run's groups scored every few training steps: those cheap enough (their plug-in says so) that
 * need nothing a step lacks: no model, training set or task, only the samples and the real data.
 */
async function trainingStepGroups(chain: ChainSpec): Promise<ReadonlySet<string>> {
  const groups = new Set<string>()
  for (const m of chain.metrics) {
    const plugin = await loadMetric(m.module, m.id)
    const needs = plugin.needs ?? []
    if ((plugin.cost ?? 'cheap') === 'cheap' && plugin.usesTraining !== true && needs.every((need) => need === 'heldout' || need.startsWith('dataset.') || need.startsWith('facet.'))) groups.add(m.id)
  }
  return groups
}

/** Curves score the run's groups that need nothing but samples, the model and the task. */
async function curveMetricGroups(chain: ChainSpec): Promise<ReadonlySet<string>> {
  const groups = new Set<string>()
  for (const m of chain.metrics) if (!(await loadMetric(m.module, m.id)).usesTraining) groups.add(m.id)
  return groups
}

export function modelView(model: ModelPlugin<any, any>, state: unknown): ModelView {
  return {
    ...(model.logLikelihood === undefined ? {} : { logLikelihood: async (data: Samples) => model.logLikelihood!(state, data) }),
    ...(model.summary === undefined ? {} : { summary: model.summary(state) }),
  }
}

/** A pick of a streamed training set's rows: what replay draws from when the whole set is not held. */
function replayPool(rows: RowSource, size: number, rng: Rng): Samples {
  const n = Math.min(rows.n, Math.max(size, 1))
  const pick = rng.permutation(rows.n).subarray(0, n)
  return allRows(pickRows(rows, pick))
}

/** The task data of finetuning stage `index`: drawn once per chain, from the stage's own data spec. */
function taskData(chain: ChainSpec, ctx: ChainContext, index: number): Promise<TaskData> {
  let task = ctx.tasks.get(index)
  if (task === undefined) {
    task = (async () => {
      const spec = chain.tasks.find((t) => t.stage === index)
      if (spec === undefined) throw new OuroborosError(ErrorCode.INTERNAL, `posttrain.${index}: no task data was resolved for this stage`)
      const plugin = await loadDataset(spec.datasetModule, spec.datasetKind)
      const dataset = checkedDataset(await plugin.create(spec.datasetParams, Rng.from(chain.seed, 'task-dataset', index)), plugin.id, undefined)
      const train = dataset.sample(spec.n, Rng.from(chain.seed, 'task', index))
      const heldoutRng = Rng.from(chain.seed, 'task-heldout', index)
      const heldout = dataset.heldout !== undefined ? dataset.heldout(spec.heldout, heldoutRng) : dataset.sample(spec.heldout, heldoutRng)
      const from = dataset.info.vocabulary
      const to = ctx.dataset.info.vocabulary
      if (from === undefined || to === undefined || sameWords(from, to)) return { train, view: { dataset: dataset.info, heldout } }
      // Text of other words (another file, Brown for a run on one's own text) is read in the run's
      // words, which the model knows, with its genres, so that the task verifier reads the samples.
      const words = (x: Samples): Samples => (x.modality === 'tokens' ? inVocabulary(x, from, to) : x)
      const genres = dataset.info.genres
      const info = { ...dataset.info, vocabulary: to, ...(genres === undefined ? {} : { genres: { ...genres, sentences: inVocabulary(genres.sentences, from, to) } }) }
      return { train: words(train), view: { dataset: info, heldout: words(heldout) } }
    })()
    ctx.tasks.set(index, task)
  }
  return task
}

function goldRewardOf(chain: ChainSpec, ctx: ChainContext, index: number): Promise<Reward> {
  let gold = ctx.golds.get(index)
  if (gold === undefined) {
    const stage = chain.config.posttrain[index]
    if (stage === undefined || stage.kind === 'finetune') throw new OuroborosError(ErrorCode.INTERNAL, `posttrain.${index} has no reward`)
    gold = goldReward(goldOf(stage.reward), ctx.dataset.info, `posttrain.${index}.reward`)
    ctx.golds.set(index, gold)
  }
  return gold
}

/** The task the generations' records are scored against: the last finetuning stage's. */
async function recordTask(chain: ChainSpec, ctx: ChainContext): Promise<TaskView | undefined> {
  const last = chain.tasks[chain.tasks.length - 1]
  return last === undefined ? undefined : (await taskData(chain, ctx, last.stage)).view
}

function planSources(runDir: string, chain: ChainSpec, ctx: ChainContext, generation: number): PlanSources {
  return { runDir, chainId: chain.id, seed: chain.seed, generation, real: ctx.real, dataset: ctx.dataset }
}

export async function usesTraining(chain: ChainSpec): Promise<boolean> {
  for (const m of chain.metrics) if ((await loadMetric(m.module, m.id)).usesTraining) return true
  return false
}

export async function evaluate(task: EvaluateTask): Promise<RecordBatch> {
  const ctx = await chainContext(task.runDir, task.chain)
  const model = await loadModel(task.chain.modelModule)
  const errors: MetricError[] = []
  const records = await scoreItems(task.runDir, task.chain, ctx, model, task.items, task.reference, errors)
  return withResolvedOptions(batchOf(records, errors, task.chain), task.chain, ctx, task.reference)
}

/** The records of finished generations (and, with `reference`, the generation -1 record first). */
async function scoreItems(
  runDir: string,
  chain: ChainSpec,
  ctx: ChainContext,
  model: ModelPlugin<any, any>,
  items: readonly GenerationResult[],
  reference: boolean,
  errors: MetricError[],
): Promise<MetricRecord[]> {
  const records: MetricRecord[] = []
  const base = { chain: chain.id, cell: chain.cell, replicate: chain.replicate, seed: chain.seed, params: chain.params }
  if (reference) {
    const t0 = performance.now()
    const generated = ctx.dataset.sample(chain.referenceN ?? chain.samplesPerGeneration, Rng.from(chain.seed, 'reference'))
    let metrics: MetricValues
    try {
      metrics = await scoreAll(chain, ctx, -1, generated, { training: ctx.real, errors })
    } catch (err) {
      // A group that fails the chain on the real data (metricErrors 'fail') fails it at their record.
      throw new ChainError(err, -1)
    }
    records.push({ ...base, generation: -1, metrics, timings: { fitMs: 0, sampleMs: 0, evalMs: performance.now() - t0 } })
  }
  for (const item of items) {
    try {
      const t0 = performance.now()
      const view = modelView(model, item.state)
      const task = await recordTask(chain, ctx)
      const training = item.training === undefined || 'modality' in item.training ? item.training : trainingRows(item.training.plan, planSources(runDir, chain, ctx, item.generation))
      let metrics: MetricValues
      try {
        metrics = await scoreAll(chain, ctx, item.generation, item.samples, { model: view, ...(training === undefined ? {} : { training }), ...(task === undefined ? {} : { task }), errors })
      } finally {
        if (training !== undefined && !('modality' in training)) training.close?.()
      }
      if (item.filter !== undefined) metrics = { ...metrics, ...item.filter }
      if (item.posttrain !== undefined) metrics = { ...metrics, ...item.posttrain }
      records.push({ ...base, generation: item.generation, metrics, timings: { ...item.timings, evalMs: performance.now() - t0 } })
    } catch (err) {
      throw new ChainError(err, item.generation)
    }
  }
  return records
}

function batchOf(records: MetricRecord[], errors: MetricError[], chain: ChainSpec): RecordBatch {
  const batch = recordBatch(records, { text: chain.config.records.text })
  return errors.length === 0 ? batch : { ...batch, metricErrors: errors }
}

/** A chain's first batch carries the metric options its real data decided (see resolvedOptions). */
async function withResolvedOptions(batch: RecordBatch, chain: ChainSpec, ctx: ChainContext, first: boolean): Promise<RecordBatch> {
  return first ? { ...batch, resolvedOptions: await resolvedOptions(chain, ctx) } : batch
}

/**
 * Options a config left null for the data to decide (a median bandwidth, a cluster count), with
 * the values prepare() chose from this chain's real data: prepared fields of the same name.
 */
export async function resolvedOptions(chain: ChainSpec, ctx: ChainContext): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {}
  for (const spec of chain.metrics) {
    // A prepare() that threw has its values recorded as null (scoreAll), and chose nothing.
    const prepared = (await ctx.prepared.get(spec.id)?.catch(() => undefined)) as Record<string, unknown> | undefined
    if (typeof prepared !== 'object' || prepared === null) continue
    for (const [name, value] of Object.entries(spec.options)) {
      const chosen = prepared[name]
      if (value === null && typeof chosen === 'number' && Number.isFinite(chosen)) (out[spec.id] ??= {})[name] = chosen
    }
  }
  return out
}

/** A metric group that threw while scoring one generation (its values are recorded as null). */
export interface MetricError {
  group: string
  generation: number
  message: string
}

export interface ScoreOptions {
  model?: ModelView
  training?: Samples | RowSource
  /** The finetuning task, for task metrics. */
  task?: TaskView
  /** Only these groups (training curves score the cheap ones). */
  only?: ReadonlySet<string>
  /** When given, filled with the profiles of the groups that have them. */
  profiles?: Record<string, MetricProfile>
  /** Where a group's failure goes when the config records it as null instead of failing the chain. */
  errors?: MetricError[]
}

/** What a metric group's prepare() made of the chain's real data: once per chain and thread. */
export function preparedFor(chain: ChainSpec, ctx: ChainContext, spec: MetricSpec, plugin: MetricPlugin<any, any>): Promise<unknown> {
  let prepared = ctx.prepared.get(spec.id)
  if (prepared === undefined) {
    prepared = Promise.resolve().then(() => plugin.prepare?.({ real: ctx.real, dataset: ctx.dataset.info, options: spec.options, rng: Rng.from(chain.seed, 'prepare', spec.id) }))
    ctx.prepared.set(spec.id, prepared)
  }
  return prepared
}

export async function scoreAll(chain: ChainSpec, ctx: ChainContext, generation: number, generated: Samples, opts: ScoreOptions = {}): Promise<MetricValues> {
  const values: MetricValues = {}
  for (const spec of chain.metrics) {
    if (opts.only !== undefined && !opts.only.has(spec.id)) continue
    const plugin = await loadMetric(spec.module, spec.id)
    try {
      const args = {
        real: ctx.real,
        generated,
        options: spec.options,
        dataset: ctx.dataset.info,
        ...(ctx.heldout === undefined ? {} : { heldout: ctx.heldout }),
        ...(opts.training === undefined ? {} : { training: opts.training }),
        ...(opts.model === undefined ? {} : { model: opts.model }),
        ...(opts.task === undefined ? {} : { task: opts.task }),
        prepared: await preparedFor(chain, ctx, spec, plugin),
        rng: Rng.from(chain.seed, 'metric', spec.id, generation),
      }
      const result = await plugin.compute(args)
      const breach = outputsBreach(plugin.outputs, result) ?? valuesBreach(plugin.outputs, result)
      if (breach !== undefined) throw new OuroborosError(ErrorCode.PLUGIN, `compute returned ${breach}`)
      if (opts.profiles !== undefined && plugin.profile !== undefined) opts.profiles[spec.id] = await plugin.profile(args)
      for (const name of plugin.outputs) {
        const v = result[name]
        values[name] = v === undefined || v === null || !Number.isFinite(v) ? null : v
      }
    } catch (err) {
      const e = toOuroborosError(err)
      // Not the metric's fault: the run stops (disk full) or the chain fails as it would anyway.
      if (chain.config.metricErrors === 'fail' || e.code === ErrorCode.IO || opts.errors === undefined) {
        throw new OuroborosError(e.code, `metric group '${spec.id}': ${e.message}`, { cause: err, ...(e.hint === undefined ? {} : { hint: e.hint }) })
      }
      opts.errors.push({ group: spec.id, generation, message: e.message })
      for (const name of plugin.outputs) values[name] = null
    }
  }
  return values
}

/**
 * Where a chain continues after an interruption: the generation after the latest checkpoint
 * (state and samples on disk) whose generations all have records; 0 when there is none. The
 * states older than that checkpoint go: no resume needs them again (a stop can leave several,
 * where it came before the newest one's records).
 */
export function resumePoint(runDir: string, chain: ChainSpec, modality: Samples['modality'], recorded: Pick<ReadonlySet<number>, 'has'>): number {
  const checkpoints = checkpointGenerations(runDir, chain.id, modality)
  for (const [i, g] of checkpoints.entries()) {
    if (g >= chain.config.generations) continue
    let complete = true
    for (let j = 0; j <= g && complete; j++) complete = recorded.has(j)
    if (!complete) continue
    for (const older of checkpoints.slice(i + 1)) rmSync(statePath(runDir, chain.id, older), { force: true })
    return g + 1
  }
  return 0
}
