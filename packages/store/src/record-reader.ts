import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import { ROW_LEAD } from './record-batch.js'
import { readFrameRows, recordLogPath, scanRecordLog, type LogFrame } from './record-log.js'
import type { MetricRecord, RunInfo } from './run-dir.js'

/** A chain as the record files name it. */
export interface RecordChain {
  id: string
  cell: number
  replicate: number
  seed: number
  /** The swept parameters of its cell (dotted path -> value). */
  params: Record<string, unknown>
}

/**
 * Sorted records, a block of whole chains at a time: rows in (cell, replicate, generation) order,
 * one per (chain, generation) (the later of two records wins: a resumed run may compute one
 * twice, with identical values). Every record has a value or null (NaN) for every metric of the
 * run.
 */
export interface RecordBlock {
  length: number
  /** Index into RecordSource.chains. */
  chain: Int32Array
  generation: Int32Array
  fitMs: Float64Array
  sampleMs: Float64Array
  evalMs: Float64Array
  /** Aligned with RecordSource.metrics; NaN is null. */
  metrics: Float64Array[]
}

/** The chains of a run as run.json describes them. */
export function recordChains(info: RunInfo): RecordChain[] {
  const params = new Map(info.cells.map((c) => [c.index, c.params]))
  return info.chains.map((c) => ({ id: c.id, cell: c.cell, replicate: c.replicate, seed: c.seed, params: params.get(c.cell) ?? {} }))
}

export const BLOCK_ROWS = 1 << 16

/** Where a chain's records are: frames of the record log, or (runs from before the log) rows in memory. */
type Piece = { frame: LogFrame } | { metrics: string[]; rows: Float64Array; width: number }

/**
 * A run's records, sorted, read a block at a time from the record log (or, for a run directory
 * written before the log existed, from metrics.ndjson). Memory holds an index of the log's
 * frames and one block, whatever the number of records.
 */
export class RecordSource {
  /** Chains with records, in (cell, replicate) order. */
  readonly chains: RecordChain[]
  /** Every metric name of the run, in the order the sorted records first show them. */
  readonly metrics: string[]
  /** The swept parameters' dotted paths (the same for every cell). */
  readonly paramKeys: string[]
  private readonly pieces: Piece[][]
  private readonly logPath: string

  constructor(runDir: string, chains: readonly RecordChain[]) {
    this.logPath = recordLogPath(runDir)
    const byId = new Map(chains.map((c) => [c.id, c]))
    const pieces = new Map<string, Piece[]>()
    const add = (chain: string, piece: Piece): void => {
      let list = pieces.get(chain)
      if (list === undefined) pieces.set(chain, (list = []))
      list.push(piece)
    }
    if (existsSync(this.logPath)) {
      scanRecordLog(this.logPath, (frame) => {
        if (!byId.has(frame.chain)) throw new OuroborosError(ErrorCode.RUN_DIR, `${this.logPath} has records of chain '${frame.chain}', which run.json does not list`)
        add(frame.chain, { frame })
      })
    } else {
      for (const r of readNdjson(runDir)) {
        if (!byId.has(r.chain)) byId.set(r.chain, { id: r.chain, cell: r.cell, replicate: r.replicate, seed: r.seed, params: r.params })
        const metrics = Object.keys(r.metrics)
        const rows = Float64Array.of(r.generation, r.timings?.fitMs ?? 0, r.timings?.sampleMs ?? 0, r.timings?.evalMs ?? 0, ...metrics.map((m) => r.metrics[m] ?? NaN))
        add(r.chain, { metrics, rows, width: rows.length })
      }
    }
    this.chains = [...pieces.keys()].map((id) => byId.get(id)!).sort((a, b) => a.cell - b.cell || a.replicate - b.replicate)
    this.pieces = this.chains.map((c) => pieces.get(c.id)!)
    const metrics = new Set<string>()
    for (const list of this.pieces) for (const p of list) for (const m of 'frame' in p ? p.frame.metrics : p.metrics) metrics.add(m)
    this.metrics = [...metrics]
    this.paramKeys = Object.keys(this.chains[0]?.params ?? {})
  }

  /** The sorted records, a block of whole chains (about `blockRows` rows) at a time. */
  *blocks(blockRows = BLOCK_ROWS): Generator<RecordBlock> {
    const column = new Map(this.metrics.map((m, j) => [m, j]))
    const fd = existsSync(this.logPath) ? openSync(this.logPath, 'r') : undefined
    try {
      let pending: { chain: number; rows: Float64Array[]; widths: number[]; maps: Int32Array[] }[] = []
      let pendingRows = 0
      for (let c = 0; c < this.chains.length; c++) {
        const rows: Float64Array[] = []
        const widths: number[] = []
        const maps: Int32Array[] = []
        for (const piece of this.pieces[c]!) {
          if ('frame' in piece) {
            rows.push(readFrameRows(fd!, piece.frame))
            widths.push(piece.frame.width)
            maps.push(Int32Array.from(piece.frame.metrics, (m) => column.get(m)!))
          } else {
            rows.push(piece.rows)
            widths.push(piece.width)
            maps.push(Int32Array.from(piece.metrics, (m) => column.get(m)!))
          }
        }
        const chain = { chain: c, rows, widths, maps }
        pending.push(chain)
        pendingRows += rows.reduce((a, r, i) => a + r.length / widths[i]!, 0)
        if (pendingRows >= blockRows) {
          yield this.block(pending)
          pending = []
          pendingRows = 0
        }
      }
      if (pending.length > 0) yield this.block(pending)
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  }

  private block(chains: { chain: number; rows: Float64Array[]; widths: number[]; maps: Int32Array[] }[]): RecordBlock {
    // Per chain and generation (slot generation + 1): the piece and row of its last record.
    const picks = chains.map(({ rows, widths }) => {
      let top = 0
      rows.forEach((r, piece) => {
        for (let o = 0; o < r.length; o += widths[piece]!) top = Math.max(top, r[o]! + 2)
      })
      const piece = new Int32Array(top).fill(-1)
      const offset = new Int32Array(top)
      let count = 0
      rows.forEach((r, k) => {
        for (let o = 0; o < r.length; o += widths[k]!) {
          const slot = r[o]! + 1
          if (piece[slot] === -1) count++
          piece[slot] = k
          offset[slot] = o
        }
      })
      return { piece, offset, count }
    })
    const length = picks.reduce((a, p) => a + p.count, 0)
    const block: RecordBlock = {
      length,
      chain: new Int32Array(length),
      generation: new Int32Array(length),
      fitMs: new Float64Array(length),
      sampleMs: new Float64Array(length),
      evalMs: new Float64Array(length),
      metrics: this.metrics.map(() => new Float64Array(length).fill(NaN)),
    }
    let i = 0
    chains.forEach(({ chain, rows, maps }, k) => {
      const { piece, offset } = picks[k]!
      for (let slot = 0; slot < piece.length; slot++) {
        const p = piece[slot]!
        if (p === -1) continue
        const r = rows[p]!
        const map = maps[p]!
        const o = offset[slot]!
        block.chain[i] = chain
        block.generation[i] = slot - 1
        block.fitMs[i] = r[o + 1]!
        block.sampleMs[i] = r[o + 2]!
        block.evalMs[i] = r[o + 3]!
        for (let j = 0; j < map.length; j++) block.metrics[map[j]!]![i] = r[o + ROW_LEAD.length + j]!
        i++
      }
    })
    return block
  }
}

/** The records of a block as objects (small runs, tests). */
export function blockRecords(source: RecordSource, block: RecordBlock): MetricRecord[] {
  const out: MetricRecord[] = []
  for (let i = 0; i < block.length; i++) {
    const c = source.chains[block.chain[i]!]!
    const metrics: Record<string, number | null> = {}
    source.metrics.forEach((m, j) => {
      const v = block.metrics[j]![i]!
      metrics[m] = Number.isNaN(v) ? null : v
    })
    out.push({
      chain: c.id,
      cell: c.cell,
      replicate: c.replicate,
      seed: c.seed,
      params: c.params,
      generation: block.generation[i]!,
      metrics,
      timings: { fitMs: block.fitMs[i]!, sampleMs: block.sampleMs[i]!, evalMs: block.evalMs[i]! },
    })
  }
  return out
}

/** metrics.ndjson of a run written before the record log: small, read whole. A torn last line is skipped. */
export function readNdjson(runDir: string): MetricRecord[] {
  const path = join(runDir, 'metrics.ndjson')
  if (!existsSync(path)) return []
  const fd = openSync(path, 'r')
  const records: MetricRecord[] = []
  try {
    const chunk = Buffer.alloc(1 << 20)
    const decoder = new StringDecoder('utf8')
    let rest = ''
    let line = 0
    const parse = (text: string, last: boolean): void => {
      line++
      if (text.trim() === '') return
      try {
        records.push(JSON.parse(text) as MetricRecord)
      } catch {
        if (!last) throw new OuroborosError(ErrorCode.RUN_DIR, `${path} is damaged: line ${line} is not JSON`)
      }
    }
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null)
      if (n === 0) break
      const lines = (rest + decoder.write(chunk.subarray(0, n))).split('\n')
      rest = lines.pop()!
      for (const l of lines) parse(l, false)
    }
    parse(rest, true)
  } finally {
    closeSync(fd)
  }
  return records
}
