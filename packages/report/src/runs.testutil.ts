/** Synthetic run directories for the report's tests, written with the store's own writers. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cellLabel, Rng, vectors, type OutputInfo, type VectorSamples } from '@ouroboros/core'
import {
  appendRecords,
  chainDir,
  samplesPath,
  writeRunInfo,
  writeSamples,
  type ChainInfo,
  type MetricRecord,
  type RunInfo,
  type RunStatus,
} from '@ouroboros/store'
import { BUILTIN_OUTPUT_INFO } from './outputs.testutil.js'

export interface SyntheticRun {
  name: string
  status?: RunStatus
  modality?: 'vectors' | 'tokens'
  dataset: Record<string, unknown>
  /** Resolved config shared by every cell (generations, samplesPerGeneration, data, model, policy). */
  base: Record<string, unknown>
  /** Swept values of each cell, by dotted path. */
  cells: Record<string, unknown>[]
  replicates: number
  /** Metrics of one (cell, replicate, generation); generation −1 is the real data. */
  metrics(cell: number, replicate: number, generation: number): Record<string, number | null>
  /** A chain that fails at `generation` (its records stop before it). */
  failure?(cell: number, replicate: number): { generation: number; message: string; code: string; hint?: string } | undefined
  /** Samples to save; undefined saves none for that generation. */
  samples?(cell: number, replicate: number, generation: number | 'real'): VectorSamples | undefined
  /** A cell's own data facts, as run.json keeps them for a cell whose data differ from the first's. */
  cellDataset?(cell: number): Record<string, unknown> | undefined
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ouroboros-report-${prefix}-`))
}

export function writeSyntheticRun(dir: string, spec: SyntheticRun): RunInfo {
  const cells = spec.cells.map((params, index) => {
    const config: Record<string, unknown> = structuredClone(spec.base)
    for (const [path, value] of Object.entries(params)) setPath(config, path, value)
    const dataset = spec.cellDataset?.(index)
    return { index, label: cellLabel(params), params, config, ...(dataset === undefined ? {} : { dataset }) }
  })
  const generations = spec.base.generations as number
  const chains: ChainInfo[] = []
  const records: MetricRecord[] = []
  for (const cell of cells) {
    for (let replicate = 0; replicate < spec.replicates; replicate++) {
      const id = `c${cell.index}-r${replicate}`
      const seed = 1000 + cell.index * 100 + replicate
      const failure = spec.failure?.(cell.index, replicate)
      const done = failure === undefined ? generations : failure.generation
      chains.push({
        id,
        cell: cell.index,
        replicate,
        seed,
        status: failure === undefined ? (spec.status === 'running' ? 'running' : 'finished') : 'failed',
        generationsDone: done,
        ...(failure === undefined ? {} : { error: failure }),
      })
      for (let g = -1; g < done; g++) {
        records.push({
          chain: id,
          cell: cell.index,
          replicate,
          seed,
          generation: g,
          params: cell.params,
          metrics: spec.metrics(cell.index, replicate, g),
          timings: { fitMs: 10, sampleMs: 5, evalMs: 2 },
        })
        const s = spec.samples?.(cell.index, replicate, g === -1 ? 'real' : g)
        if (s !== undefined) writeSamples(samplesPath(dir, id, g === -1 ? 'real' : g, 'vectors'), s)
      }
    }
  }
  const info: RunInfo = {
    name: spec.name,
    status: spec.status ?? 'finished',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: spec.status === undefined || spec.status === 'finished' ? '2025-01-01T00:02:05.000Z' : null,
    seed: 7,
    workers: 2,
    backend: 'cpu',
    config: { ...spec.base, name: spec.name, replicates: spec.replicates },
    cells,
    chains,
    metricOptions: { prdc: { k: 5, operator: '<=' } },
    metrics: ['moments'],
    metricInfo: structuredClone(BUILTIN_OUTPUT_INFO) as Record<string, OutputInfo>,
    modality: spec.modality ?? 'vectors',
    dataset: spec.dataset,
    packages: { '@ouroboros/core': '0.1.0', '@ouroboros/report': '0.1.0' },
    node: 'v20.19.0',
  }
  writeRunInfo(dir, info)
  appendRecords(dir, records)
  return info
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let node = target
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[keys[keys.length - 1]!] = value
}

export const RING_CENTERS: number[] = Array.from({ length: 8 }, (_, k) => [2 * Math.cos((2 * Math.PI * k) / 8), 2 * Math.sin((2 * Math.PI * k) / 8)]).flat()

/** n points of the 8-mode ring, drawing only from the first `modes` modes (a chain losing modes). */
export function ringSamples(n: number, modes: number, rng: Rng): VectorSamples {
  const out = new Float64Array(n * 2)
  for (let i = 0; i < n; i++) {
    const k = rng.int(modes)
    out[2 * i] = RING_CENTERS[2 * k]! + 0.05 * rng.normal()
    out[2 * i + 1] = RING_CENTERS[2 * k + 1]! + 0.05 * rng.normal()
  }
  return vectors(n, 2, out)
}

export const ringDataset = { kind: 'ring', modality: 'vectors', d: 2, modes: { centers: RING_CENTERS, k: 8, std: 0.02 } }

/** The figures the page embeds for plotly, parsed back from its JSON block. */
export function embeddedPlots(html: string): { data: Record<string, unknown>[]; layout: Record<string, unknown>; slider?: { generations: number[] } }[] {
  const m = /<script type="application\/json" id="ouroboros-data">([\s\S]*?)<\/script>/.exec(html)
  if (m === null) throw new Error('no embedded data block')
  return (JSON.parse(m[1]!) as { plots: ReturnType<typeof embeddedPlots> }).plots
}

/** A plot's title as one line (long titles are broken into lines). */
export function plotTitle(plot: { layout: Record<string, unknown> }): string {
  return (plot.layout.title as { text: string }).text.replaceAll('<br>', ' ')
}

/** The plot of one metric: the curves plot whose title ends in its name. */
export function metricPlot(html: string, metric: string): ReturnType<typeof embeddedPlots>[number] {
  const plot = embeddedPlots(html).find((p) => {
    const text = plotTitle(p)
    return text === metric || text.endsWith(`· ${metric}`)
  })
  if (plot === undefined) throw new Error(`no plot for ${metric}`)
  return plot
}

/**
 * A 1-D Gaussian chain under `replace`, simulated: generation g fits mean and MLE variance to
 * M samples of generation g − 1 (generation 0 to M real samples of N(0, σ₀²)).
 */
export function gaussianChainRun(name: string, p: { sigma0: number; m: number; generations: number; replicates: number }): SyntheticRun {
  const chains: { logVar: number[]; realLogVar: number; samples: VectorSamples[]; real: VectorSamples }[] = []
  for (let rep = 0; rep < p.replicates; rep++) {
    const rng = Rng.from(11, 'gaussian-chain', rep)
    const real = vectors(p.m, 1, rng.fillNormal(new Float64Array(p.m), 0, p.sigma0))
    const logVar: number[] = []
    const samples: VectorSamples[] = []
    let data = real.data
    for (let g = 0; g < p.generations; g++) {
      const { mean, variance } = fitGaussian(data)
      logVar.push(Math.log(variance))
      data = rng.fillNormal(new Float64Array(p.m), mean, Math.sqrt(variance))
      samples.push(vectors(p.m, 1, data))
    }
    chains.push({ logVar, realLogVar: Math.log(fitGaussian(real.data).variance), samples, real })
  }
  return {
    name,
    dataset: { kind: 'gaussian', modality: 'vectors', d: 1, gaussian: { mean: 0, std: p.sigma0 } },
    base: { generations: p.generations, samplesPerGeneration: p.m, data: { kind: 'gaussian', n: p.m }, model: { kind: 'gaussian' }, policy: { kind: 'replace' } },
    cells: [{}],
    replicates: p.replicates,
    metrics: (_c, rep, g) => {
      const chain = chains[rep]!
      const logVariance = g === -1 ? chain.realLogVar : chain.logVar[g]!
      return { log_variance: logVariance, total_variance: Math.exp(logVariance) }
    },
    samples: (_c, rep, g) => (rep !== 0 ? undefined : g === 'real' ? chains[0]!.real : g % 5 === 0 || g === p.generations - 1 ? chains[0]!.samples[g] : undefined),
  }
}

function fitGaussian(data: Float64Array): { mean: number; variance: number } {
  let mean = 0
  for (const v of data) mean += v
  mean /= data.length
  let variance = 0
  for (const v of data) variance += (v - mean) * (v - mean)
  return { mean, variance: variance / data.length }
}

/**
 * The 8-mode ring under two policies: `replace` loses a mode every other generation,
 * `accumulate` keeps them all. Replicate 1 of `accumulate` fails at generation 7.
 */
export function ringRun(name: string, generations = 12): SyntheticRun {
  const modesAt = (cell: number, g: number): number => (cell === 0 ? Math.max(1, 8 - Math.floor(Math.max(g, 0) / 2)) : 8)
  const rng = Rng.from(5, 'ring')
  return {
    name,
    dataset: ringDataset,
    base: { generations, samplesPerGeneration: 2000, data: { kind: 'ring', n: 2000 }, model: { kind: 'gmm', components: 8 }, policy: { kind: 'replace' } },
    cells: [{ 'policy.kind': 'replace' }, { 'policy.kind': 'accumulate' }],
    replicates: 2,
    metrics: (cell, rep, g) => {
      const modes = g === -1 ? 8 : modesAt(cell, g)
      return {
        modes_covered: modes,
        total_variance: (4 * modes) / 8 + 0.01 * rep,
        reverse_kl: Math.log(8 / modes) + 0.001 * (rep + 1),
        recall: modes / 8 - 0.01 * rep,
      }
    },
    failure: (cell, rep) => (cell === 1 && rep === 1 ? { generation: 7, message: 'covariance is not positive definite', code: 'OUROBOROS_MODEL' } : undefined),
    samples: (cell, rep, g) => (rep !== 0 ? undefined : g === 'real' ? ringSamples(2000, 8, rng) : g % 3 === 0 || g === generations - 1 ? ringSamples(2000, modesAt(cell, g), rng) : undefined),
  }
}

/** Modes covered per replicate: the ring 5, 7, 2 (real data 8), the grid 17, 12, 0 (real data 25). */
export const MODES = [
  [5, 7, 2],
  [17, 12, 0],
]

/** A GAN run of one generation on the ring and the grid, as data/configs/gan-hinge.json sweeps them. */
export function ganRun(name: string): SyntheticRun {
  const rng = Rng.from(4, 'gan')
  return {
    name,
    dataset: ringDataset,
    base: { generations: 1, samplesPerGeneration: 500, data: { kind: 'ring', n: 1000 }, model: { kind: 'gan', loss: 'hinge' }, policy: { kind: 'replace' } },
    cells: [{ 'data.kind': 'ring' }, { 'data.kind': 'grid' }],
    replicates: 3,
    metrics: (cell, rep, g) => (g === -1 ? { modes_covered: cell === 0 ? 8 : 25 } : { modes_covered: MODES[cell]![rep]! }),
    samples: (_c, rep, g) => (rep === 0 ? ringSamples(500, 8, rng) : undefined),
  }
}

/** Replicate r's loss at step s is (r + 1)/(s + 1): the mean over replicates 0–2 is 2/(s + 1). */
export function writeReplicateTraining(d: string): void {
  for (const chain of ['c0-r0', 'c0-r1', 'c0-r2', 'c1-r0', 'c1-r1', 'c1-r2']) {
    const r = Number(chain.at(-1))
    // reverse_kl_uniform as a GAN records it on modes of equal weight, where it does not apply.
    const lines = Array.from({ length: 20 }, (_, s) => JSON.stringify({ step: s * 10, metrics: { loss: (r + 1) / (s * 10 + 1), reverse_kl_uniform: null }, losses: { d: r + s } }))
    mkdirSync(chainDir(d, chain), { recursive: true })
    writeFileSync(join(chainDir(d, chain), 'gen-000000.training.ndjson'), lines.join('\n') + '\n')
  }
}
