import { isAbsolute, resolve as resolvePath } from 'node:path'
import { didYouMean, outputInfoProblems, type ConfigProblems, type DatasetPlugin, type MetricPlugin } from '@ouroboros/core'
import { FILTER_OUTPUT_INFO, loadDataset, loadMetric } from '@ouroboros/scheduler'
import { kindMismatch, moduleUrl, problemMessage } from './registry.js'

/** The config sections that may name a plug-in module, and hold other paths relative to the config file. */
const SECTIONS = ['data', 'model', 'policy', 'filter'] as const
type Section = (typeof SECTIONS)[number]

/**
 * The config with its relative paths made absolute (run.json keeps them so, and a resume reads
 * run.json from the run directory) and `model.command` without a kind given the kind 'command'.
 * A command runs in the config file's directory unless `model.cwd` says otherwise. Paths are
 * anchored wherever a config may give them: the sections, a finetuning stage's data, metric groups,
 * and a sweep's values, of a path key or of a whole section.
 */
export function anchorPaths(raw: unknown, baseDir: string): unknown {
  if (!isRecord(raw)) return raw
  const out: Record<string, unknown> = { ...raw }
  for (const section of SECTIONS) if (section in out) out[section] = anchorSection(section, out[section], baseDir)
  if (Array.isArray(out['posttrain'])) out['posttrain'] = out['posttrain'].map((stage) => anchorStage(stage, baseDir))
  if ('metrics' in out) out['metrics'] = anchorMetrics(out['metrics'], baseDir)
  if (isRecord(out['sweep'])) {
    const sweep: Record<string, unknown> = {}
    for (const [key, values] of Object.entries(out['sweep'])) sweep[key] = Array.isArray(values) ? values.map((v) => anchorSwept(key, v, baseDir)) : values
    out['sweep'] = sweep
  }
  return out
}

/** A module named by a relative path, made absolute; a package name stays as it is. */
function anchorModule(value: unknown, baseDir: string): unknown {
  return typeof value === 'string' && value.startsWith('.') ? resolvePath(baseDir, value) : value
}

/** A path that is never a package name (a data file, a command's folder), made absolute. */
function anchorPath(value: unknown, baseDir: string): unknown {
  return typeof value === 'string' && !isAbsolute(value) ? resolvePath(baseDir, value) : value
}

function anchorSection(section: Section, value: unknown, baseDir: string): unknown {
  if (!isRecord(value)) return value
  const out: Record<string, unknown> = { ...value }
  if ('module' in out) out['module'] = anchorModule(out['module'], baseDir)
  // A data file (data.kind text-file or vector-file) is a path, never a package name.
  if (section === 'data' && 'path' in out) out['path'] = anchorPath(out['path'], baseDir)
  if (section === 'model') {
    if ('command' in out && out['kind'] === undefined && out['module'] === undefined) out['kind'] = 'command'
    if (out['kind'] === 'command') out['cwd'] = typeof out['cwd'] === 'string' ? resolvePath(baseDir, out['cwd']) : resolvePath(baseDir)
  }
  return out
}

/** A metrics list: the groups given as {"module": ...}. */
function anchorMetrics(metrics: unknown, baseDir: string): unknown {
  return Array.isArray(metrics) ? metrics.map((m) => (isRecord(m) && 'module' in m ? { ...m, module: anchorModule(m['module'], baseDir) } : m)) : metrics
}

/** A finetuning stage's task data, as the run's. */
function anchorStage(stage: unknown, baseDir: string): unknown {
  return isRecord(stage) && isRecord(stage['data']) ? { ...stage, data: anchorSection('data', stage['data'], baseDir) } : stage
}

/** One value of a sweep: a whole section, a stage or metrics list, one stage or its data, or one path key of them (`policy.module`, `data.path`, `posttrain.0.data.path`). */
function anchorSwept(key: string, value: unknown, baseDir: string): unknown {
  if ((SECTIONS as readonly string[]).includes(key)) return anchorSection(key as Section, value, baseDir)
  if (key === 'posttrain') return Array.isArray(value) ? value.map((stage) => anchorStage(stage, baseDir)) : value
  // One stage, or one stage's task data, swept whole.
  if (/^posttrain\.\d+$/.test(key)) return anchorStage(value, baseDir)
  if (/^posttrain\.\d+\.data$/.test(key)) return anchorSection('data', value, baseDir)
  if (key === 'metrics') return anchorMetrics(value, baseDir)
  if (key.endsWith('.module')) return anchorModule(value, baseDir)
  if (key.endsWith('data.path') || key === 'model.cwd') return anchorPath(value, baseDir)
  return value
}

/** The dataset plug-in of `data.module` and the URL workers import it from; undefined after adding the problem. */
export async function datasetFromModule(
  module: string,
  kind: string,
  baseDir: string,
  problems: ConfigProblems,
  params: Record<string, unknown>,
): Promise<{ plugin: DatasetPlugin<any>; url: string } | undefined> {
  try {
    const url = moduleUrl(module, baseDir)
    const plugin = await loadDataset(url, kind)
    const mismatch = kindMismatch('data', kind, plugin.id, module)
    if (mismatch === undefined) return { plugin, url }
    problems.add({ path: 'data.kind', message: mismatch }, params)
  } catch (err) {
    problems.add({ path: 'data.module', message: problemMessage(err) }, params)
  }
  return undefined
}

export interface MetricGroups {
  /** The groups the config names, in its order; undefined when it names none (the default set applies). */
  readonly ids: string[] | undefined
  /** Every group a config may use, built-in or from a module, with the URL workers import it from. */
  readonly byId: ReadonlyMap<string, { readonly plugin: MetricPlugin<any, any>; readonly url: string }>
}

/**
 * The metric groups of a config's `metrics`: names of built-in groups, or `{"module": ...}` for a
 * group from a package or file (its default export, called by its own id). Unknown names and
 * modules that fail to load are added to `problems`.
 */
export async function metricGroups(
  entries: readonly (string | { module: string })[] | undefined,
  builtin: Readonly<Record<string, MetricPlugin<any, any>>>,
  builtinUrl: string,
  baseDir: string,
  problems: ConfigProblems,
  params: Record<string, unknown>,
): Promise<MetricGroups> {
  const byId = new Map(Object.entries(builtin).map(([id, plugin]) => [id, { plugin, url: builtinUrl }]))
  if (entries === undefined) return { ids: undefined, byId }
  const known = Object.keys(builtin)
  const ids: string[] = []
  const fromModules: [number, MetricPlugin<any, any>][] = []
  for (const [i, entry] of entries.entries()) {
    if (typeof entry === 'string') {
      if (!known.includes(entry)) {
        problems.add({ path: `metrics.${i}`, message: `unknown metric group '${entry}'${didYouMean(entry, known)}; expected one of ${known.join(', ')}, or {"module": ...}` }, params)
      }
      ids.push(entry)
      continue
    }
    try {
      const url = moduleUrl(entry.module, baseDir)
      const plugin = await loadMetric(url)
      const other = byId.get(plugin.id)
      if (other !== undefined && other.url !== url) {
        problems.add({ path: `metrics.${i}.module`, message: `its group is called '${plugin.id}', as is ${other.url === builtinUrl ? 'a built-in group' : `the group of ${other.url}`}; give it another id` }, params)
        continue
      }
      const described = outputInfoProblems(plugin.outputInfo, plugin.outputs)
      if (described.length > 0) {
        for (const problem of described) problems.add({ path: `metrics.${i}.module`, message: `metric group '${plugin.id}': ${problem}` }, params)
        continue
      }
      byId.set(plugin.id, { plugin, url })
      ids.push(plugin.id)
      fromModules.push([i, plugin])
    } catch (err) {
      problems.add({ path: `metrics.${i}.module`, message: problemMessage(err) }, params)
    }
  }
  await outputClashes(fromModules, ids, byId, problems, params)
  return { ids, byId }
}

/**
 * Where a plug-in's outputs (a metric group's, a filter's values) take names the run records
 * itself beside them (a filter's share kept, post-training's rewards and KL), so that a record
 * would keep one of the two values: the problem in words, `owner` naming the plug-in; else undefined.
 */
export async function recordedByTheRun(names: readonly string[], owner: string, noun: 'output' | 'value'): Promise<string | undefined> {
  const { POSTTRAIN_OUTPUT_INFO } = await import('@ouroboros/posttrain')
  const runs = { ...FILTER_OUTPUT_INFO, ...POSTTRAIN_OUTPUT_INFO }
  const own = names.filter((name) => Object.hasOwn(runs, name))
  if (own.length === 0) return undefined
  const one = own.length === 1
  return `${owner} has the ${noun}${one ? '' : 's'} ${own.map((o) => `'${o}' (${runs[o]!.title})`).join(', ')}, which the run records itself; give ${one ? 'it another name' : 'them other names'}`
}

/**
 * A group from a module whose outputs share a name with another group's of the config: records
 * hold one value per name, so one of the two would be lost without a word.
 */
async function outputClashes(
  fromModules: readonly (readonly [number, MetricPlugin<any, any>])[],
  ids: readonly string[],
  byId: MetricGroups['byId'],
  problems: ConfigProblems,
  params: Record<string, unknown>,
): Promise<void> {
  if (fromModules.length === 0) return
  for (const [i, plugin] of fromModules) {
    const own = await recordedByTheRun(plugin.outputs, `group '${plugin.id}'`, 'output')
    if (own !== undefined) problems.add({ path: `metrics.${i}.module`, message: own }, params)
  }
  // Built-in groups keep their names; a module's group meets them and the modules' before it.
  const owner = new Map<string, string>()
  const modules = new Set(fromModules.map(([, plugin]) => plugin.id))
  const order = [...ids.filter((id) => !modules.has(id)), ...ids.filter((id) => modules.has(id))]
  for (const id of order) for (const output of byId.get(id)?.plugin.outputs ?? []) if (!owner.has(output)) owner.set(output, id)
  for (const [i, plugin] of fromModules) {
    const shared = plugin.outputs.filter((output) => owner.get(output) !== plugin.id)
    if (shared.length === 0) continue
    const others = [...new Set(shared.map((output) => `'${owner.get(output)!}'`))]
    const names = shared.map((output) => `'${output}'`).join(', ')
    problems.add({ path: `metrics.${i}.module`, message: `group '${plugin.id}' has the output${shared.length === 1 ? '' : 's'} ${names} of group${others.length === 1 ? '' : 's'} ${others.join(', ')}, and a record holds one value per name; give ${shared.length === 1 ? 'it another name' : 'them other names'}` }, params)
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
