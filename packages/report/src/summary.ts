import { inputError } from '@ouroboros/core'
import type { CellCurve, RunAggregate } from './aggregate.js'
import { formatNumber } from './html.js'
import type { MetricCatalog, Threshold } from './metric-info.js'
import { MAX_MIN_MAX_REPLICATES } from './plots.js'

/** The values a metric must reach to count as collapsed: at or below `below`, at or above `above`. */
export interface CollapseLevels {
  below?: number
  above?: number
}

export type Crossing =
  | { kind: 'crossed'; generation: number; side: 'below' | 'above' }
  | { kind: 'not-crossed'; through: number }
  /** No threshold for the metric, or none that can be applied; `reason` says which. */
  | { kind: 'none'; reason: string }

/** The reason of a row whose metric is null at every generation of its setting. */
export const NO_VALUE = 'no value at any generation'

export interface SummaryRow {
  metric: string
  cell: number
  /** Mean over the cell's chains of the real-data record (generation −1). */
  reference: number | null
  /**
   * The real-data record is the training rows themselves (data of a limited pool, all of it
   * drawn): shown, but no level the thresholds are measured from.
   */
  referenceIsTraining?: true
  /** Replicate mean at generation 0. */
  first: number | null
  lastGeneration: number | null
  /** Replicates with a value at the last generation: fewer than at generation 0 where chains stopped early (failed, or a run killed). */
  lastReplicates: number
  /** Replicate mean at the last generation with a value. */
  last: number | null
  threshold: Threshold | undefined
  levels: CollapseLevels | null
  crossing: Crossing
  /** Replicates with a value at generation 0. */
  replicates: number
  /** The baseline, where a factor threshold cannot scale it (≤ 0). */
  baseline?: number
  /**
   * Where generation 0 is already past the level measured from the real data alone (a model that
   * misfits, or a post-training stage that narrowed generation 0 itself), that level: the
   * collapse levels, measured from the worse of the two, do not count it.
   */
  startsPast?: { side: 'below' | 'above'; level: number }
  /**
   * Where the metric has no value after its last generation while the setting's other metrics go
   * on (an infinite perplexity is recorded as null): that generation, −1 where it has none at any
   * generation, and why a value can be null.
   */
  noneAfter?: { generation: number; why?: string }
  /**
   * Levels the metric cannot reach (an entropy of gen 0 − ln 2 below 0, the least an entropy can
   * be): left out of `levels`, each with the limit of the metric's values it lies beyond.
   */
  outOfRange?: { side: 'below' | 'above'; level: number; limit: number }[]
}

/**
 * Summary rows for the headline metrics (those with a collapse threshold, and those that say which
 * way is better without one: a post-training reward; every metric when none is either), metric
 * by metric, then cell by cell.
 */
export function summarize(
  agg: RunAggregate,
  cells: readonly number[],
  overrides: Readonly<Record<string, number>>,
  catalog: MetricCatalog,
  trainingReference: ReadonlySet<number> = new Set(),
): SummaryRow[] {
  const headlined = agg.metrics.filter((m) => catalog.thresholdFor(m, overrides) !== undefined || catalog.info(m).better !== undefined)
  const headline = headlined.length > 0 ? headlined : agg.metrics
  const rows: SummaryRow[] = []
  // The last generation of each setting with a value of any metric.
  const settingLast = new Map(cells.map((cell) => [cell, Math.max(-1, ...[...(agg.curves.get(cell)?.values() ?? [])].map((c) => c.generations.at(-1) ?? -1))]))
  for (const metric of headline) {
    for (const cell of cells) {
      const curve = agg.curves.get(cell)?.get(metric)
      const shown = agg.reference.get(cell)?.get(metric) ?? null
      const reference = trainingReference.has(cell) ? null : shown
      const flagged = trainingReference.has(cell) && shown !== null ? { reference: shown, referenceIsTraining: true as const } : {}
      const why = catalog.info(metric).nullWhen
      const because = why === undefined ? {} : { why }
      if (curve === undefined) {
        // Null at every generation of a setting whose other metrics have values (every perplexity
        // infinite): a row says so, where leaving it out would hide the metric without a word.
        // A setting whose chains recorded no generation (a run stopped before they began) is a row too.
        const recorded = settingLast.get(cell)! >= 0
        rows.push({ ...noValueRow(metric, cell, reference, catalog.thresholdFor(metric, overrides), recorded ? { reason: NO_VALUE, noneAfter: { generation: -1, ...because } } : { reason: 'no generation recorded' }), ...flagged })
        continue
      }
      const row = { ...summaryRow(metric, cell, curve, reference, catalog.thresholdFor(metric, overrides), catalog.range(metric)), ...flagged }
      if (row.lastGeneration !== null && row.lastGeneration < settingLast.get(cell)!) row.noneAfter = { generation: row.lastGeneration, ...because }
      // A factor the user gave that no baseline of this run can take (a Zipf slope, a negative
      // reward) is no threshold: said, as a value out of range is, rather than shown as n/a.
      if (overrides[metric] !== undefined && row.baseline !== undefined) {
        throw inputError(`--thresholds: ${metric}=${String(overrides[metric])}: a factor of its baseline, which is ${formatNumber(row.baseline)} here (the worse of the real data and generation 0), where a factor needs one above 0`, 'give thresholds as factors to metrics whose values are positive')
      }
      rows.push(row)
    }
  }
  return rows
}

function noValueRow(metric: string, cell: number, reference: number | null, threshold: Threshold | undefined, why: { reason: string; noneAfter?: SummaryRow['noneAfter'] }): SummaryRow {
  return {
    metric, cell, reference, first: null, last: null, lastGeneration: null, lastReplicates: 0, threshold, replicates: 0,
    levels: null, crossing: { kind: 'none', reason: why.reason }, ...(why.noneAfter === undefined ? {} : { noneAfter: why.noneAfter }),
  }
}

function summaryRow(metric: string, cell: number, curve: CellCurve, reference: number | null, threshold: Threshold | undefined, range: readonly [number, number] | undefined): SummaryRow {
  const i0 = curve.generations.indexOf(0)
  const first = i0 === -1 ? null : curve.mean[i0]!
  const lastIndex = curve.generations.length - 1
  const last = lastIndex >= 0 ? curve.mean[lastIndex]! : null
  const lastGeneration = lastIndex >= 0 ? curve.generations[lastIndex]! : null
  const replicates = i0 === -1 ? 0 : curve.count[i0]!
  const lastReplicates = lastIndex >= 0 ? curve.count[lastIndex]! : 0
  const base = { metric, cell, reference, first, last, lastGeneration, lastReplicates, threshold, replicates }
  if (threshold === undefined) return { ...base, levels: null, crossing: { kind: 'none', reason: '—' } }
  if (first === null) return { ...base, levels: null, crossing: { kind: 'none', reason: 'no generation 0' } }
  const levels = collapseLevels(threshold, reference, first)
  if (levels === null) {
    const baseline = threshold.direction === 'rises' ? Math.max(reference ?? first, first) : Math.min(reference ?? first, first)
    return { ...base, levels, baseline, crossing: { kind: 'none', reason: `n/a: no factor of its baseline ${formatNumber(baseline)}` } }
  }
  const { reachable, outOfRange } = withinRange(levels, range)
  if (outOfRange.length > 0 && reachable.below === undefined && reachable.above === undefined) {
    return { ...base, levels: reachable, outOfRange, crossing: { kind: 'none', reason: 'cannot be crossed' } }
  }
  return { ...base, levels: reachable, ...(outOfRange.length === 0 ? {} : { outOfRange }), crossing: findCrossing(curve, i0, reachable), ...startsPast(threshold, reference, first) }
}

/**
 * The levels a metric of values within `range` can reach, and those it cannot: a level at the
 * limit itself (an entropy of 0) can be reached, one beyond it cannot.
 */
export function withinRange(levels: CollapseLevels, range: readonly [number, number] | undefined): { reachable: CollapseLevels; outOfRange: NonNullable<SummaryRow['outOfRange']> } {
  const reachable: CollapseLevels = {}
  const outOfRange: NonNullable<SummaryRow['outOfRange']> = []
  if (levels.below !== undefined) {
    if (range !== undefined && levels.below < range[0]) outOfRange.push({ side: 'below', level: levels.below, limit: range[0] })
    else reachable.below = levels.below
  }
  if (levels.above !== undefined) {
    if (range !== undefined && levels.above > range[1]) outOfRange.push({ side: 'above', level: levels.above, limit: range[1] })
    else reachable.above = levels.above
  }
  return { reachable, outOfRange }
}

function startsPast(threshold: Threshold, reference: number | null, first: number): { startsPast?: { side: 'below' | 'above'; level: number } } {
  const real = reference === null ? null : collapseLevels(threshold, reference, reference)
  if (real?.below !== undefined && first <= real.below) return { startsPast: { side: 'below', level: real.below } }
  if (real?.above !== undefined && first >= real.above) return { startsPast: { side: 'above', level: real.above } }
  return {}
}

/**
 * The threshold applied to the baseline that is already the worse of the real data (generation
 * −1) and generation 0: a metric must move past the threshold from both. Generation 0 can be worse
 * than the real data by the model's own misfit (a KDE's bandwidth), the real data worse than
 * generation 0 by sampling noise (a KL between two samples of the same distribution); neither is
 * collapse. Null where a factor would scale a value ≤ 0.
 */
export function collapseLevels(threshold: Threshold, reference: number | null, first: number): CollapseLevels | null {
  const lower = reference === null ? first : Math.min(reference, first)
  const upper = reference === null ? first : Math.max(reference, first)
  const { direction, kind, value } = threshold
  if (kind === 'offset') {
    if (direction === 'falls') return { below: lower - value }
    if (direction === 'rises') return { above: upper + value }
    return { below: lower - value, above: upper + value }
  }
  if (direction === 'falls') return lower > 0 ? { below: lower * value } : null
  if (direction === 'rises') return upper > 0 ? { above: upper * value } : null
  return lower > 0 ? { below: lower / value, above: upper * value } : null
}

/**
 * The first generation after 0 whose replicate mean is past a level AND whose replicate band lies
 * beyond generation 0's band on that side: a mean pushed past the level by one wild replicate,
 * while the others stay where generation 0 was, is noise, not collapse. The band is the one the
 * plots draw: min to max, or the 5th to the 95th percentile past MAX_MIN_MAX_REPLICATES replicates,
 * where the extremes of many replicates would hold a collapse back by its two wildest chains. With
 * one replicate the bands are single values and only the level guards against noise.
 */
export function findCrossing(curve: CellCurve, i0: number, levels: CollapseLevels): Crossing {
  const [low, high] = curve.count[i0]! > MAX_MIN_MAX_REPLICATES ? [curve.lower, curve.upper] : [curve.min, curve.max]
  const low0 = low[i0]!
  const high0 = high[i0]!
  for (let i = 0; i < curve.generations.length; i++) {
    const g = curve.generations[i]!
    if (g <= 0) continue
    const mean = curve.mean[i]!
    if (levels.below !== undefined && mean <= levels.below && high[i]! < low0) return { kind: 'crossed', generation: g, side: 'below' }
    if (levels.above !== undefined && mean >= levels.above && low[i]! > high0) return { kind: 'crossed', generation: g, side: 'above' }
  }
  return { kind: 'not-crossed', through: curve.generations[curve.generations.length - 1]! }
}
