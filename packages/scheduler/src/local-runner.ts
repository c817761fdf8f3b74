import type { Piscina } from 'piscina'

/** Evaluations go first: they turn finished work into records (and progress); advances make more. */
export type TaskPriority = 'evaluate' | 'advance'

interface Waiting {
  task: unknown
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

/**
 * The pool's front door. Every chain has a task ready at any time, so submitting them straight to
 * piscina would queue them first-in first-out: an evaluation (and with it the record and the
 * progress line) would wait behind every other chain's next fit, and a stop could not take back
 * what was already queued. Here at most `slots` tasks are in the pool at once, the rest wait,
 * evaluations ahead of advances; `close` drops the advances still waiting.
 */
export class TaskQueue {
  private readonly waiting: Record<TaskPriority, Waiting[]> = { evaluate: [], advance: [] }
  private inFlight = 0
  private closed = false

  constructor(
    private readonly pool: Piscina,
    private readonly slots: number,
  ) {}

  /** Runs a task; an advance submitted after `close` resolves to undefined without running. */
  run(task: unknown, priority: TaskPriority): Promise<unknown> {
    if (this.closed && priority === 'advance') return Promise.resolve(undefined)
    return new Promise((resolve, reject) => {
      this.waiting[priority].push({ task, resolve, reject })
      this.pump()
    })
  }

  /** No more advances: those waiting resolve to undefined; evaluations still run. */
  close(): void {
    this.closed = true
    for (const w of this.waiting.advance.splice(0)) w.resolve(undefined)
  }

  private pump(): void {
    while (this.inFlight < this.slots) {
      const next = this.waiting.evaluate.shift() ?? this.waiting.advance.shift()
      if (next === undefined) return
      this.inFlight++
      this.pool.run(next.task).then(next.resolve, next.reject).finally(() => {
        this.inFlight--
        this.pump()
      })
    }
  }
}
