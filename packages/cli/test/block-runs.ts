import { readRecords, readRunInfo, type RunInfo } from '@ouroboros/store'
import { runChains, type ChainSpec } from '@ouroboros/scheduler'
import { tempDir } from './helpers.js'

function info(specs: ChainSpec[], backend: string): RunInfo {
  return {
    name: 't', status: 'running', startedAt: '', finishedAt: null, seed: 0, workers: 1, backend, config: {}, cells: [],
    chains: specs.map((c) => ({ id: c.id, cell: c.cell, replicate: c.replicate, seed: c.seed, status: 'pending', generationsDone: 0 })),
    metricOptions: {}, metrics: [], modality: 'vectors', dataset: {}, packages: {}, node: process.version,
  }
}

export interface BlockRunOptions {
  dir?: string
  resume?: boolean
  signal?: AbortSignal
  onProgress?: () => void
  blockBudgetMs?: number
  backend?: string
}

/** Runs vector chains in blocks of `blockChains` (1: chain by chain); the records without timings and each chain's outcome. */
export async function runInBlocks(specs: ChainSpec[], workers: number, blockChains: number, opts: BlockRunOptions = {}) {
  const dir = opts.dir ?? tempDir('ouroboros-blocks-')
  await runChains({
    runDir: dir, chains: specs, info: info(specs, opts.backend ?? 'none'), modality: 'vectors', workers, segmentMs: 0, blockChains, resume: opts.resume ?? false,
    ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), ...(opts.blockBudgetMs === undefined ? {} : { blockBudgetMs: opts.blockBudgetMs }),
  })
  const chainsInfo = readRunInfo(dir).chains.map(({ id, status, generationsDone, error }) => ({ id, status, generationsDone, error }))
  return { dir, records: readRecords(dir).map(({ timings: _t, ...r }) => r), chains: chainsInfo }
}
