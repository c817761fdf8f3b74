import {
  Rng,
  allRows,
  asVectors,
  concatRows,
  concatSamples,
  headSamples,
  memoryRows,
  pickRows,
  takeSamples,
  type DatasetInstance,
  type RowSource,
  type Samples,
} from '@ouroboros/core'
import { fileRows, readSamples, samplesPath } from '@ouroboros/store'
import type { TrainingPlan } from './policies/index.js'

/** Where the parts of a chain's training plans come from. */
export interface PlanSources {
  readonly runDir: string
  readonly chainId: string
  readonly seed: number
  /** The generation whose training set this is (fresh real data are drawn for it). */
  readonly generation: number
  readonly real: Samples
  readonly dataset: DatasetInstance
  /** A generation's samples when they are at hand in memory; otherwise they are read from disk. */
  readonly inMemory?: (generation: number) => Samples | undefined
}

/**
 * The training set as one array. Vector sets go through their rows, so that a subsample of a
 * long `accumulate` history reads only the rows it picks.
 */
export function buildTraining(plan: TrainingPlan, src: PlanSources): Samples {
  const only = plan.parts.length === 1 && plan.pick === undefined ? plan.parts[0]! : undefined
  if (only?.from === 'generation' && only.head === undefined) return generationSamples(only.generation, src)
  if (src.real.modality === 'vectors') {
    // A whole concatenation is held in memory anyway: its files are loaded (and kept for the next
    // generations); a subsample reads just the rows it picks.
    const rows = trainingRows(plan, src, plan.pick === undefined)
    try {
      return allRows(rows)
    } finally {
      rows.close?.()
    }
  }
  const parts = plan.parts.map((part): Samples => {
    if (part.from === 'real') return src.real
    if (part.from === 'fresh') return freshReal(part.n, src)
    const s = generationSamples(part.generation, src)
    return part.head === undefined ? s : headSamples(s, part.head)
  })
  const all = parts.length === 1 ? parts[0]! : concatSamples(parts)
  return plan.pick === undefined ? all : takeSamples(all, plan.pick)
}

/**
 * The rows of a vector training set: generations' samples from memory when this thread holds them,
 * else read from their files as rows are asked for, or, with `load`, loaded whole first.
 */
export function trainingRows(plan: TrainingPlan, src: PlanSources, load = false): RowSource {
  const parts = plan.parts.map((part): RowSource => {
    if (part.from === 'real') return memoryRows(asVectors(src.real, 'training samples'))
    if (part.from === 'fresh') return memoryRows(asVectors(freshReal(part.n, src), 'training samples'))
    const path = samplesPath(src.runDir, src.chainId, part.generation, 'vectors')
    const held = load ? generationSamples(part.generation, src) : (src.inMemory?.(part.generation) ?? recall(path))
    const rows = held === undefined ? fileRows(path) : memoryRows(asVectors(held, 'training samples'))
    return part.head === undefined || part.head >= rows.n ? rows : pickRows(rows, Uint32Array.from({ length: part.head }, (_, i) => i))
  })
  const all = parts.length === 1 ? parts[0]! : concatRows(parts)
  return plan.pick === undefined ? all : pickRows(all, plan.pick)
}

function generationSamples(generation: number, src: PlanSources): Samples {
  const held = src.inMemory?.(generation)
  if (held !== undefined) return held
  const path = samplesPath(src.runDir, src.chainId, generation, src.real.modality)
  const recalled = recall(path)
  if (recalled !== undefined) return recalled
  const read = readSamples(path)
  remember(path, read)
  return read
}

/**
 * Sample files this thread wrote or read lately, by path. `accumulate` trains every generation on
 * all earlier ones: without this, generation g reads g files back (1,000,000 file opens for the
 * 200-generation, 50-replicate default run). Bounded in bytes, least recently used out first; the
 * files stay the record, and what is held here is what they hold.
 */
const recent = new Map<string, Samples>()
let recentBytes = 0
const RECENT_BYTES = 128 * 1024 ** 2

const sizeOf = (s: Samples): number => (s.modality === 'vectors' ? s.data.byteLength : s.tokens.byteLength + s.offsets.byteLength)

/** Keeps samples just written to (or read from) `path` for the next generations' training sets. */
export function remember(path: string, s: Samples): void {
  const old = recent.get(path)
  if (old !== undefined) {
    recent.delete(path)
    recentBytes -= sizeOf(old)
  }
  if (sizeOf(s) > RECENT_BYTES) return
  recent.set(path, s)
  recentBytes += sizeOf(s)
  for (const [key, value] of recent) {
    if (recentBytes <= RECENT_BYTES) break
    recent.delete(key)
    recentBytes -= sizeOf(value)
  }
}

function recall(path: string): Samples | undefined {
  const s = recent.get(path)
  if (s !== undefined) {
    recent.delete(path)
    recent.set(path, s)
  }
  return s
}

function freshReal(n: number, src: PlanSources): Samples {
  return src.dataset.sample(n, Rng.from(src.seed, 'fresh', src.generation))
}
