import { hostname, userInfo } from 'node:os'
import { performance } from 'node:perf_hooks'
import { Worker, type Job } from 'bullmq'
import { ErrorCode, OuroborosError, ouroborosCommand, shellWord, toOuroborosError } from '@ouroboros/core'
import { RUN_AGAIN, RunLock, fileFailure, readRunInfo, toPortable, type PortableRecordBatch, type RunInfo } from '@ouroboros/store'
import type { AdvanceResult, AdvanceTask, FailureInfo } from '../chain.js'
import { LocalRunner } from '../local-runner.js'
import { chainSpecsOf, mapModules, type ChainSpec, type RunSpecs } from '../spec.js'
import type { TaskFailure } from '../worker.js'
import { QUEUE_NAME, connectionOptions, probeRedis, queueCommand, redact, type QueueAddress } from './address.js'
import { queueTaskSchema, type QueueTask } from './task.js'

export interface QueueWorkerOptions {
  address: QueueAddress
  /** Threads of the local pool, and tasks taken at once. */
  workers: number
  /**
   * How long a task stays locked to this worker without word from it (ms): after a kill, another
   * worker takes the task over within about twice this.
   */
  lockMs: number
  /**
   * This installation's URL of a module named by a chain spec (a package name or an absolute
   * path); throws a PLUGIN error for one it does not have or will not load.
   */
  resolveModule: (module: string) => string
  /**
   * Throws a PLUGIN error for a chain this worker will not run once its modules are found (a
   * model program, `model.command`, where the worker was not allowed to start programs).
   */
  checkChain?: (chain: ChainSpec) => void
  /**
   * This installation's git commit, where it is a checkout: tasks from a coordinator on another
   * commit are refused, since their records could differ from those of one installation.
   */
  commit?: string
  /**
   * The hash of this installation's built JavaScript: tasks from a coordinator whose build differs
   * are refused, at the same commit too (uncommitted changes, a build older than its sources).
   */
  build?: string
  /** Gives up when Redis cannot be reached at the start for this long (ms). */
  timeoutMs: number
  log: (line: string) => void
}

export interface QueueWorker {
  /** Takes no more tasks, finishes those in flight, then frees the pool and the connections. */
  close(): Promise<void>
}

/** Runs at most this many runs' chain specs from memory; older ones are read again when needed. */
const CACHED_RUNS = 8

/** How often the queue is checked for tasks whose worker died (ms), at most. */
const STALLED_CHECK_MS = 5000

/**
 * A worker process: takes tasks of any run from the shared queue and runs them on the local
 * worker pool. A task names its run directory and chain; the chain's spec comes from run.json
 * there, its plug-ins from this installation, its checkpoints from the run directory.
 */
export async function startQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorker> {
  const { address, log } = opts
  await probeRedis(address, opts.timeoutMs, (why) => log(`queue: waiting for Redis at ${address.shown} (${why}); trying again every second for up to ${Math.round(opts.timeoutMs / 1000)} s (--queue-timeout)`))
  const runner = new LocalRunner(opts.workers)
  const specs = new Map<string, RunSpecCache>()
  const name = `${hostname()}:${process.pid}`
  // The tasks in flight by chain, so that their training steps reach their coordinators as the
  // tasks' progress. Chains of two runs may share an id: their steps are then not sent.
  const inFlight = new Map<string, Set<Job>>()
  runner.onTrainingProgress((p) => {
    const jobs = inFlight.get(p.chain)
    if (jobs?.size === 1) for (const job of jobs) void job.updateProgress({ ...p }).catch(() => undefined)
  })

  const process_ = async (job: Job): Promise<AdvanceResult | (Omit<AdvanceResult, 'scored'> & { scored: PortableRecordBatch }) | TaskFailure> => {
    const parsed = queueTaskSchema.safeParse(job.data)
    if (!parsed.success) throw new Error(`worker ${name} cannot read task ${job.id}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    const task = parsed.data
    let chain: ChainSpec
    try {
      sameCode(task, opts.commit, opts.build)
      chain = chainOf(task, specs, opts.resolveModule)
      opts.checkChain?.(chain)
    } catch (err) {
      const failed: FailureInfo = { ...refusalOf(err, name, task, address), generation: task.from }
      log(`${task.chain} at generation ${task.from} (${task.runDir}): refused: ${failed.message}`)
      return { failed }
    }
    const gone = coordinatorGone(task)
    if (gone !== undefined) {
      log(`${task.chain} at generation ${task.from} (${task.runDir}): dropped: ${gone}`)
      return { failed: { code: ErrorCode.RUN_DIR, message: `worker ${name}: ${gone}`, generation: task.from } }
    }
    log(`${task.chain} from generation ${task.from} (${task.runDir})`)
    const t0 = performance.now()
    const advance: AdvanceTask = { kind: 'advance', runDir: task.runDir, chain, from: task.from, budgetMs: task.budgetMs, reference: task.reference, scoreInline: true }
    const jobs = inFlight.get(task.chain) ?? new Set<Job>()
    inFlight.set(task.chain, jobs.add(job))
    let result: AdvanceResult | TaskFailure
    try {
      result = (await runner.run(advance, 'advance')) as AdvanceResult | TaskFailure
    } finally {
      jobs.delete(job)
      if (jobs.size === 0) inFlight.delete(task.chain)
    }
    if ('failed' in result) result = { failed: asWorkers(result.failed, name, task, address) }
    else if (result.failure !== undefined) result = { ...result, failure: asWorkers(result.failure, name, task, address) }
    const seconds = ((performance.now() - t0) / 1000).toFixed(1)
    if ('failed' in result) log(`${task.chain} failed at generation ${result.failed.generation ?? task.from}: ${result.failed.message}`)
    else log(`${task.chain} generations ${task.from}–${result.next - 1} done in ${seconds} s${result.failure === undefined ? '' : `; failed at generation ${result.next}: ${result.failure.message}`}`)
    // The result travels as JSON: the record columns as base64.
    return 'failed' in result || result.scored === undefined ? result : { ...result, scored: toPortable(result.scored) }
  }

  const worker = new Worker(QUEUE_NAME, process_, {
    connection: connectionOptions(address),
    concurrency: opts.workers,
    lockDuration: opts.lockMs,
    // One check for stalled tasks serves the whole queue, and it runs at most once per the
    // interval of the worker that ran it last (a key of that lifetime): an interval set by
    // --lock-seconds would let a worker with a long lock, even one gone, hold off every other
    // worker's check for that long. A task is taken as stalled only once its own worker's lock has
    // lapsed, so a short check takes nothing early: takeover comes at the lock's end plus up to
    // two checks.
    stalledInterval: Math.min(opts.lockMs, STALLED_CHECK_MS),
    // A task whose worker died twice fails, rather than take down worker after worker; the
    // chain driver then tries it once more a generation at a time, as after a thread's death.
    maxStalledCount: 1,
    name,
    autorun: false,
  })
  // Each outage is said once: that the connection is lost, each kind of error once rather than
  // once per reconnection attempt, and that it is back. The worker's own 'ready' comes once only;
  // its backend passes on ioredis's 'ready' after every reconnection, and its 'close'.
  let lastError: string | undefined
  let down = false
  let closing = false
  worker.on('error', (err) => {
    const message = redact(err.message, address)
    if (message !== lastError) log(`queue: ${message}`)
    lastError = message
  })
  const backend = worker.getBackend()
  backend.on('close', () => {
    if (closing || down) return
    down = true
    log(`queue: lost the connection to ${address.shown}; trying again every second`)
  })
  backend.on('ready', () => {
    if (down) log(`queue: connected to ${address.shown} again`)
    down = false
    lastError = undefined
  })
  const running = worker.run()
  return {
    async close() {
      closing = true
      await worker.close()
      await running.catch(() => {})
      await runner.destroy()
    },
  }
}

/**
 * Why a task's coordinator no longer runs its run, or undefined: the run directory's lock is gone
 * (the run stopped) or names another process (the run resumed). A task left on the queue by a
 * stopped coordinator (a worker that held it died after the coordinator stopped) would otherwise
 * run into a run directory nobody reads, or beside its resumed run's own task for the chain.
 */
export function coordinatorGone(task: QueueTask): string | undefined {
  const { coordinator } = task
  if (coordinator === undefined) return undefined
  const holder = RunLock.heldBy(task.runDir)
  if (holder?.pid === coordinator.pid && holder.host === coordinator.host) return undefined
  const now = holder === undefined ? 'no process runs it now' : `process ${holder.pid} on ${holder.host} runs it now`
  return `the coordinator that queued this task (process ${coordinator.pid} on ${coordinator.host}) no longer runs ${task.runDir}: ${now}`
}

/**
 * A task from a coordinator on another git commit than this worker's installation is refused, and
 * one from a coordinator whose built JavaScript differs: the code that runs, which a commit alone
 * does not pin (uncommitted changes, a build older than its sources).
 */
export function sameCode(task: QueueTask, commit: string | undefined, build?: string): void {
  const hint = 'check out and build the same commit on every machine (docs/distributed.md), restart the workers'
  if (commit !== undefined && task.commit !== undefined && task.commit !== commit) {
    throw new OuroborosError(ErrorCode.PLUGIN, `this worker runs ouroboros at git ${commit.slice(0, 12)}, the run's coordinator at ${task.commit.slice(0, 12)}: its records could differ from one installation's`, { hint })
  }
  if (build === undefined || task.build === undefined || task.build === build) return
  const at = commit !== undefined && task.commit === commit ? ` at the same git commit ${commit.slice(0, 12)}` : ''
  throw new OuroborosError(ErrorCode.PLUGIN, `this worker runs ouroboros build ${build.slice(0, 12)}, the run's coordinator build ${task.build.slice(0, 12)}${at} (hashes of the built JavaScript: uncommitted changes or a build older than its sources differ): its records could differ from one installation's`, {
    hint: 'build the same code on every machine: the same commit, without local changes, then npx tsc -b (docs/distributed.md); restart the workers',
  })
}

/** A run's chain specs as far as this worker has needed them, and where run.json puts each chain. */
export interface RunSpecCache {
  cells: NonNullable<RunSpecs['cellSpecs']>
  entries: Map<string, RunInfo['chains'][number]>
  chains: Map<string, ChainSpec>
}

export function chainOf(task: QueueTask, cache: Map<string, RunSpecCache>, resolveModule: (module: string) => string): ChainSpec {
  let run = cache.get(task.runId)
  if (run === undefined) {
    // run.json lists every chain (2 MB for 10,000): read once per run, not once per chain.
    const info = readRunInfo(task.runDir) as RunInfo & Partial<RunSpecs>
    if (info.runId !== task.runId) {
      throw new OuroborosError(ErrorCode.RUN_DIR, `${task.runDir} holds run ${info.runId ?? '(written by an older ouroboros)'}, not the run ${task.runId} this task belongs to (was the directory replaced?)`)
    }
    if (info.cellSpecs === undefined) throw new OuroborosError(ErrorCode.RUN_DIR, `${task.runDir}/run.json has no spec for chain ${task.chain}`)
    run = { cells: info.cellSpecs, entries: new Map(info.chains.map((c) => [c.id, c])), chains: new Map() }
    cache.set(task.runId, run)
    if (cache.size > CACHED_RUNS) cache.delete(cache.keys().next().value!)
  }
  let chain = run.chains.get(task.chain)
  if (chain === undefined) {
    const entry = run.entries.get(task.chain)
    if (entry === undefined) throw new OuroborosError(ErrorCode.RUN_DIR, `${task.runDir}/run.json has no spec for chain ${task.chain}`)
    chain = mapModules(chainSpecsOf(run.cells, [entry])[0]!, resolveModule)
    run.chains.set(task.chain, chain)
  }
  return chain
}

/**
 * A task's failure to write in the run directory (IO) stops the run as it would locally, but the
 * coordinator shows it far from this machine: it names this worker and the user it runs as, and
 * ends with the resume command through the queue. Other failures are the chain's, as locally.
 */
export function asWorkers(failure: FailureInfo, worker: string, task: QueueTask, address: QueueAddress): FailureInfo {
  if (failure.code !== ErrorCode.IO) return failure
  const resume = `then finish the run with: ${queueCommand(ouroborosCommand(`resume ${shellWord(task.runDir)}`), address)}`
  const fix = (failure.hint ?? `fix that on the machine of worker ${worker}`).replace(`, ${RUN_AGAIN}`, '').replace('this user', `the user worker ${worker} runs as, ${userName()},`)
  return { ...failure, message: redact(`worker ${worker}: ${failure.message}`, address), hint: `${redact(fix, address)}, ${resume}` }
}

/** This process's user by name where the system has one for it, else by uid. */
function userName(): string {
  try {
    return userInfo().username
  } catch {
    return `uid ${process.getuid?.()}`
  }
}

/**
 * Why this worker cannot run a task. A run directory it cannot read stops the run (IO: mount it on
 * this machine, or let its user read it where permission was denied, then resume); a plug-in it
 * does not have, or code other than the coordinator's, fails the chain, as it would locally, and
 * where the hint says how to set the workers right, it ends with the resume that then finishes the run.
 */
export function refusalOf(err: unknown, worker: string, task: QueueTask, address: QueueAddress): Omit<FailureInfo, 'generation'> {
  const e = toOuroborosError(err)
  const message = redact(`worker ${worker}: ${e.message}`, address)
  const resume = queueCommand(ouroborosCommand(`resume ${shellWord(task.runDir)}`), address)
  if (e.code === ErrorCode.PLUGIN) return { code: e.code, message, ...(e.hint === undefined ? {} : { hint: `${redact(e.hint, address)}, then finish the run with: ${resume}` }) }
  if (fileFailure(e.cause).remedy === 'permissions' && e.hint !== undefined) {
    // The directory is there, but this worker's user may not read it: naming that user, as asWorkers does for a write.
    const fix = e.hint.replace(/, or run the command as the user who \w+ it$/, '').replace('this user', `the user worker ${worker} runs as, ${userName()},`)
    return { code: ErrorCode.IO, message, hint: `${redact(fix, address)}, then finish the run with: ${resume}` }
  }
  return { code: ErrorCode.IO, message, hint: `every machine that runs workers mounts the run directory at the same path (NFS, a shared volume); fix that, then: ${resume}` }
}
