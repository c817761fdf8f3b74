import { performance } from 'node:perf_hooks'
import { allFinite, asVectors, ErrorCode, OuroborosError, outputsBreach, Rng, samplesAreFinite, type FitContext, type MetricPlugin, type ModelBlocks, type ModelBlockView, type ModelPlugin, type Samples, type VectorBlock, type VectorSamples } from '@ouroboros/core'
import { chainDir, ROW_LEAD, readSamples, readState, samplesPath, statePath, writeSamples, type ChainRecords, type RecordBatch } from '@ouroboros/store'
import { chainContext, checkFitted, checkModelSamples, describeFailure, modelSamplesError, modelView, preparedFor, resolvedOptions, scoreAll, stopRequested, usesTraining, writeModelState, type ChainContext, type FailureInfo, type MetricError } from './chain.js'
import { loadMetric, loadModel } from './plugins.js'
import { trainingProgressSender } from './training-progress.js'
import { keptGenerations, savesSamples, type ChainSpec, type MetricSpec } from './spec.js'

/**
 * Advances a block of chains of one sweep cell together, generation by generation, until the
 * budget has passed: what cheap models run by the thousand need, since the per-task and per-chain
 * costs of `advance` (a task, a context, checkpoints and a record batch per chain and segment)
 * are many times a cheap generation's. Each chain draws from its own streams exactly as `advance`
 * would, so the records are the same bit for bit (tested); the records of the whole block come
 * back as one batch.
 */
export interface AdvanceBlockTask {
  kind: 'advance-block'
  runDir: string
  chains: ChainSpec[]
  /** Per chain: the generation it continues at. */
  from: number[]
  /** Per chain: also score fresh real data (the generation -1 record). */
  reference: boolean[]
  budgetMs: number
  stop?: Int32Array
  /** The run's channel for training progress (training-progress.ts); a local run's only. */
  progressChannel?: string
}

export interface AdvanceBlockResult {
  scored: RecordBatch
  /** Per chain: the generation its next segment starts at. */
  next: number[]
  /** Chain id -> the metric options its real data decided (with its reference record; see ChainInfo.resolvedOptions). */
  resolvedOptions: Record<string, Record<string, Record<string, number>>>
  /**
   * Set when a chain met what blocks leave to `advance` (a diverged fit, a failing metric group):
   * every chain is checkpointed at `next`, and the driver goes on chain by chain from there.
   */
  handBack?: FailureInfo
  /** Set when the hand-back is the model's block hook breaking its contract, which `sample` keeps: why the chains go on more slowly. */
  hookBreach?: string
}

/** Block hook samples of the wrong shape: the chains go on through `sample`, which is checked on its own. */
class HookBreach extends Error {}

/**
 * Whether a chain can run in blocks: the `replace` policy (the training set is the last
 * generation's samples), no filter, no post-training, and a model off tfjs or one on tfjs whose
 * block hooks train the whole block at once (a neural generation costs far more than a task, so
 * one chain after another in a block would only hold chains back from the other workers). A model
 * that reports training steps hands the block back.
 */
export async function runsInBlocks(chain: ChainSpec): Promise<boolean> {
  const { config } = chain
  if (config.policy.kind !== 'replace' || config.policy.module !== undefined) return false
  if (config.filter !== null || config.posttrain.length > 0) return false
  const model = await loadModel(chain.modelModule)
  return model.usesTfjs !== true || vectorised(model, chain) !== undefined
}

interface BlockChain {
  chain: ChainSpec
  ctx: ChainContext
  dir: string
  keep: ReadonlySet<number>
  g: number
  end: number
  reference: boolean
  samples: Samples | undefined
  state: unknown
  /** On the vectorised path: the generation group that last advanced the chain, and its slot there. */
  group: Group | undefined
  slot: number
  rows: number[]
  metrics: string[] | undefined
}

/** One generation of a group of chains on the vectorised path: their samples and their models, a slot each. */
interface Group {
  samples: VectorBlock
  state: unknown
  /** Chains whose latest generation this is: its state is freed when none is left. */
  live: number
}

export async function advanceBlock(task: AdvanceBlockTask): Promise<AdvanceBlockResult> {
  const { runDir } = task
  const first = task.chains[0]!
  const model: ModelPlugin<any, any> = await loadModel(first.modelModule)
  const wantsTraining = await usesTraining(first)
  const metrics: { spec: MetricSpec; plugin: MetricPlugin<any, any> }[] = []
  for (const spec of first.metrics) metrics.push({ spec, plugin: await loadMetric(spec.module, spec.id) })
  const started = performance.now()
  const chains: BlockChain[] = []
  for (const [i, chain] of task.chains.entries()) {
    const ctx = await chainContext(runDir, chain)
    const g = task.from[i]!
    const modality = ctx.real.modality
    if (g === 0 && savesSamples(chain)) writeSamples(samplesPath(runDir, chain.id, 'real', modality), ctx.real)
    const samples = g === 0 ? undefined : ctx.last?.generation === g - 1 ? ctx.last.samples : readSamples(samplesPath(runDir, chain.id, g - 1, modality))
    const state = g === 0 || !chain.config.warmStart ? undefined : ctx.last?.generation === g - 1 ? ctx.last.state : readState(statePath(runDir, chain.id, g - 1))
    chains.push({ chain, ctx, dir: chainDir(runDir, chain.id), keep: keptGenerations(chain), g, end: g, reference: task.reference[i]!, samples, state, group: undefined, slot: 0, rows: [], metrics: undefined })
  }
  const errors: MetricError[] = []
  let handBack: FailureInfo | undefined
  let hookBreach: string | undefined
  const record = (c: BlockChain, generation: number, values: Record<string, number | null>, fitMs: number, sampleMs: number, evalMs: number): void => {
    c.metrics ??= Object.keys(values)
    c.rows.push(generation, fitMs, sampleMs, evalMs)
    for (const name of c.metrics) {
      const v = values[name]
      c.rows.push(typeof v === 'number' ? v : NaN)
    }
  }
  const blocks = vectorised(model, first)
  try {
    for (const c of chains) {
      if (!c.reference) continue
      const t0 = performance.now()
      const generated = c.ctx.dataset.sample(c.chain.referenceN ?? c.chain.samplesPerGeneration, Rng.from(c.chain.seed, 'reference'))
      const before = errors.length
      const values = await scoreAll(c.chain, c.ctx, -1, generated, { training: c.ctx.real, errors })
      // As for a generation: a block's result carries no metric errors, so `advance` reports it.
      if (errors.length > before) throw new Error(`metric group '${errors[before]!.group}' failed`)
      record(c, -1, values, 0, 0, performance.now() - t0)
    }
    if (blocks !== undefined) {
      let prepared: VectorisedRun['prepared']
      if (metrics.every((m) => m.plugin.computeBlock !== undefined && m.plugin.usesTraining !== true)) {
        prepared = new Map()
        for (const c of chains) prepared.set(c, await Promise.all(metrics.map((m) => preparedFor(c.chain, c.ctx, m.spec, m.plugin))))
      }
      await advanceVectorised({ task, model, blocks, metrics, wantsTraining, errors, started, prepared }, chains)
    } else {
      await advanceOneByOne(task, model, wantsTraining, chains, record, errors, started)
    }
  } catch (err) {
    // Whatever went wrong is met again, and reported with its generation, by `advance`.
    handBack = describeFailure(err)
    if (err instanceof HookBreach) hookBreach = err.message
    errors.length = 0
  }
  const parts: ChainRecords[] = []
  const resolved: AdvanceBlockResult['resolvedOptions'] = {}
  for (const c of chains) {
    if (c.reference && c.metrics !== undefined) resolved[c.chain.id] = await resolvedOptions(c.chain, c.ctx)
    if (c.group !== undefined) {
      c.samples = slotSamples(c.group.samples, c.slot)
      c.state = blocks!.state(c.group.state, c.slot)
    }
    // A chain's rows are kept only up to a generation it checkpoints, so that `advance` takes over cleanly.
    if (c.end > c.g) {
      const last = c.end - 1
      writeSamples(samplesPath(runDir, c.chain.id, last, c.samples!.modality), c.samples!)
      writeModelState(c.chain, statePath(runDir, c.chain.id, last), c.state)
      c.ctx.last = { generation: last, samples: c.samples!, state: c.state }
    }
    if (c.metrics === undefined) continue
    const width = ROW_LEAD.length + c.metrics.length
    const rows = Float64Array.from(c.rows)
    const kept = rows.subarray(0, rowsUpTo(rows, width, c.end) * width)
    if (kept.length > 0) parts.push({ chain: c.chain.id, metrics: c.metrics, rows: kept.slice() })
  }
  for (const group of new Set(chains.map((c) => c.group))) if (group !== undefined) blocks!.dispose?.(group.state)
  return { scored: { parts }, next: chains.map((c) => c.end), resolvedOptions: resolved, ...(handBack === undefined ? {} : { handBack }), ...(hookBreach === undefined ? {} : { hookBreach }) }
}

type RecordRow = (c: BlockChain, generation: number, values: Record<string, number | null>, fitMs: number, sampleMs: number, evalMs: number) => void

/** Chain after chain, generation by generation, through the model's own `fit` and `sample`. */
async function advanceOneByOne(task: AdvanceBlockTask, model: ModelPlugin<any, any>, wantsTraining: boolean, chains: BlockChain[], record: RecordRow, errors: MetricError[], started: number): Promise<void> {
  const { runDir } = task
  for (;;) {
    let active = 0
    for (const c of chains) {
      const { chain, ctx } = c
      const g = c.end
      if (g >= chain.config.generations) continue
      active++
      const t0 = performance.now()
      const training = g === 0 ? ctx.real : c.samples!
      // The fit's stream is made when the model asks for it: most cheap fits draw nothing.
      let fitRng: Rng | undefined
      // A fit of seconds or more (a GMM in hundreds of dimensions) says how far it is; the
      // generation says when it is over, since its record comes with the block's.
      const progress = trainingProgressSender(task.progressChannel, chain.id, g)
      const fitCtx: FitContext<unknown> = {
        get rng(): Rng {
          return (fitRng ??= Rng.from(chain.seed, 'fit', g, 0))
        },
        generation: g,
        dataset: ctx.dataset.info,
        real: ctx.real,
        dir: c.dir,
        ...(chain.config.warmStart && c.state !== undefined ? { init: c.state } : {}),
        ...(progress === undefined ? {} : { onStep: (step: number, steps: number) => progress.step('fit', step, steps) }),
        // Training curves are written by `advance`.
        onTrainingStep: () => Promise.reject(new Error('the model reports training steps')),
      }
      const state = checkFitted(chain, await model.fit(training, chain.modelParams, fitCtx))
      progress?.trained()
      const t1 = performance.now()
      const samples = await model.sample(state, chain.samplesPerGeneration, { rng: Rng.from(chain.seed, 'sample', g, 0), temperature: chain.config.sampling.temperature, dataset: ctx.dataset.info })
      checkModelSamples(chain, samples, chain.samplesPerGeneration, ctx.real)
      if (!samplesAreFinite(samples)) throw new Error(`generation ${g} produced non-finite samples`)
      const t2 = performance.now()
      const before = errors.length
      const values = await scoreAll(chain, ctx, g, samples, { model: modelView(model, state), ...(wantsTraining ? { training } : {}), errors })
      // A failing metric group is recorded as null and reported: `advance` does that per chain.
      if (errors.length > before) throw new Error(`metric group '${errors[before]!.group}' failed`)
      record(c, g, values, t1 - t0, t2 - t1, performance.now() - t2)
      progress?.over()
      c.samples = samples
      c.state = state
      c.end = g + 1
      if (c.keep.has(g)) writeSamples(samplesPath(runDir, chain.id, g, samples.modality), samples)
    }
    if (active === 0 || performance.now() - started >= task.budgetMs || stopRequested(task)) break
  }
}

/**
 * The model's block hooks, when this cell's chains can use them: exact ones (the block size follows
 * the worker count, so a chain's numbers must not depend on its block), vectors, no warm start (a
 * block state has no per-chain initial state), and a block view that shows metrics what a chain's
 * own view shows.
 */
function vectorised(model: ModelPlugin<any, any>, chain: ChainSpec): ModelBlocks<unknown, unknown> | undefined {
  const blocks = model.blocks
  if (blocks === undefined || !blocks.exact || model.modality !== 'vectors' || chain.config.warmStart) return undefined
  if ((blocks.summary === undefined) !== (model.summary === undefined)) return undefined
  if ((blocks.logLikelihood === undefined) !== (model.logLikelihood === undefined)) return undefined
  return blocks
}

interface VectorisedRun {
  task: AdvanceBlockTask
  model: ModelPlugin<any, any>
  blocks: ModelBlocks<unknown, unknown>
  metrics: { spec: MetricSpec; plugin: MetricPlugin<any, any> }[]
  wantsTraining: boolean
  errors: MetricError[]
  started: number
  /** Set when every metric group scores whole blocks (computeBlock): per chain, each group's prepare() result. */
  prepared: Map<BlockChain, unknown[]> | undefined
}

/**
 * Generation by generation, every chain of the block at once through the model's block hooks: the
 * chains at generation 0 (training on their real data) and the others (on their last samples) are
 * the two groups of one size each.
 */
async function advanceVectorised(run: VectorisedRun, chains: BlockChain[]): Promise<void> {
  for (;;) {
    const active = chains.filter((c) => c.end < c.chain.config.generations)
    if (active.length === 0) break
    const fresh = active.filter((c) => c.end === 0)
    const later = active.filter((c) => c.end > 0)
    if (fresh.length > 0) await advanceGroup(run, fresh)
    if (later.length > 0) await advanceGroup(run, later)
    if (performance.now() - run.started >= run.task.budgetMs || stopRequested(run.task)) break
  }
}

async function advanceGroup(run: VectorisedRun, chains: BlockChain[]): Promise<void> {
  const { blocks, task } = run
  const first = chains[0]!.chain
  const info = chains[0]!.ctx.dataset.info
  const k = chains.length
  const t0 = performance.now()
  const training = trainingBlock(chains)
  const state = await blocks.fit(training, first.modelParams, {
    rng: (i) => Rng.from(chains[i]!.chain.seed, 'fit', chains[i]!.end, 0),
    generation: (i) => chains[i]!.end,
    dataset: info,
  })
  let samples: VectorBlock
  let values: Float64Array[]
  let names: string[]
  let t1: number
  let t2: number
  try {
    t1 = performance.now()
    samples = await blocks.sample(state, first.samplesPerGeneration, {
      rng: (i) => Rng.from(chains[i]!.chain.seed, 'sample', chains[i]!.end, 0),
      temperature: first.config.sampling.temperature,
      dataset: info,
    })
    const n = first.samplesPerGeneration
    const d = asVectors(chains[0]!.ctx.real).d
    if (samples.chains !== k || samples.n !== n || samples.d !== d || samples.data.length !== k * n * d) {
      const breach = modelSamplesError(first, `blocks.sample(state, ${n})`, `${samples.chains} chains of ${samples.n} x ${samples.d} values (${samples.data.length} in all); expected ${k} chains of ${n} x ${d}`)
      throw new HookBreach(breach.message)
    }
    if (!allFinite(samples.data)) throw new Error(`generation ${chains[0]!.end} produced non-finite samples`)
    t2 = performance.now()
    ;({ names, values } = run.prepared !== undefined ? await scoreBlock(run, run.prepared, chains, samples, state) : await scoreEach(run, chains, training, samples, state))
  } catch (err) {
    blocks.dispose?.(state)
    throw err
  }
  const t3 = performance.now()
  const group: Group = { samples, state, live: k }
  const width = names.length
  for (let i = 0; i < k; i++) {
    const c = chains[i]!
    const g = c.end
    c.metrics ??= names
    c.rows.push(g, (t1 - t0) / k, (t2 - t1) / k, (t3 - t2) / k)
    for (let j = 0; j < width; j++) {
      const v = values[j]![i]!
      c.rows.push(Number.isFinite(v) ? v : NaN)
    }
    if (c.group !== undefined && --c.group.live === 0) blocks.dispose?.(c.group.state)
    c.group = group
    c.slot = i
    c.end = g + 1
    if (c.keep.has(g)) writeSamples(samplesPath(task.runDir, c.chain.id, g, 'vectors'), slotSamples(samples, i))
  }
}

/** The training sets of a group's chains, one after another: the last group's samples as they are when it is the same chains in order. */
function trainingBlock(chains: BlockChain[]): VectorBlock {
  const k = chains.length
  const last = chains[0]!.group
  if (last !== undefined && last.samples.chains === k && chains.every((c, i) => c.group === last && c.slot === i)) return last.samples
  const sets = chains.map((c) => asVectors(c.end === 0 ? c.ctx.real : c.group !== undefined ? slotSamples(c.group.samples, c.slot) : c.samples!, 'training data'))
  const { n, d } = sets[0]!
  const data = new Float64Array(k * n * d)
  sets.forEach((x, i) => {
    if (x.n !== n || x.d !== d) throw new Error(`the chains of a block have training sets of ${n} x ${d} and ${x.n} x ${x.d}`)
    data.set(x.data, i * n * d)
  })
  return { chains: k, n, d, data }
}

/** Every metric group over the whole group at once (computeBlock): per output, a value per chain. */
async function scoreBlock(run: VectorisedRun, prepared: Map<BlockChain, unknown[]>, chains: BlockChain[], samples: VectorBlock, state: unknown): Promise<{ names: string[]; values: Float64Array[] }> {
  const { blocks } = run
  const summary = blocks.summary?.(state)
  const logLikelihood = blocks.logLikelihood
  const view: ModelBlockView = {
    ...(summary === undefined ? {} : { summary }),
    ...(logLikelihood === undefined ? {} : { logLikelihood: (chain: number, data: Samples, out: Float64Array) => logLikelihood(state, chain, data, out) }),
  }
  const first = chains[0]!
  const heldout = first.ctx.heldout === undefined ? undefined : chains.map((c) => c.ctx.heldout!)
  const columns: Record<string, Float64Array> = {}
  for (const [j, { spec, plugin }] of run.metrics.entries()) {
    const result = await plugin.computeBlock!({
      chains: chains.length,
      real: chains.map((c) => c.ctx.real),
      generated: samples,
      options: spec.options,
      dataset: first.ctx.dataset.info,
      ...(heldout === undefined ? {} : { heldout }),
      model: view,
      prepared: chains.map((c) => prepared.get(c)![j]),
      rng: (i) => Rng.from(chains[i]!.chain.seed, 'metric', spec.id, chains[i]!.end),
    })
    const breach = outputsBreach(plugin.outputs, result)
    // As scoreAll's for compute; the chains go on one by one, where compute is checked again.
    if (breach !== undefined) throw new OuroborosError(ErrorCode.PLUGIN, `metric group '${spec.id}': computeBlock returned ${breach}`)
    // As scoreAll: a later group's output of the same name wins, in the first one's place.
    for (const name of plugin.outputs) columns[name] = result[name] ?? new Float64Array(chains.length).fill(NaN)
  }
  const names = Object.keys(columns)
  return { names, values: names.map((name) => columns[name]!) }
}

/** Every metric group chain by chain (some group has no computeBlock), on each chain's slot of the block. */
async function scoreEach(run: VectorisedRun, chains: BlockChain[], training: VectorBlock, samples: VectorBlock, state: unknown): Promise<{ names: string[]; values: Float64Array[] }> {
  let names: string[] | undefined
  let values: Float64Array[] = []
  for (const [i, c] of chains.entries()) {
    const before = run.errors.length
    const scored = await scoreAll(c.chain, c.ctx, c.end, slotSamples(samples, i), {
      model: modelView(run.model, run.blocks.state(state, i)),
      ...(run.wantsTraining ? { training: slotSamples(training, i) } : {}),
      errors: run.errors,
    })
    // A failing metric group is recorded as null and reported: `advance` does that per chain.
    if (run.errors.length > before) throw new Error(`metric group '${run.errors[before]!.group}' failed`)
    if (names === undefined) {
      names = Object.keys(scored)
      values = names.map(() => new Float64Array(chains.length))
    }
    names.forEach((name, j) => (values[j]![i] = scored[name] ?? NaN))
  }
  return { names: names!, values }
}

/** Chain `slot`'s samples of a block, as a view. */
function slotSamples(block: VectorBlock, slot: number): VectorSamples {
  const size = block.n * block.d
  return { modality: 'vectors', n: block.n, d: block.d, data: block.data.subarray(slot * size, (slot + 1) * size) }
}

/** Rows (generation first) below generation `end`: a chain's rows are in generation order. */
function rowsUpTo(rows: Float64Array, width: number, end: number): number {
  let n = 0
  while (n * width < rows.length && rows[n * width]! < end) n++
  return n
}
