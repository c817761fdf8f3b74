import { describe, expect, it } from 'vitest'
import { LocalRunner, type AdvanceBlockTask } from '@ouroboros/scheduler'

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
