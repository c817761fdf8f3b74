import { isAbsolute, resolve as resolvePath } from 'node:path'
import { didYouMean, outputInfoProblems, type ConfigProblems, type DatasetPlugin, type MetricPlugin } from '@ouroboros/core'
import { loadDataset, loadMetric } from '@ouroboros/scheduler'
import { kindMismatch, moduleUrl, problemMessage } from './registry.js'

/** Config keys whose values are paths relative to the config file. */
const PATH_KEYS = ['model.module', 'data.module', 'model.cwd', 'data.path'] as const

/**
 * The config with its relative paths made absolute (run.json keeps them so, and a resume reads
 * run.json from the run directory) and `model.command` without a kind given the kind 'command'.
 * A command runs in the config file's directory unless `model.cwd` says otherwise.
 */
export function anchorPaths(raw: unknown, baseDir: string): unknown {
  if (!isRecord(raw)) return raw
  const out: Record<string, unknown> = { ...raw }
  const anchor = (value: unknown): unknown => (typeof value === 'string' && value.startsWith('.') ? resolvePath(baseDir, value) : value)
  if (isRecord(out['data'])) {
    const data: Record<string, unknown> = { ...out['data'] }
    if ('module' in data) data['module'] = anchor(data['module'])
    // A data file (data.kind text-file or vector-file) is a path, never a package name.
    if (typeof data['path'] === 'string') data['path'] = resolvePath(baseDir, data['path'])
    out['data'] = data
  }
  if (isRecord(out['model'])) {
    const model: Record<string, unknown> = { ...out['model'] }
    if ('module' in model) model['module'] = anchor(model['module'])
    if ('command' in model && model['kind'] === undefined && model['module'] === undefined) model['kind'] = 'command'
    if (model['kind'] === 'command') model['cwd'] = typeof model['cwd'] === 'string' ? resolvePath(baseDir, model['cwd']) : resolvePath(baseDir)
    out['model'] = model
  }
  // A finetuning task's data file, as the run's.
  if (Array.isArray(out['posttrain'])) {
    out['posttrain'] = out['posttrain'].map((stage) =>
      isRecord(stage) && isRecord(stage['data']) && typeof stage['data']['path'] === 'string' ? { ...stage, data: { ...stage['data'], path: resolvePath(baseDir, stage['data']['path']) } } : stage,
    )
  }
  if (Array.isArray(out['metrics'])) out['metrics'] = out['metrics'].map((m) => (isRecord(m) && 'module' in m ? { ...m, module: anchor(m['module']) } : m))
  if (isRecord(out['sweep'])) {
    const sweep: Record<string, unknown> = { ...out['sweep'] }
    for (const key of PATH_KEYS) {
      const values = sweep[key]
      const always = key === 'model.cwd' || key === 'data.path'
      if (Array.isArray(values)) sweep[key] = values.map((v) => (always && typeof v === 'string' && !isAbsolute(v) ? resolvePath(baseDir, v) : anchor(v)))
    }
    out['sweep'] = sweep
  }
  return out
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
        for (const problem of described) problems.add({ path: `metrics.${i}.module`, message: problem }, params)
        continue
      }
      byId.set(plugin.id, { plugin, url })
      ids.push(plugin.id)
    } catch (err) {
      problems.add({ path: `metrics.${i}.module`, message: problemMessage(err) }, params)
    }
  }
  return { ids, byId }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
