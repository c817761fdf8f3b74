import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import {
  chainDir,
  listSampleGenerations,
  recordChains,
  readRunInfo,
  readSamples,
  RunLock,
  samplesPath,
  type ChainInfo,
  type MetricRecord,
  type RunInfo,
} from '@ouroboros/store'
import type { VectorSamples } from '@ouroboros/core'
import { summarizeRecords, type RecordSummary, type RunAggregate } from './aggregate.js'
import { cellDataset } from './cell-data.js'
import { evenSpread } from './even-spread.js'
import { numberField } from './fields.js'
import { imageShape, loadGallery, MAX_GALLERY_GENERATIONS, type ChainGallery } from './gallery.js'
import { loadChainPosttrain, MAX_POSTTRAIN_REPLICATES, type ChainPosttrain } from './posttrain-curves.js'
import { leastSquares, MAX_FIT_FEATURES, residualPoint } from './residuals.js'

/**
 * Caps on what one chain contributes to the page, which must stay small (a few MB) for large runs:
 * a scatter of 2,000 points shows a distribution's shape as well as 10,000 do.
 */
const MAX_POINTS_PER_GENERATION = 2000
const MAX_SAMPLE_GENERATIONS = 25
const MAX_TRAINING_GENERATIONS = 8
const MAX_TRAINING_STEPS = 500
const MAX_TRAINING_REPLICATES = 10

/** Every cell fits one generation: a comparison of settings (a GAN's losses, a post-training stage), not a chain. */
export function isSingleGeneration(info: RunInfo): boolean {
  return info.cells.length > 0 && info.cells.every((cell) => numberField(cell.config, 'generations') === 1)
}

export interface SampleFrame {
  /** -1 for the real data. */
  generation: number
  /** Rows in the file. */
  n: number
  /** A strided subsample of the rows, `dims` values each, row-major. */
  points: Float32Array
}

export interface ChainSamples {
  chain: string
  cell: number
  /** Dimension of the data. */
  d: number
  /** Coordinates kept per point: the value of 1-D data, else the first two. */
  dims: 1 | 2
  real: SampleFrame | null
  frames: SampleFrame[]
  /** How many generations have a sample file; `frames` are those `shownGenerations` picks. */
  saved: number
  /**
   * `coordinates`: the points are the data's first coordinates (the value of 1-D data).
   * `residuals`: regression rows as (x·ŵ₀, y − x·ŵ₀), ŵ₀ fit to the chain's real data (residuals.ts).
   */
  view: 'coordinates' | 'residuals'
  /** Residual view: the label noise σ of the real data. */
  noise?: number
}

export interface TrainingCurve {
  generation: number
  steps: number[]
  values: Record<string, (number | null)[]>
  /** The trainer's losses at each step, by name (a GAN's `d` and `g`); null where a step has none. */
  losses: Record<string, (number | null)[]>
  /** Per-item values at each step by "group.name" (modes.hq_share: the share of samples at each mode). */
  profiles: Record<string, (number[] | null)[]>
}

export interface ChainTraining {
  chain: string
  cell: number
  replicate: number
  curves: TrainingCurve[]
}

export interface LoadedRun {
  dir: string
  info: RunInfo
  /** The process run.lock names, where it still runs the run (on this machine; another's at the lock's word). */
  holder?: { pid: number; host: string }
  /** Every record, aggregated per cell, metric and generation. */
  agg: RunAggregate
  /** Records of generations −1 and 0 (the comparison of settings shows them one by one). */
  firstRecords: MetricRecord[]
  /** cell -> time per stage (ms), summed over chains and generations. */
  timings: Map<number, { fit: number; sample: number; evaluate: number }>
  /** One chain per cell (the lowest replicate that saved samples); plotted vector data only. */
  samples: ChainSamples[]
  /** One chain per cell: image grids (image data) or sentences (token data). */
  galleries: ChainGallery[]
  /**
   * Chains that wrote training curves, by cell and replicate: the lowest replicate of each cell,
   * and in a single-generation run (where the training is the experiment) up to
   * MAX_TRAINING_REPLICATES of them, so that the page can show their spread.
   */
  training: ChainTraining[]
  /** Post-training stage curves: up to MAX_POSTTRAIN_REPLICATES chains per cell, for their spread. */
  posttrain: ChainPosttrain[]
  /** Files that could not be read: the page names them rather than failing. */
  problems: string[]
}

/**
 * Reads what the page needs of a run directory: the records stream through an aggregation, so
 * that memory does not grow with their number. `summary`: the records' summary when the caller
 * made it already (saves reading them back).
 */
export function loadRun(dir: string, summary?: RecordSummary): LoadedRun {
  const runDir = resolve(dir)
  const info = readRunInfo(runDir, ['cells'])
  const { agg, firstRecords, timings, recorded } = summary ?? summarizeRecords(runDir, recordChains(info))
  // A killed run's records run ahead of run.json, which is written at most once a second: the
  // page counts a chain's generations as far as the records it shows.
  for (const c of info.chains) c.generationsDone = Math.max(c.generationsDone, recorded.get(c.id) ?? 0)
  const problems: string[] = []
  const samples: ChainSamples[] = []
  const galleries: ChainGallery[] = []
  const training: ChainTraining[] = []
  const posttrain: ChainPosttrain[] = []
  // Images and sentences are looked at, not scattered: their first two coordinates mean nothing.
  const plotted = info.modality === 'vectors' && imageShape(info) === undefined
  const shown = new Map<number, { chain: ChainInfo; saved: number[] }>()
  for (const cell of info.cells) {
    for (const chain of info.chains.filter((c) => c.cell === cell.index).sort((a, b) => a.replicate - b.replicate)) {
      const saved = listSampleGenerations(runDir, chain.id)
      if (saved.length === 0) continue
      shown.set(cell.index, { chain, saved })
      break
    }
  }
  const common = commonGenerations([...shown.values()].map((s) => s.saved))
  for (const cell of info.cells) {
    const chains = info.chains.filter((c) => c.cell === cell.index).sort((a, b) => a.replicate - b.replicate)
    const sampled = shown.get(cell.index)
    if (sampled !== undefined) {
      const { chain, saved } = sampled
      if (plotted) {
        const loaded = loadChainSamples(runDir, info, chain, saved, shownGenerations(saved, common, MAX_SAMPLE_GENERATIONS), problems)
        if (loaded !== null) samples.push(loaded)
      } else {
        const gallery = loadGallery(runDir, info, chain, saved, shownGenerations(saved, common, MAX_GALLERY_GENERATIONS), problems)
        if (gallery !== null) galleries.push(gallery)
      }
    }
    const wanted = isSingleGeneration(info) ? MAX_TRAINING_REPLICATES : 1
    let found = 0
    for (const chain of chains) {
      if (found === wanted) break
      const curves = loadTraining(runDir, chain.id, problems)
      if (curves.length > 0) {
        training.push({ chain: chain.id, cell: cell.index, replicate: chain.replicate, curves })
        found++
      }
    }
    for (const chain of chains) {
      if (posttrain.filter((p) => p.cell === cell.index).length === MAX_POSTTRAIN_REPLICATES) break
      const generations = loadChainPosttrain(runDir, chain.id, problems)
      if (generations.length > 0) posttrain.push({ chain: chain.id, cell: cell.index, replicate: chain.replicate, generations })
    }
  }
  const holder = info.status === 'running' ? RunLock.heldBy(runDir) : undefined
  return { dir: runDir, info, agg, firstRecords, timings, samples, galleries, training, posttrain, problems, ...(holder === undefined ? {} : { holder }) }
}

/** The generations whose samples every one of `lists` saved. */
function commonGenerations(lists: readonly (readonly number[])[]): ReadonlySet<number> {
  const [first, ...rest] = lists
  const sets = rest.map((l) => new Set(l))
  return new Set((first ?? []).filter((g) => sets.every((s) => s.has(g))))
}

/**
 * Which of a chain’s saved generations the page shows, at most `max`: those that every shown
 * chain saved (a policy that trains on earlier generations keeps each of them, `replace` only the
 * report's), so that settings side by side step through the same generations, and its last.
 */
function shownGenerations(saved: readonly number[], common: ReadonlySet<number>, max: number): number[] {
  const shared = saved.filter((g) => common.has(g))
  if (shared.length < 2) return evenSpread(saved, max)
  const last = saved[saved.length - 1]!
  if (common.has(last)) return evenSpread(shared, max)
  return [...evenSpread(shared, max - 1), last]
}

function loadChainSamples(runDir: string, info: RunInfo, chain: ChainInfo, generations: readonly number[], shown: readonly number[], problems: string[]): ChainSamples | null {
  const realPath = samplesPath(runDir, chain.id, 'real', 'vectors')
  const real = existsSync(realPath) ? readVectors(runDir, realPath, problems) : null
  const dataset = cellDataset(info, info.cells.find((c) => c.index === chain.cell))
  const fit = dataset === undefined ? undefined : regressionFit(dataset, real)
  const frame = (s: VectorSamples, generation: number): SampleFrame => (fit === undefined || s.d !== fit.length + 1 ? coordinateFrame(s, generation) : residualFrame(s, fit, generation))
  const frames: SampleFrame[] = []
  let d = 0
  for (const generation of shown) {
    const s = readVectors(runDir, samplesPath(runDir, chain.id, generation, 'vectors'), problems)
    if (s === null) continue
    frames.push(frame(s, generation))
    d = s.d
  }
  if (frames.length === 0) return null
  const noise = numberField(dataset, 'regression', 'sigma')
  return {
    chain: chain.id,
    cell: chain.cell,
    d,
    dims: fit === undefined && d === 1 ? 1 : 2,
    real: real === null ? null : frame(real, -1),
    frames,
    saved: generations.length,
    ...(fit === undefined ? { view: 'coordinates' as const } : { view: 'residuals' as const, ...(noise === undefined ? {} : { noise }) }),
  }
}

/** ŵ₀ for regression data whose real rows (x, y) are at hand; undefined for any other data. */
function regressionFit(dataset: Record<string, unknown>, real: VectorSamples | null): Float64Array | undefined {
  const p = numberField(dataset, 'regression', 'd')
  if (p === undefined || real === null || real.d !== p + 1 || p > MAX_FIT_FEATURES) return undefined
  return leastSquares(real.data, real.n, p)
}

function readVectors(runDir: string, path: string, problems: string[]): VectorSamples | null {
  let s
  try {
    s = readSamples(path)
  } catch (err) {
    problems.push(`${relative(runDir, path)}: ${(err as Error).message}`)
    return null
  }
  return s.modality === 'vectors' && s.n > 0 ? s : null
}

/** Rows picked strided rather than the first ones: a sampler may emit its points grouped by component. */
function strided(n: number): number[] {
  const m = Math.min(n, MAX_POINTS_PER_GENERATION)
  return Array.from({ length: m }, (_, i) => Math.floor((i * n) / m))
}

function coordinateFrame(s: VectorSamples, generation: number): SampleFrame {
  const dims = s.d === 1 ? 1 : 2
  const rows = strided(s.n)
  const points = new Float32Array(rows.length * dims)
  rows.forEach((row, i) => {
    for (let j = 0; j < dims; j++) points[i * dims + j] = s.data[row * s.d + j]!
  })
  return { generation, n: s.n, points }
}

function residualFrame(s: VectorSamples, w: Float64Array, generation: number): SampleFrame {
  const rows = strided(s.n)
  const points = new Float32Array(rows.length * 2)
  rows.forEach((row, i) => points.set(residualPoint(s.data, row, w), 2 * i))
  return { generation, n: s.n, points }
}

function loadTraining(runDir: string, chain: string, problems: string[]): TrainingCurve[] {
  const dir = chainDir(runDir, chain)
  if (!existsSync(dir)) return []
  const files = readdirSync(dir)
    .map((f) => ({ f, m: /^gen-(\d+)\.training\.ndjson$/.exec(f) }))
    .filter((x): x is { f: string; m: RegExpExecArray } => x.m !== null)
    .map((x) => ({ file: join(dir, x.f), generation: Number(x.m[1]) }))
    .sort((a, b) => a.generation - b.generation)
  const curves: TrainingCurve[] = []
  for (const { file, generation } of evenSpread(files, MAX_TRAINING_GENERATIONS)) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      problems.push(`${relative(runDir, file)}: ${(err as Error).message}`)
      continue
    }
    const curve = parseTraining(text, generation)
    if (curve.steps.length > 0) curves.push(curve)
  }
  return curves
}

/** Lines `{ step, metrics, losses? }`; a line torn by a crash, or any other unreadable line, is skipped. */
function parseTraining(text: string, generation: number): TrainingCurve {
  const rows: { step: number; metrics: Record<string, unknown>; losses: Record<string, unknown>; profiles: Record<string, unknown> }[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    let row: unknown
    try {
      row = JSON.parse(line)
    } catch {
      continue
    }
    const step = (row as { step?: unknown }).step
    const metrics = (row as { metrics?: unknown }).metrics
    if (typeof step !== 'number' || typeof metrics !== 'object' || metrics === null) continue
    const { profiles, losses } = row as { profiles?: unknown; losses?: unknown }
    const object = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {})
    rows.push({ step, metrics: metrics as Record<string, unknown>, losses: object(losses), profiles: object(profiles) })
  }
  const kept = evenSpread(rows, MAX_TRAINING_STEPS)
  const columns = (of: (r: (typeof kept)[number]) => Record<string, unknown>): Record<string, (number | null)[]> => {
    const out: Record<string, (number | null)[]> = {}
    for (const name of new Set(kept.flatMap((r) => Object.keys(of(r))))) {
      out[name] = kept.map((r) => {
        const v = of(r)[name]
        return typeof v === 'number' && Number.isFinite(v) ? v : null
      })
    }
    return out
  }
  const values = columns((r) => r.metrics)
  const profiles: Record<string, (number[] | null)[]> = {}
  for (const key of new Set(kept.flatMap((r) => Object.entries(r.profiles).flatMap(([group, named]) => Object.keys(typeof named === 'object' && named !== null ? named : {}).map((name) => `${group}.${name}`))))) {
    const [group, name] = [key.slice(0, key.indexOf('.')), key.slice(key.indexOf('.') + 1)]
    profiles[key] = kept.map((r) => {
      const v = (r.profiles[group] as Record<string, unknown> | undefined)?.[name]
      return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)) ? (v as number[]) : null
    })
  }
  return { generation, steps: kept.map((r) => r.step), values, losses: columns((r) => r.losses), profiles }
}
