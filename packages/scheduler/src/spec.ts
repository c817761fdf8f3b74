import { ErrorCode, OuroborosError, type Cell } from '@ouroboros/core'

/** A metric group of a run: where its plug-in lives and the options it runs with. */
export interface MetricSpec {
  id: string
  /** Module (see ChainSpec) whose `builtinMetrics[id]` (or default export) is the plug-in. */
  module: string
  options: Record<string, unknown>
}

/**
 * Everything a worker needs to run one chain, by value or by module: plug-ins are imported inside
 * the worker thread, since a registry filled in the main thread does not exist there. A module is
 * a file URL of this machine's; run.json saves it by package name (`@ouroboros/model-gmm`) or by
 * absolute file path instead (see mapModules), so that every machine resolves it in its own
 * installation.
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
  /**
   * Real samples of the generation −1 record where the data's pool holds fewer than
   * samplesPerGeneration (a small file): the whole pool. Absent: samplesPerGeneration.
   */
  referenceN?: number
  modelModule: string
  /** Model hyperparameters, validated (defaults filled) in the main thread. */
  modelParams: Record<string, unknown>
  datasetModule: string
  datasetKind: string
  datasetParams: Record<string, unknown>
  metrics: MetricSpec[]
  /** The task data of each finetuning stage (config.posttrain), resolved and validated. */
  tasks: TaskSpec[]
  /**
   * Generations whose sample files are kept for the report even when no policy needs them (by the
   * replicates below config.keepSamples; see keptGenerations).
   */
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

/** A chain's spec less what differs between the replicates of a sweep cell. */
export type CellSpec = Omit<ChainSpec, 'id' | 'replicate' | 'seed'>

/**
 * What run.json holds beyond RunInfo so that a worker on another machine, or a resume, needs
 * nothing but the run directory: the chain specs, saved once per sweep cell (a chain is its cell's
 * spec with the id, replicate and seed of its entry in `chains`).
 */
export interface RunSpecs {
  /** Tells this run's tasks apart from other runs' on a shared queue; a resume keeps it. */
  runId: string
  /** Indexed by cell. */
  cellSpecs: CellSpec[]
}

export function cellSpecsOf(chains: readonly ChainSpec[]): CellSpec[] {
  const cells: CellSpec[] = []
  for (const { id: _id, replicate: _replicate, seed: _seed, ...cell } of chains) cells[cell.cell] ??= cell
  return cells
}

export function chainSpecsOf(cells: readonly CellSpec[], chains: readonly { id: string; cell: number; replicate: number; seed: number }[]): ChainSpec[] {
  return chains.map(({ id, cell, replicate, seed }) => {
    const spec = cells[cell]
    if (spec === undefined) throw new OuroborosError(ErrorCode.RUN_DIR, `run.json: chain ${id} names sweep cell ${cell}, which cellSpecs does not have`)
    return { ...spec, id, replicate, seed }
  })
}

/**
 * The chain with every module replaced by `to(module)`: a name turned into this machine's URL
 * before a task reaches a thread, or a URL into the name run.json saves.
 */
export function mapModules(chain: ChainSpec, to: (module: string) => string): ChainSpec {
  const { policy, filter } = chain.config
  return {
    ...chain,
    config: {
      ...chain.config,
      policy: policy.module === undefined ? policy : { ...policy, module: to(policy.module) },
      filter: filter?.module === undefined ? filter : { ...filter, module: to(filter.module) },
    },
    modelModule: to(chain.modelModule),
    datasetModule: to(chain.datasetModule),
    metrics: chain.metrics.map((m) => ({ ...m, module: to(m.module) })),
    tasks: chain.tasks.map((t) => ({ ...t, datasetModule: to(t.datasetModule) })),
  }
}

/** The generations whose samples a chain saves beyond what its policy and checkpoints need; empty past config.keepSamples. */
export function keptGenerations(chain: ChainSpec): ReadonlySet<number> {
  return new Set(savesSamples(chain) ? chain.keepGenerations : [])
}

/** Whether a chain saves its real data and the report's generations' samples (config.keepSamples). */
export function savesSamples(chain: ChainSpec): boolean {
  return chain.replicate < chain.config.keepSamples
}
