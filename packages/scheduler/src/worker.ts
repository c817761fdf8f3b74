import { Piscina } from 'piscina'
import { sampleBuffers } from '@ouroboros/core'
import { advanceBlock, type AdvanceBlockTask } from './block.js'
import { advance, describeFailure, evaluate, type AdvanceTask, type EvaluateTask, type FailureInfo } from './chain.js'

/** A task's failure, returned as a value: errors thrown across threads lose their fields. */
export interface TaskFailure {
  failed: FailureInfo
}

/** The worker thread's entry: one function, three kinds of task. */
export default async function run(task: AdvanceTask | AdvanceBlockTask | EvaluateTask): Promise<unknown> {
  try {
    if (task.kind === 'evaluate') return await evaluate(task)
    if (task.kind === 'advance-block') {
      const result = await advanceBlock(task)
      return Piscina.move({ [Piscina.transferableSymbol]: result.scored.parts.map((p) => p.rows.buffer), [Piscina.valueSymbol]: result } as never)
    }
    const result = await advance(task)
    if (result.generations.length === 0) return result
    // The worker keeps the last generation for its next segment, so only copies move.
    const copy = structuredClone(result)
    const buffers = copy.generations.flatMap((g) => sampleBuffers(g.samples))
    return Piscina.move({ [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: copy } as never)
  } catch (err) {
    const failure: TaskFailure = { failed: describeFailure(err) }
    return failure
  }
}
