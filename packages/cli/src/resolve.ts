import { dirname } from 'node:path'
import {
  Rng,
  cellLabel,
  configError,
  expandSweep,
  formatIssues,
  parseConfig,
  type Cell,
  type Config,
  type DatasetInfo,
  type Modality,
} from '@ouroboros/core'
import type { ChainSpec, MetricSpec } from '@ouroboros/scheduler'
import type { CellInfo } from '@ouroboros/store'
import { DATASETS_MODULE, METRICS_MODULE, builtinDatasets, builtinModels, loadModelModule, metricsModule, moduleUrl } from './registry.js'

export interface ResolvedRun {
  config: Config
  cells: CellInfo[]
  chains: ChainSpec[]
  modality: Modality
  metrics: string[]
  metricOptions: Record<string, Record<string, unknown>>
  /** What the report needs to know about the data (of the first cell). */
  dataset: Record<string, unknown>
  /** The first cell's dataset as its plug-in describes it, labelled items included (for the classifier). */
  datasetInfo: DatasetInfo
  /** Some cell's model trains on tfjs. */
  usesTfjs: boolean
  /** Token data: the id -> word table, saved with the run for the report. */
  vocabulary?: readonly string[]
}

/** Above this many bytes of training data at once, a config is refused as unrunnable here. */
const MEMORY_LIMIT_BYTES = 8 * 1024 ** 3

/**
 * Vector training sets above this size are streamed from the sample files to models that can
 * read them in minibatches; `OUROBOROS_STREAM_ABOVE_MIB` changes it (0 streams every one).
 */
function streamAboveBytesFromEnv(): number {
  const raw = process.env['OUROBOROS_STREAM_ABOVE_MIB']
  if (raw === undefined || raw === '') return 256 * 1024 ** 2
  const mib = Number(raw)
  if (!Number.isFinite(mib) || mib < 0) throw configError(`OUROBOROS_STREAM_ABOVE_MIB: expected a number of MiB ≥ 0, got '${raw}'`)
  return mib * 1024 ** 2
}

/** Validates a raw config against the core schema and every plug-in's own schema; writes nothing. */
export async function resolveRun(raw: unknown, where: string, overrides: { seed?: number } = {}): Promise<ResolvedRun> {
  const streamAboveBytes = streamAboveBytesFromEnv()
  const withSeed = overrides.seed === undefined || typeof raw !== 'object' || raw === null ? raw : { ...raw, seed: overrides.seed }
  const config = parseConfig(withSeed, where)
  const cells = expandSweep(config, where)
  const baseDir = where.startsWith('(') ? process.cwd() : dirname(where)
  const datasets = await builtinDatasets()
  const metricsMod = await metricsModule()
  const chains: ChainSpec[] = []
  const cellInfos: CellInfo[] = []
  let modality: Modality | undefined
  let metrics: string[] = []
  const metricOptions: Record<string, Record<string, unknown>> = {}
  let datasetFacts: Record<string, unknown> = {}
  let firstInfo: DatasetInfo | undefined
  let usesTfjs = false
  let vocabulary: readonly string[] | undefined

  for (const cell of cells) {
    const cfg = cell.config
    const at = cells.length > 1 ? `${where} (sweep cell ${cellLabel(cell.params)})` : where
    const { kind: dataKind, module: _dataModule, n: dataN, ...dataParamsRaw } = cfg.data
    const datasetPlugin = datasets[dataKind]
    if (datasetPlugin === undefined) {
      throw configError(`${at}: data.kind: unknown dataset '${dataKind}'; expected one of ${Object.keys(datasets).join(', ')}`)
    }
    const dataParams = datasetPlugin.params.safeParse(dataParamsRaw)
    if (!dataParams.success) throw configError(formatIssues(dataParams.error.issues, at, ['data']))
    const limits = datasetPlugin.limits?.(dataParams.data)
    const n = dataN ?? datasetPlugin.defaultN?.(dataParams.data) ?? limits?.n ?? 10_000

    const { kind: modelKind, module: modelModule, ...modelParamsRaw } = cfg.model
    const modelSpecifier = modelModule ?? builtinModels[modelKind]
    if (modelSpecifier === undefined) {
      throw configError(`${at}: model.kind: unknown model '${modelKind}'; expected one of ${Object.keys(builtinModels).join(', ')}, or give model.module`)
    }
    const modelField = modelModule === undefined ? 'model.kind' : 'model.module'
    let modelUrl: string
    let model: Awaited<ReturnType<typeof loadModelModule>>
    try {
      modelUrl = moduleUrl(modelSpecifier, baseDir)
      model = await loadModelModule(modelUrl)
    } catch (err) {
      throw configError(`${at}: ${modelField}: ${(err as Error).message}`)
    }
    const modelParams = model.params.safeParse(modelParamsRaw)
    if (!modelParams.success) throw configError(formatIssues(modelParams.error.issues, at, ['model']))
    usesTfjs ||= model.usesTfjs === true
    if (model.modality !== datasetPlugin.modality) {
      throw configError(`${at}: model.kind: '${modelKind}' models ${model.modality}, but data.kind '${dataKind}' gives ${datasetPlugin.modality}`)
    }
    if (cfg.sampling.temperature !== 1 && !model.acceptsTemperature) {
      throw configError(`${at}: sampling.temperature: model '${modelKind}' cannot sample with a temperature; remove it or use 1`)
    }
    const perGeneration = cfg.samplesPerGeneration ?? n
    if (cfg.policy.kind === 'fresh') {
      if (cfg.policy.nReal + cfg.policy.nSynthetic === 0) throw configError(`${at}: policy: nReal + nSynthetic must be positive`)
      if (cfg.policy.nSynthetic > perGeneration) {
        throw configError(`${at}: policy.nSynthetic: ${cfg.policy.nSynthetic} is more than samplesPerGeneration (${perGeneration})`)
      }
    }

    if (limits !== undefined) {
      const pool = `the ${limits.n} real samples one draw of the ${dataKind} data can give`
      if (n > limits.n) throw configError(`${at}: data.n: ${n} is more than ${pool}`)
      // The generation -1 reference record scores samplesPerGeneration fresh real samples.
      if (perGeneration > limits.n) throw configError(`${at}: samplesPerGeneration: ${perGeneration} is more than ${pool} (the reference record draws that many); use at most ${limits.n}`)
      const nReal = cfg.policy.kind === 'fresh' ? cfg.policy.nReal : cfg.policy.kind === 'mix' ? Math.round(cfg.policy.realFraction * perGeneration) : 0
      if (nReal > limits.n) throw configError(`${at}: policy: ${nReal} fresh real samples a generation is more than ${pool}`)
      if (limits.heldout !== undefined && cfg.heldout > limits.heldout) {
        throw configError(`${at}: heldout: ${cfg.heldout} is more than the ${limits.heldout} held-out samples the ${dataKind} data set aside; lower it or raise data.heldout`)
      }
    }

    const info: DatasetInfo = (await datasetPlugin.create(dataParams.data, Rng.from(0, 'probe'))).info
    if (cfg.filter?.kind === 'modes' && info.modes === undefined) {
      throw configError(`${at}: filter.kind: 'modes' keeps samples near mode centres, which data.kind '${dataKind}' does not have; use ring or grid data`)
    }
    if (cfg.filter?.kind === 'likelihood' && model.logLikelihood === undefined) {
      throw configError(`${at}: filter.kind: 'likelihood' ranks samples by the model's log-likelihood, which model '${modelKind}' does not give`)
    }
    const d = info.d ?? 1
    const accumulates = cfg.policy.kind === 'accumulate' || cfg.policy.kind === 'accumulate-subsample'
    const trainingRows = accumulates ? n + perGeneration * (cfg.generations - 1) : Math.max(n, perGeneration)
    // Rows held in memory at once: a subsample gathers only its rows; a model with fitRows reads a large history from disk.
    const heldRows =
      cfg.policy.kind === 'accumulate-subsample'
        ? Math.max(n, perGeneration, Math.min(cfg.policy.size ?? perGeneration, trainingRows))
        : accumulates && model.fitRows !== undefined
          ? Math.max(n, perGeneration)
          : trainingRows
    if (info.modality === 'vectors' && heldRows * d * 8 > MEMORY_LIMIT_BYTES) {
      throw configError(
        `${at}: the training set would reach ${heldRows} x ${d} values (${((heldRows * d * 8) / 1024 ** 3).toFixed(1)} GiB) in memory; reduce data.n, samplesPerGeneration or generations`,
      )
    }

    const cellMetrics = cfg.metrics ?? metricsMod.metricsFor(info, model.logLikelihood !== undefined)
    const specs: MetricSpec[] = []
    for (const [i, id] of cellMetrics.entries()) {
      const plugin = metricsMod.builtinMetrics[id]
      if (plugin === undefined) {
        throw configError(`${at}: metrics.${i}: unknown metric group '${id}'; expected one of ${Object.keys(metricsMod.builtinMetrics).join(', ')}`)
      }
      if (plugin.modality !== info.modality) throw configError(`${at}: metrics.${i}: '${id}' measures ${plugin.modality}, but the data are ${info.modality}`)
      const options = plugin.options.safeParse(cfg.metricOptions[id] ?? {})
      if (!options.success) throw configError(formatIssues(options.error.issues, at, ['metricOptions', id]))
      metricOptions[id] = options.data as Record<string, unknown>
      specs.push({ id, module: moduleUrl(METRICS_MODULE, '.'), options: options.data as Record<string, unknown> })
    }
    for (const id of Object.keys(cfg.metricOptions)) {
      if (!cellMetrics.includes(id)) throw configError(`${at}: metricOptions.${id}: '${id}' is not among the metrics of this run (${cellMetrics.join(', ')})`)
    }
    if (cell.index === 0) {
      modality = info.modality
      metrics = cellMetrics
      datasetFacts = datasetFactsFor(info, dataParams.data as Record<string, unknown>)
      firstInfo = info
      vocabulary = info.vocabulary
    } else if (info.modality !== modality) {
      throw configError(`${at}: data.kind: a sweep cannot mix ${modality} and ${info.modality} data`)
    }

    cellInfos.push({ index: cell.index, label: cellLabel(cell.params), params: cell.params, config: { ...cfg, data: { ...cfg.data, n }, samplesPerGeneration: perGeneration } })
    for (let r = 0; r < cfg.replicates; r++) {
      chains.push({
        id: cells.length > 1 ? `c${cell.index}-r${r}` : `r${r}`,
        cell: cell.index,
        replicate: r,
        seed: replicateSeed(cfg.seed, r),
        params: cell.params,
        config: cfg,
        n,
        samplesPerGeneration: perGeneration,
        modelModule: modelUrl,
        modelParams: modelParams.data as Record<string, unknown>,
        datasetModule: moduleUrl(DATASETS_MODULE, '.'),
        datasetKind: dataKind,
        datasetParams: dataParams.data as Record<string, unknown>,
        metrics: specs,
        keepGenerations: keptForReport(cfg.generations),
        streamAboveBytes,
      })
    }
  }
  return { config, cells: cellInfos, chains, modality: modality!, metrics, metricOptions, dataset: datasetFacts, datasetInfo: firstInfo!, usesTfjs, ...(vocabulary === undefined ? {} : { vocabulary }) }
}

/**
 * Replicate r's seed: the same in every sweep cell, so that cells are compared on the same real
 * data and random streams (common random numbers).
 */
export function replicateSeed(runSeed: number, replicate: number): number {
  return Rng.from(runSeed, 'replicate', replicate).nextUint32()
}

/** Generations whose samples the report shows: the first, the last and about ten between. */
function keptForReport(generations: number): number[] {
  const step = Math.max(1, Math.ceil(generations / 10))
  const kept = new Set<number>([0, generations - 1])
  for (let g = 0; g < generations; g += step) kept.add(g)
  return [...kept].sort((a, b) => a - b)
}

/** `params`: the dataset's parameters with defaults filled in, which theory curves read (a Zipf exponent). */
function datasetFactsFor(info: DatasetInfo, params: Record<string, unknown>): Record<string, unknown> {
  return {
    kind: info.kind,
    modality: info.modality,
    d: info.d,
    params,
    ...(info.modes ? { modes: { centers: Array.from(info.modes.centers), k: info.modes.k, std: info.modes.std } } : {}),
    ...(info.gaussian ? { gaussian: info.gaussian } : {}),
    ...(info.image ? { image: info.image } : {}),
    ...(info.regression ? { regression: { sigma: info.regression.sigma, T: info.regression.T, d: info.regression.weights.length } } : {}),
  }
}

export type { Cell }
