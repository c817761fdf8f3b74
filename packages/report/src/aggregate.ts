import { RecordSource, type MetricRecord, type RecordBlock, type RecordChain } from '@ouroboros/store'

/** One metric of one sweep cell, over the replicates, per generation (generation ≥ 0). */
export interface CellCurve {
  generations: number[]
  mean: number[]
  min: number[]
  max: number[]
  /** Sample standard deviation over replicates (n − 1 in the denominator; 0 for one replicate). */
  sd: number[]
  /** The 5th and 95th percentiles over replicates: exact up to EXACT_QUANTILES replicates, from a t-digest past that. */
  lower: number[]
  upper: number[]
  /** Replicates that have a value at each generation (a failed chain stops contributing). */
  count: number[]
}

export interface RunAggregate {
  /**
   * Metric names in the order the sorted records first show them, less `gold_reward` where it is
   * `reward` in every record (a reward that is not a proxy is its own gold reward).
   */
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
  /** chain -> generations it has records of (its last generation + 1). */
  recorded: Map<string, number>
}

/** A run's records, streamed from its record log (or its metrics.ndjson) through a RunAggregator. */
export function summarizeRecords(runDir: string, chains: readonly RecordChain[]): RecordSummary {
  const agg = new RunAggregator()
  const source = new RecordSource(runDir, chains)
  for (const block of source.blocks()) agg.write(source, block)
  return agg.summary()
}

export const BAND_QUANTILES = [0.05, 0.95] as const

/** Values a slot holds before it compresses: its quantiles are exact up to this many replicates. */
export const EXACT_QUANTILES = 512
/** The t-digest's compression δ: about δ/2 centroids, smallest in the tails, where the band is. */
const COMPRESSION = 200

/**
 * Streaming quantiles of one slot: a merging t-digest (Dunning & Ertl 2019, "Computing extremely
 * accurate quantiles using t-digests") with the arcsine scale function, whose centroids are
 * smallest in the tails. Values are buffered and merged in sorted runs; memory stays at about
 * δ/2 centroids and the buffer whatever the count. Deterministic: the same values in the same
 * order give the same quantiles.
 */
export class TDigest {
  private means = new Float64Array(0)
  private weights = new Float64Array(0)
  private size = 0
  private merged = 0
  private buf = new Float64Array(0)
  private bufN = 0
  /** Whether buf[0, bufN) is in order: a slot's two band quantiles sort it once. */
  private sorted = true
  private min = Infinity
  private max = -Infinity

  add(v: number): void {
    if (v < this.min) this.min = v
    if (v > this.max) this.max = v
    if (this.bufN === this.buf.length) {
      if (this.buf.length < EXACT_QUANTILES) {
        const grown = new Float64Array(Math.min(EXACT_QUANTILES, Math.max(8, 2 * this.buf.length)))
        grown.set(this.buf)
        this.buf = grown
      } else {
        this.merge()
      }
    }
    this.buf[this.bufN++] = v
    this.sorted = false
  }

  quantile(p: number): number {
    if (this.merged === 0) {
      // The buffer's order does not matter to a merge, which sorts it anyway.
      if (!this.sorted) this.buf.subarray(0, this.bufN).sort()
      this.sorted = true
      return exactQuantile(this.buf.subarray(0, this.bufN), p)
    }
    this.merge()
    const total = this.merged
    const target = p * total
    // Each centroid's weight is centred on its mean; between centres the quantile is interpolated.
    let cum = 0
    let prevCentre = 0
    let prevMean = this.min
    for (let i = 0; i < this.size; i++) {
      const w = this.weights[i]!
      const centre = cum + w / 2
      if (target < centre) {
        if (i === 0) return this.min + ((this.means[0]! - this.min) * target) / Math.max(centre, 1e-300)
        return prevMean + ((this.means[i]! - prevMean) * (target - prevCentre)) / (centre - prevCentre)
      }
      prevCentre = centre
      prevMean = this.means[i]!
      cum += w
    }
    return prevMean + ((this.max - prevMean) * (target - prevCentre)) / Math.max(total - prevCentre, 1e-300)
  }

  /** Merges the buffer into the centroids in one sorted pass, joining neighbours while the scale function allows. */
  private merge(): void {
    if (this.bufN === 0) return
    const buf = this.buf.subarray(0, this.bufN).sort()
    const total = this.merged + this.bufN
    const means = new Float64Array(this.size + this.bufN)
    const weights = new Float64Array(this.size + this.bufN)
    let out = 0
    let curMean = NaN
    let curWeight = 0
    let before = 0
    let limit = 0
    let i = 0
    let j = 0
    while (i < this.size || j < buf.length) {
      let m: number
      let w: number
      if (j >= buf.length || (i < this.size && this.means[i]! <= buf[j]!)) {
        m = this.means[i]!
        w = this.weights[i++]!
      } else {
        m = buf[j++]!
        w = 1
      }
      if (curWeight === 0) {
        curMean = m
        curWeight = w
        limit = total * kInverse(scale(before / total) + 1)
      } else if (before + curWeight + w <= limit) {
        curWeight += w
        curMean += ((m - curMean) * w) / curWeight
      } else {
        means[out] = curMean
        weights[out++] = curWeight
        before += curWeight
        curMean = m
        curWeight = w
        limit = total * kInverse(scale(before / total) + 1)
      }
    }
    means[out] = curMean
    weights[out++] = curWeight
    this.means = means.slice(0, out)
    this.weights = weights.slice(0, out)
    this.size = out
    this.merged = total
    this.bufN = 0
  }
}

function scale(q: number): number {
  return (COMPRESSION / (2 * Math.PI)) * Math.asin(2 * Math.min(1, Math.max(0, q)) - 1)
}

function kInverse(k: number): number {
  return k >= COMPRESSION / 4 ? 1 : (Math.sin((2 * Math.PI * k) / COMPRESSION) + 1) / 2
}

/**
 * Per-generation statistics of one (cell, metric) in memory that does not grow with the number of
 * replicates: count, mean and sum of squares (Welford), min, max, and a t-digest for the band
 * quantiles. A generation's slot is generation + 1 (slot 0: the real data).
 */
class GenerationStats {
  count: Float64Array = new Float64Array(0)
  mean: Float64Array = new Float64Array(0)
  m2: Float64Array = new Float64Array(0)
  min: Float64Array = new Float64Array(0)
  max: Float64Array = new Float64Array(0)
  digests: TDigest[] = []

  add(generation: number, v: number): void {
    const s = generation + 1
    if (s >= this.count.length) this.grow(s + 1)
    const n = ++this.count[s]!
    const d = v - this.mean[s]!
    this.mean[s]! += d / n
    this.m2[s]! += d * (v - this.mean[s]!)
    if (n === 1 || v < this.min[s]!) this.min[s] = v
    if (n === 1 || v > this.max[s]!) this.max[s] = v
    this.digests[s]!.add(v)
  }

  quantiles(s: number): number[] {
    return BAND_QUANTILES.map((p) => this.digests[s]!.quantile(p))
  }

  private grow(slots: number): void {
    const size = Math.max(slots, 2 * this.count.length, 8)
    const grown = (a: Float64Array): Float64Array => {
      const b = new Float64Array(size)
      b.set(a)
      return b
    }
    this.count = grown(this.count)
    this.mean = grown(this.mean)
    this.m2 = grown(this.m2)
    this.min = grown(this.min)
    this.max = grown(this.max)
    while (this.digests.length < size) this.digests.push(new TDigest())
  }
}

/** Linear interpolation between order statistics (numpy's default, type 7). */
export function exactQuantile(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p
  const lo = Math.floor(h)
  const hi = Math.min(lo + 1, sorted.length - 1)
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!)
}

/**
 * Aggregates a run's sorted records a block at a time: what the report needs of
 * every record, in memory independent of their number. Null and non-finite values are left out of
 * every statistic.
 */
export class RunAggregator {
  private metrics: string[] = []
  /** Whether some record's `gold_reward` is not its `reward`. */
  private goldDiffers = false
  private readonly stats = new Map<number, Map<string, GenerationStats>>()
  private readonly replicateSets = new Map<number, Set<number>>()
  /** Records of generations −1 and 0: the comparison of settings (single-generation runs) shows them one by one. */
  readonly firstRecords: MetricRecord[] = []
  /** cell -> time per stage (ms), summed over chains and generations. */
  readonly timings = new Map<number, { fit: number; sample: number; evaluate: number }>()
  /** chain -> generations it has records of. */
  readonly recorded = new Map<string, number>()

  write(source: Pick<RecordSource, 'chains' | 'metrics'>, block: RecordBlock): void {
    for (const m of source.metrics) if (!this.metrics.includes(m)) this.metrics.push(m)
    const columns = source.metrics.map((name, j) => ({ name, values: block.metrics[j]! }))
    this.goldDiffers ||= goldDiffers(columns, block.length)
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
      let recorded = this.recorded.get(chain.id) ?? 0
      for (let r = i; r < end; r++) {
        if (block.generation[r]! >= 0) reps.add(chain.replicate)
        recorded = Math.max(recorded, block.generation[r]! + 1)
        t.fit += block.fitMs[r]!
        t.sample += block.sampleMs[r]!
        t.evaluate += block.evalMs[r]!
      }
      this.recorded.set(chain.id, recorded)
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
    return { agg: this.result(), firstRecords: this.firstRecords, timings: this.timings, recorded: this.recorded }
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
          const [lower, upper] = s.quantiles(slot)
          curve.lower.push(lower!)
          curve.upper.push(upper!)
          curve.count.push(n)
        }
        if (curve.generations.length > 0) cellCurves.set(name, curve)
        if ((s.count[0] ?? 0) > 0) cellRef.set(name, s.mean[0]!)
      }
      curves.set(cell, cellCurves)
      reference.set(cell, cellRef)
    }
    const replicates = new Map([...this.replicateSets].map(([cell, set]) => [cell, set.size] as const))
    const shown = this.goldDiffers || !this.metrics.includes('reward') ? this.metrics : this.metrics.filter((m) => m !== 'gold_reward')
    return { metrics: [...shown], curves, reference, replicates }
  }
}

function goldDiffers(columns: readonly { name: string; values: ArrayLike<number> }[], rows: number): boolean {
  const reward = columns.find((c) => c.name === 'reward')?.values
  const gold = columns.find((c) => c.name === 'gold_reward')?.values
  if (gold === undefined) return false
  if (reward === undefined) return true
  for (let r = 0; r < rows; r++) {
    const a = reward[r]!
    const b = gold[r]!
    if (a !== b && (Number.isFinite(a) || Number.isFinite(b))) return true
  }
  return false
}
