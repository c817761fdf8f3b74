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
  /** Set when the generation is over but its record comes later (with the rest of its block's). */
  over?: true
}

/** The phase a generation that trained long says it is in once its training is over. */
export const SAMPLING_AND_SCORING = 'sampling and scoring'

/** At most this often per chain a worker says how far it is: a step may take microseconds. */
const MIN_INTERVAL_MS = 200

/** The worker's channels, one per run, open for the thread's life (unref'd: they keep nothing alive). */
const open = new Map<string, BroadcastChannel>()

/**
 * The worker's side: a chain's training steps posted on the run's channel, at most every 200 ms
 * and at each last step, from 200 ms after the generation began (a cheap model's fit of a few
 * milliseconds says nothing: its record follows at once). Undefined without a channel (no one
 * listens: a queue worker listens and passes the steps to the task's coordinator).
 */
export function trainingProgressSender(channel: string | undefined, chain: string, generation: number): GenerationProgress | undefined {
  if (channel === undefined) return undefined
  let port = open.get(channel)
  if (port === undefined) {
    port = new BroadcastChannel(channel)
    port.unref()
    open.set(channel, port)
  }
  const out = port
  let last = performance.now()
  let said = false
  const post = (message: TrainingProgress): void => {
    said = true
    out.postMessage(message)
  }
  return {
    step(what, step, steps) {
      const now = performance.now()
      if (step < steps && now - last < MIN_INTERVAL_MS) return
      last = now
      post({ chain, generation, what, step, steps })
    },
    trained() {
      // A generation that trained long says when its training is over: drawing and scoring its
      // samples after the last stage may take a while too.
      if (said) post({ chain, generation, what: SAMPLING_AND_SCORING, step: 0, steps: 0 })
    },
    over() {
      if (said) post({ chain, generation, what: '', step: 0, steps: 0, over: true })
    },
  }
}

/** A generation's progress reports (see trainingProgressSender). */
export interface GenerationProgress {
  /** How far its fit or post-training stage `what` is. */
  step(what: string, step: number, steps: number): void
  /** Its training is over: its samples are being drawn and scored (said only if it said anything before). */
  trained(): void
  /** The generation is over, its record still to come (said only if it said anything before). */
  over(): void
}

/** The run's side: a channel of its own that its worker threads post training progress on, until closed. */
export function listenTrainingProgress(onProgress: (p: TrainingProgress) => void): { channel: string; close(): void } {
  const channel = `ouroboros-training-progress-${randomUUID()}`
  const port = new BroadcastChannel(channel)
  port.unref()
  port.onmessage = (event) => onProgress((event as { data: TrainingProgress }).data)
  return { channel, close: () => port.close() }
}
