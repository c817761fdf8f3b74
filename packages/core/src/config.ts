import { z } from 'zod'
import { configError } from './errors.js'
import { posttrainSchema } from './posttrain.js'
import { ConfigProblems, closest, issueProblems, valueAt, type Problem } from './issues.js'

/**
 * The run configuration. `data` and `model` are open here: their parameters belong to the
 * dataset and model plug-ins, whose own strict schemas validate them (resolveCells).
 */
const positiveInt = (max: number) => z.int().min(1).max(max)

const pluginRef = z.looseObject({
  kind: z.string().min(1),
  /** Module specifier or path of a plug-in package outside the built-ins. */
  module: z.string().min(1).optional(),
})

/** A policy by kind; its parameters belong to the policy plug-in, whose schema checks them. */
export const policySchema = pluginRef
export type PolicyConfig = z.infer<typeof policySchema>

/**
 * Curation of each generation's samples before they enter training sets (DESIGN.md: "keep
 * samples that pass a quality check"), by kind; its parameters belong to the filter plug-in.
 */
export const filterSchema = pluginRef
export type FilterConfig = z.infer<typeof filterSchema>

export const configSchema = z.strictObject({
  name: z.string().min(1).max(200).default('ouroboros'),
  data: pluginRef.extend({ n: positiveInt(10_000_000).optional() }),
  model: pluginRef,
  policy: policySchema.default({ kind: 'replace' }),
  sampling: z.strictObject({ temperature: z.number().gt(0).max(100).default(1) }).default({ temperature: 1 }),
  /**
   * Keep only samples that pass a quality check (the model draws until samplesPerGeneration
   * pass); none by default or null (so a sweep can compare with and without).
   */
  filter: filterSchema.nullable().default(null),
  /** Post-training stages run on each generation's fitted model (finetune, rl, dpo, best-of-n). */
  posttrain: posttrainSchema.default([]),
  /** Start generation N+1 from generation N's state instead of from scratch. */
  warmStart: z.boolean().default(false),
  generations: positiveInt(1_000_000),
  /** Samples each generation emits; default data.n. */
  samplesPerGeneration: positiveInt(10_000_000).optional(),
  replicates: positiveInt(100_000).default(1),
  seed: z.int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  /**
   * Metric groups, by name or as {"module": ...} for a group from a package or file; default:
   * every group that applies to the data and model.
   */
  metrics: z
    .array(z.union([z.string().min(1), z.strictObject({ module: z.string().min(1) })], { error: 'expected a metric group name or {"module": "<package or path>"}' }))
    // A group listed twice would be scored twice, its values recorded once.
    .superRefine((list, ctx) => {
      const named = list.map((entry) => (typeof entry === 'string' ? `'${entry}'` : `the module '${entry.module}'`))
      named.forEach((name, i) => {
        if (named.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `${name} is listed twice` })
      })
    })
    .optional(),
  /** Options per metric group, e.g. {"prdc": {"k": 3}}. */
  metricOptions: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  /** Held-out real samples for nll_real and perplexity; absent: 1,000, or all a smaller pool sets aside (a data file's). */
  heldout: z.int().min(0).max(1_000_000).optional(),
  /**
   * A metric group that throws: 'null' records its values as null, with the reason in run.json,
   * and the chain goes on; 'fail' fails the chain.
   */
  metricErrors: z.enum(['null', 'fail']).default('null'),
  /** Retries of a diverged generation from its checkpoint with a new seed. */
  retries: z.int().min(0).max(100).default(0),
  /**
   * The record files: metrics.parquet always; `text` adds metrics.ndjson and metrics.csv, which
   * runs of millions of records leave out (`ouroboros export` writes them later).
   */
  records: z.strictObject({ text: z.boolean().default(true) }).default({ text: true }),
  /**
   * Replicates per sweep cell (the first ones) whose real data and samples at the report's
   * generations are saved; every chain saves its checkpoints. Runs of thousands of chains would
   * otherwise write a dozen files per chain that no one reads.
   */
  keepSamples: z.int().min(0).max(100_000).default(10),
  /** Dotted config path -> values; the run covers the grid. */
  sweep: z.record(z.string().min(1), z.array(z.unknown()).min(1, 'a sweep list needs at least one value')).default({}),
})

export type RawConfig = z.input<typeof configSchema>
export type Config = z.output<typeof configSchema>

/** One cell of the sweep grid: a config with the swept values applied and no sweep left. */
export interface Cell {
  readonly index: number
  /** The swept values of this cell, by dotted path. */
  readonly params: Record<string, unknown>
  readonly config: Omit<Config, 'sweep'>
}

/**
 * The config, or a config error listing every problem the schema finds. With `problems`, the
 * problems are added there instead and the result is undefined, so that a caller can add the
 * problems of the plug-in parameters before reporting them all.
 */
export function parseConfig(raw: unknown, where: string): Config
export function parseConfig(raw: unknown, where: string, problems: ConfigProblems): Config | undefined
export function parseConfig(raw: unknown, where: string, problems?: ConfigProblems): Config | undefined {
  let input = raw
  let result = configSchema.safeParse(raw)
  const filled = result.success ? undefined : withSweptKeys(raw, result.error.issues)
  if (filled !== undefined) {
    input = filled
    result = configSchema.safeParse(filled)
  }
  if (result.success) return result.data
  const found = withHints(issueProblems(result.error.issues, [], { input, schema: configSchema }), input)
  if (problems === undefined) throw configError(found.map((p) => `${where}: ${p.path}: ${p.message}`).join('\n'))
  problems.add(found)
  return undefined
}

/**
 * A required key the config leaves out and the sweep gives whole (`"sweep": {"model": [...]}` with
 * no `model`, or `"posttrain.0.reward": [...]` with a stage that has no `reward`) takes its first
 * swept value, as the first cell does: every cell sets it. Undefined where the parse's `issues`
 * name no such key.
 */
function withSweptKeys(raw: unknown, issues: readonly z.core.$ZodIssue[]): Record<string, unknown> | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined
  const { sweep } = raw as { sweep?: unknown }
  if (typeof sweep !== 'object' || sweep === null || Array.isArray(sweep)) return undefined
  // Keys with defaults parse without it; each cell's own value is checked with the cell named.
  const missing = new Set(issues.filter((i) => i.code === 'invalid_type' && valueAt(raw, i.path).missing).map((i) => i.path.join('.')))
  let filled: Record<string, unknown> | undefined
  for (const [path, values] of Object.entries(sweep)) {
    if (!missing.has(path) || !Array.isArray(values) || values.length === 0) continue
    filled ??= structuredClone(raw) as Record<string, unknown>
    setPath(filled, path, values[0])
  }
  return filled
}

const pluginFields = new Set(['data', 'model', 'policy', 'filter'])

/** The problems of a config, each with what to write instead where a likely mistake explains it. */
function withHints(problems: readonly Problem[], raw: unknown): Problem[] {
  return problems.map((p) => pluginHint(p, raw) ?? dpoProxyHint(p, raw) ?? modelKindHint(p, raw) ?? metricOptionsHint(p, raw) ?? p)
}

/** A metric group's options given in its `metrics` entry, which takes only the group's module. */
function metricOptionsHint(p: Problem, raw: unknown): Problem | undefined {
  const found = /^metrics\.(\d+)\.([^.]+)$/.exec(p.path)
  if (found === null || found[2] === 'module' || !p.message.startsWith('unknown key')) return undefined
  const [, entry, key] = found
  const given = valueAt(raw, ['metrics', Number(entry), key!])
  const options = key === 'options' && given.known && typeof given.value === 'object' && given.value !== null ? JSON.stringify(given.value) : `{"${key}": ...}`
  return { ...p, message: `${p.message}; a metric group's options go in metricOptions, under the group's id (ID): "metricOptions": {"ID": ${options}}` }
}

/**
 * A model without a kind where the config meant a program (`model.command`, which needs no kind):
 * its key misspelt, or given beside a module's.
 */
function modelKindHint(p: Problem, raw: unknown): Problem | undefined {
  if (p.path !== 'model.kind' || !p.message.startsWith('missing')) return undefined
  const model = valueAt(raw, ['model'])
  if (!model.known || typeof model.value !== 'object' || model.value === null) return undefined
  const keys = Object.keys(model.value)
  if (keys.includes('command')) return { ...p, message: `${p.message}; model.command and model.module are two ways to give a model: a program, or a module's plug-in (with its kind); give one` }
  const near = keys.find((key) => closest(key, ['command']) === 'command')
  return near === undefined ? undefined : { ...p, message: `${p.message}, or a program as model.command (did you mean "command" for "${near}"?)` }
}

/**
 * What to write instead, where a plug-in field holds a name or a list: `"policy": "replace"` reads
 * naturally beside `"metrics": ["modes"]`, and a list is how one would ask to compare several.
 */
function pluginHint(p: Problem, raw: unknown): Problem | undefined {
  if (!pluginFields.has(p.path) || !p.message.startsWith('expected an object')) return undefined
  const value = (raw as Record<string, unknown>)[p.path]
  if (typeof value === 'string') return { ...p, message: `${p.message}; write {"kind": ${JSON.stringify(value)}}` }
  if (Array.isArray(value)) return { ...p, message: `${p.message}; to compare several, give them as "sweep": {"${p.path}": [...]}` }
  return undefined
}

/** A dpo stage given a learned reward: its preferences come from a gold reward itself. */
function dpoProxyHint(p: Problem, raw: unknown): Problem | undefined {
  const stage = /^posttrain\.(\d+)\.reward\.kind$/.exec(p.path)?.[1]
  if (stage === undefined) return undefined
  const kind = valueAt(raw, ['posttrain', Number(stage), 'kind'])
  const reward = valueAt(raw, ['posttrain', Number(stage), 'reward', 'kind'])
  if (!kind.known || kind.value !== 'dpo' || !reward.known || reward.value !== 'proxy') return undefined
  return { ...p, message: `${p.message} (a dpo stage learns from preferences of a gold reward itself, with no reward model: give that reward)` }
}

/**
 * Expands `sweep` into cells; the values of each cell go through the schema again. A config
 * error lists every cell that fails; with `problems`, they are added there instead and only the
 * cells that pass are returned. Each cell is the config as written (`written`, where given) with
 * its values set, so that a swept kind does not inherit the defaults another kind filled in (an
 * `rl` stage's `method` in a cell of `dpo`).
 */
export function expandSweep(config: Config, where: string, problems?: ConfigProblems, written?: unknown): Cell[] {
  const { sweep } = config
  const { sweep: _sweep, ...parsedBase } = config
  // A top-level key the config leaves out takes its default (posttrain: a list of none, which a
  // swept posttrain.0.beta is then said to index past).
  const base = typeof written === 'object' && written !== null && !Array.isArray(written) ? { ...parsedBase, ...withoutSweep(written as Record<string, unknown>) } : parsedBase
  const found = problems ?? new ConfigProblems(where)
  // A path that is no config key is said, and the sweep goes on without it, so that the problems
  // of the other paths and of the config itself are said with it.
  const paths = Object.keys(sweep).filter((path) => {
    const top = path.split('.')[0]!
    if (top in configSchema.shape && top !== 'sweep') return true
    if (top === 'sweep') {
      found.add({ path: `sweep.${path}`, message: 'a sweep cannot sweep itself; its paths are the keys of the one sweep (a grid of every combination of their values)' })
      return false
    }
    const guess = closest(top, Object.keys(configSchema.shape))
    found.add({ path: `sweep.${path}`, message: `no such config path (top-level key "${top}" does not exist${guess === undefined ? '' : `; did you mean "${guess}"?`})` })
    return false
  })
  // Two cells of one value would run the same chains twice under one label.
  for (const path of paths) {
    // Objects compared whatever the order of their keys.
    const same = sweep[path]!.map((v) => JSON.stringify(v, (_key, x: unknown) => (typeof x === 'object' && x !== null && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x)))
    same.forEach((w, i) => {
      if (same.indexOf(w) !== i) found.add({ path: `sweep.${path}`, message: `${JSON.stringify(sweep[path]![i])} is listed twice; each value makes a cell` })
    })
  }
  const cells: Cell[] = []
  const lists = paths.map((p) => sweep[p]!)
  const total = lists.reduce((a, l) => a * l.length, 1)
  if (total > 100_000) throw configError(`${where}: sweep: ${total} cells is more than the 100000 allowed`)
  found.countCells(total)
  for (let index = 0; index < total; index++) {
    // The last path varies fastest; the cell names its values in the sweep's order.
    const values: unknown[] = []
    let rest = index
    for (let j = paths.length - 1; j >= 0; j--) {
      const list = lists[j]!
      values[j] = list[rest % list.length]
      rest = Math.floor(rest / list.length)
    }
    const params: Record<string, unknown> = Object.fromEntries(paths.map((path, j) => [path, values[j]]))
    const raw: Record<string, unknown> = structuredClone(base)
    let unset = false
    for (const [path, value] of Object.entries(params)) {
      const why = setPath(raw, path, value)
      if (why !== undefined) found.add({ path: `sweep.${path}`, message: `no such config path (${why})` })
      unset ||= why !== undefined
    }
    // A cell with a path that is none is still parsed with the others set: their problems too.
    const parsed = configSchema.safeParse(raw)
    if (!parsed.success) found.add(withHints(issueProblems(parsed.error.issues, [], { input: raw, schema: configSchema }), raw), params)
    if (unset || !parsed.success) continue
    const { sweep: _unused, ...cellConfig } = parsed.data
    cells.push({ index, params, config: cellConfig })
  }
  if (problems === undefined) found.throwIfAny()
  return cells
}

function withoutSweep(config: Record<string, unknown>): Record<string, unknown> {
  const { sweep: _sweep, ...rest } = config
  return rest
}

/**
 * Sets a dotted path; a numeric key indexes a list that has that element (posttrain.0.beta).
 * Returns why the path is none of the config's, where it is not.
 */
function setPath(target: Record<string, unknown>, path: string, value: unknown): string | undefined {
  const keys = path.split('.')
  let node: Record<string, unknown> | unknown[] = target
  // `depth`: how many keys lead to the list, for its name in the message.
  const listIndex = (list: unknown[], key: string, depth: number): number | string => {
    const i = /^\d+$/.test(key) ? Number(key) : -1
    if (i >= 0 && i < list.length) return i
    const name = keys.slice(0, depth).join('.')
    // A sweep sets values in the config's own elements: it adds none, so the element must be there.
    if (list.length === 0) return `${name} is an empty list, with no element ${key}; a sweep sets values in its elements but adds none: give the element in ${name}`
    const has = list.length === 1 ? '1 element, at index 0' : `${list.length} elements, at indices 0 to ${list.length - 1}`
    return `${name} has ${has}: there is no ${name}.${key}`
  }
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i]!
    let child: unknown
    if (Array.isArray(node)) {
      const at = listIndex(node, key, i)
      if (typeof at === 'string') return at
      child = node[at]
    } else {
      child = node[key]
      if (child === undefined && i === 0) child = node[key] = {}
    }
    if (typeof child !== 'object' || child === null) return `"${keys.slice(0, i + 1).join('.')}" is not an object`
    node = child as Record<string, unknown> | unknown[]
  }
  const last = keys[keys.length - 1]!
  if (!Array.isArray(node)) {
    node[last] = value
    return undefined
  }
  const at = listIndex(node, last, keys.length - 1)
  if (typeof at === 'string') return at
  node[at] = value
  return undefined
}

/** Held-out items to draw: those given, else 1,000, or all that a smaller pool sets aside (`pool`: the data's limits.heldout). */
export function heldoutSize(given: number | undefined, pool: number | undefined): number {
  return given ?? Math.min(1000, pool ?? 1000)
}

/** Typed identity for `.ts` config files: `export default defineConfig({...})`. */
export function defineConfig(config: RawConfig): RawConfig {
  return config
}
