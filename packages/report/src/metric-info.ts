import { inputError, type Direction, type OutputInfo, type OutputInfoTable, type Threshold } from '@ouroboros/core'
import type { RunInfo } from '@ouroboros/store'
import { escapeHtml } from './html.js'

export type { Threshold }

const DIRECTIONS: readonly Direction[] = ['falls', 'rises', 'departs']
const BETTER: readonly NonNullable<OutputInfo['better']>[] = ['higher', 'lower', 'neither', 'raised']

/**
 * What the page knows of each metric: the descriptions (title, unit, direction, collapse
 * threshold) that the plug-ins computing them gave, as the runs' run.json files record them. The
 * first run that describes a metric decides; a metric no run describes is shown by its name.
 */
export class MetricCatalog {
  private readonly known = new Map<string, OutputInfo>()

  constructor(tables: Iterable<unknown>) {
    for (const table of tables) {
      if (typeof table !== 'object' || table === null || Array.isArray(table)) continue
      for (const [name, value] of Object.entries(table)) {
        const info = readOutputInfo(value)
        if (info !== undefined && !this.known.has(name)) this.known.set(name, info)
      }
    }
  }

  info(name: string): OutputInfo {
    return this.known.get(name) ?? { title: name }
  }

  /**
   * The values the metric can take, where known: its bounds (a share), else for an entropy (an
   * output in nats whose own collapse threshold is a fall by an amount; a KL rises) 0 and above.
   * A collapse level outside it cannot be crossed.
   */
  range(name: string): readonly [number, number] | undefined {
    const { bounds, unit, threshold } = this.info(name)
    if (bounds !== undefined) return bounds
    if (unit === 'nats' && threshold?.kind === 'offset' && threshold.direction === 'falls') return [0, Infinity]
    return undefined
  }

  /** Whether some run describes `name`. */
  knows(name: string): boolean {
    return this.known.has(name)
  }

  /** Which way is better: the metric's own word, else its threshold's direction ('departs': none). */
  betterOf(name: string): NonNullable<OutputInfo['better']> | undefined {
    const info = this.info(name)
    if (info.better !== undefined) return info.better
    const direction = info.threshold?.direction
    return direction === 'falls' ? 'higher' : direction === 'rises' ? 'lower' : undefined
  }

  /** The direction in words, for tables: undefined where none is known. */
  betterText(name: string): string | undefined {
    if (this.info(name).threshold?.direction === 'departs') return 'the real data’s value is best'
    const better = this.betterOf(name)
    if (better === 'neither') return 'a cost: neither way is better'
    if (better === 'raised') return 'the stage raises it; the gold reward says what is better'
    return better === undefined ? undefined : `${better} is better`
  }

  /** A metric's row heading in the tables: its title, its name (which may break after an underscore), and which way is better. */
  heading(name: string): string {
    const better = this.betterText(name)
    return `${escapeHtml(this.info(name).title)}<br><code>${escapeHtml(name).replaceAll('_', '_<wbr>')}</code>${better === undefined ? '' : `<br><span class="gen better">${escapeHtml(better)}</span>`}`
  }

  /** A plot's name for the metric: its title and its name, or its name where it has no title. */
  titled(name: string): string {
    return titled(this.info(name).title, name)
  }

  /** A plot's axis for the metric: its title and unit, `modes covered (≥ 1 % of samples; modes)` where the title ends in brackets of its own. */
  axisTitle(name: string): string {
    const { title, unit } = this.info(name)
    if (unit === undefined) return title
    return title.endsWith(')') ? `${title.slice(0, -1)}; ${unit})` : `${title} (${unit})`
  }

  /** The metric's collapse threshold, with `overrides` (one number per metric) in place of the default value. */
  thresholdFor(name: string, overrides: Readonly<Record<string, number>>): Threshold | undefined {
    const known = this.info(name).threshold
    const given = overrides[name]
    if (given === undefined) return known
    return { ...(known ?? this.givenThreshold(name, given)), value: given }
  }

  /**
   * The form of a threshold given for a metric that has none of its own: an amount for a metric in
   * nats (a KL) or on a log scale (log variance, whose values are below 0 as often as above, so
   * that no factor of them means a fall), else a factor; a fall where higher is better, a rise
   * where lower is better, and for a metric neither way is better a move away (an amount) or the
   * side the factor says.
   */
  private givenThreshold(name: string, value: number): Threshold {
    const info = this.info(name)
    const better = info.better
    if (info.unit === 'nats' || info.unit?.startsWith('ln ') === true) return { direction: better === 'higher' ? 'falls' : better === 'lower' ? 'rises' : 'departs', kind: 'offset', value }
    return { direction: better === 'higher' ? 'falls' : better === 'lower' ? 'rises' : value < 1 ? 'falls' : 'rises', kind: 'factor', value }
  }

  /** The numbers `thresholdFor` would accept; the message names the metric and what it expects. */
  validateThresholds(overrides: Readonly<Record<string, number>>): void {
    for (const [name, value] of Object.entries(overrides)) {
      const own = this.info(name).threshold
      const fail = (expected: string): never => {
        throw inputError(`--thresholds: ${name}=${String(value)}: expected ${expected}`)
      }
      if (typeof value !== 'number' || !Number.isFinite(value)) fail('a number')
      const known = own ?? this.givenThreshold(name, value)
      if (own === undefined && known.kind === 'factor' && this.info(name).better === undefined) {
        if (!(value > 0) || value === 1) fail('a positive factor other than 1 (below 1: collapse is a fall to that share of the baseline; above 1: a rise)')
      } else if (known.kind === 'offset') {
        const unit = this.info(name).unit
        const moves = known.direction === 'falls' ? 'falls' : known.direction === 'rises' ? 'rises' : 'moves either way'
        if (!(value > 0)) fail(`a positive amount${unit === undefined ? '' : ` in ${unit}`} by which it ${moves} from its baseline`)
      } else if (known.direction === 'falls') {
        if (!(value > 0 && value < 1)) fail('a factor between 0 and 1 (it falls to that share of its baseline)')
      } else if (!(value > 1)) {
        fail(`a factor above 1 (it ${known.direction === 'rises' ? 'rises' : 'moves'} by that factor from its baseline)`)
      }
    }
  }

  /** Those of `names` that measure global diversity, most telling first (the default of a view). */
  diversity(names: readonly string[]): string[] {
    return ranked(names, (name) => this.info(name).diversity)
  }

  /** Those of `names` that measure quality on a finetuning task, preferred first. */
  taskQuality(names: readonly string[]): string[] {
    return ranked(names, (name) => this.info(name).taskQuality)
  }
}

/** The catalog of the metrics of these runs; `fallback` describes those of runs whose run.json has no descriptions. */
export function catalogOf(runs: readonly { readonly info: RunInfo }[], fallback?: OutputInfoTable): MetricCatalog {
  return new MetricCatalog([...runs.map((run) => run.info.metricInfo), fallback])
}

/** The catalog of the losses of these runs' models' training curves. */
export function lossCatalogOf(runs: readonly { readonly info: RunInfo }[]): MetricCatalog {
  return new MetricCatalog(runs.map((run) => run.info.lossInfo))
}

function ranked(names: readonly string[], rank: (name: string) => number | undefined): string[] {
  return names.filter((name) => rank(name) !== undefined).sort((a, b) => rank(a)! - rank(b)! || (a < b ? -1 : a > b ? 1 : 0))
}

/** One description as run.json holds it, keeping only well-formed fields; undefined without a title. */
function readOutputInfo(value: unknown): OutputInfo | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as Record<string, unknown>
  if (typeof v['title'] !== 'string') return undefined
  const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x)
  const t = v['threshold'] as Record<string, unknown> | undefined
  const threshold: Threshold | undefined =
    typeof t === 'object' && t !== null && DIRECTIONS.includes(t['direction'] as Direction) && (t['kind'] === 'factor' || t['kind'] === 'offset') && finite(t['value'])
      ? { direction: t['direction'] as Direction, kind: t['kind'], value: t['value'] }
      : undefined
  const b = v['bounds']
  const bounds = Array.isArray(b) && b.length === 2 && finite(b[0]) && finite(b[1]) && b[0] < b[1] ? ([b[0], b[1]] as const) : undefined
  const better = BETTER.includes(v['better'] as 'higher') ? (v['better'] as OutputInfo['better']) : undefined
  return {
    title: v['title'],
    ...(typeof v['unit'] === 'string' ? { unit: v['unit'] } : {}),
    ...(threshold === undefined ? {} : { threshold }),
    ...(bounds === undefined ? {} : { bounds }),
    ...(better === undefined ? {} : { better }),
    ...(finite(v['diversity']) ? { diversity: v['diversity'] } : {}),
    ...(finite(v['taskQuality']) ? { taskQuality: v['taskQuality'] } : {}),
    ...(typeof v['nullWhen'] === 'string' ? { nullWhen: v['nullWhen'] } : {}),
  }
}

/**
 * `name=value,name=value` as the command line gives it; the message names the bad entry. Whether
 * each value suits its metric is checked against the runs' descriptions (validateThresholds).
 */
export function parseThresholds(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const entry of text.split(',')) {
    const m = /^\s*([A-Za-z0-9_.:-]+)\s*=\s*([^=\s]+)\s*$/.exec(entry)
    // A decimal number: Number() would also take 0x10, 0b1 and an empty string.
    const value = m === null || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(m[2]!) ? NaN : Number(m[2])
    if (m === null || !Number.isFinite(value)) throw inputError(`--thresholds: '${entry.trim()}' is not metric=number (for example vocab_size=0.25,reverse_kl=0.2)`)
    const earlier = out[m[1]!]
    if (earlier !== undefined) throw inputError(`--thresholds: ${m[1]} is given twice (${earlier} and ${value})`, 'give each metric one threshold')
    out[m[1]!] = value
  }
  return out
}

/** "title · name", or the name alone where the title is the name. */
export function titled(title: string, name: string): string {
  return title === name ? name : `${title} · ${name}`
}
