import {
  Rng,
  allRows,
  asVectors,
  concatRows,
  concatSamples,
  concatVectors,
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
 * The training set as one array: its parts concatenated, or, for a subsample of vectors, just the
 * rows it picks, read through their row sources (a long `accumulate` history stays on disk).
 */
export function buildTraining(plan: TrainingPlan, src: PlanSources): Samples {
  const only = plan.parts.length === 1 && plan.pick === undefined ? plan.parts[0]! : undefined
  if (only?.from === 'generation' && only.head === undefined) return generationSamples(only.generation, src)
  if (src.real.modality === 'vectors' && plan.pick !== undefined) {
    // A subsample of a long history reads just the rows it picks.
    const rows = trainingRows(plan, src)
    try {
      return allRows(rows)
    } finally {
      rows.close?.()
    }
  }
  // A whole concatenation is held in memory anyway: its files are loaded (and kept for the next
  // generations) and copied once, part by part.
  const parts = plan.parts.map((part): Samples => {
    if (part.from === 'real') return src.real
    if (part.from === 'fresh') return freshReal(part.n, src)
    const s = generationSamples(part.generation, src)
    return part.head === undefined ? s : headSamples(s, part.head)
  })
  // Vector sets are always a copy: the model owns its training set.
  if (src.real.modality === 'vectors') return concatVectors(parts.map((p) => asVectors(p, 'training samples')))
  const all = parts.length === 1 ? parts[0]! : concatSamples(parts)
  return plan.pick === undefined ? all : takeSamples(all, plan.pick)
}

/**
 * The rows of a vector training set: generations' samples from memory when this thread holds them,
 * else read from their files as rows are asked for.
 */
export function trainingRows(plan: TrainingPlan, src: PlanSources): RowSource {
  const held = recent.get(chainKey(src.runDir, src.chainId))
  const parts = plan.parts.map((part): RowSource => {
    if (part.from === 'real') return memoryRows(asVectors(src.real, 'training samples'))
    if (part.from === 'fresh') return memoryRows(asVectors(freshReal(part.n, src), 'training samples'))
    const samples = src.inMemory?.(part.generation) ?? recall(held, part.generation)
    const rows = samples === undefined ? fileRows(samplesPath(src.runDir, src.chainId, part.generation, 'vectors')) : memoryRows(asVectors(samples, 'training samples'))
    return part.head === undefined || part.head >= rows.n ? rows : pickRows(rows, Uint32Array.from({ length: part.head }, (_, i) => i))
  })
  const all = parts.length === 1 ? parts[0]! : concatRows(parts)
  return plan.pick === undefined ? all : pickRows(all, plan.pick)
}

function generationSamples(generation: number, src: PlanSources): Samples {
  const held = src.inMemory?.(generation) ?? recall(recent.get(chainKey(src.runDir, src.chainId)), generation)
  if (held !== undefined) return held
  const read = readSamples(samplesPath(src.runDir, src.chainId, generation, src.real.modality))
  remember(src.runDir, src.chainId, generation, read)
  return read
}

/**
 * Sample files this thread wrote or read lately, by chain and generation. `accumulate` trains every
 * generation on all earlier ones: without this, generation g reads g files back (1,000,000 file
 * opens for the 200-generation, 50-replicate default run). Bounded in bytes, least recently used
 * out first (a quarter of the bound at a time, so that the sort this takes is rare); the files stay
 * the record, and what is held here is what they hold. Looked up by the generation's number within
 * a chain's map, since a training set asks for every earlier generation, every generation.
 */
interface Held {
  readonly samples: Samples
  used: number
}
const recent = new Map<string, Map<number, Held>>()
let recentBytes = 0
let clock = 0
const RECENT_BYTES = 128 * 1024 ** 2

const chainKey = (runDir: string, chainId: string): string => `${runDir}\0${chainId}`
const sizeOf = (s: Samples): number => (s.modality === 'vectors' ? s.data.byteLength : s.tokens.byteLength + s.offsets.byteLength)

/** Keeps a generation's samples, just written or read, for the next generations' training sets. */
export function remember(runDir: string, chainId: string, generation: number, s: Samples): void {
  const key = chainKey(runDir, chainId)
  let byGeneration = recent.get(key)
  const old = byGeneration?.get(generation)
  if (old !== undefined) {
    byGeneration!.delete(generation)
    recentBytes -= sizeOf(old.samples)
  }
  if (sizeOf(s) > RECENT_BYTES) return
  if (byGeneration === undefined) recent.set(key, (byGeneration = new Map()))
  byGeneration.set(generation, { samples: s, used: clock++ })
  recentBytes += sizeOf(s)
  if (recentBytes > RECENT_BYTES) forgetOldest(RECENT_BYTES * 0.75)
}

function forgetOldest(downTo: number): void {
  const all: { key: string; generation: number; held: Held }[] = []
  for (const [key, byGeneration] of recent) for (const [generation, held] of byGeneration) all.push({ key, generation, held })
  all.sort((a, b) => a.held.used - b.held.used)
  for (const { key, generation, held } of all) {
    if (recentBytes <= downTo) break
    const byGeneration = recent.get(key)!
    byGeneration.delete(generation)
    if (byGeneration.size === 0) recent.delete(key)
    recentBytes -= sizeOf(held.samples)
  }
}

function recall(byGeneration: Map<number, Held> | undefined, generation: number): Samples | undefined {
  const held = byGeneration?.get(generation)
  if (held === undefined) return undefined
  held.used = clock++
  return held.samples
}

function freshReal(n: number, src: PlanSources): Samples {
  return src.dataset.sample(n, Rng.from(src.seed, 'fresh', src.generation))
}
