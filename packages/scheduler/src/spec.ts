import type { Cell } from '@ouroboros/core'

/** A metric group of a run: where its plug-in lives and the options it runs with. */
export interface MetricSpec {
  id: string
  /** Module URL whose `builtinMetrics[id]` (or default export) is the plug-in. */
  module: string
  options: Record<string, unknown>
}

/**
 * Everything a worker needs to run one chain, by value or by module URL: plug-ins are imported
 * inside the worker thread, since a registry filled in the main thread does not exist there.
 */
export interface ChainSpec {
  id: string
  cell: number
  replicate: number
  /** Seed of every random stream of this chain. */
  seed: number
  params: Record<string, unknown>
  config: Cell['config']
  /** Resolved sample counts. */
  n: number
  samplesPerGeneration: number
  modelModule: string
  /** Model hyperparameters, validated (defaults filled) in the main thread. */
  modelParams: Record<string, unknown>
  datasetModule: string
  datasetKind: string
  datasetParams: Record<string, unknown>
  metrics: MetricSpec[]
  /** The task data of each finetuning stage (config.posttrain), resolved and validated. */
  tasks: TaskSpec[]
  /** Generations whose sample files are kept for the report even when no policy needs them. */
  keepGenerations: number[]
  /**
   * Vector training sets larger than this many bytes are read from the sample files on demand by
   * models that can (`fitRows`), instead of being built in memory.
   */
  streamAboveBytes: number
}

/** A finetuning stage's task data: a dataset restricted to the task (mode weights, digits, genres). */
export interface TaskSpec {
  /** Index of the stage in config.posttrain. */
  stage: number
  datasetModule: string
  datasetKind: string
  datasetParams: Record<string, unknown>
  /** Task training items, and held-out task items for task metrics. */
  n: number
  heldout: number
}

export interface Timings {
  fitMs: number
  sampleMs: number
  evalMs: number
}
