import { rmSync } from 'node:fs'
import { ErrorCode, OuroborosError, toOuroborosError, type Samples } from '@ouroboros/core'
import {
  appendRecordBatch,
  forEachRecord,
  finalizeRecords,
  fromPortable,
  GenerationSet,
  recordedGenerations,
  repairRecordText,
  statePath,
  writeRunInfo,
  type ChainInfo,
  type PortableRecordBatch,
  type RecordBatch,
  type RecordChain,
  type RunInfo,
} from '@ouroboros/store'
import { resumePoint, type AdvanceResult, type AdvanceTask, type EvaluateTask, type GenerationResult } from './chain.js'
import { runsInBlocks, type AdvanceBlockResult, type AdvanceBlockTask } from './block.js'
import { LocalRunner, defaultWorkers } from './local-runner.js'
import type { Runner } from './runner.js'
import type { ChainSpec } from './spec.js'
import type { TaskFailure } from './worker.js'

/** A worker's result, or its failure thrown again in this thread with code and generation. */
function unwrap<T>(value: unknown): T {
  const failure = (value as Partial<TaskFailure> | null)?.failed
  if (failure !== undefined) throw failure
  return value as T
}

export interface ProgressEvent {
  chain: string
  generation: number
  generationsDone: number
  generationsTotal: number
  /** Set when a generation's record arrived: its fit, sample and evaluation times, summed (ms). */
  ms?: number
  failed?: { chain: string; generation: number; message: string; hint?: string }
  /** A metric group's first failure in this chain (its values are recorded as null). */
  metricError?: { chain: string; group: string; generation: number; message: string }
  /**
   * How far the generation's training is: its fit, or a post-training stage (local runs: a queue's
   * workers are elsewhere); `over` once a generation of a block of chains has ended, its record
   * still to come with the block's.
   */
  training?: { what: string; step: number; steps: number; over?: true }
  /**
   * Set when a chain goes on from its checkpoints (a resume): the generations it has done, which
   * run.json, written at most once a second, may not have caught up with before the run stopped.
   */
  resumedAt?: number
  /**
   * Something the run goes on from, more slowly: a model's block hook that broke its contract, its
   * chains going on one at a time; a chain's task that died, its generation tried again alone.
   */
  notice?: string
}

export interface RunChainsOptions {
  runDir: string
  chains: ChainSpec[]
  info: RunInfo
  modality: Samples['modality']
  /** Where the tasks run; by default a local pool of `workers` threads (default: cores). */
  runner?: Runner
  workers?: number
  /** Continue from the checkpoints in runDir. */
  resume?: boolean
  /** How long one task may fit consecutive generations of a chain before handing back (ms). */
  segmentMs?: number
  /**
   * Chains of a cell advanced together by one task (cheap models under `replace`, see
   * advanceBlock); 1 runs every chain on its own. Default: enough blocks to keep every worker busy,
   * up to 64 chains each. The records are the same either way.
   */
  blockChains?: number
  /** The least time a block task runs before it checkpoints and hands back its records (default 1 s; 0: one generation a task). */
  blockBudgetMs?: number
  /**
   * Called once every record is in the record log, just before the record files are written from
   * it: a reader started here (the report's aggregation, on a thread) works beside the writing.
   */
  onRecordLog?: (runDir: string, chains: RecordChain[]) => void
  onProgress?: (event: ProgressEvent) => void
  /** Aborting lets tasks in flight finish and write their results, then stops. */
  signal?: AbortSignal
}

export interface RunChainsResult {
  info: RunInfo
  /** Records in the run's sorted files. */
  records: number
  failed: ChainInfo[]
  interrupted: boolean
}

/** The least time a block task runs before it checkpoints and hands back (ms); a stop ends it after the generation in flight. */
const BLOCK_BUDGET_MS = 1000
const MAX_BLOCK_CHAINS = 64

/** Chains per block: at least two blocks per worker, at most MAX_BLOCK_CHAINS chains each. */
function blockSize(chains: readonly ChainSpec[], workers: number, given: number | undefined): number {
  if (given !== undefined) return given
  return Math.max(1, Math.min(MAX_BLOCK_CHAINS, Math.floor(chains.length / (2 * workers))))
}

function ioError(failure: { message: string; hint?: string }): OuroborosError {
  return new OuroborosError(ErrorCode.IO, `the run stopped: ${failure.message}`, {
    hint: failure.hint ?? 'fix the cause, then finish the run with `ouroboros resume <dir>`',
  })
}

/**
 * Runs every chain on a runner (the local worker pool, or a queue), which it destroys at the end.
 * Chains are independent and run in parallel; inside a chain, evaluating a segment of generations
 * overlaps fitting the next. Records are appended to the record log (and metrics.ndjson) as soon
 * as they exist; at the end the sorted files are written from the log, streaming.
 */
export async function runChains(opts: RunChainsOptions): Promise<RunChainsResult> {
  const { runDir, chains, info } = opts
  // Stops every chain: the caller's signal (Ctrl-C) or a failed write (disk full).
  const stop = new AbortController()
  opts.signal?.addEventListener('abort', () => stop.abort(), { once: true })
  let ioFailure: { message: string; code: string; hint?: string } | undefined

  const text = chains[0]?.config.records.text ?? true
  let recorded = new Map<string, GenerationSet>()
  if (opts.resume) {
    // Reading cuts off a frame (and a line) torn by the crash before anything is appended after it.
    try {
      recorded = recordedGenerations(runDir)
      repairRecordText(runDir)
    } catch (err) {
      await opts.runner?.destroy()
      throw err
    }
  }
  const total = chains.reduce((a, c) => a + c.config.generations, 0)
  let done = 0
  for (const set of recorded.values()) done += set.size - (set.has(-1) ? 1 : 0)

  const chainInfo = new Map(info.chains.map((c) => [c.id, c]))
  let lastInfoWrite = 0
  const stopForIo = (err: unknown): void => {
    const e = toOuroborosError(err)
    if (e.code !== ErrorCode.IO) throw err
    ioFailure ??= { message: e.message, code: e.code, ...(e.hint === undefined ? {} : { hint: e.hint }) }
    stop.abort()
  }
  const saveInfo = (force: boolean): void => {
    const now = Date.now()
    if (!force && now - lastInfoWrite < 1000) return
    lastInfoWrite = now
    try {
      writeRunInfo(runDir, info)
    } catch (err) {
      stopForIo(err)
    }
  }
  /**
   * Chains whose task a worker took: `running` from then on (they stay pending, or interrupted or
   * failed before a resume, until then). A failed chain that a resume runs again loses its error,
   * which its own end replaces.
   */
  const started = (taken: ChainInfo[]): void => {
    for (const ci of taken) {
      if (ci.status !== 'pending' && ci.status !== 'interrupted' && ci.status !== 'failed') continue
      ci.status = 'running'
      delete ci.error
    }
    saveInfo(false)
  }
  const runner = opts.runner ?? new LocalRunner(Math.max(1, opts.workers ?? defaultWorkers()))
  stop.signal.addEventListener('abort', () => runner.close(), { once: true })
  const onProgress = opts.onProgress
  if (onProgress !== undefined) {
    runner.onTrainingProgress?.((p) => onProgress({ chain: p.chain, generation: p.generation, generationsDone: done, generationsTotal: total, training: { what: p.what, step: p.step, steps: p.steps, ...(p.over === true ? { over: true as const } : {}) } }))
  }
  const segmentMs = opts.segmentMs ?? runner.segmentMs
  saveInfo(true)
  if (ioFailure !== undefined) {
    await runner.destroy()
    throw ioError(ioFailure)
  }

  /** `fromCheckpoints`: the chain goes on from its checkpoints (a resume, or what a block left). */
  const runOne = async (chain: ChainSpec, fromCheckpoints = opts.resume === true): Promise<void> => {
    const ci = chainInfo.get(chain.id)!
    const have = recorded.get(chain.id) ?? new GenerationSet()
    let g = fromCheckpoints ? resumePoint(runDir, chain, opts.modality, have) : 0
    ci.generationsDone = g
    if (fromCheckpoints) opts.onProgress?.({ chain: chain.id, generation: g - 1, generationsDone: done, generationsTotal: total, resumedAt: g })
    if (g >= chain.config.generations && have.has(-1)) {
      ci.status = 'finished'
      delete ci.error
      return
    }
    const evaluations: Promise<void>[] = []
    let reference = !have.has(-1)
    // After a worker thread (or a queue's worker, twice) died inside a segment, its first
    // generation is tried again alone, so that a second death names its generation exactly; once
    // it succeeds, the chain goes on in segments again.
    let oneAtATime = false
    let failure: { generation: number; message: string; code: string; hint?: string } | undefined
    const fail = (err: unknown, fallback: number): void => {
      const e = err as { message?: string; code?: string; generation?: number; hint?: string }
      if (e.code === ErrorCode.IO) {
        // Not the chain's fault: stop the run, leaving it resumable.
        stopForIo(new OuroborosError(ErrorCode.IO, e.message ?? String(err), e.hint === undefined ? {} : { hint: e.hint }))
        return
      }
      if (failure !== undefined) return
      failure = { generation: e.generation ?? fallback, message: e.message ?? String(err), code: e.code ?? ErrorCode.INTERNAL, ...(typeof e.hint === 'string' ? { hint: e.hint } : {}) }
    }
    // Model states are only needed to resume: once every generation up to a newer checkpoint has
    // its record, older states go (an n-gram state on the Brown corpus is 11 MB a generation).
    // A resumed chain's checkpoint is the oldest: it goes once a newer one has its records.
    const checkpoints: number[] = g > 0 ? [g - 1] : []
    const seen = have
    let contiguous = 0
    while (seen.has(contiguous)) contiguous++
    const pruneStates = (): void => {
      while (seen.has(contiguous)) contiguous++
      const safe = checkpoints.filter((c) => c < contiguous)
      if (safe.length < 2) return
      const keep = safe[safe.length - 1]!
      for (const c of safe.slice(0, -1)) rmSync(statePath(runDir, chain.id, c), { force: true })
      checkpoints.splice(0, checkpoints.indexOf(keep))
    }
    const accept = (returned: RecordBatch | PortableRecordBatch): void => {
      const batch = fromPortable(returned)
      try {
        appendRecordBatch(runDir, batch)
      } catch (err) {
        stopForIo(err)
        return
      }
      if (batch.resolvedOptions !== undefined && Object.keys(batch.resolvedOptions).length > 0) ci.resolvedOptions = batch.resolvedOptions
      for (const e of batch.metricErrors ?? []) {
        const known = (ci.metricErrors ??= []).find((f) => f.group === e.group)
        if (known !== undefined) {
          known.generations++
          known.firstGeneration = Math.min(known.firstGeneration, e.generation)
          continue
        }
        ci.metricErrors.push({ group: e.group, message: e.message, firstGeneration: e.generation, generations: 1 })
        opts.onProgress?.({ chain: chain.id, generation: e.generation, generationsDone: done, generationsTotal: total, metricError: { chain: chain.id, ...e } })
      }
      forEachRecord(batch, (_, generation, ms) => {
        seen.add(generation)
        if (generation < 0) return
        done++
        ci.generationsDone = Math.max(ci.generationsDone, generation + 1)
        opts.onProgress?.({ chain: chain.id, generation, generationsDone: done, generationsTotal: total, ms })
      })
      saveInfo(false)
      pruneStates()
    }
    const evaluate = (items: GenerationResult[], withReference: boolean): void => {
      const evalTask: EvaluateTask = { kind: 'evaluate', runDir, chain, items, reference: withReference }
      // One handler for both ways an evaluation fails: the task rejects, or it returns its failure.
      evaluations.push(
        runner
          .run(evalTask, 'evaluate')
          .then((value: unknown) => accept(unwrap<RecordBatch>(value)))
          .catch((err: unknown) => fail(err, items[0]?.generation ?? g)),
      )
    }
    while (g < chain.config.generations && failure === undefined && !stop.signal.aborted) {
      const task: AdvanceTask = { kind: 'advance', runDir, chain, from: g, budgetMs: oneAtATime ? 0 : segmentMs, reference }
      let result: AdvanceResult | undefined
      try {
        result = unwrap<AdvanceResult | undefined>(await runner.run(task, 'advance', () => started([ci])))
      } catch (err) {
        const threadDied = (err as { code?: unknown }).code === undefined
        if (threadDied && !oneAtATime && !stop.signal.aborted) {
          oneAtATime = true
          const why = (err as { message?: unknown }).message
          opts.onProgress?.({ chain: chain.id, generation: g, generationsDone: done, generationsTotal: total, notice: `chain ${chain.id}: the task from generation ${g} died${typeof why === 'string' ? ` (${why})` : ''}; generation ${g} is tried again alone` })
          continue
        }
        fail(err, g)
        break
      }
      // The run stopped before this chain's task started.
      if (result === undefined) break
      oneAtATime = false
      if (result.scored !== undefined) accept(result.scored)
      if (result.generations.length > 0) evaluate(result.generations, reference && result.scored === undefined)
      reference = false
      g = result.next
      checkpoints.push(g - 1)
      // Where the task scored its own generations, their records came before this checkpoint.
      pruneStates()
      if (result.failure !== undefined) fail(result.failure, g)
    }
    await Promise.all(evaluations)
    if (failure !== undefined) {
      ci.status = 'failed'
      ci.error = failure
      opts.onProgress?.({
        chain: chain.id,
        generation: failure.generation,
        generationsDone: done,
        generationsTotal: total,
        failed: { chain: chain.id, ...failure },
      })
    } else if (g >= chain.config.generations) {
      ci.status = 'finished'
      delete ci.error
    } else if (stop.signal.aborted) {
      ci.status = 'interrupted'
    }
    saveInfo(true)
  }

  /**
   * Chains of one cell advanced together by one task at a time (see advanceBlock); what a block
   * leaves (a hand-back, a thread that died, a stop) goes on chain by chain from its checkpoints.
   */
  const runBlock = async (block: ChainSpec[], local: LocalRunner): Promise<void> => {
    const states = block.map((chain) => {
      const have = recorded.get(chain.id) ?? new GenerationSet()
      recorded.set(chain.id, have)
      const g = opts.resume ? resumePoint(runDir, chain, opts.modality, have) : 0
      const ci = chainInfo.get(chain.id)!
      ci.generationsDone = g
      return { chain, ci, have, g, checkpoint: g > 0 ? g - 1 : undefined }
    })
    let open = states.filter((s) => s.g < s.chain.config.generations || !s.have.has(-1))
    while (open.length > 0 && !stop.signal.aborted && ioFailure === undefined) {
      const task: AdvanceBlockTask = {
        kind: 'advance-block',
        runDir,
        chains: open.map((s) => s.chain),
        from: open.map((s) => s.g),
        reference: open.map((s) => !s.have.has(-1)),
        // Each chain's share of a task is a segment's, so that checkpoints stay as rare as chain by chain.
        budgetMs: Math.max(opts.blockBudgetMs ?? BLOCK_BUDGET_MS, segmentMs * open.length),
      }
      let result: AdvanceBlockResult | undefined
      try {
        result = unwrap<AdvanceBlockResult | undefined>(await local.run(task, 'advance', () => started(open.map((s) => s.ci))))
      } catch {
        break
      }
      if (result === undefined) break
      try {
        appendRecordBatch(runDir, result.scored)
      } catch (err) {
        stopForIo(err)
        break
      }
      const byId = new Map(open.map((s) => [s.chain.id, s]))
      forEachRecord(result.scored, (chain, generation, ms) => {
        const s = byId.get(chain)!
        s.have.add(generation)
        if (generation < 0) return
        done++
        s.ci.generationsDone = Math.max(s.ci.generationsDone, generation + 1)
        opts.onProgress?.({ chain, generation, generationsDone: done, generationsTotal: total, ms })
      })
      for (const [id, options] of Object.entries(result.resolvedOptions)) if (Object.keys(options).length > 0) byId.get(id)!.ci.resolvedOptions = options
      open.forEach((s, i) => {
        const next = result.next[i]!
        if (next > s.g) {
          // The newest checkpoint has its records now: the one before is not needed to resume.
          if (s.checkpoint !== undefined) rmSync(statePath(runDir, s.chain.id, s.checkpoint), { force: true })
          s.checkpoint = next - 1
        }
        s.g = next
      })
      saveInfo(false)
      if (result.hookBreach !== undefined) {
        const first = open[0]!
        opts.onProgress?.({ chain: first.chain.id, generation: first.g, generationsDone: done, generationsTotal: total, notice: `${result.hookBreach}; its chains go on one at a time through sample(), more slowly` })
      }
      if (result.handBack !== undefined) break
      open = open.filter((s) => s.g < s.chain.config.generations)
    }
    await Promise.all(block.map((chain) => runOne(chain, true)))
  }

  try {
    const blockChains = runner instanceof LocalRunner ? blockSize(chains, runner.workers, opts.blockChains) : 1
    const blocks: ChainSpec[][] = []
    const single: ChainSpec[] = []
    if (blockChains > 1) {
      const byCell = new Map<number, ChainSpec[]>()
      for (const chain of chains) {
        if (!(await runsInBlocks(chain))) single.push(chain)
        else byCell.set(chain.cell, [...(byCell.get(chain.cell) ?? []), chain])
      }
      for (const list of byCell.values()) for (let i = 0; i < list.length; i += blockChains) blocks.push(list.slice(i, i + blockChains))
    } else {
      single.push(...chains)
    }
    await Promise.all([...blocks.map((b) => runBlock(b, runner as LocalRunner)), ...single.map((c) => runOne(c))])
  } finally {
    await runner.destroy()
  }
  if (ioFailure !== undefined) throw ioError(ioFailure)
  // Logged as they came; written sorted (a resumed run's log may hold records computed twice),
  // so that a resumed run's files equal an uninterrupted one's byte for byte.
  const recordChains = chains.map(({ id, cell, replicate, seed, params }) => ({ id, cell, replicate, seed, params }))
  opts.onRecordLog?.(runDir, recordChains)
  const { records } = await finalizeRecords(runDir, recordChains, { text })
  const failed = info.chains.filter((c) => c.status === 'failed')
  const interrupted = info.chains.some((c) => c.status !== 'finished' && c.status !== 'failed')
  info.status = interrupted ? 'interrupted' : failed.length > 0 ? 'failed' : 'finished'
  info.finishedAt = interrupted ? null : new Date().toISOString()
  writeRunInfo(runDir, info)
  return { info, records, failed, interrupted }
}
