import { OuroborosError, ErrorCode, pluginImportError, type DatasetPlugin, type FilterConfig, type FilterPlugin, type MetricPlugin, type ModelPlugin, type PolicyConfig, type PolicyPlugin } from '@ouroboros/core'
import { builtinFilters } from './filters/index.js'
import { builtinPolicies } from './policies/index.js'

/** Plug-in modules imported by URL, once per thread. */
const modules = new Map<string, Promise<Record<string, unknown>>>()

function importOnce(url: string): Promise<Record<string, unknown>> {
  let mod = modules.get(url)
  if (mod === undefined) {
    mod = import(url).catch((err: unknown) => {
      throw pluginImportError(url, err)
    })
    modules.set(url, mod)
  }
  return mod
}

function pick<T>(mod: Record<string, unknown>, table: string, id: string, url: string, what: string, check: (x: unknown) => boolean): T {
  const fromTable = (mod[table] as Record<string, unknown> | undefined)?.[id]
  const candidate = fromTable ?? mod['default']
  if (!check(candidate)) {
    throw new OuroborosError(ErrorCode.PLUGIN, `${url} has no ${what} '${id}' (expected ${table}['${id}'] or a default export)`)
  }
  return candidate as T
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null

export async function loadModel(url: string): Promise<ModelPlugin<any, any>> {
  const mod = await importOnce(url)
  const candidate = mod['default'] ?? mod['model']
  if (!isObject(candidate) || typeof candidate['fit'] !== 'function' || typeof candidate['sample'] !== 'function') {
    throw new OuroborosError(ErrorCode.PLUGIN, `${url} does not export a model (a default export made with defineModel, with fit and sample)`)
  }
  return candidate as unknown as ModelPlugin<any, any>
}

export async function loadDataset(url: string, kind: string): Promise<DatasetPlugin<any>> {
  return pick(await importOnce(url), 'builtinDatasets', kind, url, 'dataset', (x) => isObject(x) && typeof x['create'] === 'function')
}

export async function loadMetric(url: string, id: string): Promise<MetricPlugin<any, any>> {
  return pick(await importOnce(url), 'builtinMetrics', id, url, 'metric group', (x) => isObject(x) && typeof x['compute'] === 'function')
}

/** A chain's policy: a built-in by kind, or the one its resolved `module` URL exports. */
export async function loadPolicy(config: PolicyConfig): Promise<PolicyPlugin<any>> {
  const isPolicy = (x: unknown): boolean => isObject(x) && typeof x['trainingSet'] === 'function' && typeof x['largestTrainingSet'] === 'function'
  if (config.module !== undefined) return pick(await importOnce(config.module), 'builtinPolicies', config.kind, config.module, 'policy', isPolicy)
  const builtin = builtinPolicies[config.kind]
  if (builtin === undefined) throw new OuroborosError(ErrorCode.PLUGIN, `no built-in policy '${config.kind}'`)
  return builtin
}

/** A chain's filter: a built-in by kind, or the one its resolved `module` URL exports. */
export async function loadFilter(config: FilterConfig): Promise<FilterPlugin<any>> {
  const isFilter = (x: unknown): boolean => isObject(x) && typeof x['apply'] === 'function' && isObject(x['params'])
  if (config.module !== undefined) return pick(await importOnce(config.module), 'builtinFilters', config.kind, config.module, 'filter', isFilter)
  const builtin = builtinFilters[config.kind]
  if (builtin === undefined) throw new OuroborosError(ErrorCode.PLUGIN, `no built-in filter '${config.kind}'`)
  return builtin
}
