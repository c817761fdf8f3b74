import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { OuroborosError, ErrorCode, closest, didYouMean, metricNeedsProblem, hookThrew, pluginImportError, type DatasetPlugin, type FilterPlugin, type MetricPlugin, type Modality, type ModelPlugin, type PolicyPlugin, type RunSetup } from '@ouroboros/core'
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
  return `its default export is ${kindOf(value) ?? 'an object that is none of the plug-in kinds'}${typeof value['id'] === 'string' ? ` with the id '${value['id']}'` : ''}`
}

/** The plug-in kind an object's functions make it, in words. */
function kindOf(value: Record<string, unknown>): string | undefined {
  if (has(value, 'trainingSet')) return 'a policy'
  if (has(value, 'apply')) return 'a filter'
  if (has(value, 'fit') && has(value, 'sample')) return 'a model'
  if (has(value, 'create')) return 'a dataset'
  if (has(value, 'compute')) return 'a metric group'
  return undefined
}

/** What a loader checks of one kind of plug-in, beyond its id. */
interface PluginKind {
  /** In words, with its article: 'a model'. */
  readonly what: string
  /** The function that types it: 'defineModel'. */
  readonly made: string
  readonly functions: readonly string[]
  /** Its zod schema of what a config gives it. */
  readonly schema: 'params' | 'options'
  /** Whether it declares the modality of its data. */
  readonly modality: boolean
}

const MODEL: PluginKind = { what: 'a model', made: 'defineModel', functions: ['fit', 'sample'], schema: 'params', modality: true }
const DATASET: PluginKind = { what: 'a dataset', made: 'defineDataset', functions: ['create'], schema: 'params', modality: true }
const METRIC: PluginKind = { what: 'a metric group', made: 'defineMetric', functions: ['compute'], schema: 'options', modality: true }
const POLICY: PluginKind = { what: 'a policy', made: 'definePolicy', functions: ['trainingSet', 'largestTrainingSet'], schema: 'params', modality: false }
const FILTER: PluginKind = { what: 'a filter', made: 'defineFilter', functions: ['apply'], schema: 'params', modality: false }

const MODALITIES: readonly string[] = ['vectors', 'tokens'] satisfies Modality[]
const STRICT = 'write them as z.strictObject({...})'

/**
 * `found` as a plug-in of `kind`, or the refusal that says what it lacks. An object that is
 * another kind of plug-in (a dataset where a model is wanted) is named as that kind; one that has
 * some of the kind's functions, or keys near them, is told which it lacks.
 */
function checked<T>(url: string, kind: PluginKind, found: unknown): T {
  if (!isObject(found)) throw notA(url, kind, found)
  const missing = kind.functions.filter((f) => !has(found, f))
  if (missing.length > 0) {
    const keys = Object.keys(found)
    const near = missing.map((f) => closest(f, keys)).filter((k) => k !== undefined)
    const other = kindOf(found)
    const partly = missing.length < kind.functions.length || near.length > 0
    if ((other !== undefined && other !== kind.what) || !partly) throw notA(url, kind, found)
    throw malformed(url, kind, found, `has no function ${missing.map((f) => `'${f}'`).join(' or ')}${near.length === 0 ? '' : ` (it has ${near.map((k) => `'${k}'`).join(' and ')})`}`)
  }
  if (typeof found['id'] !== 'string' || found['id'] === '') throw malformed(url, kind, found, "has no id", "give it an id, the string a config's kind names it by")
  if (kind.modality && !MODALITIES.includes(found['modality'] as string)) {
    const given = found['modality']
    throw malformed(url, kind, found, `${given === undefined ? 'has no modality' : `has modality ${typeof given === 'string' ? `'${given}'` : String(given)}`}; expected 'vectors' or 'tokens'`)
  }
  const schema = found[kind.schema]
  if (schema === undefined) throw malformed(url, kind, found, `has no ${kind.schema}`, `${STRICT} (z.strictObject({}) for none)`)
  if (!isObject(schema) || typeof schema['safeParse'] !== 'function' || !isObject(schema['_zod'])) throw malformed(url, kind, found, `has ${kind.schema} that are not a zod schema`, STRICT)
  const loose = looseObjectAt(schema as unknown as ZodLike)
  if (loose !== undefined) {
    throw malformed(url, kind, found, `has ${kind.schema} ${loose === '' ? 'made' : `whose field '${loose}' is made`} with z.object, which drops a misspelt key unsaid`, STRICT)
  }
  return found as T
}

/** A zod 4 schema as far as looseObjectAt reads it: its structure is in `_zod.def`. */
interface ZodLike {
  _zod: {
    def: {
      type: string
      shape?: Record<string, ZodLike>
      catchall?: ZodLike
      innerType?: ZodLike
      in?: ZodLike
      out?: ZodLike
      element?: ZodLike
      valueType?: ZodLike
      options?: ZodLike[]
    }
  }
}

/**
 * The dotted path ('' for the top) of an object in `schema` made with z.object, which strips
 * unknown keys, so that a misspelt key in a config would be dropped unsaid; z.strictObject refuses
 * one and z.looseObject keeps it. Lazy schemas are not followed: they may be recursive.
 */
function looseObjectAt(schema: ZodLike, path = '', depth = 0): string | undefined {
  const d = schema._zod?.def
  if (d === undefined || depth > 32) return undefined
  const within = (inner: ZodLike | undefined, at = path) => (inner === undefined ? undefined : looseObjectAt(inner, at, depth + 1))
  if (d.type === 'object') {
    if (d.catchall === undefined) return path
    for (const [key, field] of Object.entries(d.shape ?? {})) {
      const found = within(field, path === '' ? key : `${path}.${key}`)
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const inner of [d.innerType, d.in, d.out, d.element, d.valueType, ...(d.options ?? [])]) {
    const found = within(inner)
    if (found !== undefined) return found
  }
  return undefined
}

/** The refusal of a module that exports no plug-in of the kind its field wants. */
function notA(url: string, kind: PluginKind, found: unknown): OuroborosError {
  return new OuroborosError(ErrorCode.PLUGIN, `${url} does not export ${kind.what} made with ${kind.made}: ${describeExport(found)}`)
}

/** The refusal of a plug-in of its kind that lacks what its kind needs, saying what. */
function malformed(url: string, kind: PluginKind, found: Record<string, unknown>, problem: string, hint?: string): OuroborosError {
  const id = typeof found['id'] === 'string' ? ` (id '${found['id']}')` : ''
  return new OuroborosError(ErrorCode.PLUGIN, `${url} does not export ${kind.what} made with ${kind.made}: its default export${id} ${problem}`, hint === undefined ? {} : { hint })
}

/**
 * The plug-in with its hooks naming it and themselves in what they throw: a plug-in's own error
 * (a bug, not an OuroborosError) would otherwise reach a chain's failure as its bare message
 * ("boom", or a thrown string), with nothing saying which plug-in and which hook threw it. The
 * project's errors pass as they are: they name the plug-in already, or say what a config must change.
 */
function hooksNamed<T extends object>(plugin: T, kind: string, url: string): T {
  return withNamedHooks(plugin, pluginName(kind, String((plugin as Record<string, unknown>)['id']), url))
}

/** A plug-in as messages name it, `policy 'window' (/path/window.mjs)`: its kind, its id and its file where it has one. */
export function pluginName(kind: string, id: string, module: string | undefined): string {
  return `${kind} '${id}'${module === undefined ? '' : ` (${module.startsWith('file:') ? fileURLToPath(module) : module})`}`
}

/** `hooksNamed` with the plug-in's name given: a dataset's instance (what `create` returns) throws in its name too. */
function withNamedHooks<T extends object>(plugin: T, name: string): T {
  const named = (hook: string, err: unknown): unknown => hookThrew(name, hook, err)
  return new Proxy(plugin, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key)
      if (typeof value !== 'function' || typeof key !== 'string') return value
      return (...args: unknown[]): unknown => {
        let result: unknown
        try {
          result = value.apply(target, args)
        } catch (err) {
          throw named(key, err)
        }
        // A dataset's instance: its `sample` is a hook of the same plug-in.
        const made = (instance: unknown): unknown => (key === 'create' && isObject(instance) && typeof instance['sample'] === 'function' ? withNamedHooks(instance, name) : instance)
        return result instanceof Promise ? result.then(made, (err: unknown) => Promise.reject(named(key, err))) : made(result)
      }
    },
  })
}

/** The first place in a script (not in Node itself) where the error under `err`'s causes was thrown, as file:line:column. */
export function thrownAt(err: unknown): string | undefined {
  let cause: unknown = err
  while (cause instanceof OuroborosError && cause.cause !== undefined) cause = cause.cause
  if (!(cause instanceof Error) || typeof cause.stack !== 'string') return undefined
  for (const line of cause.stack.split('\n').slice(1)) {
    const frame = /^\s*at (?:.*\()?(.+?:\d+:\d+)\)?$/.exec(line)?.[1]
    if (frame !== undefined && !frame.startsWith('node:')) return frame
  }
  return undefined
}


/**
 * The group with its setupRun naming the group, its file and the hook in what it throws, and
 * refusing what breaks its contract: a run prints the `line` it returns after the group's id and
 * adds its `record` to run.json, so that anything else would print "undefined" or be lost unsaid.
 * Its other hooks are not wrapped: scoring names the group.
 */
function withCheckedSetup(metric: MetricPlugin<any, any>, url: string): MetricPlugin<any, any> {
  const setupRun = metric.setupRun
  if (setupRun === undefined) return metric
  const name = pluginName('metric group', metric.id, url)
  const checkedSetup = async (args: Parameters<typeof setupRun>[0]): Promise<RunSetup> => {
    let setup: unknown
    try {
      setup = await setupRun.call(metric, args)
    } catch (err) {
      // Thrown before any chain runs, whose failure would say where: said here.
      const at = thrownAt(err)
      throw hookThrew(name, 'setupRun', err, at === undefined ? {} : { at })
    }
    const problem = setupProblem(setup)
    if (problem !== undefined) {
      throw new OuroborosError(ErrorCode.PLUGIN, `${name}: setupRun returned ${problem}`, {
        hint: "a metric group's setupRun({ dataset, options }) returns { line, record }: the line a run prints after the group's id, and an object of the fields run.json gains ({} for none) (docs/extending.md)",
      })
    }
    return setup as RunSetup
  }
  return new Proxy(metric, { get: (target, key) => (key === 'setupRun' ? checkedSetup : Reflect.get(target, key)) })
}

/** How what a setupRun returned is not `{ line, record }`, in words; undefined when it is. */
function setupProblem(setup: unknown): string | undefined {
  const shown = (value: unknown): string => (Array.isArray(value) ? 'an array' : typeof value === 'string' ? JSON.stringify(value) : isObject(value) ? 'an object' : String(value))
  if (!isObject(setup) || Array.isArray(setup)) return `${shown(setup)}; expected { line, record }`
  if (typeof setup['line'] !== 'string') return `line ${shown(setup['line'])}; expected the line to print, a string`
  if (!isObject(setup['record']) || Array.isArray(setup['record'])) return `record ${shown(setup['record'])}; expected an object of the fields run.json gains`
  return undefined
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
  return hooksNamed(checked<ModelPlugin<any, any>>(url, MODEL, mod['default'] ?? mod['model']), 'model', url)
}

/** A dataset: the module's `builtinDatasets[kind]`, else its default export. */
export async function loadDataset(url: string, kind: string): Promise<DatasetPlugin<any>> {
  return hooksNamed(checked<DatasetPlugin<any>>(url, DATASET, pick(await importPluginModule(url), 'builtinDatasets', kind, url)), 'dataset', url)
}

/**
 * A metric group: the module's `builtinMetrics[id]`, else (and for a module named in a config, whose
 * id is not known yet) its default export.
 */
export async function loadMetric(url: string, id?: string): Promise<MetricPlugin<any, any>> {
  const metric = checked<MetricPlugin<any, any>>(url, METRIC, pick(await importPluginModule(url), 'builtinMetrics', id, url))
  if (!Array.isArray(metric.outputs)) throw malformed(url, METRIC, metric as unknown as Record<string, unknown>, 'has no outputs', 'list the names of the values compute returns as outputs')
  const needs = metricNeedsProblem(metric.needs)
  if (needs !== undefined) throw new OuroborosError(ErrorCode.PLUGIN, `${pluginName('metric group', metric.id, url)}: ${needs}`)
  return withCheckedSetup(metric, url)
}

/** A policy or a filter: a built-in by kind, or from its `module` URL (its `table[kind]`, else its default export). */
async function kindPlugin<T extends object>(config: { kind: string; module?: string | undefined }, builtins: Readonly<Record<string, T>>, table: string, kind: PluginKind, name: string): Promise<T> {
  if (config.module === undefined) {
    const builtin = builtins[config.kind]
    if (builtin === undefined) throw new OuroborosError(ErrorCode.PLUGIN, `no built-in ${name} '${config.kind}'`)
    return builtin
  }
  return hooksNamed(checked<T>(config.module, kind, pick(await importPluginModule(config.module), table, config.kind, config.module)), name, config.module)
}

export function loadPolicy(config: { kind: string; module?: string | undefined }): Promise<PolicyPlugin<any>> {
  return kindPlugin(config, builtinPolicies, 'builtinPolicies', POLICY, 'policy')
}

export function loadFilter(config: { kind: string; module?: string | undefined }): Promise<FilterPlugin<any>> {
  return kindPlugin(config, builtinFilters, 'builtinFilters', FILTER, 'filter')
}
