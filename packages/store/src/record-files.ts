import { join } from 'node:path'
import { AtomicFile } from './atomic.js'
import { paramColumnName, RecordSource, type RecordBlock, type RecordChain } from './record-reader.js'

export const RECORD_FILES = {
  parquet: 'metrics.parquet',
  ndjson: 'metrics.ndjson',
  csv: 'metrics.csv',
} as const

export type TextFormat = 'ndjson' | 'csv'

/**
 * metrics.ndjson lines, in the key order records are made in: chain, cell, replicate, seed,
 * params, generation, metrics (every metric of the run; null where a record has none), timings.
 */
export class NdjsonFormat {
  private readonly prefixes: string[]
  private readonly keys: string[]

  constructor(source: RecordSource) {
    this.prefixes = source.chains.map(
      (c) => `{"chain":${JSON.stringify(c.id)},"cell":${c.cell},"replicate":${c.replicate},"seed":${c.seed},"params":${JSON.stringify(c.params)},"generation":`,
    )
    this.keys = source.metrics.map((m, j) => `${j === 0 ? '' : ','}${JSON.stringify(m)}:`)
  }

  lines(block: RecordBlock): string {
    let out = ''
    for (let i = 0; i < block.length; i++) {
      let line = `${this.prefixes[block.chain[i]!]!}${block.generation[i]!},"metrics":{`
      for (let j = 0; j < this.keys.length; j++) {
        const v = block.metrics[j]![i]!
        line += this.keys[j]! + (Number.isNaN(v) ? 'null' : String(v))
      }
      out += `${line}},"timings":{"fitMs":${block.fitMs[i]!},"sampleMs":${block.sampleMs[i]!},"evalMs":${block.evalMs[i]!}}}\n`
    }
    return out
  }
}

/**
 * Long format: chain,replicate,generation,metric,value, then the sweep cell and each swept
 * parameter (by its dotted path, `params.seed` for a sweep over `seed`, as in metrics.parquet),
 * so that a reader groups by setting without joining run.json.
 * The added columns come last: readers of the first five by position keep working. A null value
 * is an empty field.
 */
export class CsvFormat {
  private readonly prefixes: string[]
  private readonly suffixes: string[]
  private readonly names: string[]

  constructor(source: RecordSource) {
    this.prefixes = source.chains.map((c) => `${csvField(c.id)},${c.replicate},`)
    this.suffixes = source.chains.map((c) => {
      let suffix = `,${c.cell}`
      for (const key of source.paramKeys) {
        const v = c.params[key]
        suffix += ',' + csvField(typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v))
      }
      return suffix + '\n'
    })
    this.names = source.metrics.map((m) => `,${csvField(m)},`)
  }

  static header(source: RecordSource): string {
    return ['chain', 'replicate', 'generation', 'metric', 'value', 'cell', ...source.paramKeys.map(paramColumnName)].map(csvField).join(',') + '\n'
  }

  lines(block: RecordBlock): string {
    let out = ''
    for (let i = 0; i < block.length; i++) {
      const c = block.chain[i]!
      const head = this.prefixes[c]! + block.generation[i]!
      const tail = this.suffixes[c]!
      for (let j = 0; j < this.names.length; j++) {
        const v = block.metrics[j]![i]!
        out += head + this.names[j]! + (Number.isNaN(v) ? '' : String(v)) + tail
      }
    }
    return out
  }
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export interface WrittenRecords {
  records: number
  /** Bytes written per file name. */
  bytes: Record<string, number>
}

/** Writes the run's sorted record files from the record log, streaming: metrics.parquet always, metrics.ndjson and metrics.csv when `text`. */
export async function finalizeRecords(runDir: string, chains: readonly RecordChain[], opts: { text: boolean }): Promise<WrittenRecords> {
  return writeRecordFiles(runDir, new RecordSource(runDir, chains), ['parquet', ...(opts.text ? (['ndjson', 'csv'] as const) : [])])
}

/** `ouroboros export`: one sorted record file, written from the record log (or the run's metrics.ndjson). */
export async function exportRecords(runDir: string, chains: readonly RecordChain[], format: TextFormat | 'parquet', outDir = runDir): Promise<WrittenRecords> {
  return writeRecordFiles(runDir, new RecordSource(runDir, chains), [format], outDir)
}

/** The longest the writing holds the event loop at a time (ms). */
const YIELD_MS = 100

/** Streams the sorted records once to every given file. */
export async function writeRecordFiles(runDir: string, source: RecordSource, formats: readonly (TextFormat | 'parquet')[], outDir = runDir): Promise<WrittenRecords> {
  const files = new Map<TextFormat | 'parquet', AtomicFile>()
  for (const format of formats) files.set(format, new AtomicFile(join(outDir, RECORD_FILES[format])))
  const ndjson = files.has('ndjson') ? new NdjsonFormat(source) : undefined
  const csv = files.has('csv') ? new CsvFormat(source) : undefined
  files.get('csv')?.write(CsvFormat.header(source))
  let records = 0
  let turn = Date.now()
  const blocks = (async function* () {
    for (const block of source.blocks()) {
      records += block.length
      if (ndjson !== undefined) files.get('ndjson')!.write(ndjson.lines(block))
      if (csv !== undefined) files.get('csv')!.write(csv.lines(block))
      yield block
      // The writing of a million records takes tens of seconds: timers (a progress line) and
      // signals (Ctrl-C) are seen between blocks, where awaiting only promises never lets them in.
      if (Date.now() - turn >= YIELD_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        turn = Date.now()
      }
    }
  })()
  try {
    const parquet = files.get('parquet')
    if (parquet !== undefined) {
      const { writeParquet } = await import('./parquet.js')
      await writeParquet(source, blocks, parquet)
    } else {
      for await (const _ of blocks);
    }
    for (const file of files.values()) file.commit()
  } catch (err) {
    for (const file of files.values()) file.abort()
    throw err
  }
  return { records, bytes: Object.fromEntries([...files].map(([f, file]) => [RECORD_FILES[f], file.bytes])) }
}
