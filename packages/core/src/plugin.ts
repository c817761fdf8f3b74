import type { z } from 'zod'
import { didYouMean } from './issues.js'
import type { Rng } from './rng.js'
import type { RowSource } from './rows.js'
import type { Modality, Samples, TokenSamples } from './samples.js'

/** What a dataset knows about its own ground truth, used by metrics and theory curves. */
export interface DatasetInfo {
  readonly kind: string
  readonly modality: Modality
  /** Dimension of vector data. */
  readonly d?: number
  /** Mode benchmark (ring, grid): centres (K x d, row-major), per-mode std and mode weights. */
  readonly modes?: { readonly centers: Float64Array; readonly k: number; readonly std: number; readonly weights: Float64Array }
  /** Gaussian data: the true mean and standard deviation per dimension. */
  readonly gaussian?: { readonly mean: number; readonly std: number }
  /** Regression data: the true weights w* and label noise sigma. */
  readonly regression?: { readonly weights: Float64Array; readonly sigma: number; readonly T: number }
  /** Token data: the id -> word table. */
  readonly vocabulary?: readonly string[]
  /** Vector data that are images (row-major pixels in [0, 1]): the report shows them as pictures. */
  readonly image?: { readonly width: number; readonly height: number }
  /**
   * Labelled data (MNIST), for classifier-based metrics: every labelled item of the source in a
   * fixed order that does not depend on the seed, so a classifier trained on it can be cached.
   */
  readonly labelled?: { readonly classes: number; readonly d: number; readonly x: Float32Array; readonly labels: Uint8Array }
  /** Labelled data restricted to some classes (MNIST's data.digits): the classes its items have, ascending. */
  readonly digits?: readonly number[]
  /**
   * Text in genres (Brown), for a genre classifier that can be cached: every sentence of the source
   * in this dataset's vocabulary with its genre id, and the sentences of the training split
   * (ascending), the same whatever the data are restricted to. `selected`: the genres the data are
   * restricted to (data.categories), ascending; absent when they are not restricted.
   */
  readonly genres?: {
    readonly names: readonly string[]
    readonly sentences: TokenSamples
    readonly of: Uint8Array
    readonly train: Uint32Array
    readonly selected?: readonly number[]
  }
  /**
   * Facts of datasets outside this package, by facet name (see defineFacet): what a metric group
   * or a reward of the same package reads, without a field here for it. Values that JSON can hold
   * (typed arrays as lists) reach run.json for the report.
   */
  readonly facets?: Readonly<Record<string, unknown>>
}

/** A typed name for a fact in DatasetInfo.facets, shared by a dataset and the metric groups that read it. */
export interface Facet<T> {
  readonly name: string
  /** The need a metric group lists to run only on data that have the facet. */
  readonly need: `facet.${string}`
  /** The facet's value in `info`; undefined when the dataset does not give it. */
  of(info: DatasetInfo): T | undefined
  /** `{ [name]: value }`, for a dataset to spread into its info's `facets`. */
  entry(value: T): Readonly<Record<string, T>>
}

/**
 * A facet the same code writes and reads with one type: `const centres = defineFacet<Float64Array>('centres')`;
 * a dataset gives `facets: { ...centres.entry(c) }`, a metric reads `centres.of(dataset)`.
 */
export function defineFacet<T>(name: string): Facet<T> {
  return {
    name,
    need: `facet.${name}`,
    of: (info) => info.facets?.[name] as T | undefined,
    entry: (value) => ({ [name]: value }),
  }
}

/** A dataset's fixed parts (a design matrix, true weights), set up once per chain. */
export interface DatasetInstance {
  readonly info: DatasetInfo
  /** n fresh real samples. */
  sample(n: number, rng: Rng): Samples
  /**
   * n held-out real samples, never returned by `sample`: datasets drawn from a fixed pool (MNIST)
   * split it, and held-out metrics (nll_real) should use this when it exists.
   */
  heldout?(n: number, rng: Rng): Samples
}

export interface DatasetPlugin<P = unknown> {
  readonly id: string
  readonly modality: Modality
  readonly description: string
  /** Parameters other than `kind` and `n`. */
  readonly params: z.ZodType<P>
  /** Real samples when the config gives no `data.n` (default: the whole pool of `limits`, else 10,000). */
  defaultN?(params: P): number
  /**
   * The most samples one draw can give, for datasets drawn from a finite pool (MNIST): `n` for
   * real data, `heldout` for held-out data. Configs asking for more are refused before a run.
   */
  limits?(params: P): { readonly n: number; readonly heldout?: number }
  /**
   * The parameters a run records, where they must say more than the config did: a data file's
   * SHA-256, so that a resume reads the same data or says that they changed.
   */
  pin?(params: P): P
  create(params: P, rng: Rng): DatasetInstance | Promise<DatasetInstance>
}

export interface TrainingStepReport {
  readonly losses?: Record<string, number>
  readonly samples?: Samples
}

export interface FitContext<S> {
  readonly rng: Rng
  readonly generation: number
  /** State to warm-start from (the previous generation's), when the config asks for it. */
  readonly init?: S
  readonly dataset: DatasetInfo
  /**
   * The chain's real data (generation 0's training set), for models that fix something once per
   * chain from it whatever the generation (the transformer's vocabulary). Absent outside a run.
   */
  readonly real?: Samples
  /**
   * The chain's directory in the run directory, for models that keep files of their own (a model
   * in another process saves each generation there). Absent outside a run.
   */
  readonly dir?: string
  /**
   * Models that train in steps call this every few steps (a model option such as `evalEvery`),
   * with their losses and, where the model can, samples drawn now: the scheduler scores the
   * samples with the run's training-time metrics and stores the line, so collapse inside one
   * generation (a GAN cycling between modes) shows as a training curve.
   */
  readonly onTrainingStep?: (step: number, report: TrainingStepReport) => Promise<void>
  /** Models that train in steps call this after each: how far the fit is, for the run's progress display. */
  readonly onStep?: (step: number, steps: number) => void
}

export interface SampleContext {
  readonly rng: Rng
  /** Sampling bias: < 1 concentrates samples (temperature / truncation). */
  readonly temperature: number
  readonly dataset: DatasetInfo
}

/** A model's fewest training rows (`ModelPlugin.minimumRows`). */
export interface MinimumRows {
  readonly rows: number
  /** Names the model in messages: 'a GMM of 20 components'. */
  readonly what: string
  /** The hyperparameter that sets the minimum, when one does. */
  readonly param?: string
}

/** A model's fewest tokens of training text (`ModelPlugin.minimumTokens`). */
export interface MinimumTokens {
  /** Tokens the training text must hold, each sequence's end counted as one. */
  readonly tokens: number
  /** Names the model in messages: 'a transformer of context 64'. */
  readonly what: string
  /** The hyperparameter that sets the minimum. */
  readonly param: string
  /** The most tokens one sampled sequence holds, its end counted: what bounds a training set of the model's own samples. */
  readonly perSample: number
}

export interface ModelPlugin<P = unknown, S = unknown> {
  readonly id: string
  readonly modality: Modality
  readonly description: string
  /** Hyperparameters (everything in `model` except `kind`), validated before anything runs. */
  readonly params: z.ZodType<P>
  /** Whether `sampling.temperature` changes what `sample` draws. */
  readonly acceptsTemperature: boolean
  /** Set by models that train on tfjs: the run records which tfjs backend did the work. */
  readonly usesTfjs?: boolean
  /**
   * How a report shows the losses its fit reports by name (`onTrainingStep`'s `losses`): a GAN's
   * `d` and `g` read as the discriminator's and the generator's loss. Losses without one are shown
   * by their names.
   */
  readonly lossInfo?: OutputInfoTable
  /**
   * Checked before a run, with the data's info: throws an input error naming what the data lack for
   * this model (the text models need a vocabulary with '<unk>'), which the config check reports at
   * `model.kind`, or at the parameter a message begins with (`likelihood: 'bernoulli' needs …`).
   */
  checkData?(params: P, dataset: DatasetInfo): void
  /**
   * The fewest training rows a fit can take with these hyperparameters on these data (a
   * GMM of 20 components needs 20), which the run checks against every training set's size before
   * anything runs.
   */
  minimumRows?(params: P, dataset: DatasetInfo): MinimumRows
  /**
   * For a model of sequences trained on windows of its text: the fewest tokens a training set must
   * hold, checked before anything runs against the most a training set can hold where that is
   * known (generation 0's data of a finite pool; a generation of the model's own samples alone).
   */
  minimumTokens?(params: P): MinimumTokens
  /** Learned state; must survive structuredClone. `ctx.init` holds the warm-start state. */
  fit(data: Samples, params: P, ctx: FitContext<S>): Promise<S> | S
  /**
   * Fit from rows read on demand, for models that train on minibatches of vectors. When a model
   * has it, the scheduler calls it instead of `fit` for training sets too large to hold whole
   * (`accumulate` over many generations); it must give the state `fit` gives on the same rows.
   */
  fitRows?(rows: RowSource, params: P, ctx: FitContext<S>): Promise<S> | S
  sample(state: S, n: number, ctx: SampleContext): Promise<Samples> | Samples
  /** Per-item log-likelihood (natural log); enables nll_real. */
  logLikelihood?(state: S, data: Samples): Promise<Float64Array> | Float64Array
  /** Named quantities of the learned state that metrics may read (say, regression weights). */
  summary?(state: S): Record<string, number | Float64Array>
  /**
   * Post-training (finetuning, policy gradient): updates that continue from a fitted state. Models
   * without it can still be post-trained by refitting (`fitWeighted`) or best-of-n sampling.
   */
  trainer?(state: S, params: P, options: TrainerOptions<S>): ModelTrainer<S> | Promise<ModelTrainer<S>>
  /**
   * Set by a model whose trainer's steps have no size (a GMM's step is a whole EM iteration),
   * saying what a step is: a stage's `lr`, which it would ignore, is refused with these words.
   */
  readonly trainerStep?: string
  /**
   * Set when RL can train the model by policy gradient: its trainer takes signed weights and its
   * `logLikelihood` is the density its samples (at temperature 1) are drawn from. 'when-asked': only
   * some instances can (a model in another process, whose trainer says so when it starts), so `rl`
   * uses policy gradient only when a stage's `method` asks for it.
   */
  readonly policyGradient?: boolean | 'when-asked'
  /**
   * False when `logLikelihood` does not score a sample as it was drawn (a character model whose
   * made-up words come back as <unk>): then no KL is estimated from its log-likelihoods. A function
   * says it per state (a model in another process that has no log_likelihood method).
   */
  readonly scoresItsSamples?: boolean | ((state: S) => boolean)
  /**
   * Fit to items weighted by `weights` (≥ 0, any scale): the maximiser of Σ w_i log p(x_i). Used by
   * reward-weighted refitting, whose weights ∝ exp(r/β) make the fit approach π_ref·exp(r/β).
   */
  fitWeighted?(data: Samples, weights: Float64Array, params: P, ctx: FitContext<S>): Promise<S> | S
  /**
   * A state of `fitWeighted` that its caller no longer holds: an rl stage's refit once the next one
   * is fitted from it (never the stage's input or its result). A model whose states live outside
   * memory (a command model's saved folders) frees them here.
   */
  release?(state: S): void
  /**
   * Exact KL(p_state ‖ p_reference) in nats per item, for models whose distribution is small and
   * categorical (a unigram model over a vocabulary); undefined for states where it is not exact,
   * which are then estimated by Monte Carlo.
   */
  klDivergence?(state: S, reference: S): number | undefined
  /**
   * Fit and sample a whole block of chains in one call each (cheap models run by the thousand,
   * where per-chain calls and objects cost more than the arithmetic). Used by a block of chains
   * under `replace` without warm start.
   */
  readonly blocks?: ModelBlocks<P, S>
}

/**
 * The vectors of a block of chains, one chain's after another: chain c's item i, coordinate j is
 * data[(c·n + i)·d + j]. Every chain of a block has n items.
 */
export interface VectorBlock {
  readonly chains: number
  readonly n: number
  readonly d: number
  readonly data: Float64Array
}

export interface BlockFitContext {
  /** Chain c's fit stream: what `fit` gets as ctx.rng for that chain. */
  rng(chain: number): Rng
  /** Chain c's generation. */
  generation(chain: number): number
  readonly dataset: DatasetInfo
}

export interface BlockSampleContext {
  /** Chain c's sample stream: what `sample` gets as ctx.rng for that chain. */
  rng(chain: number): Rng
  readonly temperature: number
  readonly dataset: DatasetInfo
}

/**
 * A model's hooks for blocks of chains, over a state of the whole block (B: arrays with a leading
 * chain axis) instead of a state object per chain. `exact`: chain c gets exactly the numbers `fit`,
 * `sample`, `summary` and `logLikelihood` give it alone (the same stream, the same arithmetic in the
 * same order), so records do not depend on whether chains ran in blocks. Models that batch chains
 * into one computation whose rounding differs (matrix products over a chain axis in float32) say
 * `exact: false` and state their tolerance in a test.
 */
export interface ModelBlocks<P, S, B = unknown> {
  readonly exact: boolean
  /** Fits chain c to chain c's items of `data`; throws as `fit` would for any chain. */
  fit(data: VectorBlock, params: P, ctx: BlockFitContext): Promise<B> | B
  /** n samples for every chain, chain c's drawn from ctx.rng(c). */
  sample(state: B, n: number, ctx: BlockSampleContext): Promise<VectorBlock> | VectorBlock
  /** Chain c's state as `fit` returns it (checkpoints, a resume, metric groups without computeBlock). */
  state(state: B, chain: number): S
  /** summary() of every chain: per name, chain c's values at [c·w, (c + 1)·w), w = length / chains. Present when the model has `summary`. */
  summary?(state: B): Record<string, Float64Array>
  /** logLikelihood() of chain c's state on `data`, into out[0 .. data.n). Present when the model has `logLikelihood`. */
  logLikelihood?(state: B, chain: number, data: Samples, out: Float64Array): void
  /** Frees what the state holds (tfjs tensors). */
  dispose?(state: B): void
}

export interface TrainerOptions<S> {
  readonly rng: Rng
  readonly dataset: DatasetInfo
  /** Step size; undefined: the model's own learning rate. */
  readonly lr?: number
  /** L2-SP: each update also descends (anchor/2)·‖θ − θ_reference‖² (0: no pull). */
  readonly anchor: number
  /** The state post-training started from: the anchor's target. */
  readonly reference: S
}

/** Gradient steps (or EM iterations) on weighted items, continuing from a state. */
export interface ModelTrainer<S> {
  /** Items the model wants per step: a minibatch size, or 'all' for full-batch updates (EM). */
  readonly batch: number | 'all'
  /**
   * Whether `step` takes weights of either sign (policy gradient's advantages). Models whose
   * update needs weights ≥ 0 (an EM iteration, a GAN's real batch) say false.
   */
  readonly signedWeights: boolean
  /**
   * One update that ascends (1/n)·Σ_i w_i·log p(x_i) over the n items (log p: the model's training
   * objective per item, e.g. the ELBO for a VAE; a GAN takes the items as its real batch).
   */
  step(items: Samples, weights: Float64Array): Promise<TrainerStepReport> | TrainerStepReport
  /** A snapshot of the current state (structured-cloneable, not a live view). */
  state(): S | Promise<S>
  /** Frees what the trainer holds (tfjs tensors). */
  dispose?(): void
}

export interface TrainerStepReport {
  /** Named losses of this step, e.g. { loss: −mean weighted log-likelihood }. */
  readonly losses?: Record<string, number>
}

/** What a metric may know about the model that made the samples. */
export interface ModelView {
  logLikelihood?(data: Samples): Promise<Float64Array>
  readonly summary?: Record<string, number | Float64Array>
}

export interface MetricArgs<O, Prep> {
  readonly real: Samples
  readonly generated: Samples
  readonly options: O
  readonly dataset: DatasetInfo
  /** Held-out real data the model never saw. */
  readonly heldout?: Samples
  /**
   * The model's own training set of this generation (for memorisation checks): samples, or the
   * rows of a vector training set too large to hold whole (read them in chunks, see rowChunks).
   */
  readonly training?: Samples | RowSource
  readonly model?: ModelView
  /**
   * Set while a finetuning stage runs (and for the generations it produced): the task data the
   * model is finetuned on, as its dataset describes it, and held-out task items it never saw.
   */
  readonly task?: TaskView
  readonly prepared: Prep
  readonly rng: Rng
}

/** A finetuning task, for metrics of task quality (task_nll, the share of samples in the task). */
export interface TaskView {
  readonly dataset: DatasetInfo
  readonly heldout: Samples
}

export type MetricValues = Record<string, number | null>

/**
 * What a metric group reads besides the real and generated samples (the training set: see
 * `usesTraining`). Without it the group has no values, so the default metric set leaves it out and
 * `ouroboros eval` refuses it by name. `dataset.X` is the optional DatasetInfo field X.
 */
export type MetricNeed =
  | 'model.logLikelihood'
  | 'model.summary'
  | 'heldout'
  | 'task'
  | `dataset.${Exclude<keyof DatasetInfo, 'kind' | 'modality' | 'facets'>}`
  /** A facet of DatasetInfo.facets (Facet.need). */
  | `facet.${string}`

/**
 * The optional DatasetInfo fields a metric group may need, as `dataset.X` (facets are needed as
 * `facet.NAME`): a record, so that a field added to DatasetInfo must be added here too.
 */
const DATASET_NEEDS: Readonly<Record<Exclude<keyof DatasetInfo, 'kind' | 'modality' | 'facets'>, true>> = {
  d: true,
  modes: true,
  gaussian: true,
  regression: true,
  vocabulary: true,
  image: true,
  labelled: true,
  digits: true,
  genres: true,
}

/** Every need but a facet's. */
export const METRIC_NEEDS: readonly MetricNeed[] = ['model.logLikelihood', 'model.summary', 'heldout', 'task', ...Object.keys(DATASET_NEEDS).map((field) => `dataset.${field}` as MetricNeed)]

/**
 * What is wrong with a metric group's `needs`, naming the entry and the needs there are; undefined
 * when nothing is. A need that is none would be unmet by every run, and reported in words about
 * the scheduler's own code.
 */
export function metricNeedsProblem(needs: unknown): string | undefined {
  const valid = `the needs are ${METRIC_NEEDS.join(', ')}, and facet.NAME for a dataset's facet`
  if (needs === undefined) return undefined
  if (!Array.isArray(needs)) return `needs: ${typeof needs === 'string' ? JSON.stringify(needs) : String(needs)}; expected a list of what it reads besides the samples (${valid})`
  for (const [i, need] of needs.entries()) {
    if (typeof need === 'string' && (METRIC_NEEDS.includes(need as MetricNeed) || /^facet\..+/.test(need))) continue
    const shown = typeof need === 'string' ? `'${need}'` : String(need)
    // The training set is asked for by a flag of its own, which builds its copy only for the groups that read it.
    const training = need === 'training' ? "; a group that reads the training set says usesTraining: true instead" : ''
    return `needs.${i}: ${shown} is not a need${typeof need === 'string' ? didYouMean(need, METRIC_NEEDS) : ''}${training}; ${valid}`
  }
  return undefined
}

/**
 * Which way an output moves as a chain degrades:
 * - `falls`: higher is better (modes covered, recall, entropy); collapse is a fall.
 * - `rises`: lower is better (KL, distances to the real data, NLL); collapse is a rise.
 * - `departs`: the real data's value is the right one (total variance), and moving away from it
 *   either way is a failure: a shrinking distribution collapses, an exploding one diverges.
 */
export type Direction = 'falls' | 'rises' | 'departs'

/**
 * How far past its baseline an output must move to count as collapsed: a `factor` of it (below 1
 * for `falls`, above 1 for `rises`; for `departs` both ×factor and ÷factor), or an `offset` in
 * the output's own unit, for outputs on an additive scale (nats) where a factor of a value near
 * zero means nothing.
 */
export interface Threshold {
  readonly direction: Direction
  readonly kind: 'factor' | 'offset'
  readonly value: number
}

/** How a report shows one output of a metric group (or of a filter, or of post-training). */
export interface OutputInfo {
  /** A readable title ('modes covered'). */
  readonly title: string
  /** The unit of the axis. */
  readonly unit?: string
  /** The collapse threshold; absent where collapse does not move the output one known way (a precision, a copy rate). */
  readonly threshold?: Threshold
  /** The values it can take, where bounded (a share): plots keep their axes inside. */
  readonly bounds?: readonly [number, number]
  /**
   * Which way is better where the threshold does not say: a reward rises with what post-training
   * is for, not against collapse. `neither`: a cost paid for something else (the KL to the model
   * as fit), which no level turns into a failure. `raised`: what a stage raises as a stand-in for
   * what is better (a proxy reward), which it can raise past any good (reward hacking).
   */
  readonly better?: 'higher' | 'lower' | 'neither' | 'raised'
  /**
   * A measure of global diversity, what finetuning trades for task quality and a reward optimised
   * too far narrows: its rank among them (lower first) where a view picks one by default.
   */
  readonly diversity?: number
  /** A measure of quality on a finetuning task: its rank among them (lower first). */
  readonly taskQuality?: number
  /**
   * When it can be null although its group ran, in words (a metric group's `nullWhen`): a report
   * says so where some replicates have a value and others none.
   */
  readonly nullWhen?: string
}

/** Outputs by name, each with how a report shows it. */
export type OutputInfoTable = Readonly<Record<string, OutputInfo>>

/** The keys of an output's description, and of its threshold: any other is a misspelling a report would ignore. */
const OUTPUT_INFO_KEYS: readonly (keyof OutputInfo)[] = ['title', 'unit', 'threshold', 'bounds', 'better', 'diversity', 'taskQuality', 'nullWhen']
const THRESHOLD_KEYS: readonly (keyof Threshold)[] = ['direction', 'kind', 'value']

/**
 * What is wrong with a plug-in's `outputInfo`, one message each, naming the output and the key: an
 * output it does not have (of `outputs`, where given), a key a description does not have, a value
 * of the wrong type or not among those allowed, an empty title, bounds out of order, or a threshold
 * on the wrong side of its direction (a report would then flag every value, or none).
 */
export function outputInfoProblems(table: OutputInfoTable | undefined, outputs?: readonly string[]): string[] {
  const problems: string[] = []
  const shown = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : Array.isArray(value) ? `[${value.map(shown).join(', ')}]` : typeof value === 'object' && value !== null ? 'an object' : String(value))
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
  const unknownKeys = (at: string, given: Record<string, unknown>, known: readonly string[]): void => {
    for (const key of Object.keys(given)) if (!known.includes(key)) problems.push(`${at}.${key}: unknown key${didYouMean(key, known)}; expected one of ${known.join(', ')}`)
  }
  const oneOf = (at: string, value: unknown, allowed: readonly string[]): boolean => {
    if (allowed.includes(value as string)) return true
    problems.push(`${at}: ${shown(value)} is not one of ${allowed.join(', ')}`)
    return false
  }
  for (const [name, info] of Object.entries(table ?? {})) {
    const at = `outputInfo.${name}`
    if (outputs !== undefined && !outputs.includes(name)) problems.push(`${at}: describes '${name}', which is not among its outputs (${outputs.join(', ')})`)
    if (!isObject(info)) {
      problems.push(`${at}: ${shown(info)}; expected an object with a title, as { title: '...' }`)
      continue
    }
    unknownKeys(at, info, OUTPUT_INFO_KEYS)
    if (typeof info.title !== 'string' || info.title.length === 0) problems.push(`${at}.title: a title is needed`)
    for (const key of ['unit', 'nullWhen'] as const) if (info[key] !== undefined && typeof info[key] !== 'string') problems.push(`${at}.${key}: ${shown(info[key])}; expected a string`)
    for (const key of ['diversity', 'taskQuality'] as const) if (info[key] !== undefined && !Number.isFinite(info[key])) problems.push(`${at}.${key}: ${shown(info[key])}; expected a number, its rank (lower first)`)
    if (info.better !== undefined) oneOf(`${at}.better`, info.better, ['higher', 'lower', 'neither', 'raised'])
    const b = info.bounds as unknown
    const [low, high] = Array.isArray(b) ? (b as unknown[]) : []
    if (b !== undefined && !(Array.isArray(b) && b.length === 2 && typeof low === 'number' && typeof high === 'number' && low < high)) problems.push(`${at}.bounds: ${shown(b)} is not [low, high]`)
    const t = info.threshold as unknown
    if (t === undefined) continue
    if (!isObject(t)) {
      problems.push(`${at}.threshold: ${shown(t)}; expected { direction, kind, value }`)
      continue
    }
    unknownKeys(`${at}.threshold`, t, THRESHOLD_KEYS)
    const { direction, kind, value } = t
    if (!oneOf(`${at}.threshold.direction`, direction, ['falls', 'rises', 'departs']) || !oneOf(`${at}.threshold.kind`, kind, ['factor', 'offset'])) continue
    if (typeof value !== 'number' || !Number.isFinite(value)) problems.push(`${at}.threshold.value: expected a number, got ${shown(value)}`)
    else if (kind === 'offset' && !(value > 0)) problems.push(`${at}.threshold.value: an offset is a positive amount, got ${value}`)
    else if (kind === 'factor' && direction === 'falls' && !(value > 0 && value < 1)) {
      problems.push(`${at}.threshold.value: a factor for 'falls' is between 0 and 1 (0.5: a fall to half the baseline), got ${value}`)
    } else if (kind === 'factor' && direction !== 'falls' && !(value > 1)) {
      const what = direction === 'rises' ? 'a rise by that factor (2: a doubling)' : 'a move by that factor either way (2: a halving or a doubling)'
      problems.push(`${at}.threshold.value: a factor for '${direction}' is above 1, ${what}, got ${value}`)
    }
  }
  return problems
}

/**
 * How what a metric group's `compute` (or `computeBlock`) returned breaks its declared `outputs`,
 * in words naming the keys; undefined when it returned an object with a value for each output and
 * nothing else. A missing output would be recorded as null and an undeclared key dropped, with no
 * sign of either.
 */
export function outputsBreach(outputs: readonly string[], values: unknown): string | undefined {
  if (typeof values !== 'object' || values === null) return `${String(values)}, not an object with a value for each of its outputs (${outputs.join(', ')})`
  const quoted = (names: readonly string[]): string => names.map((name) => `'${name}'`).join(', ')
  const missing = outputs.filter((name) => (values as Record<string, unknown>)[name] === undefined)
  const extra = Object.keys(values).filter((name) => !outputs.includes(name))
  if (missing.length === 0 && extra.length === 0) return undefined
  const parts = [
    ...(missing.length === 0 ? [] : [`no value for ${quoted(missing)}, which its outputs declare (null stands for no value)`]),
    ...(extra.length === 0 ? [] : [`${quoted(extra)}, which its outputs do not declare`]),
  ]
  return `${parts.join(', and ')}; ${outputs.length === 0 ? 'it declares no outputs' : `its outputs are ${quoted(outputs)}`}`
}

/**
 * How one chain's values (what `compute` returned, its keys checked by outputsBreach) break the
 * rule that each is a number or null; undefined when none does. A number that is not finite (log 0,
 * 0/0) is recorded as null; a string or a boolean would be too, with no sign of the mistake.
 */
export function valuesBreach(outputs: readonly string[], values: Readonly<Record<string, unknown>>): string | undefined {
  const wrong = outputs.find((name) => values[name] !== null && typeof values[name] !== 'number')
  if (wrong === undefined) return undefined
  const v = values[wrong]
  return `'${wrong}': ${typeof v} ${JSON.stringify(v)?.slice(0, 40) ?? String(v)}; expected a number, or null for no value`
}

export interface MetricPlugin<O = unknown, Prep = undefined> {
  /** Group name used in a config's `metrics` list. */
  readonly id: string
  readonly modality: Modality
  readonly description: string
  /** Names of the values compute() returns. */
  readonly outputs: readonly string[]
  readonly options: z.ZodType<O>
  /** Set when compute() reads `training` (building it costs a copy of the training set). */
  readonly usesTraining?: boolean
  readonly needs?: readonly MetricNeed[]
  /**
   * 'expensive': seconds or more per generation at 10,000 samples (O(n²) distances, O(n³)
   * eigenvalues), so it runs only when a config names it. Default 'cheap'.
   */
  readonly cost?: 'cheap' | 'expensive'
  /**
   * Whether a run that names no metric groups scores these data with this group once its needs
   * are met (default: yes). A diversity group of vector samples says no for regression data, whose
   * rows (x, y) on a design fixed per chain have a spread that is not diversity.
   */
  readonly byDefault?: (dataset: DatasetInfo) => boolean
  /** Outputs that can be null although every need is met, and when, in words: { log_variance: '1-D samples only' }. */
  readonly nullWhen?: Readonly<Record<string, string>>
  /**
   * How a report shows each output: title, unit, direction, collapse threshold. A run records it
   * in run.json, so the report of any group reads it there; an output without it is shown by name.
   */
  readonly outputInfo?: OutputInfoTable
  /**
   * Work done once per run in the main thread before any worker starts, which the workers then
   * find ready instead of each doing it (a classifier trained and written to its cache). A run
   * prints its line and adds its fields to run.json; a resume prints it again and warns when the
   * fields differ from those the run started with, which it keeps (a field with a `hash` naming
   * its content differs only where the hash does: where it is cached may change). `say` prints a
   * line at once, after the group's id: what a setup that takes long is doing meanwhile.
   */
  setupRun?(args: { dataset: DatasetInfo; options: O; say?: (line: string) => void }): Promise<RunSetup>
  /** Work done once per chain on the real data (k-means centroids, bandwidths). */
  prepare?(args: { real: Samples; dataset: DatasetInfo; options: O; rng: Rng }): Prep | Promise<Prep>
  compute(args: MetricArgs<O, Prep>): MetricValues | Promise<MetricValues>
  /**
   * Per-item values behind compute's summary (say, the share of samples at each mode), recorded on
   * training curves: a count of covered modes cannot show a generator cycling from mode to mode.
   */
  profile?(args: MetricArgs<O, Prep>): MetricProfile | Promise<MetricProfile>
  /**
   * compute() for every chain of a block at once (see ModelBlocks): per output, a value per chain
   * (NaN for null), each what compute() gives that chain, bit for bit. Groups that read the
   * training set or a task have none.
   */
  computeBlock?(args: MetricBlockArgs<O, Prep>): Record<string, Float64Array> | Promise<Record<string, Float64Array>>
}

/** What the model of a block of chains shows metrics (see ModelBlocks). */
export interface ModelBlockView {
  /** Per name, chain c's values at [c·w, (c + 1)·w), w = length / chains. */
  readonly summary?: Readonly<Record<string, Float64Array>>
  /** Chain c's per-item log-likelihood of `data`, into out[0 .. data.n). */
  logLikelihood?(chain: number, data: Samples, out: Float64Array): void | Promise<void>
}

/** MetricArgs for a block of chains: per chain where chains differ. */
export interface MetricBlockArgs<O, Prep> {
  readonly chains: number
  readonly real: readonly Samples[]
  readonly generated: VectorBlock
  readonly options: O
  readonly dataset: DatasetInfo
  readonly heldout?: readonly Samples[]
  readonly model?: ModelBlockView
  readonly prepared: readonly Prep[]
  /** Chain c's stream: what compute() gets as `rng` for that chain. */
  rng(chain: number): Rng
}

/** What a metric group's setupRun did, for the console and run.json. */
export interface RunSetup {
  /** Printed after the group's id: 'held-out accuracy 96.90 % on 1000 digits (trained now: …)'. */
  readonly line: string
  /** Fields run.json gains, which no other part of run.json uses: { classifier: { heldoutAccuracy, … } }. */
  readonly record: Readonly<Record<string, unknown>>
}

/** Named vectors of per-item values, e.g. { hq_share: [share at mode 0, mode 1, …] }. */
export type MetricProfile = Record<string, number[]>

/** One piece of a training set. */
export type TrainingPart =
  /** The real data generation 0 was fit on. */
  | { readonly from: 'real' }
  /** The samples generation `generation` emitted, or their first `head`. */
  | { readonly from: 'generation'; readonly generation: number; readonly head?: number }
  /** `n` fresh real samples drawn for this generation. */
  | { readonly from: 'fresh'; readonly n: number }

/**
 * A training set as a description, not as data: its parts one after another, then, when `pick`
 * is set, those rows of them in that order. The scheduler either builds it in memory or, when it
 * is large and the model trains on minibatches, reads its rows from the sample files on demand.
 */
export interface TrainingPlan {
  readonly parts: readonly TrainingPart[]
  readonly pick?: Uint32Array
}

/** What a policy may draw on to plan generation g's training set. */
export interface PolicyInputs {
  readonly generation: number
  /** Samples each generation emits. */
  readonly samplesPerGeneration: number
  /** Size of the real data. */
  readonly realN: number
  readonly rng: Rng
}

/** A chain's sizes, for a policy's checks and the sizes of its training sets. */
export interface ChainSizes {
  /** Real samples generation 0 is fit on. */
  readonly n: number
  readonly samplesPerGeneration: number
  readonly generations: number
}

/**
 * A data policy: how generation g ≥ 1's training set is made from the real data and earlier
 * generations. It owns its parameters, what makes them impossible for a chain's sizes, and the
 * sizes the run checks against the data and the memory, so nothing else knows any policy by name.
 */
export interface PolicyPlugin<P = unknown> {
  readonly id: string
  readonly description: string
  /** Parameters other than `kind` and `module`, validated before anything runs. */
  readonly params: z.ZodType<P>
  /**
   * True when training sets use every earlier generation's samples: their files are all kept, and
   * models that train on minibatches may read a large history from them instead of memory. False:
   * a plan may read the last generation only, and the scheduler fails a chain whose plan reads
   * an older one.
   */
  readonly needsAllGenerations: boolean
  /** Why these parameters cannot run with these sizes, naming the parameter; undefined when they can. */
  check?(params: P, sizes: ChainSizes): { readonly param: string; readonly message: string } | undefined
  /** Fresh real samples a generation draws (a dataset with a finite pool must hold them). */
  freshPerGeneration?(params: P, sizes: ChainSizes): number
  /** Rows of the largest training set of the chain. */
  largestTrainingSet(params: P, sizes: ChainSizes): number
  /**
   * Rows of the smallest training set of generations 1 and after, which the run checks against the
   * model's minimum before anything runs; without it only generation 0's real data are checked.
   */
  smallestTrainingSet?(params: P, sizes: ChainSizes): number
  /** The training set of generation g ≥ 1 (generation 0 is fit on the real data). */
  trainingSet(params: P, inputs: PolicyInputs): TrainingPlan
}

export function definePolicy<P>(plugin: PolicyPlugin<P>): PolicyPlugin<P> {
  return plugin
}

/** What a filter may draw on to curate one generation's samples. */
export interface FilterInputs {
  /** Samples the generation must emit. */
  readonly n: number
  /** The model's first draw of n samples: what the metrics score. */
  readonly first: Samples
  /** n more samples from the same model, from random stream `batch` (1, 2, …). */
  draw(n: number, batch: number): Promise<Samples>
  /** Per-item log-likelihood under the generating model, when it has one. */
  readonly logLikelihood?: (s: Samples) => Promise<Float64Array>
  readonly dataset: DatasetInfo
  /** The filter's own random stream (for choices it makes at random). */
  readonly rng: Rng
}

export interface FilterResult {
  /** Exactly n samples that passed, in the order they were drawn. */
  readonly kept: Samples
  /** Samples drawn to find them, up to the last one kept. */
  readonly draws: number
  /** Further values for the generation's record (a reward filter's mean rewards), described by `outputInfo`. */
  readonly values?: Record<string, number>
}

/** What a filter's checks may read about a run before it starts. */
export interface FilterRun {
  readonly dataset: DatasetInfo
  readonly model: ModelPlugin<any, any>
}

/**
 * A filter: which of a generation's samples (and of further draws) enter later training sets.
 * Metrics score the model's own first draw, unfiltered; the record also gets `filter_kept`, the
 * share of draws kept. It owns its parameters and what makes them impossible for a run's data and
 * model, so nothing else knows any filter by name.
 */
export interface FilterPlugin<P = unknown> {
  readonly id: string
  readonly description: string
  /** Parameters other than `kind` and `module`, validated before anything runs. */
  readonly params: z.ZodType<P>
  /**
   * Throws a config error naming the field (`${where}.kind`, `${where}.reward.values`) when these
   * parameters cannot curate this run's samples (data without what the filter reads, a model
   * without a log-likelihood).
   */
  check?(params: P, run: FilterRun, where: string): void | Promise<void>
  /** The values `apply` adds to records besides filter_kept, and how a report shows them. */
  readonly outputInfo?: OutputInfoTable
  apply(params: P, inputs: FilterInputs): Promise<FilterResult>
}

export function defineFilter<P>(plugin: FilterPlugin<P>): FilterPlugin<P> {
  return plugin
}

/** Returns its argument: a typed identity so plug-ins get checked without a runtime. */
export function defineModel<P, S>(plugin: ModelPlugin<P, S>): ModelPlugin<P, S> {
  return plugin
}

export function defineMetric<O, Prep = undefined>(plugin: MetricPlugin<O, Prep>): MetricPlugin<O, Prep> {
  return plugin
}

export function defineDataset<P>(plugin: DatasetPlugin<P>): DatasetPlugin<P> {
  return plugin
}
