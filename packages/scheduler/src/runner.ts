import type { AdvanceTask, EvaluateTask } from './chain.js'
import type { TrainingProgress } from './training-progress.js'

/** Evaluations go first: they turn finished work into records (and progress); advances make more. */
export type TaskPriority = 'evaluate' | 'advance'

/**
 * Where the chain driver's tasks run: the local worker pool, or a queue that workers on other
 * machines take them from. The driver (resume, retries, segments, the single record writer) is
 * the same for both.
 */
export interface Runner {
  /**
   * Runs a task and resolves to the worker's return value (which may be a task failure). An
   * advance submitted after `close` resolves to undefined without running. A rejection carrying
   * an error code is that error (IO stops the run); one without a code means the thread or process
   * running the task died. `onStart` is called when a worker takes the task.
   */
  run(task: AdvanceTask | EvaluateTask, priority: TaskPriority, onStart?: () => void): Promise<unknown>
  /** The run stops: advances not started yet resolve to undefined; tasks in flight finish. */
  close(): void
  /** Frees threads and connections once no task is in flight. */
  destroy(): Promise<void>
  /** How long one task may fit consecutive generations of a chain (ms) unless the run says. */
  readonly segmentMs: number
  /** The fits and post-training stages of the tasks run from now on say after their steps how far they are. */
  onTrainingProgress?(listener: (p: TrainingProgress) => void): void
}
