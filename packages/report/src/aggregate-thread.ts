import { Worker } from 'node:worker_threads'
import type { RecordChain } from '@ouroboros/store'
import { RunAggregator, type RecordSummary } from './aggregate.js'
import type { AggregateJob, FromThread } from './aggregate-worker.js'

/**
 * The report's aggregation of a run's records (summarizeRecords) on a thread of its own, reading
 * the record log beside the main thread, which writes the record files from it at the same time
 * while the run's workers are idle: the aggregation then takes no wall time of its own.
 */
export class AggregatorThread {
  private worker: Worker | undefined
  private result: Promise<RecordSummary> | undefined

  /** Starts once the record log is complete; a second call does nothing. */
  start(runDir: string, chains: readonly RecordChain[]): void {
    if (this.worker !== undefined) return
    const job: AggregateJob = { runDir, chains }
    // A small young generation: frequent scavenges keep the thread's short-lived garbage (each
    // chain's row maps, the blocks' views) from growing its heap.
    const worker = new Worker(new URL('./aggregate-worker.js', import.meta.url), { workerData: job, resourceLimits: { maxYoungGenerationSizeMb: 4 } })
    // Until summary() is asked for, a run that fails does not wait on the thread.
    worker.unref()
    this.result = new Promise<RecordSummary>((resolve, reject) => {
      worker.on('message', (message: FromThread) => {
        if (message.kind === 'summary') resolve(message.summary)
        else reject(new Error(`the report's aggregation failed: ${message.message}`))
      })
      worker.on('error', reject)
      worker.on('exit', (code) => reject(new Error(`the report's aggregation thread exited with code ${code} before its answer`)))
    })
    // A failure nobody asks for (the run failed first) is not an unhandled rejection.
    this.result.catch(() => undefined)
    this.worker = worker
  }

  /** The summary of the run's records; the summary of none when start() was never called (no record log was finished). */
  async summary(): Promise<RecordSummary> {
    if (this.worker === undefined) return new RunAggregator().summary()
    this.worker.ref()
    try {
      return await this.result!
    } finally {
      await this.worker.terminate()
    }
  }
}
