import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { z } from 'zod'
import { OuroborosError, ErrorCode, asVectors, defineModel, type Samples, type VectorSamples } from '@ouroboros/core'
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
  /** The chain's directory: the child's log and array files live there, and it keys the child. */
  readonly dir: string
  readonly spec: CommandParams
}

/** Children of one thread, by chain and command; at most this many live at once. */
const MAX_PROCESSES = 4
/** A child with no request for this long is stopped (its chain has likely finished). */
const IDLE_MS = 60_000

interface Entry {
  readonly process: ModelProcess
  readonly ready: Promise<void>
  idle: NodeJS.Timeout | undefined
}
const processes = new Map<string, Entry>()

async function processFor(spec: CommandParams, dir: string): Promise<ModelProcess> {
  const key = JSON.stringify([dir, spec])
  let entry = processes.get(key)
  if (entry !== undefined && !entry.process.alive) {
    processes.delete(key)
    entry = undefined
  }
  if (entry === undefined) {
    const child = new ModelProcess({ command: spec.command, cwd: spec.cwd ?? process.cwd(), timeoutMs: spec.timeoutMs, params: spec.params, dir })
    const ready = child.request({ op: 'hello', protocol: PROTOCOL, params: spec.params }, "'hello'").then((reply) => {
      if (reply['protocol'] !== PROTOCOL) throw new OuroborosError(ErrorCode.MODEL, `model.command ${JSON.stringify(spec.command)}: it speaks protocol ${String(reply['protocol'])}, this side ${PROTOCOL}`)
    })
    entry = { process: child, ready, idle: undefined }
    if (processes.size >= MAX_PROCESSES) {
      const [oldest, old] = processes.entries().next().value!
      old.process.close()
      processes.delete(oldest)
    }
  } else {
    // Most recently used last, so the oldest is evicted first.
    processes.delete(key)
  }
  processes.set(key, entry)
  clearTimeout(entry.idle)
  const current = entry
  entry.idle = setTimeout(() => {
    current.process.close()
    if (processes.get(key) === current) processes.delete(key)
  }, IDLE_MS).unref()
  await entry.ready
  return entry.process
}

process.on('exit', () => {
  for (const entry of processes.values()) entry.process.close()
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
    const child = await processFor(spec, dir)
    const init = ctx.init
    return child.exclusive(async () => {
      if (init !== undefined) await holding(child, init.model)
      child.holds = undefined
      const file = join(child.ioDir, 'train.npy')
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
      return { model: path, d: x.d, dir, spec }
    })
  },
  async sample(state, n, ctx) {
    const child = await processFor(state.spec, state.dir)
    return child.exclusive(async () => {
      await holding(child, state.model)
      const out = join(child.ioDir, 'samples.npy')
      const what = `'sample' of ${n}`
      await child.send({ op: 'sample', n, seed: ctx.rng.nextUint32(), temperature: ctx.temperature, out }, what)
      return readArray(child, out, what, n, state.d)
    })
  },
  async logLikelihood(state, data: Samples) {
    const x = asVectors(data, 'model.command log-likelihood data')
    const child = await processFor(state.spec, state.dir)
    return child.exclusive(async () => {
      await holding(child, state.model)
      const file = join(child.ioDir, 'data.npy')
      const out = join(child.ioDir, 'log_likelihood.npy')
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
})

export default model
