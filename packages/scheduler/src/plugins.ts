import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { OuroborosError, ErrorCode, didYouMean, pluginImportError, type DatasetPlugin, type FilterPlugin, type MetricPlugin, type ModelPlugin, type PolicyPlugin } from '@ouroboros/core'
import { builtinFilters } from './filters/index.js'
import { builtinPolicies } from './policies/index.js'

/**
 * Plug-ins by module URL: the one loader of the command line (which checks a config before its
 * run) and of the workers (which load each chain's plug-ins again by the same URL), so that a
 * module that is not the plug-in its field wants is refused in the same words wherever it is met.
 */

/** Plug-in modules imported by URL, once per thread. */
const modules = new Map<string, Promise<Record<string, unknown>>>()

/** The module at `url`; one that cannot be imported is named, with where its syntax error is. */
export function importPluginModule(url: string): Promise<Record<string, unknown>> {
  let mod = modules.get(url)
  if (mod === undefined) {
    mod = import(url).catch((err: unknown) => {
      const at = syntaxErrorAt(url, err)
      throw at === undefined ? pluginImportError(url, err) : new OuroborosError(ErrorCode.PLUGIN, `cannot load plug-in module ${url}: a syntax error at ${at}: ${(err as Error).message}`, { cause: err })
    })
    modules.set(url, mod)
  }
  return mod
}

/** The most files a syntax error is looked for in: the plug-in's and those it imports by relative path. */
const MOST_CHECKED = 50

/**
 * Where a syntax error is, as file:line:column. Node 20's import gives no location for one, but
 * `node --check` prints the line and a caret under the column. The plug-in file is checked first,
 * then the files it imports by relative path, and theirs: the error may be in any of them.
 */
export function syntaxErrorAt(url: string, err: unknown): string | undefined {
  if (!(err instanceof SyntaxError) || !url.startsWith('file:')) return undefined
  const first = fileURLToPath(url)
  const fromStack = new RegExp(`(?:file://)?${first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+(?::\\d+)?`).exec(err.stack ?? '')?.[0]
  if (fromStack !== undefined) return fromStack.replace(/^file:\/\//, '')
  const queue = [first]
  const seen = new Set(queue)
  for (let i = 0; i < queue.length && i < MOST_CHECKED; i++) {
    const file = queue[i]!
    const at = checkSyntax(file)
    if (at !== undefined) return at
    for (const imported of relativeImports(file)) {
      if (!seen.has(imported)) {
        seen.add(imported)
        queue.push(imported)
      }
    }
  }
  return undefined
}

/** `file:line:column` of the syntax error `node --check` finds in `file`, if any. */
function checkSyntax(file: string): string | undefined {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 })
  const lines = (check.stderr ?? '').split('\n')
  const line = lines[0]?.startsWith(`${file}:`) ? lines[0].slice(file.length + 1) : undefined
  if (line === undefined || !/^\d+$/.test(line)) return undefined
  const caret = lines[2]?.indexOf('^') ?? -1
  return `${file}:${line}${caret >= 0 ? `:${caret + 1}` : ''}`
}

/** The files `file` imports by a relative path (`from './x.mjs'`, `import './x.mjs'`, `import('./x.mjs')`), as absolute paths. */
function relativeImports(file: string): string[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  const found: string[] = []
  for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) found.push(resolvePath(dirname(file), m[1]!))
  return found
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null
const has = (x: unknown, key: string): boolean => isObject(x) && typeof x[key] === 'function'

/** What a module's default export is, in words, for a message saying it is not what a field wants. */
function describeExport(value: unknown): string {
  if (value === undefined) return 'it has no default export'
  if (!isObject(value)) return `its default export is ${value === null ? 'null' : `a ${typeof value}`}`
  const what = has(value, 'trainingSet')
    ? 'a policy'
    : has(value, 'apply')
      ? 'a filter'
      : has(value, 'fit') && has(value, 'sample')
        ? 'a model'
        : has(value, 'create')
          ? 'a dataset'
          : has(value, 'compute')
            ? 'a metric group'
            : 'an object that is none of the plug-in kinds'
  return `its default export is ${what}${typeof value['id'] === 'string' ? ` with the id '${value['id']}'` : ''}`
}

/** The refusal of a module that exports no plug-in of the kind its field wants. */
function notA(url: string, what: string, made: string, found: unknown): OuroborosError {
  return new OuroborosError(ErrorCode.PLUGIN, `${url} does not export ${what} made with ${made}: ${describeExport(found)}`)
}

/**
 * A module's plug-in: `table[id]` where the module has that table and id (a package of several
 * built-ins), else its default export. A module of several without the id, and with no default
 * export, is told which ids it has: a misspelt kind, not a module of the wrong kind.
 */
function pick(mod: Record<string, unknown>, table: string, id: string | undefined, url: string): unknown {
  const several = mod[table] as Record<string, unknown> | undefined
  const fromTable = id === undefined ? undefined : several?.[id]
  if (fromTable !== undefined) return fromTable
  if (id !== undefined && mod['default'] === undefined && typeof several === 'object' && several !== null) {
    const ids = Object.keys(several)
    throw new OuroborosError(ErrorCode.PLUGIN, `${url} has no '${id}' among its ${table} (${ids.join(', ')})${didYouMean(id, ids)}`)
  }
  return mod['default']
}

/** A model: the module's default export (or its `model`), with fit, sample and params. */
export async function loadModel(url: string): Promise<ModelPlugin<any, any>> {
  const mod = await importPluginModule(url)
  const model = mod['default'] ?? mod['model']
  if (!has(model, 'fit') || !has(model, 'sample') || (model as Record<string, unknown>)['params'] === undefined) throw notA(url, 'a model', 'defineModel', model)
  return model as ModelPlugin<any, any>
}

/** A dataset: the module's `builtinDatasets[kind]`, else its default export. */
export async function loadDataset(url: string, kind: string): Promise<DatasetPlugin<any>> {
  const dataset = pick(await importPluginModule(url), 'builtinDatasets', kind, url)
  if (!has(dataset, 'create') || (dataset as Record<string, unknown>)['params'] === undefined || typeof (dataset as Record<string, unknown>)['modality'] !== 'string') {
    throw notA(url, 'a dataset', 'defineDataset', dataset)
  }
  return dataset as DatasetPlugin<any>
}

/** A metric group: the module's `builtinMetrics[id]`, else (and for a module named in a config, whose id is not known yet) its default export. */
export async function loadMetric(url: string, id?: string): Promise<MetricPlugin<any, any>> {
  const metric = pick(await importPluginModule(url), 'builtinMetrics', id, url)
  const m = metric as Record<string, unknown>
  if (!has(metric, 'compute') || m['options'] === undefined || typeof m['id'] !== 'string' || !Array.isArray(m['outputs'])) throw notA(url, 'a metric group', 'defineMetric', metric)
  return metric as MetricPlugin<any, any>
}

/** A policy or a filter: a built-in by kind, or from its `module` URL (its `table[kind]`, else its default export). */
async function kindPlugin<T>(config: { kind: string; module?: string | undefined }, builtins: Readonly<Record<string, T>>, table: string, what: string, made: string, fits: (x: unknown) => boolean): Promise<T> {
  if (config.module === undefined) {
    const builtin = builtins[config.kind]
    if (builtin === undefined) throw new OuroborosError(ErrorCode.PLUGIN, `no built-in ${what} '${config.kind}'`)
    return builtin
  }
  const plugin = pick(await importPluginModule(config.module), table, config.kind, config.module)
  if (!fits(plugin) || !isObject((plugin as Record<string, unknown>)['params'])) throw notA(config.module, `a ${what}`, made, plugin)
  return plugin as T
}

export function loadPolicy(config: { kind: string; module?: string | undefined }): Promise<PolicyPlugin<any>> {
  return kindPlugin(config, builtinPolicies, 'builtinPolicies', 'policy', 'definePolicy', (x) => has(x, 'trainingSet') && has(x, 'largestTrainingSet'))
}

export function loadFilter(config: { kind: string; module?: string | undefined }): Promise<FilterPlugin<any>> {
  return kindPlugin(config, builtinFilters, 'builtinFilters', 'filter', 'defineFilter', (x) => has(x, 'apply'))
}
