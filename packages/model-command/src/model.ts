import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { z } from 'zod'
import { allFinite, asVectors, checkWeights, defineModel, inputError, vectors, type FitContext, type Modality, type ModelPlugin, type Samples } from '@ouroboros/core'
import { processAlive } from '@ouroboros/store'
import { outputFiles, readSentences, readVectors, removeFiles, vocabularyFile, writeData } from './arrays.js'
import { childFor, holding, removeAtExit } from './pool.js'
import { IO_PREFIX, type ModelProcess } from './process.js'
import { checkProgram } from './program.js'
import { commandTrainer } from './trainer.js'

export const params = z.strictObject({
  /** The program and its arguments, e.g. ["python3", "my_model.py"]. */
  command: z.array(z.string().min(1)).min(1),
  /** Where the command runs; the CLI sets it to the config file's directory unless given. */
  cwd: z
    .string()
    .min(1)
    .refine((dir) => isDirectory(dir), { error: (issue) => `${String(issue.input)} is not a directory; the command runs in model.cwd (a path relative to the config file, whose folder is the default)` })
    .optional(),
  /** Longest wait for one reply (a whole fit included) before the chain fails. */
  timeoutMs: z.int().min(1).max(7 * 24 * 3600 * 1000).default(600_000),
  /** Passed to the model's constructor as they are. */
  params: z.record(z.string(), z.unknown()).default({}),
})
export type CommandParams = z.output<typeof params>

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true
}

/** What a fitted generation is: the directory the child saved it in, and how to start a child that loads it. */
export interface CommandState {
  readonly model: string
  /** What it models (absent in states saved before text models: vectors). */
  readonly modality?: Modality
  /** Vectors: the dimension it was fit on, the shape its samples must have. */
  readonly d?: number
  /** Text: the vocabulary size its token ids must stay below. */
  readonly vocabSize?: number
  /** The chain's directory: the child's log and array files go there. */
  readonly dir: string
  readonly spec: CommandParams
  /** The model's own summary (its `summary` request after the fit), for metrics that read one. */
  readonly summary?: Record<string, number | Float64Array>
  /** False when the model has no `log_likelihood` (absent in states saved before this was recorded: assumed). */
  readonly scores?: boolean
}

/** Outside a run (a conformance test) there is no chain directory: fits go to a folder of this thread's. */
let scratch: string | undefined
let scratchFits = 0

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

const pad = (g: number): string => String(g).padStart(6, '0')

/** The model the child holds, summarised when it answers `summary`; `after` names the moment in errors. */
export async function summaryAfter(child: ModelProcess, summarises: boolean, after: string): Promise<Record<string, number | Float64Array> | undefined> {
  return summarises ? summaryOf(child, (await child.send({ op: 'summary' }, `'summary' ${after}`))['summary']) : undefined
}

/** The folder of a refit's model (`besideModel(..., 'refit', n)`): never a generation's own. */
const REFIT_FOLDER = /\.refit-\d+-\d+-\d+\.model$/

/**
 * Where a model made from `model` (a refit, or a trainer's snapshot) is saved: beside it, under its
 * generation's name, numbered by process, thread and `count`.
 */
export function besideModel(model: string, kind: 'refit' | 'train', count: number): string {
  return `${model.replace(/(\.(refit|train)-[^/]*)?\.model$/, '')}.${kind}-${process.pid}-${threadId}-${count}.model`
}

/**
 * Has the child write a model into `path` (`op`: `save`, or `train_save` for its copy in training)
 * under a temporary name first, renamed once whole, so that a kill never leaves half a model there.
 */
export async function saveModel(child: ModelProcess, op: 'save' | 'train_save', path: string, after: string): Promise<void> {
  const partial = `${path}.partial-${process.pid}-${threadId}`
  rmSync(partial, { recursive: true, force: true })
  mkdirSync(partial, { recursive: true })
  await child.send({ op, path: partial }, `'${op}' ${after}`)
  rmSync(path, { recursive: true, force: true })
  renameSync(partial, path)
}

/** The data of a request as this modality's model takes them; `what` names them in errors. */
export function checked(modality: Modality, data: Samples, what: string): Samples {
  if (modality === 'vectors') return asVectors(data, what)
  if (data.modality !== 'tokens') throw inputError(`${what}: expected sentences (text data), got vectors`)
  return data
}

/**
 * What an earlier attempt at this generation left in the chain directory: its refits' and trainer's
 * snapshots (named after the process that made them) and half-saved models. A run killed during a
 * post-training stage leaves them, and the generation is fitted again when the run resumes; a
 * retried fit leaves them too. Nothing else works on this generation meanwhile: a chain runs one
 * task at a time, and scoring a generation apart overlaps only the next one's fit. Also the array
 * files of requests that a killed process of this machine left in the directory.
 */
function removeLeftovers(dir: string, generation: number): void {
  const stem = `gen-${pad(generation)}.`
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    if (name.startsWith(`${stem}refit-`) || name.startsWith(`${stem}train-`) || name.startsWith(`${stem}model.partial-`) || abandonedIo(name)) rmSync(join(dir, name), { recursive: true, force: true })
  }
}

/** A request's array file that a process of this machine no longer running left (a killed run's, of any generation). */
function abandonedIo(name: string): boolean {
  if (!name.startsWith(IO_PREFIX)) return false
  const pid = Number(/^(\d+)-/.exec(name.slice(IO_PREFIX.length))?.[1])
  return Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)
}

/** Refits saved so far by this thread, to name their folders. */
let refits = 0

/** The `fit` request (with item weights for a refit), then `save` and `summary`: a generation's state. */
async function fitCommand(modality: Modality, data: Samples, weights: Float64Array | undefined, spec: CommandParams, ctx: FitContext<CommandState>): Promise<CommandState> {
  const x = checked(modality, data, 'model.command training data')
  const init = ctx.init
  // A refit (post-training) gets no chain directory of its own: it saves beside the model it starts from.
  let dir = ctx.dir ?? init?.dir
  let path: string
  if (dir === undefined) {
    if (scratch === undefined) {
      scratch = mkdtempSync(join(tmpdir(), 'ouroboros-command-'))
      removeAtExit(scratch)
    }
    dir = scratch
    path = join(dir, `fit-${threadId}-${scratchFits++}.model`)
  } else if (ctx.dir === undefined) {
    path = besideModel(init!.model, 'refit', refits++)
  } else {
    path = join(dir, `gen-${pad(ctx.generation)}.model`)
    removeLeftovers(dir, ctx.generation)
  }
  const { child, summarises, scores } = await childFor(spec, dir, init?.model)
  const vocabulary = x.modality === 'tokens' && ctx.dataset.vocabulary !== undefined ? { vocabulary: vocabularyFile(ctx.dataset.vocabulary) } : {}
  const saveDir = dir
  return child.exclusive(async () => {
    child.serving = saveDir
    if (init !== undefined) await holding(child, init.model)
    child.holds = undefined
    const sent = writeData(child, saveDir, 'train', x)
    const weighted = weights === undefined ? undefined : writeData(child, saveDir, 'weights', vectors(weights.length, 1, weights))
    try {
      const sizes = x.modality === 'tokens' ? { vocab_size: x.vocabSize, ...vocabulary } : {}
      const itemWeights = weighted === undefined ? {} : { weights: weighted.fields['data']! }
      await child.send({ op: 'fit', ...sent.fields, ...sizes, ...itemWeights, seed: ctx.rng.nextUint32(), warm: init !== undefined, generation: ctx.generation }, `'fit' of generation ${ctx.generation}${weights === undefined ? '' : ' (weighted)'}`, ctx.onStep)
    } finally {
      removeFiles(sent)
      if (weighted !== undefined) removeFiles(weighted)
    }
    await saveModel(child, 'save', path, `of generation ${ctx.generation}`)
    child.holds = path
    const summary = await summaryAfter(child, summarises, `of generation ${ctx.generation}`)
    const shape = x.modality === 'tokens' ? { modality, vocabSize: x.vocabSize } : { modality, d: x.d }
    return { model: path, ...shape, dir: saveDir, spec, scores, ...(summary === undefined ? {} : { summary }) }
  })
}

/**
 * The `command` model for one modality: vectors (an (n, d) array each way) or text (sentences of
 * token ids each way, and the vocabulary's words with every fit). Everything else, the processes,
 * their pool and the saved generations, is the same.
 */
export function commandModel(modality: Modality): ModelPlugin<CommandParams, CommandState> {
  const text = modality === 'tokens'
  return defineModel<CommandParams, CommandState>({
    id: 'command',
    modality,
    description: text
      ? 'a text model in another process (model.command on text data, e.g. a Python script using ouroboros_model.py), given sentences of token ids and the words, over JSON lines with arrays as .npy files'
      : 'a model in another process (model.command, e.g. a Python script using ouroboros_model.py), spoken to over JSON lines with arrays as .npy files: (n, d) arrays on vector data, sentences of token ids on text',
    params,
    acceptsTemperature: true,
    checkData(spec) {
      checkProgram(spec.command, spec.cwd ?? process.cwd())
    },
    fit(data, spec, ctx) {
      return fitCommand(modality, data, undefined, spec, ctx)
    },
    /**
     * Reward-weighted refitting (rl stages): the `fit` request with a `weights` array, one weight ≥ 0
     * per item. A refit has no generation of its own: its models are saved beside the one it
     * starts from.
     */
    async fitWeighted(data, weights, spec, ctx) {
      const total = checkWeights(weights, data.n, 'model.command fitWeighted')
      if (total === 0) throw inputError('model.command fitWeighted: every weight is 0', 'give at least one item a positive weight')
      return fitCommand(modality, data, weights, spec, ctx)
    },
    /**
     * Finetuning and policy gradient: `train_step` requests to a copy of the model in the child,
     * for models that define start_training and train_step (the child says so when training starts).
     */
    trainer(state, spec, options) {
      return commandTrainer(modality, state, spec, options)
    },
    policyGradient: 'when-asked',
    // A class without log_likelihood: its KLs come from samples alone (nearest neighbours on vectors).
    scoresItsSamples: (state) => state.scores !== false,
    async sample(state, n, ctx) {
      const { child } = await childFor(state.spec, state.dir, state.model)
      return child.exclusive(async () => {
        child.serving = state.dir
        await holding(child, state.model)
        const out = outputFiles(child, state.dir, 'samples', modality)
        const what = `'sample' of ${n}`
        try {
          await child.send({ op: 'sample', n, seed: ctx.rng.nextUint32(), temperature: ctx.temperature, ...out.fields }, what)
        } catch (err) {
          removeFiles(out)
          throw err
        }
        if (text) return readSentences(child, out, what, n, state.vocabSize!)
        const samples = readVectors(child, out, what, n, state.d!)
        // Said here, where the command is known; a diverged error, so that the run's retries still apply.
        if (!allFinite(samples.data)) {
          const at = samples.data.findIndex((v) => !Number.isFinite(v))
          throw child.diverged(`${what}: its samples hold non-finite values (${samples.data[at]} at row ${Math.floor(at / samples.d)}): its fit diverged, or its sample() made them`)
        }
        return samples
      })
    },
    async logLikelihood(state, data: Samples) {
      // Said here rather than as the child's traceback: the group that scores held-out data (`likelihood` on vectors, `perplexity` on text) is among the defaults.
      if (state.scores === false) {
        const group = modality === 'tokens' ? 'perplexity' : 'likelihood'
        throw inputError(`model.command ${JSON.stringify(state.spec.command)} has no log_likelihood method: name the run's metrics without '${group}' (it is among the defaults), or give the model one`)
      }
      const x = checked(modality, data, 'model.command log-likelihood data')
      if (x.modality === 'tokens' && x.vocabSize > state.vocabSize!) throw inputError(`model.command log-likelihood data have a vocabulary of ${x.vocabSize} words, the model ${state.vocabSize}`)
      const { child } = await childFor(state.spec, state.dir, state.model)
      return child.exclusive(async () => {
        child.serving = state.dir
        await holding(child, state.model)
        const sent = writeData(child, state.dir, 'data', x)
        const out = outputFiles(child, state.dir, 'log_likelihood', 'vectors')
        const what = `'log_likelihood' of ${x.n}`
        try {
          await child.send({ op: 'log_likelihood', ...sent.fields, ...out.fields }, what)
        } catch (err) {
          removeFiles(out)
          throw err
        } finally {
          removeFiles(sent)
        }
        return readVectors(child, out, what, x.n, 1).data
      })
    },
    /** A refit's saved folder goes once the stage has fitted the next refit from it. */
    release(state) {
      if (REFIT_FOLDER.test(state.model)) rmSync(state.model, { recursive: true, force: true })
    },
    summary(state) {
      // Copies: metrics may move these buffers to another thread.
      const out: Record<string, number | Float64Array> = {}
      for (const [name, value] of Object.entries(state.summary ?? {})) out[name] = typeof value === 'number' ? value : value.slice()
      return out
    },
  })
}
