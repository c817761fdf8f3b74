import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import { appendBytes, appendText, readError, writeError } from './atomic.js'
import { recordBatch, ROW_LEAD, rowWidth, type ChainRecords, type RecordBatch } from './record-batch.js'
import { readNdjson } from './record-reader.js'

/**
 * The record log: every record batch as it reached the run's single writer, in arrival order,
 * binary. It is the run's record store: resume, the sorted files (metrics.parquet, and
 * metrics.ndjson / metrics.csv for runs that write text), the report and `ouroboros export` all
 * stream from it, so that no process holds all records.
 *
 * A frame per chain of a batch: 16 bytes (magic, header bytes, rows, row width; u32 little
 * endian), a JSON header {chain, metrics} padded to 8 bytes, then the rows as float64 (see
 * ROW_LEAD). Appended whole; a crash can tear only the last frame, which readers skip.
 */
export const RECORD_LOG = 'records.log'

const MAGIC = 0x314c524f // "ORL1"
const HEAD = 16

export interface LogFrame {
  chain: string
  metrics: string[]
  /** Byte offset of the rows in the log. */
  offset: number
  rows: number
  width: number
}

export function recordLogPath(runDir: string): string {
  return join(runDir, RECORD_LOG)
}

export function encodeFrames(parts: readonly ChainRecords[]): Buffer {
  const chunks: Buffer[] = []
  for (const part of parts) {
    const width = rowWidth(part)
    const rows = part.rows.length / width
    if (rows === 0) continue
    const json = Buffer.from(JSON.stringify({ chain: part.chain, metrics: part.metrics }))
    const padded = Math.ceil(json.length / 8) * 8
    const head = Buffer.alloc(HEAD + padded, 0x20)
    head.writeUInt32LE(MAGIC, 0)
    head.writeUInt32LE(json.length, 4)
    head.writeUInt32LE(rows, 8)
    head.writeUInt32LE(width, 12)
    json.copy(head, HEAD)
    chunks.push(head, Buffer.from(part.rows.buffer, part.rows.byteOffset, part.rows.byteLength))
  }
  return Buffer.concat(chunks)
}

/** Appends a batch to the record log, and its ndjson lines to metrics.ndjson when it has them. */
export function appendRecordBatch(runDir: string, batch: RecordBatch): void {
  const frames = encodeFrames(batch.parts)
  if (frames.length === 0) return
  appendBytes(recordLogPath(runDir), frames)
  if (batch.ndjson !== undefined) appendText(join(runDir, 'metrics.ndjson'), batch.ndjson)
}

/** Where the log stops being whole records: a frame torn by a crash, or zero bytes a power loss left. */
export interface TornTail {
  /** The byte at which it starts. */
  at: number
  /**
   * It is zero bytes from the end of the last whole frame on, or from inside a frame whose last
   * row is zero bytes too: the file grew but its data never reached the disk (ext4 after a power
   * loss). A crash of the process alone tears a frame with the bytes it wrote.
   */
  zeros: boolean
}

/**
 * Walks the log's frames in order. `rows` reads each frame's rows too (else only the headers).
 * A torn tail (see TornTail) is skipped, or cut off with `repair` (before anything is appended
 * after it), and returned.
 */
export function scanRecordLog(path: string, visit: (frame: LogFrame, rows: Float64Array | undefined) => void, opts: { rows?: boolean; repair?: boolean } = {}): TornTail | undefined {
  if (!existsSync(path)) return undefined
  const fd = openLog(path, opts.repair === true ? 'r+' : 'r')
  try {
    const size = fstatSync(fd).size
    const zerosFrom = trailingZeros(fd, size)
    const head = Buffer.alloc(HEAD)
    let pos = 0
    while (pos < size) {
      const torn = (zeros = false): TornTail => {
        if (opts.repair === true) ftruncateSync(fd, pos)
        return { at: pos, zeros }
      }
      // A frame starts with its magic number: from here on there are only zero bytes.
      if (pos >= zerosFrom) return torn(true)
      if (readSync(fd, head, 0, HEAD, pos) < HEAD) return torn()
      if (head.readUInt32LE(0) !== MAGIC) throw damaged(path, `no frame at byte ${pos}`)
      const jsonBytes = head.readUInt32LE(4)
      const rows = head.readUInt32LE(8)
      const width = head.readUInt32LE(12)
      const offset = pos + HEAD + Math.ceil(jsonBytes / 8) * 8
      const end = offset + rows * width * 8
      if (end > size) return torn()
      // Zero bytes over its header, or over a whole row (generation 0 taking no time, every value
      // 0: no row a run writes): a frame the disk never got whole, though the file's size has it.
      if (zerosFrom < offset || end - zerosFrom >= width * 8) return torn(true)
      const json = Buffer.alloc(jsonBytes)
      readSync(fd, json, 0, jsonBytes, pos + HEAD)
      let header: { chain?: unknown; metrics?: unknown }
      try {
        header = JSON.parse(json.toString('utf8')) as typeof header
      } catch {
        throw damaged(path, `the frame at byte ${pos} has no readable header`)
      }
      if (typeof header.chain !== 'string' || !Array.isArray(header.metrics) || header.metrics.length + ROW_LEAD.length !== width) {
        throw damaged(path, `the frame at byte ${pos} has a malformed header`)
      }
      const frame: LogFrame = { chain: header.chain, metrics: header.metrics as string[], offset, rows, width }
      visit(frame, opts.rows === true ? readFrameRows(fd, frame) : undefined)
      pos = end
    }
    return undefined
  } finally {
    closeSync(fd)
  }
}

/** The first byte of the run of zero bytes the file ends in (its size where its last byte is not 0). */
function trailingZeros(fd: number, size: number): number {
  const chunk = Buffer.alloc(64 * 1024)
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - chunk.length)
    const n = readSync(fd, chunk, 0, end - start, start)
    for (let i = n - 1; i >= 0; i--) if (chunk[i] !== 0) return start + i + 1
    end = start
  }
  return 0
}

/**
 * A row's generation, which must be a whole number from −1 on: a changed byte can make it a
 * fraction or out of range, which a generation set and a block would file under a neighbouring
 * generation or drop without a word.
 */
export function checkedGeneration(path: string, at: number, generation: number): number {
  if (Number.isInteger(generation) && generation >= -1 && generation < 2 ** 31) return generation
  throw damaged(path, `the record at byte ${at} is of generation ${generation}, not a whole number from -1 on`)
}

/** A frame's rows, read into `out` (frame.rows × frame.width values) or a new array. */
export function readFrameRows(fd: number, frame: LogFrame, out = new Float64Array(frame.rows * frame.width)): Float64Array {
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
  let done = 0
  while (done < bytes.length) {
    const n = readSync(fd, bytes, done, bytes.length - done, frame.offset + done)
    if (n === 0) throw new OuroborosError(ErrorCode.RUN_DIR, `the record log ended inside a frame at byte ${frame.offset}`)
    done += n
  }
  return out
}

/** Opens the log (or another record file), saying why it cannot be in words rather than with the system's message. */
export function openLog(path: string, flags: 'r' | 'r+'): number {
  try {
    return openSync(path, flags)
  } catch (err) {
    throw flags === 'r' ? readError(path, err) : writeError(path, err)
  }
}

function damaged(path: string, why: string): OuroborosError {
  // Not "delete the run directory": the user's own files may lie beside the run, which --force keeps.
  return new OuroborosError(ErrorCode.RUN_DIR, `${path} is damaged: ${why}`, {
    hint: `the records cannot be recomputed from the checkpoints: restore ${RECORD_LOG} from a copy, or run the config again with --force`,
  })
}

/** A set of generations (-1 and up), a bit each: a run of 10,000 chains × 1,000 generations keeps 1.25 MB of them. */
export class GenerationSet {
  private bits = new Uint8Array(16)
  size = 0

  has(generation: number): boolean {
    const i = generation + 1
    return i >= 0 && i >> 3 < this.bits.length && (this.bits[i >> 3]! & (1 << (i & 7))) !== 0
  }

  add(generation: number): void {
    const i = generation + 1
    if (i >> 3 >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, (i >> 3) + 1))
      grown.set(this.bits)
      this.bits = grown
    }
    const mask = 1 << (i & 7)
    if ((this.bits[i >> 3]! & mask) === 0) {
      this.bits[i >> 3]! |= mask
      this.size++
    }
  }
}

/**
 * The generations each chain has records for, read from the log; cuts off a torn last frame. A
 * run directory from before the log existed has its metrics.ndjson taken into a new log first.
 */
export function recordedGenerations(runDir: string): Map<string, GenerationSet> {
  if (!existsSync(recordLogPath(runDir))) {
    const legacy = readNdjson(runDir)
    if (legacy.length > 0) appendBytes(recordLogPath(runDir), encodeFrames(recordBatch(legacy).parts))
  }
  const out = new Map<string, GenerationSet>()
  const path = recordLogPath(runDir)
  const torn = scanRecordLog(
    path,
    (frame, rows) => {
      let set = out.get(frame.chain)
      if (set === undefined) out.set(frame.chain, (set = new GenerationSet()))
      for (let o = 0; o < rows!.length; o += frame.width) set.add(checkedGeneration(path, frame.offset + 8 * o, rows![o]!))
    },
    { rows: true, repair: true },
  )
  // A torn frame is what any kill leaves; zero bytes are rarer, and the user may wonder where they went.
  if (torn?.zeros === true) process.stderr.write(`ouroboros: ${path} ended in zero bytes from byte ${torn.at} on, which a power loss leaves; they hold no record and were cut off\n`)
  return out
}

/** Cuts a line torn by a crash off the end of metrics.ndjson, before a resume appends to it. */
export function repairRecordText(runDir: string): void {
  const path = join(runDir, 'metrics.ndjson')
  if (!existsSync(path)) return
  const fd = openLog(path, 'r+')
  try {
    const size = fstatSync(fd).size
    const chunk = Buffer.alloc(64 * 1024)
    for (let end = size; end > 0; ) {
      const start = Math.max(0, end - chunk.length)
      readSync(fd, chunk, 0, end - start, start)
      const nl = chunk.subarray(0, end - start).lastIndexOf(0x0a)
      if (nl >= 0) {
        if (start + nl + 1 < size) ftruncateSync(fd, start + nl + 1)
        return
      }
      end = start
    }
    ftruncateSync(fd, 0)
  } finally {
    closeSync(fd)
  }
}
