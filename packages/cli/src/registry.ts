import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { dirname, isAbsolute, join, relative, resolve as resolvePath, sep } from 'node:path'
import {
  OuroborosError,
  ErrorCode,
  configError,
  toOuroborosError,
  type DatasetPlugin,
  type MetricPlugin,
} from '@ouroboros/core'
import { importPluginModule } from '@ouroboros/scheduler'
import { staleBuildWarning } from './stale-build.js'
import { workspaceAbove, workspaceFolders } from './workspace.js'

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
 * installation (the built-in packages). `from` says in a message what a relative path is relative to.
 */
export function moduleUrl(specifier: string, baseDir: string, from = "the config file's folder"): string {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return warnIfStale(pathToFileURL(existingFile(specifier, baseDir, from)).href)
  const reasons: string[] = []
  for (const dir of [...new Set([resolvePath(baseDir), process.cwd()])]) {
    const found = resolveFrom(specifier, dir)
    if (found !== undefined) return warnIfStale(found)
    reasons.push(dir)
  }
  try {
    return warnIfStale(import.meta.resolve(specifier))
  } catch {
    // A package of a pnpm workspace is linked only into the packages that depend on it: a config
    // in another folder of the workspace cannot name it, but can name its built file.
    const pkg = workspacePackage(specifier, baseDir)
    // A package just written (`ouroboros new`) has no build yet, so Node finds nothing to import.
    if (pkg !== undefined && !existsSync(pkg.entry)) {
      throw configError(`'${specifier}' is a package of the workspace (${pkg.dir}) that is not built: it has no ${pathFrom(pkg.dir, pkg.entry)}`, 'build it: npx -y pnpm@12.4.2 install (links and builds the workspace), or npx tsc -b after a change')
    }
    throw configError(
      `cannot find module '${specifier}' from ${reasons.join(' or ')}`,
      pkg === undefined
        ? `install the package there (npm install, or a pnpm workspace dependency), or give a path relative to ${from}`
        : `${specifier} is a package of the workspace, which Node finds only from its folder (${pkg.dir}) and from the packages that depend on it: name its built file by path, "${pathFrom(baseDir, pkg.entry)}", or ${from === 'the working directory' ? 'work from its folder' : 'put the config in its folder'}`,
    )
  }
}

/** The absolute path of a module given by path, which must name a file (Node's own message would name our loader as the importer). */
function existingFile(specifier: string, baseDir: string, from: string): string {
  const path = resolvePath(baseDir, specifier)
  const relativeTo = isAbsolute(specifier) ? '' : ` (${specifier} relative to ${from}, ${resolvePath(baseDir)})`
  if (!existsSync(path)) throw configError(`no such file: ${path}${relativeTo}`, `a relative path is taken from ${from}; a package is named by its package name, or by the path of its built file (such as ./my-model/dist/index.js)`)
  if (statSync(path).isDirectory()) {
    const entry = packageEntry(path)
    throw configError(`${path}${relativeTo} is a folder, not a module file`, entry === undefined ? 'name a .js or .mjs file' : `name its package's built file, ${pathFrom(baseDir, entry)}`)
  }
  return path
}

/** A path for a config: relative to `baseDir`, starting with '.'. */
function pathFrom(baseDir: string, path: string): string {
  const r = relative(resolvePath(baseDir), path).split(sep).join('/')
  return r.startsWith('.') ? r : `./${r}`
}

/** The package called `name` among the packages of the pnpm workspace above `baseDir` or the working directory: its folder and entry file. */
function workspacePackage(name: string, baseDir: string): { dir: string; entry: string } | undefined {
  for (const start of [baseDir, process.cwd()]) {
    const root = workspaceAbove(start)
    const found = root === undefined ? undefined : packageOfWorkspace(root, name)
    if (found !== undefined) return found
  }
  return undefined
}

/** The package called `name` among the packages of the workspace at `root`: its folder and entry file. */
export function packageOfWorkspace(root: string, name: string): { dir: string; entry: string } | undefined {
  for (const dir of workspaceFolders(root)) {
    const entry = (readJson(join(dir, 'package.json')) as { name?: unknown } | undefined)?.name === name ? packageEntry(dir) : undefined
    if (entry !== undefined) return { dir, entry }
  }
  return undefined
}

/** The file a package folder's `exports` (or `main`) gives for an import of the package; undefined for a folder with no package.json. */
function packageEntry(dir: string): string | undefined {
  const pkg = readJson(join(dir, 'package.json')) as { exports?: unknown; main?: unknown } | undefined
  if (pkg === undefined) return undefined
  const exports = typeof pkg.exports === 'string' || !isSubpathMap(pkg.exports) ? { '.': pkg.exports } : pkg.exports
  return join(dir, conditionTarget(exports['.']) ?? (typeof pkg.main === 'string' ? pkg.main : 'index.js'))
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'))
  } catch {
    return undefined
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

/**
 * The message of a plug-in whose id is not the `kind` its config gives: a config that said one
 * plug-in and ran another would record the wrong name. Undefined when they agree.
 */
export function kindMismatch(field: string, kind: unknown, id: unknown, specifier: string): string | undefined {
  if (typeof kind !== 'string' || typeof id !== 'string' || kind === id) return undefined
  return `'${kind}', but the plug-in of ${field}.module (${specifier}) is '${id}'; write "kind": "${id}"`
}

/** An error's message with its hint, for a list of config problems, which has no line for hints. */
export function problemMessage(err: unknown): string {
  const e = toOuroborosError(err)
  return e.hint === undefined ? e.message : `${e.message}; ${e.hint}`
}

export async function builtinDatasets(): Promise<Readonly<Record<string, DatasetPlugin<any>>>> {
  return (await importPluginModule(moduleUrl(DATASETS_MODULE, '.')))['builtinDatasets'] as Record<string, DatasetPlugin<any>>
}

export interface MetricsModule {
  builtinMetrics: Readonly<Record<string, MetricPlugin<any, any>>>
  metricsFor: typeof import('@ouroboros/metrics').metricsFor
  unmetNeeds: typeof import('@ouroboros/metrics').unmetNeeds
}

export async function metricsModule(): Promise<MetricsModule> {
  return (await importPluginModule(moduleUrl(METRICS_MODULE, '.'))) as unknown as MetricsModule
}
