import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { BroadcastChannel } from 'node:worker_threads'

/** How far a chain's post-training stage is: sent from the worker thread training it to the run's progress display. */
export interface StageProgress {
  chain: string
  generation: number
  /** The stage's index in the config's `posttrain` list, and its kind. */
  stage: number
  kind: string
  step: number
  steps: number
}

/** At most this often per chain a worker says how far a stage is: a step may take microseconds. */
const MIN_INTERVAL_MS = 200

/** The worker's channels, one per run, open for the thread's life (unref'd: they keep nothing alive). */
const open = new Map<string, BroadcastChannel>()

/**
 * The worker's side: a chain's stage steps posted on the run's channel, at most every 200 ms and
 * at each stage's last step. Undefined without a channel (a task from a queue: its run is elsewhere).
 */
export function stageProgressSender(channel: string | undefined, chain: string, generation: number): ((stage: { index: number; kind: string }, step: number, steps: number) => void) | undefined {
  if (channel === undefined) return undefined
  let port = open.get(channel)
  if (port === undefined) {
    port = new BroadcastChannel(channel)
    port.unref()
    open.set(channel, port)
  }
  const out = port
  let last = -Infinity
  return (stage, step, steps) => {
    const now = performance.now()
    if (step < steps && now - last < MIN_INTERVAL_MS) return
    last = now
    const message: StageProgress = { chain, generation, stage: stage.index, kind: stage.kind, step, steps }
    out.postMessage(message)
  }
}

/** The run's side: a channel of its own that its worker threads post stage progress on, until closed. */
export function listenStageProgress(onProgress: (p: StageProgress) => void): { channel: string; close(): void } {
  const channel = `ouroboros-stage-progress-${randomUUID()}`
  const port = new BroadcastChannel(channel)
  port.unref()
  port.onmessage = (event) => onProgress((event as { data: StageProgress }).data)
  return { channel, close: () => port.close() }
}
