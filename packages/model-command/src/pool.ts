import { rmSync } from 'node:fs'
import { HELLO, ModelProcess, PROTOCOL } from './process.js'
import type { CommandParams } from './model.js'

/**
 * Children of one thread for one command, at most this many. A thread runs one task at a time
 * but the pool hands it segments of every chain in turn: a chain keeps its child while there is
 * room, and a child taken over by another chain loads that chain's saved generation, which costs
 * far less than starting a process.
 */
const MAX_PROCESSES = 4
/**
 * A child with no request for this long is stopped (its chains have likely finished): a minute, or
 * OUROBOROS_COMMAND_IDLE_SECONDS, read once per thread.
 */
const IDLE_MS = idleMs(process.env['OUROBOROS_COMMAND_IDLE_SECONDS'])

function idleMs(given: string | undefined): number {
  const seconds = given === undefined || given.trim() === '' ? NaN : Number(given)
  return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds * 1000) : 60_000
}

/** What the model says of itself in its `hello` reply. */
export interface Abilities {
  /** It answers `summary`. */
  readonly summarises: boolean
  /** It has a `log_likelihood` (a child of an older ouroboros_model.py does not say: assumed). */
  readonly scores: boolean
}

interface Pooled {
  readonly process: ModelProcess
  readonly ready: Promise<Abilities>
}
/** By command (spec), most recently used last. */
const pools = new Map<string, Pooled[]>()

/** Folders of this process's to remove at exit (a scratch folder for fits outside a run). */
const scratchDirs = new Set<string>()
export const removeAtExit = (dir: string): void => void scratchDirs.add(dir)

process.on('exit', () => {
  for (const pool of pools.values()) for (const p of pool) p.process.close()
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true })
})

/** A child for a request of the chain in `dir`; `wants`: the saved model it should hold, if any. */
export async function childFor(spec: CommandParams, dir: string, wants: string | undefined): Promise<{ child: ModelProcess } & Abilities> {
  const key = JSON.stringify(spec)
  const pool = (pools.get(key) ?? []).filter((p) => p.process.alive)
  pools.set(key, pool)
  let pick =
    pool.find((p) => wants !== undefined && p.process.holds === wants) ??
    pool.find((p) => p.process.serving === dir) ??
    (pool.length < MAX_PROCESSES ? undefined : (pool.find((p) => p.process.trainee === undefined) ?? pool[0]))
  if (pick === undefined) {
    const child = new ModelProcess({ command: spec.command, cwd: spec.cwd ?? process.cwd(), timeoutMs: spec.timeoutMs, idleMs: IDLE_MS, params: spec.params })
    const ready = child.request({ op: 'hello', protocol: PROTOCOL, params: spec.params }, HELLO).then((reply) => {
      if (reply['protocol'] !== PROTOCOL) throw child.failed(`${HELLO}: it speaks protocol ${String(reply['protocol'])}, this side ${PROTOCOL}`)
      return { summarises: reply['summary'] === true, scores: reply['log_likelihood'] !== false }
    })
    pick = { process: child, ready }
  } else {
    pool.splice(pool.indexOf(pick), 1)
  }
  pool.push(pick)
  pick.process.serving = dir
  return { child: pick.process, ...(await pick.ready) }
}

/** Makes the child hold the saved model `model` (a `load` unless it holds it already). */
export async function holding(child: ModelProcess, model: string): Promise<void> {
  if (child.holds === model) return
  child.holds = undefined
  await child.send({ op: 'load', path: model }, `'load' of ${model}`)
  child.holds = model
}
