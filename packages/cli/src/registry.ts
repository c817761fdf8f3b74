import { pathToFileURL } from 'node:url'
import { isAbsolute, resolve as resolvePath } from 'node:path'
import { OuroborosError, ErrorCode, configError, type DatasetPlugin, type MetricPlugin, type ModelPlugin } from '@ouroboros/core'

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
}

export const DATASETS_MODULE = '@ouroboros/datasets'
export const METRICS_MODULE = '@ouroboros/metrics'

export function moduleUrl(specifier: string, baseDir: string): string {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return pathToFileURL(resolvePath(baseDir, specifier)).href
  try {
    return import.meta.resolve(specifier)
  } catch (err) {
    throw configError(`cannot find module '${specifier}': ${(err as Error).message}`, 'install the package or give a path relative to the config file')
  }
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>
  } catch (err) {
    throw new OuroborosError(ErrorCode.PLUGIN, `cannot load ${url}: ${(err as Error).message}`, { cause: err })
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

export async function builtinDatasets(): Promise<Readonly<Record<string, DatasetPlugin<any>>>> {
  return (await importModule(moduleUrl(DATASETS_MODULE, '.')))['builtinDatasets'] as Record<string, DatasetPlugin<any>>
}

export interface MetricsModule {
  builtinMetrics: Readonly<Record<string, MetricPlugin<any, any>>>
  metricsFor: typeof import('@ouroboros/metrics').metricsFor
  unmetNeeds: typeof import('@ouroboros/metrics').unmetNeeds
  classifierFacts: typeof import('@ouroboros/metrics').classifierFacts
}

export async function metricsModule(): Promise<MetricsModule> {
  return (await importModule(moduleUrl(METRICS_MODULE, '.'))) as unknown as MetricsModule
}
