import type { z } from 'zod'
import { configError, type OuroborosError } from './errors.js'

/** What formatIssues may know besides the issues: it makes the messages specific. */
export interface IssueContext {
  /** The value that was parsed: tells a missing key from a wrong value, and names the value. */
  readonly input?: unknown
  /** The schema it was parsed with: its keys at the issue's path are the suggestions for an unknown key. */
  readonly schema?: z.ZodType
  /** Keys valid beside the schema's own at the top level (a plug-in's `kind`, `module`). */
  readonly extraKeys?: readonly string[]
}

/** One thing wrong with a config: the dotted path of the field and what is wrong with it. */
export interface Problem {
  readonly path: string
  readonly message: string
}

/** Zod issues as "file: path: message" lines, one per issue (one per key for unknown keys). */
export function formatIssues(issues: readonly z.core.$ZodIssue[], where: string, prefix: readonly PropertyKey[] = [], context: IssueContext = {}): string {
  return issueProblems(issues, prefix, context)
    .map((p) => `${where}: ${p.path}: ${p.message}`)
    .join('\n')
}

export function issueProblems(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = [], context: IssueContext = {}): Problem[] {
  const problems: Problem[] = []
  for (const issue of tightestBounds(issues)) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(context, issue.path)
      for (const key of issue.keys) {
        const path = dotted([...prefix, ...issue.path, key])
        const kinds = kindsTaking(context, issue.path, key)
        problems.push({ path, message: (kinds === undefined ? unknownKey(key, known) : otherKindsKey(kinds, known)) + (misplaced(path) ?? '') })
      }
    } else {
      problems.push({ path: dotted([...prefix, ...issue.path]), message: describeIssue(issue, context) })
    }
  }
  return problems
}

/**
 * The issues less the looser of two bounds broken on one field: `z.int().max(1e6)` given 1e308
 * breaks both the integer's safe range and the maximum, and only the maximum is worth saying.
 */
function tightestBounds(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const bound = (i: z.core.$ZodIssue) => (i.code === 'too_big' || i.code === 'too_small') && typeof i.origin === 'string' && ['number', 'int'].includes(i.origin)
  const key = (i: z.core.$ZodIssue) => `${i.code}:${i.path.map(String).join('.')}`
  const best = new Map<string, z.core.$ZodIssue>()
  for (const issue of issues) {
    if (!bound(issue)) continue
    const seen = best.get(key(issue))
    const limit = (i: z.core.$ZodIssue) => Number(i.code === 'too_big' ? i.maximum : i.code === 'too_small' ? i.minimum : NaN)
    const tighter = seen === undefined || (issue.code === 'too_big' ? limit(issue) < limit(seen) : limit(issue) > limit(seen))
    if (tighter) best.set(key(issue), issue)
  }
  return issues.filter((i) => !bound(i) || best.get(key(i)) === i)
}

function dotted(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(top level)'
}

/**
 * Where a key that is unknown here belongs: `sampling` holds only what every model honours (the
 * temperature); top-k and top-p are options of the models that have them.
 */
function misplaced(path: string): string | undefined {
  const top = /^sampling\.top[-_]?([kp])$/i.exec(path)
  if (top === null) return undefined
  const key = `model.top${top[1]!.toUpperCase()}`
  return ` (top-k and top-p are model options, for the text models that have them: ${key})`
}

function unknownKey(key: string, known: readonly string[] | undefined): string {
  if (known === undefined || known.length === 0) return 'unknown key'
  const guess = closest(key, known)
  if (guess !== undefined) return `unknown key; did you mean "${guess}"?`
  // Every key, however many: a schema with many (a GAN's 24 parameters, the config's 20 top-level
  // keys) is where a user most needs the list, and the word they tried is often another model's.
  return `unknown key; expected one of ${known.join(', ')}`
}

/** A key that other kinds of the object take (`beta`, an rl stage's, on a finetune stage): no near key is a better guess. */
function otherKindsKey(kinds: { kind: string; others: string[] }, known: readonly string[] | undefined): string {
  const others = kinds.others.map((k) => `'${k}'`)
  const list = others.length === 1 ? others[0]! : `${others.slice(0, -1).join(', ')} and ${others.at(-1)!}`
  const expected = known === undefined || known.length === 0 ? '' : `; expected one of ${known.join(', ')}`
  return `unknown key for kind '${kinds.kind}' (${others.length === 1 ? 'kind' : 'kinds'} ${list} take${others.length === 1 ? 's' : ''} it)${expected}`
}

function describeIssue(issue: z.core.$ZodIssue, context: IssueContext): string {
  const at: ValueAt = 'input' in context ? valueAt(context.input, issue.path) : { known: false, missing: false }
  if (issue.code === 'invalid_type') {
    if (at.missing) return `missing (expected ${article(issue.expected)})`
    return at.known ? `expected ${article(issue.expected)}, got ${shown(at.value)}` : issue.message
  }
  if (issue.code === 'invalid_union' && 'options' in issue && Array.isArray(issue.options)) {
    // A discriminated union whose `kind` matched none of its options.
    const options = (issue.options as unknown[]).map(String)
    if (at.missing) return `missing; expected one of ${options.join(', ')}`
    return valueChoice(at.known ? at.value : undefined, options)
  }
  // A plain union (a name or a number, say): its schema says what it expects; the value says what came.
  if (issue.code === 'invalid_union' && at.known && !at.missing) return `${issue.message}, got ${shown(at.value)}`
  if (issue.code === 'invalid_value') return valueChoice(at.known ? at.value : undefined, issue.values.map(String))
  // Zod's own wording ("Too small: expected number to be >=1"), not a message the schema chose.
  if ((issue.code === 'too_small' || issue.code === 'too_big') && /^Too (small|big)/.test(issue.message)) {
    const small = issue.code === 'too_small'
    const limit = Number(small ? issue.minimum : issue.maximum)
    const got = at.known ? `, got ${shown(at.value)}` : ''
    if (issue.origin === 'number' || issue.origin === 'int') return `must be ${small ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<'} ${limit}${got}`
    if (issue.origin === 'array') return `needs at ${small ? 'least' : 'most'} ${limit} value${limit === 1 ? '' : 's'}`
    if (issue.origin === 'string' && small && limit === 1) return 'must not be empty'
  }
  return issue.message
}

function valueChoice(value: unknown, options: readonly string[]): string {
  const guess = typeof value === 'string' ? closest(value, options) : undefined
  const got = value === undefined ? '' : `${shown(value)} is not `
  // JSON's null (or a number) where the option is that word as a string: `"metricErrors": null` for "null".
  const quote = value !== undefined && typeof value !== 'string' && options.includes(String(value)) ? `; write it as a string, "${String(value)}"` : ''
  return `${got}one of ${options.join(', ')}${guess === undefined ? '' : `; did you mean "${guess}"?`}${quote}`
}

function article(expected: string): string {
  // z.record's values are JSON objects to a config's author.
  const name = expected === 'record' ? 'object' : expected
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`
}

function shown(value: unknown): string {
  // JSON writes Infinity and NaN (a .ts config's) as null, which is not what the config has.
  const text = value === undefined ? 'undefined' : typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value)
  return text.length > 40 ? `${text.slice(0, 37)}...` : text
}

interface ValueAt {
  known: boolean
  missing: boolean
  value?: unknown
}

/** The value at `path` of `input`; `missing` when the last key is absent from an object that exists. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): ValueAt {
  let node = input
  for (const [i, key] of path.entries()) {
    if (typeof node !== 'object' || node === null) return { known: false, missing: false }
    const container = node as Record<PropertyKey, unknown>
    if (!(key in container) || container[key] === undefined) return { known: i === path.length - 1, missing: i === path.length - 1 }
    node = container[key]
  }
  return { known: true, missing: false, value: node }
}

/**
 * The candidate nearest to `word` by edit distance (case ignored), if it is near enough to be
 * a typo: at most 2 edits, and at most half the word's letters. The singular or plural of a
 * candidate is nearest of all (`policies` for `policy` is three edits away). A word that is the
 * start of a candidate, at least 3 letters and half of it, counts as one edit: an abbreviation
 * (`embed` for `embedding`) is as sure a guess as a typo, though it is four letters short.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const d = stem(word) === stem(candidate) ? 0.5 : abbreviates(word, candidate) ? 1 : editDistance(word.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return bestDistance <= 2 && bestDistance <= word.length / 2 ? best : undefined
}

/** ` (did you mean 'x'?)` after an unknown name, where a candidate is near enough; else nothing. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const guess = closest(word, candidates)
  return guess === undefined ? '' : ` (did you mean '${guess}'?)`
}

/** Whether `word` is the start of `candidate` (case ignored), at least 3 letters and half of it. */
function abbreviates(word: string, candidate: string): boolean {
  return word.length >= 3 && word.length >= candidate.length / 2 && word.length < candidate.length && candidate.toLowerCase().startsWith(word.toLowerCase())
}

/** An English word in the singular, lower-cased: `policies` gives `policy`, `batches` `batch`. */
function stem(word: string): string {
  return word.toLowerCase().replace(/ies$/, 'y').replace(/(?<=[sxz]|[cs]h)es$|(?<!s)s$/, '')
}

/** Levenshtein distance (insertions, deletions, substitutions), with adjacent swaps counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d = new Array<number>(rows * cols)
  for (let i = 0; i < rows; i++) d[i * cols] = i
  for (let j = 0; j < cols; j++) d[j] = j
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1)
      d[i * cols + j] = v
    }
  }
  return d[rows * cols - 1]!
}

// Zod 4 keeps a schema's structure in `_zod.def`; these are the parts the key lookup walks.
interface Def {
  type: string
  shape?: Record<string, z.ZodType>
  innerType?: z.ZodType
  in?: z.ZodType
  out?: z.ZodType
  element?: z.ZodType
  valueType?: z.ZodType
  options?: z.ZodType[]
  discriminator?: string
  values?: unknown[]
  getter?: () => z.ZodType
}

function def(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def
}

/** The object schema a value meets once wrappers (optional, default, pipes, the matching union option) are taken off. */
function unwrap(schema: z.ZodType, value: unknown): z.ZodType | undefined {
  for (let depth = 0; depth < 32; depth++) {
    const bared = bare(schema)
    if (bared === undefined) return undefined
    const d = def(bared)
    if (d.type !== 'union' || d.options === undefined) return bared
    const tag = d.discriminator
    const kind = tag !== undefined && typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[tag] : undefined
    const match = tag === undefined ? undefined : d.options.find((o) => kindValues(o, tag).includes(kind))
    if (match === undefined) return undefined
    schema = match
  }
  return undefined
}

/** The schema with its wrappers (optional, default, pipes, lazy) taken off; a union stays one. */
function bare(schema: z.ZodType): z.ZodType | undefined {
  for (let depth = 0; depth < 32; depth++) {
    const d = def(schema)
    if (d.innerType !== undefined) schema = d.innerType
    else if (d.type === 'pipe' && d.in !== undefined && d.out !== undefined) schema = def(d.in).type === 'transform' ? d.out : d.in
    else if (d.type === 'lazy' && d.getter !== undefined) schema = d.getter()
    else return schema
  }
  return undefined
}

/** The values of a discriminated union's tag that pick `option` (its literal kinds). */
function kindValues(option: z.ZodType, tag: string): unknown[] {
  const literal = def(option).shape?.[tag]
  return literal === undefined ? [] : (def(literal).values ?? [])
}

/** The schema at `path` of the input, still wrapped (optional, default, a union), with the value there. */
function schemaAt(context: IssueContext, path: readonly PropertyKey[]): { schema: z.ZodType; value: unknown } | undefined {
  if (context.schema === undefined) return undefined
  let schema: z.ZodType | undefined = context.schema
  let value = context.input
  for (const key of path) {
    schema = schema === undefined ? undefined : unwrap(schema, value)
    if (schema === undefined) return undefined
    const d = def(schema)
    schema = d.type === 'object' ? d.shape?.[String(key)] : d.type === 'array' ? d.element : d.type === 'record' ? d.valueType : undefined
    value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined
  }
  return schema === undefined ? undefined : { schema, value }
}

function knownKeys(context: IssueContext, path: readonly PropertyKey[]): string[] | undefined {
  const at = schemaAt(context, path)
  const schema = at === undefined ? undefined : unwrap(at.schema, at.value)
  const shape = schema === undefined ? undefined : def(schema).shape
  if (shape === undefined) return undefined
  return [...(path.length === 0 ? (context.extraKeys ?? []) : []), ...Object.keys(shape)]
}

/**
 * Where the object at `path` is one kind of a discriminated union (a finetune stage among the
 * stage kinds): its kind, and the other kinds whose objects take `key`, when some do.
 */
function kindsTaking(context: IssueContext, path: readonly PropertyKey[], key: string): { kind: string; others: string[] } | undefined {
  const at = schemaAt(context, path)
  const union = at === undefined ? undefined : bare(at.schema)
  const d = union === undefined ? undefined : def(union)
  const tag = d?.discriminator
  if (d?.type !== 'union' || tag === undefined || d.options === undefined) return undefined
  const kind = typeof at?.value === 'object' && at.value !== null ? (at.value as Record<string, unknown>)[tag] : undefined
  if (typeof kind !== 'string') return undefined
  const others = d.options.flatMap((o) => {
    const values = kindValues(o, tag)
    return def(o).shape?.[key] !== undefined && !values.includes(kind) ? values.map(String) : []
  })
  return others.length === 0 ? undefined : { kind, others }
}

/**
 * The problems of a config, gathered across its sweep cells and reported together. A problem
 * names the swept values under its own top-level key ("model.components=4" for a problem in
 * `model`), so that one caused by no swept value is reported once; so is one said alike in every
 * cell (a misspelt key of `model` in a sweep of `model.tol`), which no swept value can mend.
 */
export class ConfigProblems {
  /** "label\0path: message", in the order found. */
  private readonly found = new Set<string>()
  /** "path: message" -> the cells (all their swept values) it was found in. */
  private readonly cellsOf = new Map<string, Set<string>>()
  private cellCount = 0

  /** `swept`: the config's sweep paths, for what to write instead of a key that only some swept kinds take. */
  constructor(
    private readonly where: string,
    private readonly swept: readonly string[] = [],
  ) {}

  /** Adds problems found in the sweep cell with the swept values `params` ({} for the config as a whole). */
  add(problems: Problem | readonly Problem[], params: Record<string, unknown> = {}): void {
    for (const p of 'path' in problems ? [problems as Problem] : (problems as readonly Problem[])) {
      const top = p.path.split('.')[0]
      const relevant = Object.fromEntries(Object.entries(params).filter(([key]) => key.split('.')[0] === top))
      const line = `${p.path}: ${p.message}${this.sweptKindHint(p)}`
      this.found.add(`${Object.keys(relevant).length === 0 ? '' : cellLabel(relevant)}\0${line}`)
      const cells = this.cellsOf.get(line) ?? new Set<string>()
      this.cellsOf.set(line, cells.add(cellLabel(params)))
    }
  }

  /** The number of sweep cells the config forms, for the problems found in every one. */
  countCells(n: number): void {
    this.cellCount = n
  }

  /**
   * A key that one swept kind takes and another does not (`pairs` of a dpo stage, in a sweep of
   * `posttrain.0.kind` over rl and dpo) is unknown to the other in every cell: sweeping the whole
   * object gives each kind its own keys.
   */
  private sweptKindHint(p: Problem): string {
    if (!p.message.startsWith('unknown key')) return ''
    const parent = p.path.split('.').slice(0, -1).join('.')
    if (parent === '' || !this.swept.includes(`${parent}.kind`)) return ''
    const named = p.message.startsWith('unknown key for kind')
    return `; ${named ? '' : 'if another swept kind takes it, '}sweep the whole "${parent}" instead, each value with its own keys: "sweep": {"${parent}": [{"kind": ..., ...}, ...]}`
  }

  get any(): boolean {
    return this.found.size > 0
  }

  /** One config error with every problem on its own line. */
  error(): OuroborosError {
    const everywhere = (line: string) => this.cellCount > 1 && this.cellsOf.get(line)?.size === this.cellCount
    const lines = [...this.found].map((entry) => {
      const [label, line] = entry.split('\0') as [string, string]
      return label === '' || everywhere(line) ? `${this.where}: ${line}` : `${this.where} (sweep cell ${label}): ${line}`
    })
    return configError([...new Set(lines)].join('\n'))
  }

  throwIfAny(): void {
    if (this.any) throw this.error()
  }
}

/**
 * A cell's swept values, for errors and run.json: "policy.kind=accumulate, model.components=8",
 * a spec in words as `validate` and the report say it ("policy=mix(realFraction=0.2)").
 */
export function cellLabel(params: Record<string, unknown>): string {
  const parts = Object.entries(params).map(([k, v]) => `${k}=${valueWords(v)}`)
  return parts.length === 0 ? 'all' : parts.join(', ')
}

/**
 * A swept value in words: a spec with a kind reads as the kind and its options,
 * `{"kind": "mix", "realFraction": 0.2}` as `mix(realFraction=0.2)`, `{"kind": "replace"}` as
 * `replace`; other objects and arrays keep their brackets without JSON's quotes.
 */
export function valueWords(v: unknown): string {
  if (typeof v === 'string') return v
  if (Array.isArray(v)) return `[${v.map(valueWords).join(', ')}]`
  if (typeof v === 'object' && v !== null) {
    const kind = (v as { kind?: unknown }).kind
    const named = typeof kind === 'string'
    const options = Object.entries(v)
      .filter(([key]) => !(named && key === 'kind'))
      .map(([key, x]) => `${key}=${valueWords(x)}`)
      .join(', ')
    if (named) return options === '' ? kind : `${kind}(${options})`
    return `{${options}}`
  }
  return JSON.stringify(v) ?? String(v)
}
