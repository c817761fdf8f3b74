import { performance } from 'node:perf_hooks'
import { Rng, samplesAreFinite, type FitContext, type ModelPlugin, type Samples } from '@ouroboros/core'
import { chainDir, ROW_LEAD, readSamples, readState, samplesPath, statePath, writeSamples, writeState, type ChainRecords, type RecordBatch } from '@ouroboros/store'
import { chainContext, describeFailure, modelView, resolvedOptions, scoreAll, stopRequested, usesTraining, type ChainContext, type FailureInfo, type MetricError } from './chain.js'
import { loadMetric, loadModel } from './plugins.js'
import type { ChainSpec } from './spec.js'

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
}

/**
 * Whether a chain can run in blocks: the `replace` policy (the training set is the last
 * generation's samples), no filter, no post-training, and a model off tfjs (a neural generation
 * costs far more than a task). A model that reports training steps hands the block back.
 */
export async function runsInBlocks(chain: ChainSpec): Promise<boolean> {
  const { config } = chain
  if (config.policy.kind !== 'replace' || config.policy.module !== undefined) return false
  if (config.filter !== null || config.posttrain.length > 0) return false
  return (await loadModel(chain.modelModule)).usesTfjs !== true
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
  rows: number[]
  metrics: string[] | undefined
}

export async function advanceBlock(task: AdvanceBlockTask): Promise<AdvanceBlockResult> {
  const { runDir } = task
  const first = task.chains[0]!
  const model: ModelPlugin<any, any> = await loadModel(first.modelModule)
  const wantsTraining = await usesTraining(first)
  for (const m of first.metrics) await loadMetric(m.module, m.id)
  const started = performance.now()
  const chains: BlockChain[] = []
  for (const [i, chain] of task.chains.entries()) {
    const ctx = await chainContext(runDir, chain)
    const g = task.from[i]!
    const modality = ctx.real.modality
    if (g === 0) writeSamples(samplesPath(runDir, chain.id, 'real', modality), ctx.real)
    const samples = g === 0 ? undefined : ctx.last?.generation === g - 1 ? ctx.last.samples : readSamples(samplesPath(runDir, chain.id, g - 1, modality))
    const state = g === 0 || !chain.config.warmStart ? undefined : ctx.last?.generation === g - 1 ? ctx.last.state : readState(statePath(runDir, chain.id, g - 1))
    chains.push({ chain, ctx, dir: chainDir(runDir, chain.id), keep: new Set(chain.keepGenerations), g, end: g, reference: task.reference[i]!, samples, state, rows: [], metrics: undefined })
  }
  const errors: MetricError[] = []
  let handBack: FailureInfo | undefined
  const record = (c: BlockChain, generation: number, values: Record<string, number | null>, fitMs: number, sampleMs: number, evalMs: number): void => {
    c.metrics ??= Object.keys(values)
    c.rows.push(generation, fitMs, sampleMs, evalMs)
    for (const name of c.metrics) {
      const v = values[name]
      c.rows.push(typeof v === 'number' ? v : NaN)
    }
  }
  try {
    for (const c of chains) {
      if (!c.reference) continue
      const t0 = performance.now()
      const generated = c.ctx.dataset.sample(c.chain.samplesPerGeneration, Rng.from(c.chain.seed, 'reference'))
      record(c, -1, await scoreAll(c.chain, c.ctx, -1, generated, { training: c.ctx.real, errors }), 0, 0, performance.now() - t0)
    }
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
        const fitCtx: FitContext<unknown> = {
          get rng(): Rng {
            return (fitRng ??= Rng.from(chain.seed, 'fit', g, 0))
          },
          generation: g,
          dataset: ctx.dataset.info,
          real: ctx.real,
          dir: c.dir,
          ...(chain.config.warmStart && c.state !== undefined ? { init: c.state } : {}),
          // Training curves are written by `advance`.
          onTrainingStep: () => Promise.reject(new Error('the model reports training steps')),
        }
        const state = await model.fit(training, chain.modelParams, fitCtx)
        const t1 = performance.now()
        const samples = await model.sample(state, chain.samplesPerGeneration, { rng: Rng.from(chain.seed, 'sample', g, 0), temperature: chain.config.sampling.temperature, dataset: ctx.dataset.info })
        if (!samplesAreFinite(samples)) throw new Error(`generation ${g} produced non-finite samples`)
        const t2 = performance.now()
        const before = errors.length
        const values = await scoreAll(chain, ctx, g, samples, { model: modelView(model, state), ...(wantsTraining ? { training } : {}), errors })
        // A failing metric group is recorded as null and reported: `advance` does that per chain.
        if (errors.length > before) throw new Error(`metric group '${errors[before]!.group}' failed`)
        record(c, g, values, t1 - t0, t2 - t1, performance.now() - t2)
        c.samples = samples
        c.state = state
        c.end = g + 1
        if (c.keep.has(g)) writeSamples(samplesPath(runDir, chain.id, g, samples.modality), samples)
      }
      if (active === 0 || performance.now() - started >= task.budgetMs || stopRequested(task)) break
    }
  } catch (err) {
    // Whatever went wrong is met again, and reported with its generation, by `advance`.
    handBack = describeFailure(err)
    errors.length = 0
  }
  const parts: ChainRecords[] = []
  const resolved: AdvanceBlockResult['resolvedOptions'] = {}
  for (const c of chains) {
    if (c.reference && c.metrics !== undefined) resolved[c.chain.id] = await resolvedOptions(c.chain, c.ctx)
    // A chain's rows are kept only up to a generation it checkpoints, so that `advance` takes over cleanly.
    if (c.end > c.g) {
      const last = c.end - 1
      writeSamples(samplesPath(runDir, c.chain.id, last, c.samples!.modality), c.samples!)
      writeState(statePath(runDir, c.chain.id, last), c.state)
      c.ctx.last = { generation: last, samples: c.samples!, state: c.state }
    }
    if (c.metrics === undefined) continue
    const width = ROW_LEAD.length + c.metrics.length
    const rows = Float64Array.from(c.rows)
    const kept = rows.subarray(0, rowsUpTo(rows, width, c.end) * width)
    if (kept.length > 0) parts.push({ chain: c.chain.id, metrics: c.metrics, rows: kept.slice() })
  }
  return { scored: { parts }, next: chains.map((c) => c.end), resolvedOptions: resolved, ...(handBack === undefined ? {} : { handBack }) }
}

/** Rows (generation first) below generation `end`: a chain's rows are in generation order. */
function rowsUpTo(rows: Float64Array, width: number, end: number): number {
  let n = 0
  while (n * width < rows.length && rows[n * width]! < end) n++
  return n
}
