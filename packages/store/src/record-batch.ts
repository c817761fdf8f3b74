import type { MetricRecord } from './run-dir.js'

/**
 * A record row's leading columns; its metrics follow, in the order of ChainRecords.metrics.
 * A null metric is NaN: metric values are finite or null (scoring turns non-finite values into null).
 */
export const ROW_LEAD = ['generation', 'fitMs', 'sampleMs', 'evalMs'] as const

/** Records of one chain, columnar, as a task returns them and the record log stores them. */
export interface ChainRecords {
  chain: string
  metrics: string[]
  /** Rows of ROW_LEAD then the metrics, row-major (`rows.length / width` records). */
  rows: Float64Array
}

/** What a task hands the run's single record writer. */
export interface RecordBatch {
  parts: ChainRecords[]
  /** The records' metrics.ndjson lines, made where the records were, for runs that write text. */
  ndjson?: string
  /** With a chain's first batch: see ChainInfo.resolvedOptions. */
  resolvedOptions?: Record<string, Record<string, number>>
  /** Metric groups that threw while these records were scored (recorded as null). */
  metricErrors?: { group: string; generation: number; message: string }[]
}

export function rowWidth(part: Pick<ChainRecords, 'metrics'>): number {
  return ROW_LEAD.length + part.metrics.length
}

/** The columnar batch of `records` (any chains, any order); with `text`, their ndjson lines too. */
export function recordBatch(records: readonly MetricRecord[], opts: { text?: boolean } = {}): RecordBatch {
  const byChain = new Map<string, MetricRecord[]>()
  for (const r of records) {
    let list = byChain.get(r.chain)
    if (list === undefined) byChain.set(r.chain, (list = []))
    list.push(r)
  }
  const parts: ChainRecords[] = []
  for (const [chain, list] of byChain) {
    const metrics = [...new Set(list.flatMap((r) => Object.keys(r.metrics)))]
    const width = ROW_LEAD.length + metrics.length
    const rows = new Float64Array(list.length * width)
    list.forEach((r, i) => {
      const o = i * width
      rows[o] = r.generation
      rows[o + 1] = r.timings.fitMs
      rows[o + 2] = r.timings.sampleMs
      rows[o + 3] = r.timings.evalMs
      metrics.forEach((name, j) => {
        const v = r.metrics[name]
        rows[o + ROW_LEAD.length + j] = typeof v === 'number' && Number.isFinite(v) ? v : NaN
      })
    })
    parts.push({ chain, metrics, rows })
  }
  return opts.text === true ? { parts, ndjson: records.map((r) => JSON.stringify(r) + '\n').join('') } : { parts }
}

/**
 * Calls `f` for every record of the batch, in the batch's order, with the sum of its fit, sample
 * and evaluation times (ms): what a run counts as each record arrives, without an object per record.
 */
export function forEachRecord(batch: RecordBatch, f: (chain: string, generation: number, ms: number) => void): void {
  for (const part of batch.parts) {
    const width = rowWidth(part)
    const rows = part.rows
    for (let o = 0; o < rows.length; o += width) f(part.chain, rows[o]!, rows[o + 1]! + rows[o + 2]! + rows[o + 3]!)
  }
}

/** A batch whose rows are base64 text: what a queue that carries task results as JSON can hold. */
export interface PortableRecordBatch extends Omit<RecordBatch, 'parts'> {
  parts: (Omit<ChainRecords, 'rows'> & { rows: string })[]
}

export function toPortable(batch: RecordBatch): PortableRecordBatch {
  return { ...batch, parts: batch.parts.map((p) => ({ ...p, rows: Buffer.from(p.rows.buffer, p.rows.byteOffset, p.rows.byteLength).toString('base64') })) }
}

/** A batch as a task returned it: columnar already, or portable. */
export function fromPortable(batch: RecordBatch | PortableRecordBatch): RecordBatch {
  return {
    ...batch,
    parts: batch.parts.map((p) => {
      if (typeof p.rows !== 'string') return p as ChainRecords
      const bytes = Buffer.from(p.rows, 'base64')
      // A copy: base64 decoding gives no 8-byte alignment.
      return { ...p, rows: new Float64Array(new Uint8Array(bytes).buffer) }
    }),
  }
}
