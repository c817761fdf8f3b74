import {
  Rng,
  allRows,
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
    const rows = trainingRows(plan, src)
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

/** The rows of a vector training set, read from the sample files as they are asked for. */
export function trainingRows(plan: TrainingPlan, src: PlanSources): RowSource {
  const parts = plan.parts.map((part): RowSource => {
    if (part.from === 'real') return memoryRows(vectorsOf(src.real))
    if (part.from === 'fresh') return memoryRows(vectorsOf(freshReal(part.n, src)))
    const held = src.inMemory?.(part.generation)
    const rows = held === undefined ? fileRows(samplesPath(src.runDir, src.chainId, part.generation, 'vectors')) : memoryRows(vectorsOf(held))
    return part.head === undefined || part.head >= rows.n ? rows : pickRows(rows, Uint32Array.from({ length: part.head }, (_, i) => i))
  })
  const all = parts.length === 1 ? parts[0]! : concatRows(parts)
  return plan.pick === undefined ? all : pickRows(all, plan.pick)
}

function generationSamples(generation: number, src: PlanSources): Samples {
  return src.inMemory?.(generation) ?? readSamples(samplesPath(src.runDir, src.chainId, generation, src.real.modality))
}

function freshReal(n: number, src: PlanSources): Samples {
  return src.dataset.sample(n, Rng.from(src.seed, 'fresh', src.generation))
}

function vectorsOf(s: Samples) {
  if (s.modality !== 'vectors') throw new TypeError('row sources hold vectors only')
  return s
}
