import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { isAbsolute, join, resolve as resolvePath } from 'node:path'
import { OuroborosError, ErrorCode, configError, pluginImportError, type DatasetPlugin, type MetricPlugin, type ModelPlugin } from '@ouroboros/core'
import { staleBuildWarning } from './stale-build.js'

/**
 * Built-in plug-ins by kind, as module specifiers: workers import them by URL, so the main
 * thread resolves each specifier once and passes the URL on. A model package outside this list
 * is named by `model.module` (a package name or a path relative to the config file).
 */
export const builtinModels: Readonly<Record<string, string>> = {
  gaussian: '@ouroboros/model-gaussian',
  gmm: '@ouroboros/model-gmm',
  kde: '@ouroboros/model-kde',
  linreg: '@ouroboros/model-linreg',
  ngram: '@ouroboros/model-ngram',
  charlm: '@ouroboros/model-charlm',
  transformer: '@ouroboros/model-transformer',
  vae: '@ouroboros/model-vae',
  gan: '@ouroboros/model-gan',
  command: '@ouroboros/model-command',
}

/** `command` on text data: the same model, given sentences of token ids instead of an array of vectors. */
export const COMMAND_TEXT_MODULE = '@ouroboros/model-command/text'

/** The module of built-in model `kind` for data of `modality`. */
export function builtinModelModule(kind: string, modality: string | undefined): string | undefined {
  return kind === 'command' && modality === 'tokens' ? COMMAND_TEXT_MODULE : builtinModels[kind]
}

export const DATASETS_MODULE = '@ouroboros/datasets'
export const METRICS_MODULE = '@ouroboros/metrics'

/**
 * The URL of a plug-in module: a path (relative to `baseDir`, the config file's directory), or a
 * package name looked up from `baseDir`, then from the working directory, then from this
 * installation (the built-in packages).
 */
export function moduleUrl(specifier: string, baseDir: string): string {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return warnIfStale(pathToFileURL(resolvePath(baseDir, specifier)).href)
  const reasons: string[] = []
  for (const dir of [...new Set([resolvePath(baseDir), process.cwd()])]) {
    const found = resolveFrom(specifier, dir)
    if (found !== undefined) return warnIfStale(found)
    reasons.push(dir)
  }
  try {
    return warnIfStale(import.meta.resolve(specifier))
  } catch {
    throw configError(
      `cannot find module '${specifier}' from ${reasons.join(' or ')}`,
      'install the package there (npm install, or a pnpm workspace dependency), or give a path relative to the config file',
    )
  }
}

function warnIfStale(url: string): string {
  const warning = staleBuildWarning(url)
  if (warning !== undefined) process.stderr.write(`warning: ${warning}\n`)
  return url
}

/**
 * A package's entry as Node's import would find it from a file in `dir`. Node 20's
 * import.meta.resolve takes no parent, so the package is found with require's lookup and its
 * `exports` read with the conditions import uses.
 */
function resolveFrom(specifier: string, dir: string): string | undefined {
  const require = createRequire(join(dir, 'noop.js'))
  try {
    return pathToFileURL(require.resolve(specifier)).href
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') return undefined
  }
  // Exported for import only: find the package folder and read its `exports` for that condition.
  const parts = specifier.split('/')
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
  const subpath = '.' + specifier.slice(name.length)
  for (const base of require.resolve.paths(specifier) ?? []) {
    const pkgDir = join(base, name)
    if (!existsSync(join(pkgDir, 'package.json'))) continue
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { exports?: unknown }
    const exports = typeof pkg.exports === 'string' || !isSubpathMap(pkg.exports) ? { '.': pkg.exports } : pkg.exports
    const target = conditionTarget(exports[subpath])
    return target === undefined ? undefined : pathToFileURL(join(pkgDir, target)).href
  }
  return undefined
}

function isSubpathMap(exports: unknown): exports is Record<string, unknown> {
  return typeof exports === 'object' && exports !== null && Object.keys(exports).some((k) => k.startsWith('.'))
}

function conditionTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined
  for (const [condition, value] of Object.entries(entry)) {
    if (['import', 'node', 'default'].includes(condition)) {
      const target = conditionTarget(value)
      if (target !== undefined) return target
    }
  }
  return undefined
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>
  } catch (err) {
    throw pluginImportError(url, err)
  }
}

export async function loadModelModule(url: string): Promise<ModelPlugin<any, any>> {
  const mod = await importModule(url)
  const model = (mod['default'] ?? mod['model']) as ModelPlugin<any, any> | undefined
  if (typeof model?.fit !== 'function' || typeof model.sample !== 'function' || model.params === undefined) {
    throw new OuroborosError(ErrorCode.PLUGIN, `${url} does not export a model made with defineModel (default export with params, fit and sample)`)
  }
  return model
}

/** A dataset from `data.module`: its `builtinDatasets[kind]`, else its default export. */
export async function loadDatasetModule(url: string, kind: string): Promise<DatasetPlugin<any>> {
  const mod = await importModule(url)
  const dataset = ((mod['builtinDatasets'] as Record<string, unknown> | undefined)?.[kind] ?? mod['default']) as DatasetPlugin<any> | undefined
  if (typeof dataset?.create !== 'function' || dataset.params === undefined || typeof dataset.modality !== 'string') {
    throw new OuroborosError(ErrorCode.PLUGIN, `${url} does not export a dataset made with defineDataset (default export with params, modality and create)`)
  }
  return dataset
}

/** A metric group from a `metrics` entry's `module`: the module's default export. */
export async function loadMetricModule(url: string): Promise<MetricPlugin<any, any>> {
  const mod = await importModule(url)
  const metric = mod['default'] as MetricPlugin<any, any> | undefined
  if (typeof metric?.compute !== 'function' || metric.options === undefined || typeof metric.id !== 'string' || !Array.isArray(metric.outputs)) {
    throw new OuroborosError(ErrorCode.PLUGIN, `${url} does not export a metric group made with defineMetric (default export with id, outputs, options and compute)`)
  }
  return metric
}

export async function builtinDatasets(): Promise<Readonly<Record<string, DatasetPlugin<any>>>> {
  return (await importModule(moduleUrl(DATASETS_MODULE, '.')))['builtinDatasets'] as Record<string, DatasetPlugin<any>>
}

export interface MetricsModule {
  builtinMetrics: Readonly<Record<string, MetricPlugin<any, any>>>
  metricsFor: typeof import('@ouroboros/metrics').metricsFor
  unmetNeeds: typeof import('@ouroboros/metrics').unmetNeeds
}

export async function metricsModule(): Promise<MetricsModule> {
  return (await importModule(moduleUrl(METRICS_MODULE, '.'))) as unknown as MetricsModule
}
