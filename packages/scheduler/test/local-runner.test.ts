import { describe, expect, it } from 'vitest'
import { LocalRunner, type AdvanceBlockTask, type EvaluateTask } from '@ouroboros/scheduler'
import { nextTask } from '../src/local-runner.js'

// A block task the worker answers at once: with no chains it fails, and the failure comes back as a value.
const empty = (runDir: string): AdvanceBlockTask => ({ kind: 'advance-block', runDir, chains: [], from: [], reference: [], budgetMs: 0 })

describe('LocalRunner', () => {
  it("sends the next block task to a free worker before the last one's result is handled", async () => {
    const runner = new LocalRunner(1)
    try {
      const started: string[] = []
      const first = runner.run(empty('/a'), 'advance', () => started.push('a'))
      const second = runner.run(empty('/b'), 'advance', () => started.push('b'))
      expect(started).toEqual(['a'])
      const result = await first
      // Handling the first result (appending its records, on the main thread) leaves the worker busy.
      expect(started).toEqual(['a', 'b'])
      expect(result).toHaveProperty('failed')
      await second
    } finally {
      await runner.destroy()
    }
  })
})

describe('which thread takes which task', () => {
  // Only the kind and the chain's id matter to the choice.
  const task = (kind: 'advance' | 'evaluate', chain: string) => ({ task: { kind, chain: { id: chain } } as unknown as EvaluateTask, name: `${kind} ${chain}` })
  const queues = () => ({ evaluate: [task('evaluate', 'a'), task('evaluate', 'b')], advance: [task('advance', 'c'), task('advance', 'b')] })

  it('sends a chain’s task to the free thread that ran its last one, evaluations first', () => {
    const home = new Map([['a', 1], ['b', 0]])
    const waiting = queues()
    // Thread 0 ran chain b: it takes b's evaluation, not a's, which waits for thread 1.
    expect(nextTask(waiting, [0], home)).toMatchObject({ thread: 0, next: { name: 'evaluate b' } })
    expect(nextTask(waiting, [0, 1], home)).toMatchObject({ thread: 1, next: { name: 'evaluate a' } })
    // With no evaluation left, thread 0 takes b's advance before c's, which came first.
    expect(nextTask(waiting, [0], home)).toMatchObject({ thread: 0, next: { name: 'advance b' } })
    expect(waiting.advance.map((w) => w.name)).toEqual(['advance c'])
  })

  it('sends the first task waiting to the first free thread when none ran its chain, and none without a free thread', () => {
    const waiting = queues()
    expect(nextTask(waiting, [], new Map())).toBeUndefined()
    // a ran on thread 1, which is busy: its evaluation goes to thread 0 rather than wait.
    expect(nextTask(waiting, [0], new Map([['a', 1]]))).toMatchObject({ thread: 0, next: { name: 'evaluate a' } })
    expect(nextTask(waiting, [2, 3], new Map())).toMatchObject({ thread: 2, next: { name: 'evaluate b' } })
  })
})
