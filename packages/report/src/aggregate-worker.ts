import { parentPort, workerData } from 'node:worker_threads'
import type { RecordChain } from '@ouroboros/store'
import { summarizeRecords, type RecordSummary } from './aggregate.js'

/** The thread behind AggregatorThread: summarizes a run's records from its record log, answers once. */
export interface AggregateJob {
  runDir: string
  chains: readonly RecordChain[]
}

export type FromThread = { kind: 'summary'; summary: RecordSummary } | { kind: 'error'; message: string }

const port = parentPort
if (port !== null) {
  const { runDir, chains } = workerData as AggregateJob
  let message: FromThread
  try {
    message = { kind: 'summary', summary: summarizeRecords(runDir, chains) }
  } catch (err) {
    message = { kind: 'error', message: (err as Error).message }
  }
  port.postMessage(message)
}
