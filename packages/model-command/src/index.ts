import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { z } from 'zod'
import { asVectors, defineModel, type Samples, type VectorSamples } from '@ouroboros/core'
import { decodeNpy, writeFileAtomic, encodeNpy } from '@ouroboros/store'
import { ModelProcess, PROTOCOL } from './process.js'

export { PROTOCOL } from './process.js'

export const params = z.strictObject({
  /** The program and its arguments, e.g. ["python3", "my_model.py"]. */
  command: z.array(z.string().min(1)).min(1),
  /** Where the command runs; the CLI sets it to the config file's directory unless given. */
  cwd: z.string().min(1).optional(),
  /** Longest wait for one reply (a whole fit included) before the chain fails. */
  timeoutMs: z.int().min(1).max(7 * 24 * 3600 * 1000).default(600_000),
  /** Passed to the model's constructor as they are. */
  params: z.record(z.string(), z.unknown()).default({}),
})
export type CommandParams = z.output<typeof params>

/** What a fitted generation is: the directory the child saved it in, and how to start a child that loads it. */
export interface CommandState {
  readonly model: string
  /** Dimension of the data it was fit on (the shape its samples must have). */
  readonly d: number
  /** The chain's directory: the child's log and array files go there. */
  readonly dir: string
  readonly spec: CommandParams
  /** The model's own summary (its `summary` request after the fit), for metrics that read one. */
  readonly summary?: Record<string, number | Float64Array>
}

/**
 * Children of one thread for one command, at most this many. A thread runs one task at a time
 * but the pool hands it segments of every chain in turn: a chain keeps its child while there is
 * room, and a child taken over by another chain loads that chain's saved generation, which costs
 * far less than starting a process.
 */
const MAX_PROCESSES = 4
/** A child with no request for this long is stopped (its chains have likely finished). */
const IDLE_MS = 60_000

interface Pooled {
  readonly process: ModelProcess
  /** Resolves to whether the model answers `summary`. */
  readonly ready: Promise<boolean>
}
/** By command (spec), most recently used last. */
const pools = new Map<string, Pooled[]>()

/** A child for a request of the chain in `dir`; `wants`: the saved model it should hold, if any. */
async function childFor(spec: CommandParams, dir: string, wants: string | undefined): Promise<{ child: ModelProcess; summarises: boolean }> {
  const key = JSON.stringify(spec)
  const pool = (pools.get(key) ?? []).filter((p) => p.process.alive)
  pools.set(key, pool)
  let pick =
    pool.find((p) => wants !== undefined && p.process.holds === wants) ??
    pool.find((p) => p.process.serving === dir) ??
    (pool.length < MAX_PROCESSES ? undefined : pool[0])
  if (pick === undefined) {
    const child = new ModelProcess({ command: spec.command, cwd: spec.cwd ?? process.cwd(), timeoutMs: spec.timeoutMs, idleMs: IDLE_MS, params: spec.params })
    const ready = child.request({ op: 'hello', protocol: PROTOCOL, params: spec.params }, "'hello'").then((reply) => {
      if (reply['protocol'] !== PROTOCOL) throw child.failed(`'hello': it speaks protocol ${String(reply['protocol'])}, this side ${PROTOCOL}`)
      return reply['summary'] === true
    })
    pick = { process: child, ready }
  } else {
    pool.splice(pool.indexOf(pick), 1)
  }
  pool.push(pick)
  pick.process.serving = dir
  return { child: pick.process, summarises: await pick.ready }
}

process.on('exit', () => {
  for (const pool of pools.values()) for (const p of pool) p.process.close()
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true })
})

/** Outside a run (a conformance test) there is no chain directory: fits go to a folder of this thread's. */
let scratch: string | undefined
let scratchFits = 0

function writeArray(file: string, x: VectorSamples): void {
  writeFileAtomic(file, encodeNpy(x))
}

function readArray(child: ModelProcess, file: string, what: string, n: number, d: number): VectorSamples {
  let x: VectorSamples
  try {
    x = decodeNpy(readFileSync(file), file)
  } catch (err) {
    const reason = (err as { code?: string }).code === 'ENOENT' ? `it replied ok but wrote no file at ${file}` : (err as Error).message
    throw child.failed(`${what}: ${reason}`)
  } finally {
    rmSync(file, { force: true })
  }
  if (x.n !== n || x.d !== d) throw child.failed(`${what}: it wrote an array of ${x.n} x ${x.d} values; expected ${n} x ${d}${d === 1 ? ` (or ${n} values)` : ''}`)
  return x
}

/** A `summary` reply's values: a number, or a list of numbers (any array, flattened). */
function summaryOf(child: ModelProcess, given: unknown): Record<string, number | Float64Array> {
  const out: Record<string, number | Float64Array> = {}
  const bad = (why: string) => child.failed(`'summary': ${why}; expected {name: number or list of numbers}`)
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw bad(`it replied ${JSON.stringify(given)}`)
  for (const [name, value] of Object.entries(given)) {
    const values = Array.isArray(value) ? value : [value]
    if (!values.every((v): v is number => typeof v === 'number')) throw bad(`'${name}' is ${JSON.stringify(value).slice(0, 100)}`)
    out[name] = values.length === 1 && !Array.isArray(value) ? values[0]! : Float64Array.from(values)
  }
  return out
}

async function holding(child: ModelProcess, model: string): Promise<void> {
  if (child.holds === model) return
  child.holds = undefined
  await child.send({ op: 'load', path: model }, `'load' of ${model}`)
  child.holds = model
}

const pad = (g: number): string => String(g).padStart(6, '0')

export const model = defineModel<CommandParams, CommandState>({
  id: 'command',
  modality: 'vectors',
  description: 'a model in another process (model.command, e.g. a Python script using ouroboros_model.py), spoken to over JSON lines with arrays as .npy files',
  params,
  acceptsTemperature: true,
  async fit(data, spec, ctx) {
    const x = asVectors(data, 'model.command training data')
    let dir = ctx.dir
    let path: string
    if (dir === undefined) {
      scratch ??= mkdtempSync(join(tmpdir(), 'ouroboros-command-'))
      dir = scratch
      path = join(dir, `fit-${threadId}-${scratchFits++}.model`)
    } else {
      path = join(dir, `gen-${pad(ctx.generation)}.model`)
    }
    const init = ctx.init
    const { child, summarises } = await childFor(spec, dir, init?.model)
    return child.exclusive(async () => {
      child.serving = dir
      if (init !== undefined) await holding(child, init.model)
      child.holds = undefined
      const file = child.ioPath(dir, 'train')
      writeArray(file, x)
      try {
        await child.send({ op: 'fit', data: file, seed: ctx.rng.nextUint32(), warm: init !== undefined, generation: ctx.generation }, `'fit' of generation ${ctx.generation}`)
      } finally {
        rmSync(file, { force: true })
      }
      // Saved beside its final name and renamed, so that a kill never leaves half a model there.
      const partial = `${path}.partial-${process.pid}-${threadId}`
      rmSync(partial, { recursive: true, force: true })
      mkdirSync(partial, { recursive: true })
      await child.send({ op: 'save', path: partial }, `'save' of generation ${ctx.generation}`)
      rmSync(path, { recursive: true, force: true })
      renameSync(partial, path)
      child.holds = path
      const summary = summarises ? summaryOf(child, (await child.send({ op: 'summary' }, `'summary' of generation ${ctx.generation}`))['summary']) : undefined
      return { model: path, d: x.d, dir, spec, ...(summary === undefined ? {} : { summary }) }
    })
  },
  async sample(state, n, ctx) {
    const { child } = await childFor(state.spec, state.dir, state.model)
    return child.exclusive(async () => {
      child.serving = state.dir
      await holding(child, state.model)
      const out = child.ioPath(state.dir, 'samples')
      const what = `'sample' of ${n}`
      await child.send({ op: 'sample', n, seed: ctx.rng.nextUint32(), temperature: ctx.temperature, out }, what)
      return readArray(child, out, what, n, state.d)
    })
  },
  async logLikelihood(state, data: Samples) {
    const x = asVectors(data, 'model.command log-likelihood data')
    const { child } = await childFor(state.spec, state.dir, state.model)
    return child.exclusive(async () => {
      child.serving = state.dir
      await holding(child, state.model)
      const file = child.ioPath(state.dir, 'data')
      const out = child.ioPath(state.dir, 'log_likelihood')
      writeArray(file, x)
      const what = `'log_likelihood' of ${x.n}`
      try {
        await child.send({ op: 'log_likelihood', data: file, out }, what)
      } finally {
        rmSync(file, { force: true })
      }
      return readArray(child, out, what, x.n, 1).data
    })
  },
  summary(state) {
    // Copies: metrics may move these buffers to another thread.
    const out: Record<string, number | Float64Array> = {}
    for (const [name, value] of Object.entries(state.summary ?? {})) out[name] = typeof value === 'number' ? value : value.slice()
    return out
  },
})

export default model
