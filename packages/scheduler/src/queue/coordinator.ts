import { randomUUID } from 'node:crypto'
import { Queue, QueueEvents, type JobsOptions } from 'bullmq'
import { ErrorCode, OuroborosError, ouroborosCommand, shellWord } from '@ouroboros/core'
import type { AdvanceTask, EvaluateTask } from '../chain.js'
import type { Runner, TaskPriority } from '../runner.js'
import type { TrainingProgress } from '../training-progress.js'
import { QUEUE_NAME, connectionOptions, probeRedis, queueCommand, redact, streamEnd, type QueueAddress } from './address.js'
import type { QueueTask } from './task.js'

export interface QueueRunnerOptions {
  address: QueueAddress
  runId: string
  runDir: string
  /** The run stops with a resumable error once Redis has not answered for this long (ms). */
  timeoutMs: number
  /** Continuing a run whose coordinator died: its tasks still waiting on the queue are dropped. */
  resume?: boolean
  /** One line for the user: no worker is connected, the connection is lost or back. */
  notice?: (line: string) => void
  /**
   * The worker command that runs this run's tasks, as the user types it, without --queue (the
   * options its plug-in files and model programs need): said when no worker is connected.
   */
  workerCommand?: string
  /** This installation's git commit, where it is a checkout: workers on another commit refuse its tasks. */
  commit?: string
  /** The hash of this installation's built JavaScript: workers whose build differs refuse its tasks. */
  build?: string
  /** This process, as the run directory's lock names it: workers drop its tasks once the lock names it no more. */
  coordinator?: { pid: number; host: string }
  /**
   * Called once when the run was interrupted (close) and tasks are still in flight with no worker
   * connected to finish them or take them over from a worker that died: nothing will end the wait.
   */
  onStranded?: () => void
}

interface Pending {
  data: QueueTask
  name: string
  /** The job is on the queue (its add returned). */
  added: boolean
  /** Called when a worker takes the job (once). */
  onStart: (() => void) | undefined
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

/** Milliseconds between checks that Redis answers. */
const CHECK_MS = 2000
/**
 * Milliseconds between looks at every job in flight, for a result whose event was missed or a job
 * Redis lost (and at once after a reconnection): one command per job, too many to send every check
 * in a sweep of thousands of chains.
 */
const SCAN_MS = 30_000
/** Jobs stay this long if nobody reads their result (a coordinator that died). */
const KEEP = { age: 24 * 3600 }
const WORKER_CHECK_MS = 30_000

/**
 * The coordinator's side of the queue: every advance goes onto the shared BullMQ queue as a task
 * by reference and is taken by whichever worker is free; its result (records only: the task
 * scores every generation itself) comes back as the job's return value. Events bring results at
 * once; a check every few seconds stops the run when Redis has been away too long, and a slower
 * one finds results whose event was missed and puts back jobs that a restarted Redis lost.
 */
export class QueueRunner implements Runner {
  /** Longer than the local pool's: a task pays a queue round trip and reads its chain back from disk. */
  readonly segmentMs = 1000
  private readonly session = randomUUID().slice(0, 8)
  private seq = 0
  private readonly pending = new Map<string, Pending>()
  private closed = false
  private lost: OuroborosError | undefined
  private lastContact = Date.now()
  private lastScan = Date.now()
  private checking = false
  private readonly timer: NodeJS.Timeout
  private workersSeen: boolean | undefined
  private lastWorkerCheck = 0
  private connectionDown = false
  private stranded = false

  private constructor(
    private readonly opts: QueueRunnerOptions,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
  ) {
    events.on('active', ({ jobId }) => {
      const p = this.pending.get(jobId)
      p?.onStart?.()
      if (p !== undefined) p.onStart = undefined
    })
    // A worker's word on a task's training (throttled there): shown as a local run's is.
    events.on('progress', ({ jobId, data }) => {
      if (this.pending.has(jobId) && isTrainingProgress(data)) this.trainingListener?.(data)
    })
    events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, { value: returnvalue }))
    events.on('failed', ({ jobId, failedReason }) => this.settle(jobId, { failedReason }))
    this.timer = setInterval(() => void this.check(), CHECK_MS)
  }

  /** Connects (or fails with a clear message within the time allowed) and clears a dead coordinator's tasks. */
  static async open(opts: QueueRunnerOptions): Promise<QueueRunner> {
    await probeRedis(opts.address, 0)
    const connection = connectionOptions(opts.address)
    const queue = new Queue(QUEUE_NAME, { connection })
    // Read from the stream's end as it is now, not from whenever the reading starts: a task that
    // fails at once can finish before then, and its event would be missed.
    const events = new QueueEvents(QUEUE_NAME, { connection, lastEventId: await streamEnd(opts.address, queue.toKey('events')) })
    const runner = new QueueRunner(opts, queue, events)
    queue.on('error', (err) => runner.connectionLost(err))
    events.on('error', (err) => runner.connectionLost(err))
    // A restart can pass between two reconnection attempts without any error to show for it.
    queue.on('ioredis:close', () => runner.connectionLost(new Error('the connection closed')))
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()])
      if (opts.resume) await dropTasksOf(queue, opts.runId)
    } catch (err) {
      await runner.destroy()
      throw err
    }
    return runner
  }

  private trainingListener: ((p: TrainingProgress) => void) | undefined

  onTrainingProgress(listener: (p: TrainingProgress) => void): void {
    this.trainingListener = listener
  }

  run(task: AdvanceTask | EvaluateTask, _priority?: TaskPriority, onStart?: () => void): Promise<unknown> {
    if (task.kind !== 'advance') {
      return Promise.reject(new OuroborosError(ErrorCode.INTERNAL, 'the queue runs advance tasks only: they score their generations themselves'))
    }
    if (this.lost !== undefined) return Promise.reject(this.lost)
    if (this.closed) return Promise.resolve(undefined)
    const data: QueueTask = {
      v: 2,
      runId: this.opts.runId,
      runDir: task.runDir,
      chain: task.chain.id,
      from: task.from,
      budgetMs: task.budgetMs,
      reference: task.reference,
      ...(this.opts.commit === undefined ? {} : { commit: this.opts.commit }),
      ...(this.opts.build === undefined ? {} : { build: this.opts.build }),
      ...(this.opts.coordinator === undefined ? {} : { coordinator: this.opts.coordinator }),
    }
    // Unique per coordinator process: a resumed run's tasks never meet its dead coordinator's.
    const jobId = `${this.opts.runId}.${this.session}.${++this.seq}`
    return new Promise((resolve, reject) => {
      const pending: Pending = { data, name: `${task.chain.id}@${task.from}`, added: false, onStart, resolve, reject }
      this.pending.set(jobId, pending)
      this.add(jobId, pending)
    })
  }

  close(): void {
    this.closed = true
    // Tasks no worker has taken yet are taken back; those in flight finish and bring their records.
    for (const [jobId, p] of this.pending) if (p.added) void this.takeBack(jobId)
  }

  async destroy(): Promise<void> {
    clearInterval(this.timer)
    await shutDown(this.queue, this.events)
  }

  private add(jobId: string, p: Pending): void {
    const options: JobsOptions = { jobId, removeOnComplete: KEEP, removeOnFail: KEEP }
    this.queue.add(p.name, p.data, options).then(
      () => {
        p.added = true
        this.lastContact = Date.now()
        if (this.closed) void this.takeBack(jobId)
      },
      (err: unknown) => this.fail(err),
    )
  }

  private async takeBack(jobId: string): Promise<void> {
    try {
      const state = await this.queue.getJobState(jobId)
      if (state !== 'waiting' && state !== 'prioritized' && state !== 'delayed') return
      if ((await this.queue.remove(jobId)) === 1) this.settle(jobId, { value: undefined })
    } catch {
      // Redis is away: the check stops the run, or the job runs and its result is used.
    }
  }

  private settle(jobId: string, outcome: { value: unknown } | { failedReason: string }): void {
    this.lastContact = Date.now()
    const p = this.pending.get(jobId)
    if (p === undefined) {
      // A task of this run's dead coordinator, finished after a resume: nobody needs it now.
      if (jobId.startsWith(`${this.opts.runId}.`) && !jobId.startsWith(`${this.opts.runId}.${this.session}.`)) void this.queue.remove(jobId).catch(() => {})
      return
    }
    this.pending.delete(jobId)
    // The coordinator holds the result now; the job need not stay.
    void this.queue.remove(jobId).catch(() => {})
    if ('value' in outcome) p.resolve(outcome.value)
    // No error code: the driver treats it like a thread that died (once more, one generation a task).
    else p.reject(new Error(`task ${p.name} failed on the queue: ${outcome.failedReason}`))
  }

  private connectionLost(err: Error): void {
    if (this.connectionDown || this.lost !== undefined) return
    this.connectionDown = true
    this.opts.notice?.(`queue: lost the connection to ${this.opts.address.shown} (${redact(err.message, this.opts.address)}); waiting up to ${Math.round(this.opts.timeoutMs / 1000)} s for it`)
  }

  private async check(): Promise<void> {
    if (this.lost !== undefined) return
    if (this.pending.size === 0) {
      this.lastContact = Date.now()
      return
    }
    // Before waiting for the check in flight: while Redis is away, its commands wait too.
    if (Date.now() - this.lastContact > this.opts.timeoutMs) {
      this.fail(new Error(`no answer for ${Math.round((Date.now() - this.lastContact) / 1000)} s`))
      return
    }
    if (this.checking) return
    this.checking = true
    try {
      await this.queue.count()
      this.lastContact = Date.now()
      const back = this.connectionDown
      if (back) {
        this.connectionDown = false
        this.opts.notice?.(`queue: connected to ${this.opts.address.shown} again`)
      }
      if (back || Date.now() - this.lastScan >= SCAN_MS) await this.scan()
      await this.checkWorkers()
    } catch {
      // Redis is away; the next check measures for how long.
    } finally {
      this.checking = false
    }
  }

  private async scan(): Promise<void> {
    this.lastScan = Date.now()
    const ids = [...this.pending].filter(([, p]) => p.added).map(([id]) => id)
    const states = await Promise.all(ids.map((id) => this.queue.getJobState(id)))
    for (const [i, jobId] of ids.entries()) {
      const p = this.pending.get(jobId)
      const state = states[i]
      if (p === undefined) continue
      if (state === 'completed' || state === 'failed') {
        const job = await this.queue.getJob(jobId)
        if (job !== undefined) this.settle(jobId, state === 'completed' ? { value: job.returnvalue } : { failedReason: job.failedReason })
      } else if (state === 'unknown') {
        // Lost with Redis (restarted without the data it had not yet saved): queued again.
        p.added = false
        this.add(jobId, p)
      }
    }
  }

  private async checkWorkers(): Promise<void> {
    // Once interrupted, at every check: the wait for the tasks in flight may have no end.
    if (!this.closed && Date.now() - this.lastWorkerCheck < WORKER_CHECK_MS && this.workersSeen !== undefined) return
    this.lastWorkerCheck = Date.now()
    const any = (await this.workersConnected()) > 0
    if (!any && this.closed) return this.strand()
    if (!any && this.workersSeen !== false) {
      this.opts.notice?.(`queue: no worker is connected to ${this.opts.address.shown}; start one on any machine that mounts ${this.opts.runDir}: ${queueCommand(this.opts.workerCommand ?? ouroborosCommand('worker'), this.opts.address)}`)
    }
    this.workersSeen = any
  }

  /**
   * Workers of this queue on the coordinator's database: Redis's CLIENT LIST, which BullMQ reads,
   * lists the clients of every database of the server, and a worker on another serves another
   * queue. A server that does not list clients (BullMQ then returns one entry without a db) counts
   * as having a worker, as BullMQ counts it.
   */
  private async workersConnected(): Promise<number> {
    const db = String(this.opts.address.db)
    return (await this.queue.getWorkers()).filter((client) => client['db'] === undefined || client['db'] === db).length
  }

  /** Interrupted, with tasks in flight and no worker to finish them: said once, and the caller stops the run. */
  private strand(): void {
    if (this.stranded || this.pending.size === 0 || this.opts.onStranded === undefined) return
    this.stranded = true
    const chains = [...new Set([...this.pending.values()].map((p) => p.data.chain))]
    const named = chains.length <= 3 ? chains.join(', ') : `${chains.slice(0, 3).join(', ')} and ${chains.length - 3} more`
    this.opts.notice?.(
      `queue: interrupted, and no worker is connected to ${this.opts.address.shown} to finish the task${chains.length === 1 ? '' : 's'} in flight of chain${chains.length === 1 ? '' : 's'} ${named} (held by a worker that stopped answering): stopping now, as a second Ctrl-C would`,
    )
    this.opts.onStranded()
  }

  /** Redis is gone: every task in flight fails with the same resumable error, and the run stops. */
  private fail(cause: unknown): void {
    if (this.lost !== undefined) return
    const { address, runDir } = this.opts
    const why = redact(cause instanceof Error ? cause.message : String(cause), address)
    this.lost = new OuroborosError(ErrorCode.IO, `lost the queue at ${address.shown}: ${why}`, {
      hint: `start Redis again with its data (appendonly yes keeps the tasks), then finish the run with: ${queueCommand(ouroborosCommand(`resume ${shellWord(runDir)}`), address)}`,
    })
    for (const p of this.pending.values()) p.reject(this.lost)
    this.pending.clear()
  }
}

/** Removes a run's jobs that no worker has taken, and finished ones nobody read. */
async function dropTasksOf(queue: Queue, runId: string): Promise<void> {
  const jobs = await queue.getJobs(['wait', 'prioritized', 'delayed', 'completed', 'failed'])
  for (const job of jobs) if (job.id !== undefined && job.id.startsWith(`${runId}.`)) await queue.remove(job.id)
}

/** Closes both connections, or drops them when Redis does not answer. */
async function shutDown(queue: Queue, events: QueueEvents): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const closed = Promise.all([queue.close(), events.close()]).then(() => true, () => false)
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 2000)))
  const clean = await Promise.race([closed, late])
  clearTimeout(timer)
  if (!clean) await Promise.allSettled([queue.disconnect(), events.disconnect()])
}

function isTrainingProgress(data: unknown): data is TrainingProgress {
  if (typeof data !== 'object' || data === null) return false
  const p = data as Record<string, unknown>
  return typeof p['chain'] === 'string' && typeof p['generation'] === 'number' && typeof p['what'] === 'string' && typeof p['step'] === 'number' && typeof p['steps'] === 'number'
}
