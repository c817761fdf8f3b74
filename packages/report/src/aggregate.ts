import { RecordSource, type MetricRecord, type RecordBlock, type RecordChain, type RecordSink } from '@ouroboros/store'

/** One metric of one sweep cell, over the replicates, per generation (generation ≥ 0). */
export interface CellCurve {
  generations: number[]
  mean: number[]
  min: number[]
  max: number[]
  /** Sample standard deviation over replicates (n − 1 in the denominator; 0 for one replicate). */
  sd: number[]
  /** The 5th and 95th percentiles over replicates: exact up to EXACT_QUANTILES values, streaming (P²) past that. */
  lower: number[]
  upper: number[]
  /** Replicates that have a value at each generation (a failed chain stops contributing). */
  count: number[]
}

export interface RunAggregate {
  /** Metric names in the order the sorted records first show them. */
  metrics: string[]
  /** cell -> metric -> curve. */
  curves: Map<number, Map<string, CellCurve>>
  /** cell -> metric -> mean over the cell's chains of the generation −1 (real data) value. */
  reference: Map<number, Map<string, number>>
  /** cell -> number of distinct replicates with records. */
  replicates: Map<number, number>
}

/** What the report keeps of a run's records. */
export interface RecordSummary {
  agg: RunAggregate
  /** Records of generations −1 and 0. */
  firstRecords: MetricRecord[]
  /** cell -> time per stage (ms), summed over chains and generations. */
  timings: Map<number, { fit: number; sample: number; evaluate: number }>
}

/** A run's records, streamed from its record log (or its metrics.ndjson) through a RunAggregator. */
export function summarizeRecords(runDir: string, chains: readonly RecordChain[]): RecordSummary {
  const agg = new RunAggregator()
  const source = new RecordSource(runDir, chains)
  for (const block of source.blocks()) agg.write(source, block)
  return agg.summary()
}

export const BAND_QUANTILES = [0.05, 0.95] as const
/** Up to this many values per generation the quantiles are exact. */
const EXACT_QUANTILES = 64

/**
 * Per-generation statistics of one (cell, metric) in memory that does not grow with the number of
 * replicates: count, mean and sum of squares (Welford), min, max, and the band quantiles. A
 * generation's slot is generation + 1 (slot 0: the real data).
 */
class GenerationStats {
  count: Float64Array = new Float64Array(0)
  mean: Float64Array = new Float64Array(0)
  m2: Float64Array = new Float64Array(0)
  min: Float64Array = new Float64Array(0)
  max: Float64Array = new Float64Array(0)
  exact: Float64Array = new Float64Array(0)
  quantiles: P2Quantiles[] = BAND_QUANTILES.map((p) => new P2Quantiles(p))

  add(generation: number, v: number): void {
    const s = generation + 1
    if (s >= this.count.length) this.grow(s + 1)
    const n = ++this.count[s]!
    const d = v - this.mean[s]!
    this.mean[s]! += d / n
    this.m2[s]! += d * (v - this.mean[s]!)
    if (n === 1 || v < this.min[s]!) this.min[s] = v
    if (n === 1 || v > this.max[s]!) this.max[s] = v
    if (n <= EXACT_QUANTILES) this.exact[s * EXACT_QUANTILES + n - 1] = v
    for (const q of this.quantiles) q.add(s, n, v)
  }

  quantile(k: number, s: number): number {
    const n = this.count[s]!
    if (n > EXACT_QUANTILES) return this.quantiles[k]!.estimate(s)
    return exactQuantile([...this.exact.subarray(s * EXACT_QUANTILES, s * EXACT_QUANTILES + n)].sort((a, b) => a - b), BAND_QUANTILES[k]!)
  }

  private grow(slots: number): void {
    const size = Math.max(slots, 2 * this.count.length, 8)
    const grown = (a: Float64Array, per = 1): Float64Array => {
      const b = new Float64Array(size * per)
      b.set(a)
      return b
    }
    this.count = grown(this.count)
    this.mean = grown(this.mean)
    this.m2 = grown(this.m2)
    this.min = grown(this.min)
    this.max = grown(this.max)
    this.exact = grown(this.exact, EXACT_QUANTILES)
    for (const q of this.quantiles) q.grow(size)
  }
}

/** Linear interpolation between order statistics (numpy's default, type 7). */
export function exactQuantile(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p
  const lo = Math.floor(h)
  return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]!) - sorted[lo]!)
}

/**
 * The P² estimator of one quantile for many slots at once (Jain & Chlamtac 1985, "The P²
 * algorithm for dynamic calculation of quantiles and histograms without storing observations"):
 * five markers a slot, whose heights follow the quantile as values stream by.
 */
export class P2Quantiles {
  private q: Float64Array = new Float64Array(0)
  private pos: Float64Array = new Float64Array(0)
  private want: Float64Array = new Float64Array(0)
  private readonly step: number[]

  constructor(private readonly p: number) {
    this.step = [0, p / 2, p, (1 + p) / 2, 1]
  }

  grow(slots: number): void {
    for (const key of ['q', 'pos', 'want'] as const) {
      const b = new Float64Array(slots * 5)
      b.set(this[key])
      this[key] = b
    }
  }

  /** The n-th value (1-based) of slot s. */
  add(s: number, n: number, v: number): void {
    const o = s * 5
    const q = this.q
    if (n <= 5) {
      // The first five values, kept sorted, are the markers.
      let i = n - 1
      while (i > 0 && q[o + i - 1]! > v) {
        q[o + i] = q[o + i - 1]!
        i--
      }
      q[o + i] = v
      if (n === 5) {
        for (let j = 0; j < 5; j++) this.pos[o + j] = j
        const p = this.p
        this.want.set([0, 2 * p, 4 * p, 2 + 2 * p, 4], o)
      }
      return
    }
    const pos = this.pos
    let k: number
    if (v < q[o]!) {
      q[o] = v
      k = 0
    } else if (v >= q[o + 4]!) {
      q[o + 4] = Math.max(q[o + 4]!, v)
      k = 3
    } else {
      k = 0
      while (k < 3 && v >= q[o + k + 1]!) k++
    }
    for (let j = k + 1; j < 5; j++) pos[o + j]!++
    for (let j = 0; j < 5; j++) this.want[o + j]! += this.step[j]!
    for (let i = 1; i <= 3; i++) {
      const d = this.want[o + i]! - pos[o + i]!
      if ((d >= 1 && pos[o + i + 1]! - pos[o + i]! > 1) || (d <= -1 && pos[o + i - 1]! - pos[o + i]! < -1)) {
        const sign = d > 0 ? 1 : -1
        const qi = q[o + i]!
        const parabolic =
          qi +
          (sign / (pos[o + i + 1]! - pos[o + i - 1]!)) *
            ((pos[o + i]! - pos[o + i - 1]! + sign) * ((q[o + i + 1]! - qi) / (pos[o + i + 1]! - pos[o + i]!)) +
              (pos[o + i + 1]! - pos[o + i]! - sign) * ((qi - q[o + i - 1]!) / (pos[o + i]! - pos[o + i - 1]!)))
        q[o + i] = q[o + i - 1]! < parabolic && parabolic < q[o + i + 1]! ? parabolic : qi + (sign * (q[o + i + sign]! - qi)) / (pos[o + i + sign]! - pos[o + i]!)
        pos[o + i]! += sign
      }
    }
  }

  estimate(s: number): number {
    return this.q[s * 5 + 2]!
  }
}

/**
 * Aggregates a run's sorted records a block at a time (a RecordSink): what the report needs of
 * every record, in memory independent of their number. Null and non-finite values are left out of
 * every statistic.
 */
export class RunAggregator implements RecordSink {
  private metrics: string[] = []
  private readonly stats = new Map<number, Map<string, GenerationStats>>()
  private readonly replicateSets = new Map<number, Set<number>>()
  /** Records of generations −1 and 0: the comparison of settings (single-generation runs) shows them one by one. */
  readonly firstRecords: MetricRecord[] = []
  /** cell -> time per stage (ms), summed over chains and generations. */
  readonly timings = new Map<number, { fit: number; sample: number; evaluate: number }>()

  write(source: RecordSource, block: RecordBlock): void {
    for (const m of source.metrics) if (!this.metrics.includes(m)) this.metrics.push(m)
    const columns = source.metrics.map((name, j) => ({ name, values: block.metrics[j]! }))
    for (let i = 0; i < block.length; ) {
      // A run of rows of one chain: per-chain lookups once per run.
      const c = block.chain[i]!
      let end = i
      while (end < block.length && block.chain[end] === c) end++
      const chain = source.chains[c]!
      let cell = this.stats.get(chain.cell)
      if (cell === undefined) this.stats.set(chain.cell, (cell = new Map()))
      let reps = this.replicateSets.get(chain.cell)
      if (reps === undefined) this.replicateSets.set(chain.cell, (reps = new Set()))
      const t = this.timings.get(chain.cell) ?? { fit: 0, sample: 0, evaluate: 0 }
      this.timings.set(chain.cell, t)
      for (let r = i; r < end; r++) {
        if (block.generation[r]! >= 0) reps.add(chain.replicate)
        t.fit += block.fitMs[r]!
        t.sample += block.sampleMs[r]!
        t.evaluate += block.evalMs[r]!
      }
      for (const { name, values } of columns) {
        let s = cell.get(name)
        if (s === undefined) cell.set(name, (s = new GenerationStats()))
        for (let r = i; r < end; r++) {
          const v = values[r]!
          if (Number.isFinite(v)) s.add(block.generation[r]!, v)
        }
      }
      for (let r = i; r < end; r++) {
        const g = block.generation[r]!
        if (g !== 0 && g !== -1) continue
        const metrics: Record<string, number | null> = {}
        for (const { name, values } of columns) metrics[name] = Number.isFinite(values[r]!) ? values[r]! : null
        const timings = { fitMs: block.fitMs[r]!, sampleMs: block.sampleMs[r]!, evalMs: block.evalMs[r]! }
        this.firstRecords.push({ chain: chain.id, cell: chain.cell, replicate: chain.replicate, seed: chain.seed, params: chain.params, generation: g, metrics, timings })
      }
      i = end
    }
  }

  summary(): RecordSummary {
    return { agg: this.result(), firstRecords: this.firstRecords, timings: this.timings }
  }

  result(): RunAggregate {
    const curves = new Map<number, Map<string, CellCurve>>()
    const reference = new Map<number, Map<string, number>>()
    for (const [cell, byMetric] of this.stats) {
      const cellCurves = new Map<string, CellCurve>()
      const cellRef = new Map<string, number>()
      for (const [name, s] of byMetric) {
        const curve: CellCurve = { generations: [], mean: [], min: [], max: [], sd: [], lower: [], upper: [], count: [] }
        for (let slot = 1; slot < s.count.length; slot++) {
          const n = s.count[slot]!
          if (n === 0) continue
          curve.generations.push(slot - 1)
          curve.mean.push(s.mean[slot]!)
          curve.sd.push(n > 1 ? Math.sqrt(s.m2[slot]! / (n - 1)) : 0)
          curve.min.push(s.min[slot]!)
          curve.max.push(s.max[slot]!)
          curve.lower.push(s.quantile(0, slot))
          curve.upper.push(s.quantile(1, slot))
          curve.count.push(n)
        }
        if (curve.generations.length > 0) cellCurves.set(name, curve)
        if ((s.count[0] ?? 0) > 0) cellRef.set(name, s.mean[0]!)
      }
      curves.set(cell, cellCurves)
      reference.set(cell, cellRef)
    }
    const replicates = new Map([...this.replicateSets].map(([cell, set]) => [cell, set.size] as const))
    return { metrics: [...this.metrics], curves, reference, replicates }
  }
}
