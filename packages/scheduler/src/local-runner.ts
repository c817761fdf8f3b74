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

export function defaultWorkers(): number {
  return availableParallelism()
}

/**
 * The local worker pool (piscina) behind a front door. Every chain has a task ready at any time, so
 * submitting them straight to piscina would queue them first-in first-out: an evaluation (and with
 * it the record and the progress line) would wait behind every other chain's next fit, and a stop
 * could not take back what was already queued. Here at most `workers` tasks are in the pool at
 * once, the rest wait, evaluations ahead of advances; `close` drops the advances still waiting and
 * tells those in flight, through shared memory, to end after their current generation.
 */
export class LocalRunner implements Runner {
  readonly segmentMs = 250
  private readonly pool: Piscina
  private readonly waiting: Record<TaskPriority, Waiting[]> = { evaluate: [], advance: [] }
  private inFlight = 0
  private closed = false
  /** Seen by segments in flight in the worker threads: they end after their current generation. */
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(4))
  /** Where the threads say how far a generation's training is, once someone listens. */
  private training: { channel: string; close(): void } | undefined

  constructor(readonly workers: number = defaultWorkers()) {
    this.pool = new Piscina({ filename: workerUrl.href, minThreads: workers, maxThreads: workers, idleTimeout: 60_000 })
  }

  run(task: AdvanceTask | AdvanceBlockTask | EvaluateTask, priority: TaskPriority, onStart?: () => void): Promise<unknown> {
    if (this.closed && priority === 'advance') return Promise.resolve(undefined)
    const sent = task.kind === 'evaluate' ? task : { ...task, stop: this.stopFlag, ...(task.kind === 'advance' && this.training !== undefined ? { progressChannel: this.training.channel } : {}) }
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
    await this.pool.destroy()
    // After the threads: what they posted last still arrives.
    this.training?.close()
  }

  private pump(): void {
    while (this.inFlight < this.workers) {
      const next = this.waiting.evaluate.shift() ?? this.waiting.advance.shift()
      if (next === undefined) return
      this.inFlight++
      next.onStart?.()
      const task = this.pool.run(next.task)
      const free = (): void => {
        this.inFlight--
        this.pump()
      }
      if (next.task.kind === 'advance-block') {
        // The next task goes out before this result is handled: a block's records (appended to the
        // log, counted for the progress line) take the main thread long enough to leave the worker
        // idle for 6-9 % of a run of cheap chains. A block's result queues no evaluation.
        task.then(
          (value) => (free(), next.resolve(value)),
          (err) => (free(), next.reject(err)),
        )
      } else {
        // After the result is handled, so that an evaluation it queues goes out first.
        task.then(next.resolve, next.reject).finally(free)
      }
    }
  }
}
