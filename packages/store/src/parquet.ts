import { createRequire } from 'node:module'
import type * as Arrow from 'apache-arrow'
import { ErrorCode, OuroborosError, ouroborosCommand } from '@ouroboros/core'
import * as parquet from 'parquet-wasm/node'
import type { AtomicFile } from './atomic.js'
import { BLOCK_ROWS, paramColumnName, type RecordBlock, type RecordSource } from './record-reader.js'

// Apache Arrow's single-file build, the same library: its package entry is 158 modules, which
// took 70 ms of every run's last step to load, against 11 ms for this file.
const arrow = createRequire(import.meta.url)('apache-arrow/Arrow.esnext.min') as typeof Arrow

/** The file's own columns, before the swept parameters and the metrics. */
const FIXED = ['chain', 'cell', 'replicate', 'seed', 'generation', 'fitMs', 'sampleMs', 'evalMs']

/**
 * metrics.parquet: one row per (chain, generation) with the columns chain, cell, replicate, seed,
 * generation, each swept parameter (by its dotted path), each metric (null where a record has
 * none) and the timings fitMs, sampleMs, evalMs, in row groups of BLOCK_ROWS rows.
 *
 * Written by parquet-wasm (the Rust parquet crate compiled to WebAssembly) from Arrow record
 * batches: on 1M records of 11 columns it encoded 4–5 times faster than the pure-JavaScript
 * hyparquet-writer, which matters for runs of millions of records (README, Performance).
 */
export async function writeParquet(source: RecordSource, blocks: AsyncIterator<RecordBlock>, file: AtomicFile): Promise<void> {
  const params = source.paramKeys.map((key) => paramColumn(source, key))
  for (const name of source.metrics) {
    if (FIXED.includes(name)) {
      throw new OuroborosError(ErrorCode.PLUGIN, `metrics.parquet: the metric output '${name}' has the name of a record column`, {
        hint: `rename the metric output; \`${ouroborosCommand('export DIR --format parquet')}\` writes the file again`,
      })
    }
  }
  // Each builder call consumes the builder and returns the next one.
  let props = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.SNAPPY)
    .setDictionaryEnabled(false)
    .setColumnDictionaryEnabled('chain', true)
    .setStatisticsEnabled(parquet.EnabledStatistics.Chunk)
    .setCreatedBy('ouroboros')
    // The writer holds a row group in memory until it is full (a million rows by default): a
    // block's size keeps memory flat whatever the number of records.
    .setMaxRowGroupSize(BLOCK_ROWS)
  for (const p of params) if (p.kind === 'string') props = props.setColumnDictionaryEnabled(paramColumnName(p.key), true)
  let rows = 0
  const input = new ReadableStream({
    async pull(controller) {
      const next = await blocks.next()
      if (next.done === true) {
        // A run whose chains all failed before a record: a file of no rows, with the columns.
        if (rows === 0) enqueueBatches(controller, [toArrow(source, params, emptyBlock(source.metrics.length))])
        return controller.close()
      }
      const whole = toArrow(source, params, next.value)
      // Pieces that end where a row group does: a batch the writer splits itself leaves its wasm
      // memory fragmented, and it grew by half a megabyte a block over a run of 10 million records.
      const pieces: Arrow.RecordBatch[] = []
      for (let a = 0; a < whole.numRows; ) {
        const b = Math.min(whole.numRows, a + BLOCK_ROWS - (rows % BLOCK_ROWS))
        pieces.push(whole.slice(a, b))
        rows += b - a
        a = b
      }
      enqueueBatches(controller, pieces)
    },
  })
  const output = await parquet.transformParquetStream(input, props.build())
  for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) file.write(chunk)
}

/** Hands Arrow batches to parquet-wasm's writer, through its own Table. */
function enqueueBatches(controller: ReadableStreamDefaultController, batches: Arrow.RecordBatch[]): void {
  const bytes = arrow.RecordBatchStreamWriter.writeAll(batches).toUint8Array(true)
  // The table's handle is freed at once: WebAssembly memory is not the garbage collector's to free.
  const table = parquet.Table.fromIPCStream(bytes)
  for (const batch of table.recordBatches()) controller.enqueue(batch)
  table.free()
}

function emptyBlock(metrics: number): RecordBlock {
  return { length: 0, chain: new Int32Array(0), generation: new Int32Array(0), fitMs: new Float64Array(0), sampleMs: new Float64Array(0), evalMs: new Float64Array(0), metrics: Array.from({ length: metrics }, () => new Float64Array(0)) }
}

/** A swept parameter's column type: numbers, integers, booleans, else strings (JSON for what is not one). */
interface ParamColumn {
  key: string
  kind: 'int' | 'float' | 'bool' | 'string'
  /** Per cell: its value, typed for the column. */
  values: Map<number, number | boolean | string>
}

function paramColumn(source: RecordSource, key: string): ParamColumn {
  const raw = new Map(source.chains.map((c) => [c.cell, c.params[key]]))
  const all = [...raw.values()]
  const kind = all.every((v) => typeof v === 'number' && Number.isSafeInteger(v))
    ? 'int'
    : all.every((v) => typeof v === 'number')
      ? 'float'
      : all.every((v) => typeof v === 'boolean')
        ? 'bool'
        : 'string'
  const values = new Map([...raw].map(([cell, v]) => [cell, kind === 'string' ? (typeof v === 'string' ? v : JSON.stringify(v) ?? 'null') : (v as number | boolean)]))
  return { key, kind, values }
}

function toArrow(source: RecordSource, params: readonly ParamColumn[], block: RecordBlock): Arrow.RecordBatch {
  const n = block.length
  const fields: Arrow.Field[] = []
  const children: Arrow.Data[] = []
  const add = (name: string, data: Arrow.Data, nullable = false): void => {
    fields.push(new arrow.Field(name, data.type, nullable))
    children.push(data)
  }
  // Chains are contiguous in a block: its dictionary is the block's chains, in order.
  const first = block.chain[0] ?? 0
  const last = block.chain[n - 1] ?? -1
  const chainIndex = new Int32Array(n)
  for (let i = 0; i < n; i++) chainIndex[i] = block.chain[i]! - first
  const ids = source.chains.slice(first, last + 1).map((c) => c.id)
  add('chain', dictionary(0, ids, chainIndex))

  const cell = new Int32Array(n)
  const replicate = new Int32Array(n)
  const seed = new BigInt64Array(n)
  // Runs of rows of one chain: per-chain values are converted once per run.
  for (let i = 0; i < n; ) {
    const c = block.chain[i]!
    let j = i
    while (j < n && block.chain[j] === c) j++
    const chain = source.chains[c]!
    cell.fill(chain.cell, i, j)
    replicate.fill(chain.replicate, i, j)
    seed.fill(BigInt(chain.seed), i, j)
    i = j
  }
  add('cell', arrow.makeData({ type: new arrow.Int32(), length: n, data: cell }))
  add('replicate', arrow.makeData({ type: new arrow.Int32(), length: n, data: replicate }))
  add('seed', arrow.makeData({ type: new arrow.Int64(), length: n, data: seed }))
  add('generation', arrow.makeData({ type: new arrow.Int32(), length: n, data: block.generation }))

  params.forEach((p, k) => add(paramColumnName(p.key), paramData(p, cell, k + 1)))
  source.metrics.forEach((name, j) => {
    const values = block.metrics[j]!
    const { bitmap, nulls } = validity(values)
    add(name, arrow.makeData({ type: new arrow.Float64(), length: n, data: values, nullCount: nulls, ...(nulls > 0 ? { nullBitmap: bitmap } : {}) }), true)
  })
  add('fitMs', arrow.makeData({ type: new arrow.Float64(), length: n, data: block.fitMs }))
  add('sampleMs', arrow.makeData({ type: new arrow.Float64(), length: n, data: block.sampleMs }))
  add('evalMs', arrow.makeData({ type: new arrow.Float64(), length: n, data: block.evalMs }))
  return new arrow.RecordBatch(new arrow.Schema(fields), arrow.makeData({ type: new arrow.Struct(fields), length: n, children }))
}

function dictionary(id: number, values: readonly string[], indices: Int32Array): Arrow.Data {
  return arrow.makeData({
    type: new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32(), id),
    length: indices.length,
    data: indices,
    dictionary: arrow.vectorFromArray(values as string[], new arrow.Utf8()),
  })
}

function paramData(p: ParamColumn, cell: Int32Array, id: number): Arrow.Data {
  const n = cell.length
  if (p.kind === 'string') {
    const values = [...new Set(p.values.values() as Iterable<string>)]
    const index = new Map(values.map((v, i) => [v, i]))
    const byCell = new Map([...p.values].map(([c, v]) => [c, index.get(v as string)!]))
    return dictionary(id, values, Int32Array.from(cell, (c) => byCell.get(c)!))
  }
  if (p.kind === 'bool') {
    const bits = new Uint8Array(Math.ceil(n / 8))
    for (let i = 0; i < n; i++) if (p.values.get(cell[i]!) === true) bits[i >> 3]! |= 1 << (i & 7)
    return arrow.makeData({ type: new arrow.Bool(), length: n, data: bits })
  }
  if (p.kind === 'int') {
    const byCell = new Map([...p.values].map(([c, v]) => [c, BigInt(v as number)]))
    return arrow.makeData({ type: new arrow.Int64(), length: n, data: BigInt64Array.from(cell, (c) => byCell.get(c)!) })
  }
  return arrow.makeData({ type: new arrow.Float64(), length: n, data: Float64Array.from(cell, (c) => p.values.get(c) as number) })
}

/** Arrow's validity bitmap of a column whose nulls are NaN. */
function validity(values: Float64Array): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8))
  let nulls = 0
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i]!)) nulls++
    else bitmap[i >> 3]! |= 1 << (i & 7)
  }
  return { bitmap, nulls }
}
