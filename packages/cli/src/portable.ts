import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { dirname, isAbsolute, join, resolve as resolvePath, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import { packageDir } from './package-dir.js'
import { packageOfWorkspace } from './registry.js'
import { workspaceAbove } from './workspace.js'

/**
 * How run.json names a plug-in module this machine found at `url`, so that another machine (a
 * worker, a resume elsewhere) finds it in its own installation: by package name when this
 * installation's lookup of that name gives the same file (the built-in plug-ins, packages
 * installed with ouroboros, packages of the workspace it belongs to), else by absolute path (a
 * file on the shared volume).
 */
export function portableModule(url: string): string {
  // Asked once per chain and module: a run of 10,000 chains would read package.json 50,000 times.
  let name = portableNames.get(url)
  if (name === undefined) portableNames.set(url, (name = findPortableName(url)))
  return name
}

const portableNames = new Map<string, string>()

function findPortableName(url: string): string {
  const path = fileURLToPath(url)
  const dir = packageDir(path)
  if (dir === undefined) return path
  try {
    const { name, exports } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; exports?: unknown }
    if (typeof name !== 'string') return path
    // The package's entry, or one of its subpath entries (@ouroboros/model-command/text).
    const subpaths = typeof exports === 'object' && exports !== null ? Object.keys(exports).filter((k) => k.startsWith('./') && !k.includes('*')) : []
    for (const candidate of [name, ...subpaths.map((k) => name + k.slice(1))]) {
      try {
        if (import.meta.resolve(candidate) === url) return candidate
      } catch {
        // A subpath this installation does not resolve: try the next.
      }
    }
    if (sameFile(ownWorkspaceEntry(name), path)) return name
  } catch {
    // No package.json this installation can read: named by its path.
  }
  return path
}

/**
 * The entry file of the package called `name` in the pnpm workspace this installation belongs to
 * (a model package made with `ouroboros new`): Node finds such a package only from the packages
 * that depend on it, but every machine with this installation has it.
 */
function ownWorkspaceEntry(name: string): string | undefined {
  if (!workspaceEntries.has(name)) {
    const root = workspaceAbove(dirname(fileURLToPath(import.meta.url)))
    workspaceEntries.set(name, root === undefined ? undefined : packageOfWorkspace(root, name)?.entry)
  }
  return workspaceEntries.get(name)
}

const workspaceEntries = new Map<string, string | undefined>()

function sameFile(a: string | undefined, b: string): boolean {
  if (a === undefined || !existsSync(a) || !existsSync(b)) return false
  return realpathSync(a) === realpathSync(b)
}

/** This installation's URL of a package by name: Node's lookup, else its own workspace's package of that name. */
function ownPackageUrl(name: string): string {
  try {
    return import.meta.resolve(name)
  } catch (err) {
    const entry = ownWorkspaceEntry(name)
    if (entry !== undefined && existsSync(entry)) return pathToFileURL(entry).href
    throw err
  }
}

/** A package name, possibly scoped, with an optional subpath: nothing that could be code or a URL. */
const PACKAGE_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(\/[\w.-]+)*$/i

/** This installation's URL of a module run.json names, for a resume on this machine. */
export function localModuleUrl(module: string): string {
  if (isAbsolute(module)) return pathToFileURL(module).href
  try {
    return ownPackageUrl(module)
  } catch (err) {
    throw new OuroborosError(ErrorCode.PLUGIN, `cannot find module '${module}' that run.json names: ${(err as Error).message}`, { hint: 'install the package the run was started with' })
  }
}

/**
 * What a worker will load, from the names in a run's run.json: packages its own installation has,
 * and files under the directories it was told to trust. Anything else (a URL, a data: module, a
 * Node built-in, a file elsewhere) is refused with a PLUGIN error, which fails that chain.
 */
export function workerModuleResolver(allowedDirs: readonly string[]): (module: string) => string {
  const allowed = allowedDirs.map((d) => realpathSync(d))
  return (module) => {
    if (isAbsolute(module)) {
      let real: string
      try {
        real = realpathSync(module)
      } catch {
        throw new OuroborosError(ErrorCode.PLUGIN, `this machine has no file ${module} (a plug-in module the run names)`, { hint: 'put it on the shared volume, at the same path on every machine' })
      }
      if (!allowed.some((dir) => real === dir || real.startsWith(dir.endsWith(sep) ? dir : dir + sep))) {
        throw new OuroborosError(ErrorCode.PLUGIN, `plug-in module ${module} is outside the directories this worker runs plug-in files from (${allowed.length === 0 ? 'none' : allowed.join(', ')})`, {
          hint: `start the worker with --allow-modules ${dirname(module)}, or install the plug-in as a package on every machine`,
        })
      }
      return pathToFileURL(real).href
    }
    if (!PACKAGE_NAME.test(module) || isBuiltin(module)) {
      throw new OuroborosError(ErrorCode.PLUGIN, `'${module}' is neither a package name nor an absolute path; a worker loads nothing else`)
    }
    try {
      return ownPackageUrl(module)
    } catch {
      throw new OuroborosError(ErrorCode.PLUGIN, `this worker's installation has no package '${module}'`, { hint: 'install the same ouroboros and plug-in packages on every machine' })
    }
  }
}

/** A directory given to --allow-modules, checked at once. */
export function allowedModuleDir(dir: string): string {
  const path = resolvePath(dir)
  if (!existsSync(path)) throw new OuroborosError(ErrorCode.CONFIG, `--allow-modules: ${path} does not exist`)
  // A file given here would allow nothing, since plug-in files are looked for under the directory.
  if (!statSync(path).isDirectory()) throw new OuroborosError(ErrorCode.CONFIG, `--allow-modules: ${path} is a file, not a directory`, { hint: `give the directory that holds it: --allow-modules ${dirname(path)}` })
  return path
}
