import { dirname } from 'node:path'
import {
  ConfigProblems,
  ErrorCode,
  OuroborosError,
  Rng,
  cellLabel,
  heldoutSize,
  sameWords,
  didYouMean,
  configError,
  expandSweep,
  issueProblems,
  type Problem,
  outputInfoProblems,
  parseConfig,
  toOuroborosError,
  valueWords,
  type Cell,
  type ChainSizes,
  type Config,
  type DatasetInfo,
  type DatasetInstance,
  type DatasetPlugin,
  type FilterConfig,
  type FilterPlugin,
  type MinimumRows,
  type MinimumTokens,
  type TokenSamples,
  type Modality,
  type ModelPlugin,
  type PolicyConfig,
  type PolicyPlugin,
} from '@ouroboros/core'
import { builtinFilters, builtinPolicies, chainRealData, checkedDataset, declaredSizesProblem, loadFilter, loadModel, loadPolicy, pluginName, type ChainSpec, type MetricSpec } from '@ouroboros/scheduler'
import type { CellInfo } from '@ouroboros/store'
import { resolvePosttrain, stageModelProblems } from './posttrain.js'
import { DATASETS_MODULE, METRICS_MODULE, builtinDatasets, builtinModelModule, builtinModels, kindMismatch, metricsModule, moduleUrl, problemMessage } from './registry.js'
import { anchorPaths, datasetFromModule, metricGroups, recordedByTheRun, type MetricGroups } from './extensions.js'
import { needInWords } from './metric-needs.js'

export interface ResolvedRun {
  config: Config
  cells: CellInfo[]
  chains: ChainSpec[]
  modality: Modality
  metrics: string[]
  metricOptions: Record<string, Record<string, unknown>>
  /** What the report needs to know about the data (of the first cell). */
  dataset: Record<string, unknown>
  /** The first cell's dataset as its plug-in describes it, labelled items included (for metric groups' setupRun). */
  datasetInfo: DatasetInfo
  /** Some cell's model trains on tfjs. */
  usesTfjs: boolean
  /** Token data: the id -> word table, saved with the run for the report. */
  vocabulary?: readonly string[]
  /** The tables of cells whose words differ from the first cell's (a sweep over data.path or a vocabulary size), by cell. */
  cellVocabularies?: ReadonlyMap<number, readonly string[]>
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

/**
 * Validates a raw config against the core schema and every plug-in's own schema; writes nothing.
 * `overrides.baseDir`: where package names are looked up, in place of `where`'s folder (a resume
 * reads the config from run.json, but looks its packages up where the config file was).
 */
export async function resolveRun(raw: unknown, where: string, overrides: { seed?: number; baseDir?: string } = {}): Promise<ResolvedRun> {
  const streamAboveBytes = streamAboveBytesFromEnv()
  const baseDir = overrides.baseDir ?? (where.startsWith('(') ? process.cwd() : dirname(where))
  const anchored = anchorPaths(overrides.seed === undefined || typeof raw !== 'object' || raw === null ? raw : { ...raw, seed: overrides.seed }, baseDir)
  const datasets = await builtinDatasets()
  const problems = new ConfigProblems(where, sweptPaths(anchored))
  const withSeed = await withoutKindless(await withModuleKind(anchored, baseDir, problems), baseDir, problems)
  const config = parseConfig(withSeed, where, problems)
  if (config === undefined) {
    // The plug-in parameters as given too, so that every problem shows at once.
    if (isRecord(withSeed)) {
      const { model } = await checkPlugins(withSeed, datasets, baseDir, problems, {})
      if (model !== undefined) problems.add(await stageModelProblems(withSeed['posttrain'], model))
    }
    throw problems.error()
  }
  const cells = expandSweep(config, where, problems, withSeed)
  const metricsMod = await metricsModule()
  /** The problems of a cell's plug-ins and their parameters, each said with the others. */
  const checkCell = async (cfg: Cell['config'], params: Record<string, unknown>) => {
    const { checked, model } = await checkPlugins(cfg, datasets, baseDir, problems, params)
    if (model !== undefined) problems.add(await stageModelProblems(cfg.posttrain, model), params)
    const groups = await metricGroups(cfg.metrics, metricsMod.builtinMetrics, moduleUrl(METRICS_MODULE, '.'), baseDir, problems, params)
    const loaded = <T>(found: KindPlugin<T> | { problems: Problem[] }): KindPlugin<T> | undefined => {
      if (!('problems' in found)) return found
      problems.add(found.problems, params)
      return undefined
    }
    const policy = loaded(await kindPlugin('policy', cfg.policy, baseDir, builtinPolicies))
    const filter = cfg.filter === null ? null : loaded(await kindPlugin('filter', cfg.filter, baseDir, builtinFilters))
    return { checked, groups, policy, filter }
  }
  // No cell to check (each named a sweep path that is none): the config's own plug-ins, with that.
  if (cells.length === 0) await checkCell(config, {})
  const chains: ChainSpec[] = []
  const cellInfos: CellInfo[] = []
  let modality: Modality | undefined
  let metrics: string[] = []
  const metricOptions: Record<string, Record<string, unknown>> = {}
  let datasetFacts: Record<string, unknown> = {}
  let firstInfo: DatasetInfo | undefined
  let usesTfjs = false
  let vocabulary: readonly string[] | undefined
  const cellVocabularies = new Map<number, readonly string[]>()

  /** The cells' config errors, each with its message less the cell's label: said together at the end (two swept data files missing). */
  const failures: { error: OuroborosError; message: string }[] = []
  for (const cell of cells) {
    const at = cells.length > 1 ? `${where} (sweep cell ${cellLabel(cell.params)})` : where
    try {
      const cfg = cell.config
      const { checked, groups, policy: given, filter: givenFilter } = await checkCell(cfg, cell.params)
      // After a problem, the other cells are only checked for the problems of their parameters.
      if (checked === undefined || given === undefined || givenFilter === undefined || problems.any) continue
      const { datasetPlugin, datasetUrl, model, modelUrl, modelParams } = checked
      const dataParams = ofConfig(at, () => datasetPlugin.pin?.(checked.dataParams) ?? checked.dataParams)
      const { kind: dataKind, n: dataN } = cfg.data
      const modelKind = cfg.model.kind
      const limits = ofConfig(at, () => datasetPlugin.limits?.(dataParams))
      const n = dataN ?? datasetPlugin.defaultN?.(dataParams) ?? limits?.n ?? 10_000
      usesTfjs ||= model.usesTfjs === true
      if (model.modality !== datasetPlugin.modality) {
        throw configError(`${at}: model.kind: '${modelKind}' models ${model.modality}, but data.kind '${dataKind}' gives ${datasetPlugin.modality}`)
      }
      if (cfg.sampling.temperature !== 1 && !model.acceptsTemperature) {
        throw configError(`${at}: sampling.temperature: model '${modelKind}' cannot sample with a temperature; remove it or use 1`)
      }
      const perGeneration = cfg.samplesPerGeneration ?? n
      const heldout = heldoutSize(cfg.heldout, limits?.heldout)
      const sizes = { n, samplesPerGeneration: perGeneration, generations: cfg.generations }
      const policy = resolvePolicy(given, at, sizes)

      if (limits !== undefined) {
        const pool = `the ${limits.n} real samples one draw of the ${dataKind} data can give`
        if (n > limits.n) throw configError(`${at}: data.n: ${n} is more than ${pool}`)
        const nReal = policy.plugin.freshPerGeneration?.(policy.params, sizes) ?? 0
        if (nReal > limits.n) throw configError(`${at}: policy: ${nReal} fresh real samples a generation (${valueWords(policy.config)}) is more than ${pool}`)
        if (limits.heldout !== undefined && heldout > limits.heldout) {
          throw configError(`${at}: heldout: ${heldout} is more than the ${limits.heldout} held-out samples the ${dataKind} data set aside; lower it, or hold out more of the data (data.heldout for mnist, data.heldoutFraction for brown and data files)`)
        }
      }

      const info = createdInfo(await ofConfig(at, () => datasetPlugin.create(dataParams, Rng.from(0, 'probe'))), datasetPlugin, cfg.data, at, { n, heldout })
      try {
        model.checkData?.(modelParams, info)
      } catch (err) {
        const e = toOuroborosError(err)
        // A message that starts with one of the model's parameters ('likelihood: …') is that field's; others the kind's.
        const param = /^(\w+): /.exec(e.message)?.[1]
        const field = param !== undefined && param !== 'kind' && Object.hasOwn(modelParams as object, param) ? 'model.' : 'model.kind: '
        throw configError(`${at}: ${field}${e.message}`, e.hint)
      }
      const minimumRows = model.minimumRows?.(modelParams, info)
      checkMinimumRows(minimumRows, policy, sizes, at)
      const minimumTokens = info.modality === 'tokens' ? model.minimumTokens?.(modelParams) : undefined
      if (minimumTokens !== undefined) checkSampledTokens(minimumTokens, policy, sizes, at)
      const filter = givenFilter === null ? null : await resolveFilter(givenFilter, at, info, model)
      const d = info.d ?? 1
      // Rows held in memory at once: a model with fitRows reads a large history from the sample files.
      const heldRows = policy.plugin.needsAllGenerations && model.fitRows !== undefined ? Math.max(n, perGeneration) : policy.plugin.largestTrainingSet(policy.params, sizes)
      if (info.modality === 'vectors' && heldRows * d * 8 > MEMORY_LIMIT_BYTES) {
        throw configError(
          `${at}: the training set would reach ${heldRows} x ${d} values (${((heldRows * d * 8) / 1024 ** 3).toFixed(1)} GiB) in memory; reduce data.n, samplesPerGeneration or generations`,
        )
      }

      const tasks = await resolvePosttrain(cfg.posttrain, at, { data: cfg.data, n, heldout, samplesPerGeneration: perGeneration, info, minimumRows }, model, datasets, moduleUrl(DATASETS_MODULE, '.'))
      // With a finetuning stage, the task's quality is what the report's frontier sets against diversity.
      const cellMetrics = groups.ids ?? metricsMod.metricsFor(info, model.logLikelihood !== undefined, { task: tasks.length > 0 })
      const specs: MetricSpec[] = []
      for (const [i, id] of cellMetrics.entries()) {
        const group = groups.byId.get(id)
        // Unknown groups were reported above.
        if (group === undefined) continue
        const { plugin } = group
        if (plugin.modality !== info.modality) throw configError(`${at}: metrics.${i}: '${id}' measures ${plugin.modality}, but the data are ${info.modality}`)
        // What the data lack is known now; a group that needs it would fail every chain at its first generation.
        const lacking = metricsMod.unmetNeeds(plugin, { dataset: info, logLikelihood: true, summary: true, training: true, heldout: true, task: tasks.length > 0 })
        // A task comes from a finetuning stage, not from the data: its values would be null in every record.
        if (lacking.includes('task')) {
          throw configError(`${at}: metrics.${i}: '${id}' needs a finetuning task, which no stage of posttrain gives`, `add a finetune stage with a task, or leave '${id}' out of metrics`)
        }
        if (lacking.length > 0) {
          throw configError(`${at}: metrics.${i}: '${id}' needs ${lacking.map((need) => needInWords(need).what).join(' and ')}, which data.kind '${info.kind}' does not give`, `leave '${id}' out of metrics, or use data that give it`)
        }
        const given = cfg.metricOptions[id] ?? {}
        const options = plugin.options.safeParse(given)
        if (!options.success) {
          problems.add(issueProblems(options.error.issues, ['metricOptions', id], { input: given, schema: plugin.options }), cell.params)
          continue
        }
        metricOptions[id] = options.data as Record<string, unknown>
        specs.push({ id, module: group.url, options: options.data as Record<string, unknown> })
      }
      for (const id of Object.keys(cfg.metricOptions)) {
        if (!cellMetrics.includes(id)) throw configError(`${at}: metricOptions.${id}: '${id}' is not among the metrics of this run (${cellMetrics.join(', ')})`)
      }
      if (givenFilter !== null) checkFilterOutputs(givenFilter, cellMetrics, groups.byId, at)
      if (problems.any) continue
      // A cell whose data differ from the first cell's (a sweep over data.kind) keeps its own facts:
      // the report marks its samples with its own mode centres.
      const facts = datasetFactsFor(info, dataParams, limits)
      const ownData = cell.index > 0 && JSON.stringify(facts) !== JSON.stringify(datasetFacts)
      if (cell.index === 0) {
        modality = info.modality
        metrics = cellMetrics
        datasetFacts = facts
        firstInfo = info
        vocabulary = info.vocabulary
      } else if (info.modality !== modality) {
        throw configError(`${at}: data.kind: a sweep cannot mix ${modality} and ${info.modality} data`)
      }
      if (cell.index > 0 && info.vocabulary !== undefined && (vocabulary === undefined || !sameWords(info.vocabulary, vocabulary))) cellVocabularies.set(cell.index, info.vocabulary)

      cellInfos.push({
        index: cell.index,
        label: cellLabel(cell.params),
        params: cell.params,
        config: { ...cfg, policy: policy.config, filter, data: { ...cfg.data, n }, samplesPerGeneration: perGeneration, heldout },
        ...(ownData ? { dataset: facts } : {}),
      })
      // One object of each for all the cell's replicates: a run of 10,000 chains kept 10,000 copies.
      const chainConfig = { ...cfg, policy: policy.config, filter, heldout }
      const keepGenerations = keptForReport(cfg.generations)
      for (let r = 0; r < cfg.replicates; r++) {
        chains.push({
          id: cells.length > 1 ? `c${cell.index}-r${r}` : `r${r}`,
          cell: cell.index,
          replicate: r,
          seed: replicateSeed(cfg.seed, r),
          params: cell.params,
          config: chainConfig,
          n,
          samplesPerGeneration: perGeneration,
          // The real-data record draws a generation's size of real samples, all the pool holds at most.
          ...(limits !== undefined && perGeneration > limits.n ? { referenceN: limits.n } : {}),
          modelModule: modelUrl,
          modelParams,
          datasetModule: datasetUrl,
          datasetKind: dataKind,
          datasetParams: dataParams,
          metrics: specs,
          tasks,
          keepGenerations,
          streamAboveBytes,
        })
      }
      if (minimumTokens !== undefined) await checkRealTokens(minimumTokens, chains.slice(-cfg.replicates), limits !== undefined && n === limits.n, at)
    } catch (err) {
      // A problem of the config itself fails every cell alike: said once, of the config, where the
      // first cell's label would make it read as that cell's (vae-mnist-policies' data.n).
      const message = err instanceof OuroborosError && err.code === ErrorCode.CONFIG && err.message.startsWith(`${at}: `) ? err.message.slice(at.length + 2) : undefined
      if (cells.length === 1 || message === undefined) throw err
      failures.push({ error: err as OuroborosError, message })
    }
  }
  if (failures.length > 0) {
    const first = failures[0]!
    // Every cell checked and failed alike (unless a cell went unchecked for problems of its own parameters).
    const alike = !problems.any && failures.length === cells.length && failures.every((f) => f.message === first.message)
    if (alike) throw new OuroborosError(ErrorCode.CONFIG, `${where}: ${first.message}`, first.error.hint === undefined ? {} : { hint: first.error.hint })
    throw togetherError(failures.map((f) => f.error), problems)
  }
  problems.throwIfAny()
  return { config, cells: cellInfos, chains, modality: modality!, metrics, metricOptions, dataset: datasetFacts, datasetInfo: firstInfo!, usesTfjs, ...(vocabulary === undefined ? {} : { vocabulary }), ...(cellVocabularies.size === 0 ? {} : { cellVocabularies }) }
}

/** The config errors of several cells, one a line, with the problems found after them; one error stays as it is. */
function togetherError(errors: readonly OuroborosError[], problems: ConfigProblems): OuroborosError {
  if (errors.length === 1 && !problems.any) return errors[0]!
  const lines = [...errors.map((e) => e.message), ...(problems.any ? [problems.error().message] : [])]
  const hints = [...new Set(errors.flatMap((e) => (e.hint === undefined ? [] : [e.hint])))]
  return configError(lines.join('\n'), hints.length === 0 ? undefined : hints.join('; '))
}

interface CheckedPlugins {
  datasetPlugin: DatasetPlugin<any>
  datasetUrl: string
  dataParams: Record<string, unknown>
  model: ModelPlugin<any, any>
  modelUrl: string
  modelParams: Record<string, unknown>
}

/**
 * The dataset and model plug-ins of `config` with their parameters parsed by the plug-ins' own
 * schemas (`checked`), undefined after adding to `problems` whatever is wrong with either; and the
 * model plug-in wherever it loaded, against which the stages are checked whatever else is wrong.
 */
async function checkPlugins(
  config: { data?: unknown; model?: unknown },
  datasets: Readonly<Record<string, DatasetPlugin<any>>>,
  baseDir: string,
  problems: ConfigProblems,
  /** The swept values of the cell, for the messages. */
  params: Record<string, unknown>,
): Promise<{ checked: CheckedPlugins | undefined; model: ModelPlugin<any, any> | undefined }> {
  let datasetPlugin: DatasetPlugin<any> | undefined
  let datasetUrl: string | undefined
  let dataParams: Record<string, unknown> | undefined
  if (isRecord(config.data) && typeof config.data['kind'] === 'string') {
    const { kind, module, n: _n, ...given } = config.data
    const fromModule = typeof module === 'string' ? await datasetFromModule(module, kind as string, baseDir, problems, params) : undefined
    datasetPlugin = typeof module === 'string' ? fromModule?.plugin : datasets[kind as string]
    datasetUrl = fromModule?.url ?? moduleUrl(DATASETS_MODULE, '.')
    if (datasetPlugin === undefined) {
      if (typeof module !== 'string') problems.add({ path: 'data.kind', message: `unknown dataset '${kind}'${didYouMean(kind as string, Object.keys(datasets))}; expected one of ${Object.keys(datasets).join(', ')}, or give data.module` }, params)
    } else {
      const parsed = datasetPlugin.params.safeParse(given)
      if (parsed.success) dataParams = parsed.data as Record<string, unknown>
      else problems.add(issueProblems(parsed.error.issues, ['data'], { input: given, schema: datasetPlugin.params, extraKeys: ['kind', 'module', 'n'] }), params)
    }
  }
  let model: ModelPlugin<any, any> | undefined
  let modelUrl: string | undefined
  let modelParams: Record<string, unknown> | undefined
  if (isRecord(config.model) && typeof config.model['kind'] === 'string') {
    const { kind, module, ...given } = config.model
    const specifier = typeof module === 'string' ? module : builtinModelModule(kind as string, datasetPlugin?.modality)
    // A module that is no string is said at model.module; its kind is then no built-in's to check.
    if (specifier === undefined && module === undefined) {
      problems.add({ path: 'model.kind', message: `unknown model '${kind}'${didYouMean(kind as string, Object.keys(builtinModels))}; expected one of ${Object.keys(builtinModels).join(', ')}, or give model.module` }, params)
    } else if (specifier !== undefined) {
      try {
        modelUrl = moduleUrl(specifier, baseDir)
        model = await loadModel(modelUrl)
      } catch (err) {
        problems.add({ path: module === undefined ? 'model.kind' : 'model.module', message: problemMessage(err) }, params)
      }
      const mismatch = model === undefined || typeof module !== 'string' ? undefined : kindMismatch('model', kind, model.id, module)
      if (mismatch !== undefined) {
        problems.add({ path: 'model.kind', message: mismatch }, params)
        model = undefined
      } else if (model !== undefined) {
        const parsed = model.params.safeParse(given)
        if (parsed.success) modelParams = parsed.data as Record<string, unknown>
        else {
          // A key beside `command` is most likely one of the program's own parameters ("mode" is not a misspelt "module").
          const command = kind === 'command'
          const found = issueProblems(parsed.error.issues, ['model'], { input: given, schema: model.params, extraKeys: command ? ['kind'] : ['kind', 'module'] })
          problems.add(command ? found.map((p) => (p.message.startsWith('unknown key') ? { ...p, message: `${p.message} (the program's own parameters go in model.params)` } : p)) : found, params)
        }
      }
    }
  }
  if (datasetPlugin === undefined || datasetUrl === undefined || dataParams === undefined || model === undefined || modelUrl === undefined || modelParams === undefined) return { checked: undefined, model }
  return { checked: { datasetPlugin, datasetUrl, dataParams, model, modelUrl, modelParams }, model }
}

/**
 * A model.module given without model.kind: the kind is the id of the module's plug-in, which the
 * config names so that it says (and run.json records) which plug-in ran. Where the module loads,
 * the problem gives that id to write, and the config is checked on as with it, so that its other
 * problems show too; where it does not, the schema's "missing" stays and the module's problem is
 * said beside it.
 */
async function withModuleKind(raw: unknown, baseDir: string, problems: ConfigProblems): Promise<unknown> {
  if (!isRecord(raw) || !isRecord(raw['model'])) return raw
  const model = raw['model']
  const { module } = model
  // A swept kind is the sweep's to give; beside a command, the core's hint says to give one of the two.
  if (model['kind'] !== undefined || typeof module !== 'string' || 'command' in model || sweptPaths(raw).some((p) => p === 'model' || p === 'model.kind')) return raw
  let id: string
  try {
    id = (await loadModel(moduleUrl(module, baseDir))).id
  } catch (err) {
    problems.add({ path: 'model.module', message: problemMessage(err) })
    return raw
  }
  problems.add({ path: 'model.kind', message: `missing; the plug-in of model.module (${module}) has id '${id}': write "kind": "${id}"` })
  return { ...raw, model: { ...model, kind: id } }
}

/**
 * A policy or a filter given without a kind, said with the kinds there are and how a plug-in is
 * given, where the schema would say only that a string is missing; the field is then left out of
 * the config, so that its default stands in and the config's other problems show beside this one.
 * A field the sweep sets is the sweep's to give.
 */
async function withoutKindless(raw: unknown, baseDir: string, problems: ConfigProblems): Promise<unknown> {
  if (!isRecord(raw)) return raw
  const kinds = { policy: Object.keys(builtinPolicies), filter: Object.keys(builtinFilters) }
  let out = raw
  for (const [field, known] of Object.entries(kinds)) {
    const given = raw[field]
    if (!isRecord(given) || given['kind'] !== undefined || sweptPaths(raw).some((p) => p === field || p.startsWith(`${field}.`))) continue
    const { module } = given
    if (typeof module === 'string') {
      // As for a model: the module's plug-in names the kind to write, and the config is checked on with it.
      let id: string | undefined
      try {
        id = (await (field === 'policy' ? loadPolicy : loadFilter)({ kind: '', module: moduleUrl(module, baseDir) })).id
      } catch {
        // The module's own problem is said where it is loaded with the config's kind.
      }
      if (id !== undefined) {
        problems.add({ path: `${field}.kind`, message: `missing; the plug-in of ${field}.module (${module}) has id '${id}': write "kind": "${id}"` })
        out = { ...out, [field]: { ...given, kind: id } }
        continue
      }
    }
    const expected = typeof module === 'string' ? `the id of the plug-in of ${field}.module` : `one of the built-in ${field} kinds, ${known.join(', ')}, or the id of a plug-in given with ${field}.module`
    problems.add({ path: `${field}.kind`, message: `missing; expected ${expected}` })
    const { [field]: _left, ...rest } = out
    out = rest
  }
  return out
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The paths a raw config sweeps, before its parse says whether they are any. */
function sweptPaths(raw: unknown): string[] {
  const sweep = isRecord(raw) ? raw['sweep'] : undefined
  return isRecord(sweep) ? Object.keys(sweep) : []
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

/**
 * `params`: the dataset's parameters with defaults filled in, which theory curves read (a Zipf
 * exponent). `pool`: the training rows of data that have a limit (a file, MNIST, Brown), from which
 * both the real data and the generation −1 record are drawn: the report says where the second is
 * no fresh draw.
 */
function datasetFactsFor(info: DatasetInfo, params: Record<string, unknown>, limits: { n: number } | undefined): Record<string, unknown> {
  return {
    kind: info.kind,
    modality: info.modality,
    d: info.d,
    params,
    ...(limits === undefined ? {} : { pool: limits.n }),
    ...(info.modes ? { modes: { centers: Array.from(info.modes.centers), k: info.modes.k, std: info.modes.std } } : {}),
    ...(info.gaussian ? { gaussian: info.gaussian } : {}),
    ...(info.image ? { image: info.image } : {}),
    ...(info.regression ? { regression: { sigma: info.regression.sigma, T: info.regression.T, d: info.regression.weights.length } } : {}),
    ...(info.facets ? { facets: jsonFacets(info.facets) } : {}),
  }
}

/** Facets as JSON holds them: typed arrays as lists, what JSON cannot hold (functions) left out. */
function jsonFacets(facets: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(facets, (_key, value: unknown) => (ArrayBuffer.isView(value) && !(value instanceof DataView) ? Array.from(value as Float64Array) : value))) as Record<string, unknown>
}

export type { Cell }

type KindPlugin<T> = { plugin: T; params: unknown; config: { kind: string; module?: string } & Record<string, unknown> }

/**
 * A policy's or filter's plug-in (a built-in by kind, or the `module` given, resolved from the
 * config's directory) and its parameters checked by the plug-in's own schema; `config` is what the
 * chains carry (parameters with defaults, the module as a URL). Else the problems found.
 */
async function kindPlugin<T extends PolicyPlugin<any> | FilterPlugin<any>>(
  field: 'policy' | 'filter',
  given: { kind: string; module?: string | undefined },
  baseDir: string,
  builtins: Readonly<Record<string, T>>,
): Promise<KindPlugin<T> | { problems: Problem[] }> {
  const { kind, module, ...raw } = given
  let plugin: T | undefined
  let moduleHref: string | undefined
  if (module === undefined) {
    plugin = builtins[kind]
    const known = Object.keys(builtins)
    if (plugin === undefined) return { problems: [{ path: `${field}.kind`, message: `unknown ${field} '${kind}'${didYouMean(kind, known)}; expected one of ${known.join(', ')}, or give ${field}.module` }] }
  } else {
    try {
      moduleHref = moduleUrl(module, baseDir)
      plugin = (await (field === 'policy' ? loadPolicy : loadFilter)({ kind, module: moduleHref })) as unknown as T
    } catch (err) {
      return { problems: [{ path: `${field}.module`, message: problemMessage(err) }] }
    }
    const mismatch = kindMismatch(field, kind, plugin.id, module)
    if (mismatch !== undefined) return { problems: [{ path: `${field}.kind`, message: mismatch }] }
  }
  const parsed = plugin.params.safeParse(raw)
  if (!parsed.success) return { problems: issueProblems(parsed.error.issues, [field], { input: raw, schema: plugin.params, extraKeys: ['kind', 'module'] }) }
  return { plugin, params: parsed.data, config: { kind, ...(moduleHref === undefined ? {} : { module: moduleHref }), ...(parsed.data as Record<string, unknown>) } }
}

/** The cell's policy, its parameters also checked against the chain's sizes. */
function resolvePolicy(given: KindPlugin<PolicyPlugin<any>>, at: string, sizes: ChainSizes): { plugin: PolicyPlugin<any>; params: unknown; config: PolicyConfig } {
  const { plugin, params, config } = given
  const problem = plugin.check?.(params, sizes)
  if (problem !== undefined) throw configError(`${at}: policy.${problem.param}: ${problem.message}`)
  const declared = declaredSizesProblem(plugin, params, sizes)
  if (declared !== undefined) throw configError(`${at}: policy.${config.module === undefined ? 'kind' : 'module'}: ${pluginName('policy', plugin.id, config.module)}: ${declared}`)
  return { plugin, params, config: config as PolicyConfig }
}

/**
 * Refuses a chain whose smallest training set is below the model's minimum, which would otherwise
 * fail every chain at its first fit that small (generation 0, or 1 under a smaller policy set).
 */
function checkMinimumRows(
  minimum: MinimumRows | undefined,
  policy: { plugin: PolicyPlugin<any>; params: unknown; config: PolicyConfig },
  sizes: ChainSizes,
  at: string,
): void {
  if (minimum === undefined) return
  const field = `model.${minimum.param ?? 'kind'}`
  const needs = `${minimum.what} needs at least ${minimum.rows} training row${minimum.rows === 1 ? '' : 's'}`
  const lower = minimum.param === undefined ? '' : `lower ${field}, or `
  if (sizes.n < minimum.rows) throw configError(`${at}: ${field}: ${needs}, but generation 0 is fit on data.n = ${sizes.n}`, `${lower}raise data.n`)
  if (sizes.generations < 2) return
  const later = policy.plugin.smallestTrainingSet?.(policy.params, sizes)
  if (later !== undefined && later < minimum.rows) {
    throw configError(
      `${at}: ${field}: ${needs}, but under policy '${policy.config.kind}' a generation after 0 is fit on ${later}${later === sizes.samplesPerGeneration ? ' (samplesPerGeneration)' : ''}`,
      `${lower}raise samplesPerGeneration or the policy's sizes`,
    )
  }
}

/** What a model that needs `minimum` tokens of training text needs, in words. */
function tokensNeeded(minimum: MinimumTokens): string {
  return `${minimum.what} needs at least ${minimum.tokens} tokens of training text (words, and an end for each sequence)`
}

/**
 * A model that needs so many tokens of training text (a transformer's context + 1) against the
 * most a generation after 0 can hold where its training set is the last generation's samples
 * alone: under 'replace', and under 'mix' or 'fresh' where they draw no fresh real rows (whose
 * lengths are the data's). Each sample is at most the model's longest; below it every chain would
 * fail at generation 1.
 */
function checkSampledTokens(
  minimum: MinimumTokens,
  policy: { plugin: PolicyPlugin<any>; params: unknown; config: PolicyConfig },
  sizes: ChainSizes,
  at: string,
): void {
  if (sizes.generations < 2 || policy.config.module !== undefined || !SAMPLES_ALONE.has(policy.config.kind)) return
  if ((policy.plugin.freshPerGeneration?.(policy.params, sizes) ?? 0) > 0) return
  const rows = policy.plugin.smallestTrainingSet?.(policy.params, sizes) ?? sizes.samplesPerGeneration
  if (rows * minimum.perSample >= minimum.tokens) return
  const which = policy.config.kind === 'replace' ? `samplesPerGeneration = ${rows} of its sequences` : `${rows} of the last generation's sequences`
  const none = { replace: '', mix: ' and no fresh real ones (realFraction × samplesPerGeneration rounds to 0)', fresh: ' and no fresh real ones (nReal 0)' }[policy.config.kind as 'replace' | 'mix' | 'fresh']
  throw configError(
    `${at}: model.${minimum.param}: ${tokensNeeded(minimum)}, but under policy '${policy.config.kind}' a generation after 0 is fit on ${which}, at most ${minimum.perSample} tokens each${none}`,
    `lower model.${minimum.param}, or raise ${policy.config.kind === 'fresh' ? "the policy's nSynthetic or nReal" : 'samplesPerGeneration'} or model.maxLength`,
  )
}

/** Built-in policies whose training set after generation 0 is the last generation's samples and any fresh real rows. */
const SAMPLES_ALONE = new Set(['replace', 'mix', 'fresh'])

/**
 * The same against generation 0's data as each chain draws them: a few short sentences (a Brown
 * data.n of 2) would fail every chain at its first fit.
 */
async function checkRealTokens(minimum: MinimumTokens, chains: readonly ChainSpec[], wholePool: boolean, at: string): Promise<void> {
  const short: number[] = []
  for (const chain of chains) {
    const real = (await ofConfig(at, () => chainRealData(chain))).real as TokenSamples
    const tokens = real.tokens.length + real.n
    if (tokens < minimum.tokens) short.push(tokens)
  }
  if (short.length === 0) return
  // Said without the chains' names: cells of the same data say it alike, and so once.
  const n = chains[0]!.n
  const which = chains.length === 1 ? 'they hold' : `in ${short.length} of ${chains.length} chains they hold`
  throw configError(
    `${at}: model.${minimum.param}: ${tokensNeeded(minimum)}, but generation 0 is fit on ${n} sequence${n === 1 ? '' : 's'} (data.n), and ${which} as few as ${Math.min(...short)}`,
    `lower model.${minimum.param}, or ${wholePool ? 'give more text: data.n is every training sequence of the data' : 'raise data.n'}`,
  )
}

/** The cell's filter, its parameters also checked against the cell's data and model. */
/**
 * A filter's own values (a reward filter's `filter_reward`, a plug-in filter's) go into the same
 * record as the metric groups' outputs: a name both record would keep one of the two values.
 */
function checkFilterOutputs(given: KindPlugin<FilterPlugin<any>>, metrics: readonly string[], byId: MetricGroups['byId'], at: string): void {
  const own = Object.keys(given.plugin.outputInfo ?? {})
  for (const [i, id] of metrics.entries()) {
    const group = byId.get(id)
    const shared = group === undefined ? [] : group.plugin.outputs.filter((output) => own.includes(output))
    if (shared.length === 0) continue
    const names = shared.map((name) => `'${name}'`).join(', ')
    // Said at whichever of the two is the user's own: a built-in's names are not theirs to change.
    const path = given.config.module !== undefined ? 'filter.module' : `metrics.${i}.module`
    const rename = shared.length === 1 ? 'another name' : 'other names'
    throw configError(`${at}: ${path}: filter '${given.plugin.id}' and metric group '${id}' both record ${names}; records keep one value per name`, given.config.module !== undefined ? `give the filter's value ${rename}` : `give the group's output ${rename}`)
  }
}

async function resolveFilter(given: KindPlugin<FilterPlugin<any>>, at: string, dataset: DatasetInfo, model: ModelPlugin<any, any>): Promise<FilterConfig> {
  const { plugin, params, config } = given
  const described = outputInfoProblems(plugin.outputInfo)
  if (described.length > 0) throw configError(described.map((problem) => `${at}: filter.module: filter '${plugin.id}': ${problem}`).join('\n'))
  const own = await recordedByTheRun(Object.keys(plugin.outputInfo ?? {}), `filter '${plugin.id}'`, 'value')
  if (own !== undefined) throw configError(`${at}: filter.module: ${own}`)
  try {
    await plugin.check?.(params, { dataset, model }, 'filter')
  } catch (err) {
    const e = toOuroborosError(err)
    throw configError(`${at}: ${e.message}`, e.hint)
  }
  return config as FilterConfig
}

/** What a dataset says of its data (a file that cannot be read, one that is not UTF-8), named as the config's, as its other problems are. */
/**
 * The info of what a dataset's `create` returned, checked as far as the run's checks read it
 * before any chain does: a plug-in that returns no info would otherwise fail in the model's
 * checks, blamed on the model.
 */
function createdInfo(instance: unknown, plugin: DatasetPlugin<unknown>, data: unknown, at: string, sizes: { n: number; heldout: number }): DatasetInfo {
  const problem = createdProblem(instance, plugin)
  const module = isRecord(data) && typeof data['module'] === 'string' ? data['module'] : undefined
  if (problem !== undefined) {
    throw configError(`${at}: data: ${pluginName('dataset', plugin.id, module)}: create(params, rng) ${problem}`, "a dataset's create returns { info, sample, heldout? }, info describing the data: { kind, modality, d } for vectors, { kind, modality, vocabulary } for tokens (docs/extending.md)")
  }
  if (module !== undefined) {
    // A plug-in's draws of another shape than its info says fail every chain at its first
    // generation: a draw or two, checked as the chains check theirs, says so before the run.
    const checked = checkedDataset(instance as DatasetInstance, plugin.id, module)
    try {
      checked.sample(Math.min(sizes.n, 2), Rng.from(0, 'probe'))
      if (sizes.heldout > 0) checked.heldout?.(1, Rng.from(0, 'probe'))
    } catch (err) {
      const e = toOuroborosError(err)
      throw configError(`${at}: data: ${e.message}`, e.hint)
    }
  }
  return (instance as { info: DatasetInfo }).info
}

/** How what a dataset's `create` returned is not { info, sample } describing its data, in words; undefined when it is. */
function createdProblem(instance: unknown, plugin: DatasetPlugin<unknown>): string | undefined {
  if (!isRecord(instance)) return `returned ${instance === null ? 'null' : typeof instance}, not { info, sample }`
  const info = instance['info']
  if (!isRecord(info)) return `returned no info (${info === undefined ? 'undefined' : JSON.stringify(info)})`
  if (info['modality'] !== plugin.modality) return `returned info.modality ${JSON.stringify(info['modality'])}, where the plug-in's modality is '${plugin.modality}'`
  if (plugin.modality === 'vectors' && !(Number.isInteger(info['d']) && (info['d'] as number) >= 1)) return `returned info.d ${JSON.stringify(info['d'])}, not the data's dimension (a whole number ≥ 1)`
  if (plugin.modality === 'tokens' && !Array.isArray(info['vocabulary'])) return 'returned no info.vocabulary (the id -> word list)'
  if (typeof instance['sample'] !== 'function') return 'returned no sample(n, rng) function'
  return undefined
}

function ofConfig<T>(at: string, read: () => T): T {
  const named = (err: unknown): never => {
    const e = toOuroborosError(err)
    if (!e.isUsageError || e.message.startsWith(`${at}: `)) throw err
    throw configError(`${at}: ${e.message}`, e.hint)
  }
  try {
    const value = read()
    return (value instanceof Promise ? value.catch(named) : value) as T
  } catch (err) {
    return named(err)
  }
}
