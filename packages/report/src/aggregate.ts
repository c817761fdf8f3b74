import type { MetricRecord } from '@ouroboros/store'

/** One metric of one sweep cell, over the replicates, per generation (generation ≥ 0). */
export interface CellCurve {
  generations: number[]
  mean: number[]
  min: number[]
  max: number[]
  /** Sample standard deviation over replicates (n − 1 in the denominator; 0 for one replicate). */
  sd: number[]
  /** Replicates that have a value at each generation (a failed chain stops contributing). */
  count: number[]
}

export interface RunAggregate {
  /** Metric names in the order records first show them. */
  metrics: string[]
  /** cell -> metric -> curve. */
  curves: Map<number, Map<string, CellCurve>>
  /** cell -> metric -> mean over the cell's chains of the generation −1 (real data) value. */
  reference: Map<number, Map<string, number>>
  /** cell -> number of distinct replicates with records. */
  replicates: Map<number, number>
}

/** Null and non-finite values (a diverged model, an undefined metric) are left out of every statistic. */
export function aggregate(records: readonly MetricRecord[]): RunAggregate {
  const metricSet = new Set<string>()
  const values = new Map<number, Map<string, Map<number, number[]>>>()
  const replicateSets = new Map<number, Set<number>>()
  for (const r of records) {
    let cell = values.get(r.cell)
    if (cell === undefined) values.set(r.cell, (cell = new Map()))
    let reps = replicateSets.get(r.cell)
    if (reps === undefined) replicateSets.set(r.cell, (reps = new Set()))
    if (r.generation >= 0) reps.add(r.replicate)
    for (const [name, v] of Object.entries(r.metrics)) {
      metricSet.add(name)
      if (typeof v !== 'number' || !Number.isFinite(v)) continue
      let byGen = cell.get(name)
      if (byGen === undefined) cell.set(name, (byGen = new Map()))
      let list = byGen.get(r.generation)
      if (list === undefined) byGen.set(r.generation, (list = []))
      list.push(v)
    }
  }
  const curves = new Map<number, Map<string, CellCurve>>()
  const reference = new Map<number, Map<string, number>>()
  for (const [cell, byMetric] of values) {
    const cellCurves = new Map<string, CellCurve>()
    const cellRef = new Map<string, number>()
    for (const [name, byGen] of byMetric) {
      const gens = [...byGen.keys()].filter((g) => g >= 0).sort((a, b) => a - b)
      if (gens.length > 0) {
        const curve: CellCurve = { generations: gens, mean: [], min: [], max: [], sd: [], count: [] }
        for (const g of gens) {
          const list = byGen.get(g)!
          let lo = Infinity
          let hi = -Infinity
          for (const v of list) {
            lo = Math.min(lo, v)
            hi = Math.max(hi, v)
          }
          const m = mean(list)
          let ss = 0
          for (const v of list) ss += (v - m) * (v - m)
          curve.mean.push(m)
          curve.sd.push(list.length > 1 ? Math.sqrt(ss / (list.length - 1)) : 0)
          curve.min.push(lo)
          curve.max.push(hi)
          curve.count.push(list.length)
        }
        cellCurves.set(name, curve)
      }
      const real = byGen.get(-1)
      if (real !== undefined) cellRef.set(name, mean(real))
    }
    curves.set(cell, cellCurves)
    reference.set(cell, cellRef)
  }
  const replicates = new Map([...replicateSets].map(([cell, set]) => [cell, set.size] as const))
  return { metrics: [...metricSet], curves, reference, replicates }
}

function mean(list: readonly number[]): number {
  let s = 0
  for (const v of list) s += v
  return s / list.length
}
