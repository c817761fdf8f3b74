import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { BroadcastChannel } from 'node:worker_threads'

/**
 * How far a generation's training is (its fit, or a post-training stage): sent from the worker
 * thread training it to the run's progress display, since one generation may train for minutes.
 */
export interface TrainingProgress {
  chain: string
  generation: number
  /** 'fit', or the post-training stage's kind ('finetune', 'rl'); a phase without steps (steps 0) after them. */
  what: string
  step: number
  steps: number
}

/** At most this often per chain a worker says how far it is: a step may take microseconds. */
const MIN_INTERVAL_MS = 200

/** The worker's channels, one per run, open for the thread's life (unref'd: they keep nothing alive). */
const open = new Map<string, BroadcastChannel>()

/**
 * The worker's side: a chain's training steps posted on the run's channel, at most every 200 ms
 * and at each last step. Undefined without a channel (a task from a queue: its run is elsewhere).
 */
export function trainingProgressSender(channel: string | undefined, chain: string, generation: number): ((what: string, step: number, steps: number) => void) | undefined {
  if (channel === undefined) return undefined
  let port = open.get(channel)
  if (port === undefined) {
    port = new BroadcastChannel(channel)
    port.unref()
    open.set(channel, port)
  }
  const out = port
  let last = -Infinity
  return (what, step, steps) => {
    const now = performance.now()
    if (step < steps && now - last < MIN_INTERVAL_MS) return
    last = now
    const message: TrainingProgress = { chain, generation, what, step, steps }
    out.postMessage(message)
  }
}

/** The run's side: a channel of its own that its worker threads post training progress on, until closed. */
export function listenTrainingProgress(onProgress: (p: TrainingProgress) => void): { channel: string; close(): void } {
  const channel = `ouroboros-training-progress-${randomUUID()}`
  const port = new BroadcastChannel(channel)
  port.unref()
  port.onmessage = (event) => onProgress((event as { data: TrainingProgress }).data)
  return { channel, close: () => port.close() }
}
