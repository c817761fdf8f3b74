import { inputError } from '@ouroboros/core'
import type { CellCurve, RunAggregate } from './aggregate.js'
import { thresholdFactor } from './metric-info.js'

export type Crossing =
  | { kind: 'crossed'; generation: number }
  | { kind: 'not-crossed'; through: number }
  /** No threshold for the metric, or none that can be applied (no generation 0, generation 0 ≤ 0). */
  | { kind: 'none' }

export interface SummaryRow {
  metric: string
  cell: number
  /** Replicate mean at generation 0. */
  first: number | null
  lastGeneration: number | null
  /** Replicate mean at the last generation with a value. */
  last: number | null
  /** (last − first) / |first|. */
  relativeChange: number | null
  factor: number | undefined
  crossing: Crossing
}

/**
 * Summary rows for the headline metrics (those with a collapse threshold; every metric when none
 * has one), metric by metric, then cell by cell.
 */
export function summarize(agg: RunAggregate, cells: readonly number[], thresholds: Readonly<Record<string, number>>): SummaryRow[] {
  const withThreshold = agg.metrics.filter((m) => thresholdFactor(m, thresholds) !== undefined)
  const headline = withThreshold.length > 0 ? withThreshold : agg.metrics
  const rows: SummaryRow[] = []
  for (const metric of headline) {
    for (const cell of cells) {
      const curve = agg.curves.get(cell)?.get(metric)
      if (curve === undefined) continue
      rows.push(summaryRow(metric, cell, curve, thresholdFactor(metric, thresholds)))
    }
  }
  return rows
}

function summaryRow(metric: string, cell: number, curve: CellCurve, factor: number | undefined): SummaryRow {
  const i0 = curve.generations.indexOf(0)
  const first = i0 === -1 ? null : curve.mean[i0]!
  const lastIndex = curve.generations.length - 1
  const last = lastIndex >= 0 ? curve.mean[lastIndex]! : null
  const lastGeneration = lastIndex >= 0 ? curve.generations[lastIndex]! : null
  const relativeChange = first !== null && last !== null && first !== 0 ? (last - first) / Math.abs(first) : null
  return { metric, cell, first, last, lastGeneration, relativeChange, factor, crossing: crossing(curve, first, factor) }
}

/**
 * A factor below 1 means "collapsed once the mean falls to factor × generation 0", above 1 "once
 * it rises to". Scaling only means something for a positive starting value.
 */
function crossing(curve: CellCurve, first: number | null, factor: number | undefined): Crossing {
  if (factor === undefined || first === null || !(first > 0)) return { kind: 'none' }
  const level = factor * first
  for (let i = 0; i < curve.generations.length; i++) {
    const g = curve.generations[i]!
    const v = curve.mean[i]!
    if (g > 0 && (factor < 1 ? v <= level : v >= level)) return { kind: 'crossed', generation: g }
  }
  return { kind: 'not-crossed', through: curve.generations[curve.generations.length - 1]! }
}

export function validateThresholds(thresholds: Readonly<Record<string, number>>): void {
  for (const [metric, factor] of Object.entries(thresholds)) {
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor <= 0 || factor === 1) {
      throw inputError(`options.thresholds.${metric} must be a positive number other than 1 (a factor of the generation-0 value), got ${String(factor)}`)
    }
  }
}
