import { availableParallelism } from 'node:os'
import { Piscina } from 'piscina'
import type { AdvanceBlockTask } from './block.js'
import type { AdvanceTask, EvaluateTask } from './chain.js'
import type { Runner, TaskPriority } from './runner.js'
import { listenTrainingProgress, type TrainingProgress } from './training-progress.js'

interface Waiting {
  task: AdvanceTask | AdvanceBlockTask | EvaluateTask
  onStart: (() => void) | undefined
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

const workerUrl = new URL('./worker.js', import.meta.url)

/**
 * The threads' Node options. Piscina loads its file with require() before import(), and Node 20's
 * require() of an ES module (on by default since 20.19) can abort the thread with a V8 fatal error
 * ("IsGraphAsync must be used on an instantiated module") when the module's loading is already
 * under way: turned off, require() refuses the file and Piscina imports it.
 */
const threadExecArgv = (process.features as { require_module?: boolean }).require_module === true ? [...process.execArgv, '--no-experimental-require-module'] : process.execArgv

export function defaultWorkers(): number {
  return availableParallelism()
}

/** The chain a task works on (a block's first), whose context a thread keeps once it ran one of its tasks. */
function chainOf(task: AdvanceTask | AdvanceBlockTask | EvaluateTask): string | undefined {
  return task.kind === 'advance-block' ? task.chains[0]?.id : task.chain.id
}

/**
 * The next task and its thread, given the free threads: evaluations first; of the kind waiting, a
 * task whose chain's last thread (`home`) is free goes there, else the first one goes to the first
 * free thread. Takes the task out of its queue.
 */
export function nextTask<W extends { task: AdvanceTask | AdvanceBlockTask | EvaluateTask }>(
  waiting: Record<TaskPriority, W[]>,
  free: readonly number[],
  home: ReadonlyMap<string, number>,
): { thread: number; next: W } | undefined {
  if (free.length === 0) return undefined
  for (const queue of [waiting.evaluate, waiting.advance]) {
    if (queue.length === 0) continue
    const at = queue.findIndex((w) => free.includes(home.get(chainOf(w.task) ?? '') ?? -1))
    if (at < 0) return { thread: free[0]!, next: queue.shift()! }
    const next = queue.splice(at, 1)[0]!
    return { thread: home.get(chainOf(next.task)!)!, next }
  }
  return undefined
}

/**
 * The local worker threads (piscina, one pool of one thread each) behind a front door. Every chain
 * has a task ready at any time, so submitting them straight to piscina would queue them first-in
 * first-out: an evaluation (and with it the record and the progress line) would wait behind every
 * other chain's next fit, and a stop could not take back what was already queued. Here each thread
 * has at most one task, the rest wait, evaluations ahead of advances; `close` drops the advances
 * still waiting and tells those in flight, through shared memory, to end after their current
 * generation.
 *
 * A thread keeps the context of the chains it ran (their real data, the metrics' preparation:
 * MNIST's `clusters` runs a k-means of the real digits, 30 s), so a chain's task goes to the thread
 * that ran its last one when that thread is free (`nextTask`): on another thread the same chain
 * would prepare it all again.
 */
export class LocalRunner implements Runner {
  readonly segmentMs = 250
  private readonly threads: { pool: Piscina; busy: boolean }[]
  private readonly waiting: Record<TaskPriority, Waiting[]> = { evaluate: [], advance: [] }
  /** Chain -> the thread that ran its last task. */
  private readonly home = new Map<string, number>()
  private closed = false
  /** Seen by segments in flight in the worker threads: they end after their current generation. */
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4))
  /** Where the threads say how far a generation's training is, once someone listens. */
  private training: { channel: string; close(): void } | undefined

  constructor(readonly workers: number = defaultWorkers()) {
    // atomics 'disabled': by default an idle thread blocks in Atomics.wait until its next task, so
    // nothing of its own runs meanwhile: a model program's idle timer (model-command) never fired
    // and its children lived as long as the thread, for good on a long-lived `ouroboros worker`.
    // Handing a task over as a message instead costs microseconds, against segments of 250 ms.
    this.threads = Array.from({ length: workers }, () => ({ pool: new Piscina({ filename: workerUrl.href, minThreads: 1, maxThreads: 1, idleTimeout: 60_000, execArgv: threadExecArgv, atomics: 'disabled' }), busy: false }))
  }

  run(task: AdvanceTask | AdvanceBlockTask | EvaluateTask, priority: TaskPriority, onStart?: () => void): Promise<unknown> {
    if (this.closed && priority === 'advance') return Promise.resolve(undefined)
    const sent = task.kind === 'evaluate' ? task : { ...task, stop: this.stopFlag, ...(this.training === undefined ? {} : { progressChannel: this.training.channel }) }
    return new Promise((resolve, reject) => {
      this.waiting[priority].push({ task: sent, onStart, resolve, reject })
      this.pump()
    })
  }

  close(): void {
    this.closed = true
    Atomics.store(this.stopFlag, 0, 1)
    for (const w of this.waiting.advance.splice(0)) w.resolve(undefined)
  }

  /** The fits and post-training stages of the tasks run from now on say after their steps how far they are. */
  onTrainingProgress(listener: (p: TrainingProgress) => void): void {
    this.training?.close()
    this.training = listenTrainingProgress(listener)
  }

  async destroy(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.pool.destroy()))
    // After the threads: what they posted last still arrives.
    this.training?.close()
  }

  private pick(): { thread: number; next: Waiting } | undefined {
    const free = this.threads.flatMap((t, i) => (t.busy ? [] : [i]))
    return nextTask(this.waiting, free, this.home)
  }

  private pump(): void {
    for (let pick = this.pick(); pick !== undefined; pick = this.pick()) {
      const { next } = pick
      const thread = this.threads[pick.thread]!
      thread.busy = true
      const chain = chainOf(next.task)
      if (chain !== undefined) this.home.set(chain, pick.thread)
      next.onStart?.()
      const task = thread.pool.run(next.task)
      if (next.task.kind === 'advance-block') {
        // The next task goes out before this result is handled: a block's records (appended to the
        // log, counted for the progress line) take the main thread long enough to leave the worker
        // idle for 6-9 % of a run of cheap chains. A block's result queues no evaluation.
        const free = (): void => {
          thread.busy = false
          this.pump()
        }
        task.then(
          (value) => (free(), next.resolve(value)),
          (err) => (free(), next.reject(err)),
        )
      } else {
        // The thread is free while the result is handled, but only then given a task: an
        // evaluation the result queues goes out first, on this thread, which holds its chain.
        task
          .then(
            (value) => ((thread.busy = false), next.resolve(value)),
            (err) => ((thread.busy = false), next.reject(err)),
          )
          .finally(() => this.pump())
      }
    }
  }
}
