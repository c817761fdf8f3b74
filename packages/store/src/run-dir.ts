import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { deserialize, serialize } from 'node:v8'
import { OuroborosError, ErrorCode, jsonFault, ouroborosCommand, type OutputInfo, type Samples, type TokenSamples } from '@ouroboros/core'
import { readError, removeAbandoned, writeFileAtomic } from './atomic.js'
import { decodeNpy, encodeNpy } from './npy.js'
import { recordBatch } from './record-batch.js'
import { appendRecordBatch } from './record-log.js'
import { blockRecords, recordChains, RecordSource } from './record-reader.js'

/** One line of metrics.ndjson (contract: DESIGN.md "Run directory"). */
export interface MetricRecord {
  chain: string
  /** Index of the sweep cell. */
  cell: number
  replicate: number
  seed: number
  /** -1 holds the metrics of the real data itself. */
  generation: number
  params: Record<string, unknown>
  metrics: Record<string, number | null>
  timings: { fitMs: number; sampleMs: number; evalMs: number }
}

/** 'interrupted': the run stopped (Ctrl-C, a full disk) before this chain finished; resume continues it. */
export type ChainStatus = 'pending' | 'running' | 'finished' | 'failed' | 'interrupted'
export type RunStatus = 'running' | 'finished' | 'failed' | 'interrupted'

export interface ChainInfo {
  id: string
  cell: number
  replicate: number
  seed: number
  status: ChainStatus
  /** Generations whose checkpoint and record exist. */
  generationsDone: number
  /** Why the chain failed; `hint` says what to do, where the error said. */
  error?: { message: string; generation: number; code: string; hint?: string }
  /**
   * Metric options the config left to the data (null, such as a median bandwidth), as computed
   * from this chain's real data: metric group -> option -> value used.
   */
  resolvedOptions?: Record<string, Record<string, number>>
  /** Metric groups that failed in this chain (their values are null where they failed). */
  metricErrors?: MetricGroupFailure[]
}

/** A metric group's failures in one chain: the first reason, where, and how often. */
export interface MetricGroupFailure {
  group: string
  message: string
  firstGeneration: number
  generations: number
}

export interface CellInfo {
  index: number
  label: string
  params: Record<string, unknown>
  /** The cell's resolved config (every default filled in). */
  config: Record<string, unknown>
  /** What the report needs about the cell's data, where they differ from the first cell's (RunInfo.dataset). */
  dataset?: Record<string, unknown>
}

/** run.json (contract: DESIGN.md "Run directory"). */
export interface RunInfo {
  name: string
  status: RunStatus
  startedAt: string
  finishedAt: string | null
  /** One per resume: the time between is left out of the run's wall time. */
  stops?: RunStop[]
  seed: number
  workers: number
  backend: string
  /** The config as given, sweep included, with defaults filled in. */
  config: Record<string, unknown>
  cells: CellInfo[]
  chains: ChainInfo[]
  /** Metric group -> the options used. */
  metricOptions: Record<string, Record<string, unknown>>
  metrics: string[]
  modality: 'vectors' | 'tokens'
  /** What the report needs about the data: mode centres, reference Gaussian, ... */
  dataset: Record<string, unknown>
  /**
   * How the report shows each value the records hold (title, unit, direction, collapse
   * threshold), as the plug-ins computing them describe it; absent in runs from before it was kept.
   */
  metricInfo?: Record<string, OutputInfo>
  /** How the report shows the losses of the models' training curves, as the models describe them. */
  lossInfo?: Record<string, OutputInfo>
  /** The classifier behind the `classifier` metric group, when the run has that group. */
  classifier?: RecordedClassifier
  packages: Record<string, string>
  node: string
}

/** A stop of a run and its resume. */
export interface RunStop {
  /** The run directory's last write before the stop (a killed run says nothing as it stops). */
  stoppedAt: string
  resumedAt: string
}

/** What run.json records about the classifier of the `classifier` metric group. */
export interface RecordedClassifier {
  /** Accuracy on the labelled items it did not train on. */
  heldoutAccuracy: number
  testItems: number
  backend: string
  /** Names the cached weights (labelled data, classifier options, backend). */
  hash: string
  cacheFile: string
}

export const RUN_FILES = {
  run: 'run.json',
  records: 'metrics.ndjson',
  csv: 'metrics.csv',
  parquet: 'metrics.parquet',
  log: 'records.log',
  report: 'report.html',
  chains: 'chains',
} as const

export function chainDir(runDir: string, chain: string): string {
  return join(runDir, RUN_FILES.chains, chain)
}

const pad = (g: number): string => String(g).padStart(6, '0')

export function samplesPath(runDir: string, chain: string, generation: number | 'real' | 'heldout', modality: Samples['modality']): string {
  const stem = typeof generation === 'number' ? `gen-${pad(generation)}.samples` : generation
  return join(chainDir(runDir, chain), `${stem}.${modality === 'vectors' ? 'npy' : 'tokens'}`)
}

export function statePath(runDir: string, chain: string, generation: number): string {
  return join(chainDir(runDir, chain), `gen-${pad(generation)}.state`)
}

/**
 * The generations whose checkpoint (state and samples) a chain's directory holds, newest first,
 * from one listing of it: a resume of thousands of chains asks this of each.
 */
export function checkpointGenerations(runDir: string, chain: string, modality: Samples['modality']): number[] {
  let names: string[]
  try {
    names = readdirSync(chainDir(runDir, chain))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  // Where a chain goes on after a stop, the partial files its stopped process left go.
  removeAbandoned(chainDir(runDir, chain), names)
  const files = new Set(names)
  const out: number[] = []
  for (const name of names) {
    const m = /^gen-(\d{6,})\.state$/.exec(name)
    if (m === null) continue
    const g = Number(m[1])
    if (name === basename(statePath(runDir, chain, g)) && files.has(basename(samplesPath(runDir, chain, g, modality)))) out.push(g)
  }
  return out.sort((a, b) => b - a)
}

export function trainingCurvePath(runDir: string, chain: string, generation: number): string {
  return join(chainDir(runDir, chain), `gen-${pad(generation)}.training.ndjson`)
}

/** The post-training stages' curves of a generation (lines of @ouroboros/posttrain's CurvePoint). */
export function posttrainCurvePath(runDir: string, chain: string, generation: number): string {
  return join(chainDir(runDir, chain), `gen-${pad(generation)}.posttrain.ndjson`)
}

/** One line of a training-curve file. */
export interface TrainingStepRecord {
  step: number
  losses: Record<string, number>
  metrics: Record<string, number | null>
  /** Per-item values by metric group, e.g. { modes: { hq_share: [...] } }. */
  profiles?: Record<string, Record<string, number[]>>
}

/** Generation numbers with a sample file in a chain directory. */
export function listSampleGenerations(runDir: string, chain: string): number[] {
  const dir = chainDir(runDir, chain)
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .map((f) => /^gen-(\d+)\.samples\.(npy|tokens)$/.exec(f)?.[1])
    .filter((x): x is string => x !== undefined)
    .map(Number)
    .sort((a, b) => a - b)
}

export function writeSamples(path: string, s: Samples): void {
  writeFileAtomic(path, s.modality === 'vectors' ? encodeNpy(s) : serialize(s))
}

export function readSamples(path: string): Samples {
  const buf = readRunFile(path)
  if (path.endsWith('.npy')) return decodeNpy(buf, path)
  const s = deserialize(buf) as TokenSamples
  if (s?.modality !== 'tokens') throw corrupt(path, 'not a token sample file')
  return s
}

/** Model states are written with V8's structured serialisation: typed arrays round-trip exactly. */
export function writeState(path: string, state: unknown): void {
  writeFileAtomic(path, serialize(state))
}

export function readState<S = unknown>(path: string): S {
  try {
    return deserialize(readRunFile(path)) as S
  } catch (err) {
    if (err instanceof OuroborosError) throw err
    throw corrupt(path, (err as Error).message)
  }
}

export function serializeState(state: unknown): Buffer {
  return serialize(state)
}

export function deserializeState<S = unknown>(buf: Uint8Array): S {
  return deserialize(buf) as S
}

export function writeRunInfo(runDir: string, info: RunInfo): void {
  writeFileAtomic(join(runDir, RUN_FILES.run), JSON.stringify(info, null, 2) + '\n')
}

/**
 * What a reader of run.json may ask of it beyond the chains, which every reader needs: a queue
 * worker reads only the chains, the record files need the cells too, while `report`, `export` and
 * `resume` ask for the WHOLE_RUN.
 */
export type RunInfoField = Exclude<keyof typeof FIELD_KINDS, 'chains'>

/** What each top-level key of run.json must hold where it is there; run.json of every run has those not in OPTIONAL_FIELDS. */
const FIELD_KINDS = {
  name: 'text',
  status: 'status',
  startedAt: 'text',
  finishedAt: 'text or null',
  stops: 'list',
  seed: 'number',
  workers: 'count',
  backend: 'text',
  config: 'object',
  cells: 'list',
  chains: 'list',
  metricOptions: 'object',
  metrics: 'list of text',
  modality: 'modality',
  dataset: 'object',
  metricInfo: 'object',
  lossInfo: 'object',
  classifier: 'object',
  packages: 'object',
  node: 'text',
  // The run's own additions (see the CLI's RunFile), read by `resume`.
  runId: 'text',
  cellSpecs: 'list',
  configDir: 'text',
  queue: 'text',
} as const

/** Keys absent from the run.json of runs from before they were kept, or kept only for some runs. */
const OPTIONAL_FIELDS: readonly string[] = ['stops', 'metricInfo', 'lossInfo', 'classifier', 'runId', 'cellSpecs', 'configDir', 'queue']

/** Every key that the run.json of any run has: what `report`, `export` and `resume` ask for, so that none fails on one later. */
export const WHOLE_RUN: readonly RunInfoField[] = (Object.keys(FIELD_KINDS) as (keyof typeof FIELD_KINDS)[]).filter(
  (k): k is RunInfoField => k !== 'chains' && !OPTIONAL_FIELDS.includes(k),
)

/**
 * run.json, its structure checked: each key its readers read is of the right kind where it is
 * there, and there where `need` asks for it (`chains` always), so that a damaged or foreign file
 * is said to be one rather than failing later inside whatever reads it first.
 */
export function readRunInfo(runDir: string, need: readonly RunInfoField[] = []): RunInfo {
  const path = join(runDir, RUN_FILES.run)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const what = !existsSync(runDir) ? 'no such directory' : code === 'ENOTDIR' ? 'a file, not a run directory' : `not a run directory (no ${RUN_FILES.run})`
      throw new OuroborosError(ErrorCode.RUN_DIR, `${runDir}: ${what}`, { hint: 'pass the --out directory of an `ouroboros run`' })
    }
    throw readError(path, err)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw damagedRunInfo(path, jsonFault(text, err))
  }
  return checkRunInfo(value, path, need)
}

/** Keys that only a run's run.json has together: a JSON file with none of them is some other file. */
const RUN_KEYS = ['chains', 'cells', 'config', 'runId', 'startedAt', 'metricOptions']
const CHAIN_STATUSES: readonly string[] = ['pending', 'running', 'finished', 'failed', 'interrupted'] satisfies ChainStatus[]
const RUN_STATUSES: readonly string[] = ['running', 'finished', 'failed', 'interrupted'] satisfies RunStatus[]
const MODALITIES: readonly string[] = ['vectors', 'tokens'] satisfies RunInfo['modality'][]

/** `value` as run.json, or why it is not one; exported for its tests. */
export function checkRunInfo(value: unknown, path: string, need: readonly RunInfoField[] = []): RunInfo {
  if (!isObject(value)) throw damagedRunInfo(path, `it holds ${shown(value)}, not an object`)
  if (!RUN_KEYS.some((k) => k in value)) {
    throw new OuroborosError(ErrorCode.RUN_DIR, `${path} is not a run's run.json (it has none of ${RUN_KEYS.join(', ')})`, {
      hint: 'pass the --out directory of an `ouroboros run`',
    })
  }
  const problem = runInfoProblem(value, need)
  if (problem !== undefined) throw damagedRunInfo(path, problem)
  return value as unknown as RunInfo
}

/** The first thing wrong with run.json's structure, in words naming the field. */
function runInfoProblem(info: Record<string, unknown>, need: readonly RunInfoField[]): string | undefined {
  for (const [key, kind] of Object.entries(FIELD_KINDS)) {
    const value = info[key]
    if (value === undefined) {
      if (key === 'chains' || need.includes(key as RunInfoField)) return `${key} is missing (${KIND_WORDS[kind]})`
      continue
    }
    const wrong = kindProblem(value, kind)
    if (wrong !== undefined) return `${key} is ${shown(value)}, ${wrong}`
  }
  const chains = info['chains'] as unknown[]
  // Every config makes one chain at least: a run.json without any lost them.
  if (chains.length === 0) return 'chains is an empty list; a run has one chain at least'
  for (const [i, chain] of chains.entries()) {
    const where = `chains[${i}]`
    if (!isObject(chain)) return `${where} is ${shown(chain)}, not an object`
    if (typeof chain['id'] !== 'string') return `${where}.id is ${shown(chain['id'])}, not a string`
    for (const key of ['cell', 'replicate', 'generationsDone']) {
      if (!isCount(chain[key])) return `${where}.${key} is ${shown(chain[key])}, not a whole number ≥ 0`
    }
    if (typeof chain['seed'] !== 'number') return `${where}.seed is ${shown(chain['seed'])}, not a number`
    if (!CHAIN_STATUSES.includes(chain['status'] as string)) return `${where}.status is ${shown(chain['status'])}, not one of ${CHAIN_STATUSES.join(', ')}`
  }
  const cells = info['cells'] as unknown[] | undefined
  for (const [i, cell] of (cells ?? []).entries()) {
    const where = `cells[${i}]`
    if (!isObject(cell)) return `${where} is ${shown(cell)}, not an object`
    if (!isCount(cell['index'])) return `${where}.index is ${shown(cell['index'])}, not a whole number ≥ 0`
    for (const key of ['params', 'config']) if (!isObject(cell[key])) return `${where}.${key} is ${shown(cell[key])}, not an object`
  }
  // A run the command line made has a cell for every chain, whose parameter columns and labels
  // the records and the report give; the scheduler's own runs (its tests, the queue bench) need none.
  if (cells !== undefined && WHOLE_RUN.every((key) => need.includes(key))) {
    // Every chain is of a cell: the records' parameter columns and the report's labels are the cell's.
    if (cells.length === 0) return 'cells is an empty list; a run has one cell at least'
    const indices = new Set(cells.map((cell) => (cell as Record<string, unknown>)['index']))
    const orphan = chains.findIndex((chain) => !indices.has((chain as Record<string, unknown>)['cell']))
    if (orphan >= 0) return `chains[${orphan}].cell is ${shown((chains[orphan] as Record<string, unknown>)['cell'])}, which no cell of cells has`
  }
  return undefined
}

/** What a key of each kind holds, in words. */
const KIND_WORDS: Record<(typeof FIELD_KINDS)[keyof typeof FIELD_KINDS], string> = {
  text: 'a string',
  'text or null': 'a string, or null',
  number: 'a number',
  count: 'a whole number ≥ 0',
  object: 'an object',
  list: 'a list',
  'list of text': 'a list of strings',
  status: `one of ${RUN_STATUSES.join(', ')}`,
  modality: `one of ${MODALITIES.join(', ')}`,
}

/** Why `value` is not of `kind`, ending the message "key is <value>, ": undefined where it is. */
function kindProblem(value: unknown, kind: (typeof FIELD_KINDS)[keyof typeof FIELD_KINDS]): string | undefined {
  switch (kind) {
    case 'text':
      return typeof value === 'string' ? undefined : 'not a string'
    case 'text or null':
      return value === null || typeof value === 'string' ? undefined : 'not a string or null'
    case 'number':
      return typeof value === 'number' ? undefined : 'not a number'
    case 'count':
      return isCount(value) ? undefined : 'not a whole number ≥ 0'
    case 'object':
      return isObject(value) ? undefined : 'not an object'
    case 'list':
      return Array.isArray(value) ? undefined : 'not a list'
    case 'list of text':
      return Array.isArray(value) && value.every((v) => typeof v === 'string') ? undefined : 'not a list of strings'
    case 'status':
      return RUN_STATUSES.includes(value as string) ? undefined : `not one of ${RUN_STATUSES.join(', ')}`
    case 'modality':
      return MODALITIES.includes(value as string) ? undefined : `not one of ${MODALITIES.join(', ')}`
  }
}

function damagedRunInfo(path: string, why: string): OuroborosError {
  // Unlike a checkpoint, run.json cannot be recomputed by a resume: it is what a resume starts from.
  return new OuroborosError(ErrorCode.RUN_DIR, `${path} is damaged: ${why}`, {
    hint: 'run.json is the run\'s own account of itself (its resolved config, cells and chains), which nothing else in the directory holds: restore it from a copy, or run the config again with --force',
  })
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isCount(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0
}

/** A value as a message shows it: short, whatever its size. */
function shown(value: unknown): string {
  if (value === undefined) return 'missing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  const text = JSON.stringify(value)
  return text.length > 40 ? `${text.slice(0, 37)}…` : text
}

/** Appends records to the record log and metrics.ndjson (tests and tools that make records by hand). */
export function appendRecords(runDir: string, records: MetricRecord[]): void {
  appendRecordBatch(runDir, recordBatch(records, { text: true }))
}

/**
 * A run's records, sorted by (cell, replicate, generation), one per (chain, generation): for
 * small runs and tests. Large runs stream them with RecordSource.
 */
export function readRecords(runDir: string): MetricRecord[] {
  const chains = existsSync(join(runDir, RUN_FILES.run)) ? recordChains(readRunInfo(runDir, ['cells'])) : []
  const source = new RecordSource(runDir, chains)
  const out: MetricRecord[] = []
  for (const block of source.blocks()) out.push(...blockRecords(source, block))
  return out
}

function readRunFile(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw readError(path, err)
  }
}

function corrupt(path: string, why: string): OuroborosError {
  return new OuroborosError(ErrorCode.RUN_DIR, `${path} is damaged: ${why}`, {
    hint: `delete the damaged file and run \`${ouroborosCommand('resume DIR')}\` to recompute it`,
  })
}
