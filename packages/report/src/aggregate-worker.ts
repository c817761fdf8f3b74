import { parentPort } from 'node:worker_threads'
import type { RecordBlock, RecordSource } from '@ouroboros/store'
import { RunAggregator, type RecordSummary } from './aggregate.js'

/** The thread behind AggregatorThread: aggregates the blocks it is sent, answers the summary at the end. */
export type ToThread =
  | { kind: 'source'; chains: RecordSource['chains']; metrics: RecordSource['metrics'] }
  | { kind: 'block'; block: RecordBlock }
  | { kind: 'end' }

export type FromThread = { kind: 'ack' } | { kind: 'summary'; summary: RecordSummary } | { kind: 'error'; message: string }

const port = parentPort
if (port !== null) {
  const aggregator = new RunAggregator()
  let source: Pick<RecordSource, 'chains' | 'metrics'> | undefined
  const send = (message: FromThread): void => port.postMessage(message)
  port.on('message', (message: ToThread) => {
    try {
      if (message.kind === 'source') {
        source = message
      } else if (message.kind === 'block') {
        aggregator.write(source!, message.block)
        send({ kind: 'ack' })
      } else {
        send({ kind: 'summary', summary: aggregator.summary() })
      }
    } catch (err) {
      send({ kind: 'error', message: (err as Error).message })
    }
  })
}
