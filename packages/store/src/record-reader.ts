import { closeSync, existsSync, readSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import { ROW_LEAD } from './record-batch.js'
import { checkedGeneration, openLog, readFrameRows, recordLogPath, scanRecordLog, type LogFrame, type TornTail } from './record-log.js'
import { RUN_FILES, type MetricRecord, type RunInfo } from './run-dir.js'

/** A chain as the record files name it. */
export interface RecordChain {
  id: string
  cell: number
  replicate: number
  seed: number
  /** The swept parameters of its cell (dotted path -> value). */
  params: Record<string, unknown>
  /**
   * What run.json says of it, where the reader has run.json: records it says were made must be
   * there (see recordsClaimed). A chain the run itself is writing has none of this.
   */
  claimed?: { generationsDone: number; finished: boolean }
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
  return info.chains.map((c) => ({
    id: c.id,
    cell: c.cell,
    replicate: c.replicate,
    seed: c.seed,
    params: params.get(c.cell) ?? {},
    claimed: { generationsDone: c.generationsDone, finished: c.status === 'finished' },
  }))
}

/**
 * The generations whose records run.json vouches for, which `has` lacks. run.json is written
 * after the records it counts are appended, so the log is never behind it, while a killed run
 * leaves a log ahead of it, and a torn last frame, legitimately. A finished chain has every
 * generation from −1 (the real data) on. Of a chain that stopped, only the last one counted is
 * certain: its segments are scored in parallel, and a later one's records may have come first.
 */
export function missingClaimed(chain: RecordChain, has: (generation: number) => boolean): number[] {
  const claimed = chain.claimed
  if (claimed === undefined || (claimed.generationsDone === 0 && !claimed.finished)) return []
  if (!claimed.finished) return has(claimed.generationsDone - 1) ? [] : [claimed.generationsDone - 1]
  const missing: number[] = []
  for (let g = -1; g < claimed.generationsDone; g++) if (!has(g)) missing.push(g)
  return missing
}

/** How many records `missingClaimed` asks of a chain at least: fewer rows than this, and some are missing. */
function claimedCount(chain: RecordChain): number {
  const claimed = chain.claimed
  if (claimed === undefined) return 0
  return claimed.finished ? claimed.generationsDone + 1 : Math.min(1, claimed.generationsDone)
}

/** Generations as runs of consecutive numbers: "-1, 10 to 19". */
function generationList(generations: readonly number[]): string {
  const parts: string[] = []
  for (let i = 0; i < generations.length; ) {
    let j = i
    while (j + 1 < generations.length && generations[j + 1] === generations[j]! + 1) j++
    parts.push(j === i ? String(generations[i]) : `${generations[i]} to ${generations[j]}`)
    i = j + 1
  }
  return parts.join(', ')
}

/**
 * Records that run.json says were made and the record store lacks: the store was cut short or
 * replaced. Nothing is written from it, as a file written from what is left would pass for the
 * run's records.
 */
function missingRecordsError(store: string, gaps: readonly { chain: RecordChain; missing: number[] }[], tornAt: number | undefined, size: number): OuroborosError {
  const sorted = [...gaps].sort((a, b) => a.chain.cell - b.chain.cell || a.chain.replicate - b.chain.replicate)
  const named = sorted.slice(0, 3).map(({ chain, missing }) => {
    const { generationsDone, finished } = chain.claimed!
    return `chain ${chain.id} (${finished ? 'finished' : 'stopped'} after ${generationsDone} generations) has no record of generation${missing.length === 1 ? '' : 's'} ${generationList(missing)}`
  })
  const more = gaps.length > 3 ? `; and ${gaps.length - 3} more chain${gaps.length === 4 ? '' : 's'}` : ''
  const torn = tornAt === undefined ? '' : ` (bytes ${tornAt} to ${size}, its end, are no whole record: it was cut short or written over)`
  // The record files beside the damaged store, which this command leaves as they are.
  const kept = [RUN_FILES.parquet, RUN_FILES.records, RUN_FILES.csv].filter((f) => f !== basename(store) && existsSync(join(dirname(store), f)))
  const untouched = kept.length === 0 ? '' : `, and the record files the run wrote (${kept.join(', ')}) are as they were`
  return new OuroborosError(ErrorCode.RUN_DIR, `${store} lacks records that run.json says were made${torn}: ${named.join('; ')}${more}`, {
    hint: `the records cannot be recomputed from the checkpoints: restore ${basename(store)} from a copy, or run the config again with --force; nothing was written${untouched}`,
  })
}

/**
 * Where a run's records are read from metrics.ndjson, the record log missing (a run from before
 * the log, or a log deleted): the line that says so, since that file may have been edited since
 * the run wrote it, and what is written from it carries the edits.
 */
export function ndjsonStandsIn(runDir: string): string | undefined {
  if (existsSync(recordLogPath(runDir)) || !existsSync(join(runDir, 'metrics.ndjson'))) return undefined
  return `ouroboros: ${runDir} has no records.log; its records are read from metrics.ndjson, as that file stands`
}

/** A run whose records run.json vouches for, with neither its record log nor metrics.ndjson, which could stand in for it. */
function missingLogError(log: string, ndjson: string): OuroborosError {
  const kept = [RUN_FILES.parquet, RUN_FILES.csv].filter((f) => existsSync(join(dirname(log), f)))
  const untouched = kept.length === 0 ? '' : `, and the record files the run wrote (${kept.join(', ')}) are as they were`
  return new OuroborosError(ErrorCode.RUN_DIR, `${log} is missing, and so is ${basename(ndjson)}, which could stand in for it: run.json says records were made`, {
    hint: `the records cannot be recomputed from the checkpoints: restore ${basename(log)} from a copy, or run the config again with --force; nothing was written${untouched}`,
  })
}

export const BLOCK_ROWS = 1 << 16

/** What a record file names for itself, in one format or another (the chain's seed, not a swept one). */
const RECORD_FIELDS = ['chain', 'cell', 'replicate', 'seed', 'generation', 'metric', 'value', 'fitMs', 'sampleMs', 'evalMs']

/**
 * A swept parameter's column in metrics.parquet and metrics.csv: its dotted path, prefixed by
 * `params.` where that names a record field (a sweep over `seed`), so that `seed` is the chain's
 * seed in every record file.
 */
export function paramColumnName(key: string): string {
  return RECORD_FIELDS.includes(key) ? `params.${key}` : key
}

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
  /** The file the records come from: the log, or metrics.ndjson of a run from before it. */
  private readonly store: string

  constructor(runDir: string, chains: readonly RecordChain[]) {
    this.logPath = recordLogPath(runDir)
    const byId = new Map(chains.map((c) => [c.id, c]))
    const pieces = new Map<string, Piece[]>()
    const add = (chain: string, piece: Piece): void => {
      let list = pieces.get(chain)
      if (list === undefined) pieces.set(chain, (list = []))
      list.push(piece)
    }
    let torn: TornTail | undefined
    const fromLog = existsSync(this.logPath)
    if (fromLog) {
      torn = scanRecordLog(this.logPath, (frame) => {
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
    this.store = fromLog ? this.logPath : join(runDir, 'metrics.ndjson')
    // Counted from the frames' headers before anything is read or written: a log cut short or
    // replaced (the usual damage) is refused here; a gap that duplicates hide, as blocks() reads.
    const short = chains.filter((c) => rowCount(pieces.get(c.id) ?? []) < claimedCount(c))
    // Neither file there: the log is what a run writes, and what is missing; metrics.ndjson only
    // stands in for it (runs from before the log, a log deleted beside a kept metrics.ndjson).
    if (short.length > 0 && !fromLog && !existsSync(this.store)) throw missingLogError(this.logPath, this.store)
    if (short.length > 0) {
      const gaps = short.map((chain) => {
        const have = generationsOf(pieces.get(chain.id) ?? [], this.logPath)
        return { chain, missing: missingClaimed(chain, (g) => have.has(g)) }
      })
      throw missingRecordsError(this.store, gaps, torn?.at, fromLog ? statSync(this.logPath).size : 0)
    }
    this.chains = [...pieces.keys()].map((id) => byId.get(id)!).sort((a, b) => a.cell - b.cell || a.replicate - b.replicate)
    this.pieces = this.chains.map((c) => pieces.get(c.id)!)
    const metrics = new Set<string>()
    for (const list of this.pieces) for (const p of list) for (const m of 'frame' in p ? p.frame.metrics : p.metrics) metrics.add(m)
    this.metrics = [...metrics]
    // Every chain has the same swept keys: a run with no record still names them as columns.
    this.paramKeys = Object.keys((this.chains[0] ?? chains[0])?.params ?? {})
  }

  /**
   * The sorted records, a block of whole chains (about `blockRows` rows) at a time. Each block
   * lives until the next is asked for: its arrays are filled again for the next one (a consumer
   * copies what it keeps), so reading 10 million records allocates a block's arrays once instead
   * of a hundred and fifty times.
   */
  *blocks(blockRows = BLOCK_ROWS): Generator<RecordBlock> {
    const column = new Map(this.metrics.map((m, j) => [m, j]))
    const fd = existsSync(this.logPath) ? openLog(this.logPath, 'r') : undefined
    const out = new BlockBuilder(this.metrics.length, blockRows)
    // One chain's rows, every piece of it, read into one buffer that the next chain reuses.
    let scratch = new Float64Array(0)
    try {
      for (let c = 0; c < this.chains.length; c++) {
        const pieces = this.pieces[c]!
        let size = 0
        for (const piece of pieces) size += 'frame' in piece ? piece.frame.rows * piece.frame.width : piece.rows.length
        if (scratch.length < size) scratch = new Float64Array(Math.max(size, 2 * scratch.length))
        const rows: Float64Array[] = []
        const widths: number[] = []
        const maps: Int32Array[] = []
        let at = 0
        for (const piece of pieces) {
          if ('frame' in piece) {
            const r = scratch.subarray(at, (at += piece.frame.rows * piece.frame.width))
            readFrameRows(fd!, piece.frame, r)
            for (let o = 0; o < r.length; o += piece.frame.width) checkedGeneration(this.logPath, piece.frame.offset + 8 * o, r[o]!)
            rows.push(r)
            widths.push(piece.frame.width)
            maps.push(Int32Array.from(piece.frame.metrics, (m) => column.get(m)!))
          } else {
            rows.push(piece.rows)
            widths.push(piece.width)
            maps.push(Int32Array.from(piece.metrics, (m) => column.get(m)!))
          }
        }
        out.addChain(c, rows, widths, maps)
        const missing = missingClaimed(this.chains[c]!, (g) => out.hasGeneration(g))
        if (missing.length > 0) throw missingRecordsError(this.store, [{ chain: this.chains[c]!, missing }], undefined, 0)
        if (out.length >= blockRows) {
          yield out.block()
          out.clear()
        }
      }
      if (out.length > 0) yield out.block()
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
  }
}

/** The columns of a block, filled a chain at a time and reused from block to block. */
class BlockBuilder {
  length = 0
  private capacity: number
  private chain: Int32Array
  private generation: Int32Array
  private fitMs: Float64Array
  private sampleMs: Float64Array
  private evalMs: Float64Array
  private metrics: Float64Array[]
  /** Per generation slot (generation + 1) of the chain being added: the piece and row offset of its last record. */
  private piece = new Int32Array(0)
  private offset = new Int32Array(0)
  /** Generation slots of the chain added last. */
  private top = 0

  constructor(metricCount: number, capacity: number) {
    this.capacity = capacity
    this.chain = new Int32Array(capacity)
    this.generation = new Int32Array(capacity)
    this.fitMs = new Float64Array(capacity)
    this.sampleMs = new Float64Array(capacity)
    this.evalMs = new Float64Array(capacity)
    this.metrics = Array.from({ length: metricCount }, () => new Float64Array(capacity))
  }

  /** A chain's records, one per generation: where two pieces have a generation, the later one's. */
  addChain(chain: number, rows: readonly Float64Array[], widths: readonly number[], maps: readonly Int32Array[]): void {
    let top = 0
    rows.forEach((r, k) => {
      for (let o = 0; o < r.length; o += widths[k]!) top = Math.max(top, r[o]! + 2)
    })
    if (this.piece.length < top) {
      this.piece = new Int32Array(Math.max(top, 2 * this.piece.length))
      this.offset = new Int32Array(this.piece.length)
    }
    const { piece, offset } = this
    this.top = top
    piece.fill(-1, 0, top)
    let count = 0
    rows.forEach((r, k) => {
      for (let o = 0; o < r.length; o += widths[k]!) {
        const slot = r[o]! + 1
        if (piece[slot] === -1) count++
        piece[slot] = k
        offset[slot] = o
      }
    })
    this.reserve(this.length + count)
    let i = this.length
    for (const values of this.metrics) values.fill(NaN, i, i + count)
    for (let slot = 0; slot < top; slot++) {
      const p = piece[slot]!
      if (p === -1) continue
      const r = rows[p]!
      const map = maps[p]!
      const o = offset[slot]!
      this.chain[i] = chain
      this.generation[i] = slot - 1
      this.fitMs[i] = r[o + 1]!
      this.sampleMs[i] = r[o + 2]!
      this.evalMs[i] = r[o + 3]!
      for (let j = 0; j < map.length; j++) this.metrics[map[j]!]![i] = r[o + ROW_LEAD.length + j]!
      i++
    }
    this.length = i
  }

  /** Whether the chain added last has a record of `generation`. */
  hasGeneration(generation: number): boolean {
    const slot = generation + 1
    return slot >= 0 && slot < this.top && this.piece[slot] !== -1
  }

  /** The rows added since the last clear(), as views of the columns. */
  block(): RecordBlock {
    const n = this.length
    return {
      length: n,
      chain: this.chain.subarray(0, n),
      generation: this.generation.subarray(0, n),
      fitMs: this.fitMs.subarray(0, n),
      sampleMs: this.sampleMs.subarray(0, n),
      evalMs: this.evalMs.subarray(0, n),
      metrics: this.metrics.map((values) => values.subarray(0, n)),
    }
  }

  clear(): void {
    this.length = 0
  }

  /** A block is whole chains, so the last chain added may take it past blockRows. */
  private reserve(rows: number): void {
    if (rows <= this.capacity) return
    const capacity = Math.max(rows, 2 * this.capacity)
    const grow = <T extends Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(capacity)
      b.set(a.subarray(0, this.length))
      return b
    }
    this.chain = grow(this.chain)
    this.generation = grow(this.generation)
    this.fitMs = grow(this.fitMs)
    this.sampleMs = grow(this.sampleMs)
    this.evalMs = grow(this.evalMs)
    this.metrics = this.metrics.map(grow)
    this.capacity = capacity
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

function rowCount(pieces: readonly Piece[]): number {
  let rows = 0
  for (const p of pieces) rows += 'frame' in p ? p.frame.rows : p.rows.length / p.width
  return rows
}

/** The generations a chain's pieces hold (read for the message of a chain whose records are missing). */
function generationsOf(pieces: readonly Piece[], logPath: string): Set<number> {
  const out = new Set<number>()
  const frames = pieces.filter((p): p is { frame: LogFrame } => 'frame' in p)
  const fd = frames.length > 0 ? openLog(logPath, 'r') : undefined
  try {
    for (const p of pieces) {
      const [rows, width] = 'frame' in p ? [readFrameRows(fd!, p.frame), p.frame.width] : [p.rows, p.width]
      for (let o = 0; o < rows.length; o += width) out.add(rows[o]!)
    }
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
  return out
}

/** metrics.ndjson of a run written before the record log: small, read whole. A torn last line is skipped. */
export function readNdjson(runDir: string): MetricRecord[] {
  const path = join(runDir, 'metrics.ndjson')
  if (!existsSync(path)) return []
  const fd = openLog(path, 'r')
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
