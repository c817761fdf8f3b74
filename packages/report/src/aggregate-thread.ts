import { Worker } from 'node:worker_threads'
import type { RecordBlock, RecordSink, RecordSource } from '@ouroboros/store'
import { RunAggregator, type RecordSummary } from './aggregate.js'
import type { FromThread, ToThread } from './aggregate-worker.js'

/** Blocks posted and not yet aggregated before write() waits: memory stays flat when the thread falls behind. */
const MAX_PENDING = 4

/**
 * A RunAggregator on a thread of its own: at the end of a run the record files are written on the
 * main thread while the workers are idle, so the report's aggregation of the same blocks takes no
 * wall time there. write() copies each block to the thread; summary() gives what RunAggregator's
 * would.
 */
export class AggregatorThread implements RecordSink {
  private worker: Worker | undefined
  private pending = 0
  private ending = false
  private failure: Error | undefined
  private wake: (() => void) | undefined
  private answer: ((summary: RecordSummary) => void) | undefined
  private fail: ((err: Error) => void) | undefined

  /** Started when the record files are about to be written: the run's workers are done, and its start-up overlaps the writers' loading. */
  open(source: RecordSource): void {
    this.worker ??= this.start(source)
    this.holdOpen()
  }

  private start(source: RecordSource): Worker {
    // A small young generation: the thread's garbage is the record blocks it is sent, dead once
    // aggregated, and frequent scavenges free them before they add up (20–40 MiB off the peak of a
    // 10-million-record run).
    const worker = new Worker(new URL('./aggregate-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } })
    worker.on('message', (message: FromThread) => {
      if (message.kind === 'ack') {
        this.pending--
        this.holdOpen()
        this.wake?.()
      } else if (message.kind === 'summary') {
        this.answer?.(message.summary)
      } else {
        this.stop(new Error(`the report's aggregation failed: ${message.message}`))
      }
    })
    worker.on('error', (err) => this.stop(err))
    worker.on('exit', (code) => this.stop(new Error(`the report's aggregation thread exited with code ${code}`)))
    const message: ToThread = { kind: 'source', chains: source.chains, metrics: source.metrics }
    worker.postMessage(message)
    return worker
  }

  async write(source: RecordSource, block: RecordBlock): Promise<void> {
    this.worker ??= this.start(source)
    while (this.pending >= MAX_PENDING && this.failure === undefined) await new Promise<void>((resolve) => (this.wake = resolve))
    if (this.failure !== undefined) throw this.failure
    this.pending++
    this.holdOpen()
    const { length, chain, generation, fitMs, sampleMs, evalMs, metrics } = block
    this.post({ kind: 'block', block: { length, chain, generation, fitMs, sampleMs, evalMs, metrics } })
  }

  /** The aggregation of every block written; the thread ends with it. */
  async summary(): Promise<RecordSummary> {
    // No block was written (a run without records): the summary of none.
    if (this.worker === undefined) return new RunAggregator().summary()
    const worker = this.worker
    try {
      if (this.failure !== undefined) throw this.failure
      const summary = new Promise<RecordSummary>((resolve, reject) => {
        this.answer = resolve
        this.fail = reject
      })
      this.ending = true
      this.holdOpen()
      this.post({ kind: 'end' })
      return await summary
    } finally {
      worker.removeAllListeners('exit')
      await worker.terminate()
    }
  }

  /** The thread holds the process open only while it owes an answer: a run that fails midway does not wait on it. */
  private holdOpen(): void {
    if (this.pending > 0 || this.ending) this.worker!.ref()
    else this.worker!.unref()
  }

  private post(message: ToThread): void {
    this.worker!.postMessage(message)
  }

  private stop(err: Error): void {
    this.failure ??= err
    this.wake?.()
    this.fail?.(this.failure)
  }
}
