import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Modality, Samples, TokenSamples, VectorSamples } from '@ouroboros/core'
import { decodeNpy, decodeNpyIntegers, encodeNpy, encodeNpyInt32, writeFileAtomic } from '@ouroboros/store'
import { removeAtExit } from './pool.js'
import type { ModelProcess } from './process.js'

/**
 * The arrays of a request, as .npy files beside the chain: vectors are one (n, d) float64 array;
 * sentences are two int32 arrays, every sentence's token ids one after another and the n + 1
 * offsets where each starts (the last one the total), as TokenSamples holds them.
 */
export interface Exchange {
  /** The message's fields naming the files. */
  readonly fields: Record<string, string>
  /** Removed once the request is answered. */
  readonly files: string[]
}

/** Writes `data` for a request: field `data` (and `offsets` for sentences). */
export function writeData(child: ModelProcess, dir: string, name: string, data: Samples): Exchange {
  if (data.modality === 'vectors') {
    const file = child.ioPath(dir, name)
    writeFileAtomic(file, encodeNpy(data))
    return { fields: { data: file }, files: [file] }
  }
  const tokens = child.ioPath(dir, `${name}-tokens`)
  const offsets = child.ioPath(dir, `${name}-offsets`)
  writeFileAtomic(tokens, encodeNpyInt32(data.tokens))
  writeFileAtomic(offsets, encodeNpyInt32(Int32Array.from(data.offsets)))
  return { fields: { data: tokens, offsets }, files: [tokens, offsets] }
}

/** Where the child writes what it is asked for: field `out` (and `out_offsets` for sentences). */
export function outputFiles(child: ModelProcess, dir: string, name: string, modality: Modality): Exchange {
  if (modality === 'vectors') {
    const file = child.ioPath(dir, name)
    return { fields: { out: file }, files: [file] }
  }
  const tokens = child.ioPath(dir, `${name}-tokens`)
  const offsets = child.ioPath(dir, `${name}-offsets`)
  return { fields: { out: tokens, out_offsets: offsets }, files: [tokens, offsets] }
}

export function removeFiles(exchange: Exchange): void {
  for (const file of exchange.files) rmSync(file, { force: true })
}

/** Reads a file the child wrote; a missing or unreadable one stops the child with `what` named. */
function readReply<T>(child: ModelProcess, file: string, what: string, decode: (buf: Uint8Array) => T): T {
  try {
    return decode(readFileSync(file))
  } catch (err) {
    const reason = (err as { code?: string }).code === 'ENOENT' ? `it replied ok but wrote no file at ${file}` : (err as Error).message
    throw child.failed(`${what}: ${reason}`)
  }
}

/** The (n, d) array the child wrote at `out`. */
export function readVectors(child: ModelProcess, out: Exchange, what: string, n: number, d: number): VectorSamples {
  try {
    const file = out.fields['out']!
    const x = readReply(child, file, what, (buf) => decodeNpy(buf, file))
    if (x.n !== n || x.d !== d) throw child.failed(`${what}: it wrote an array of ${x.n} x ${x.d} values; expected ${n} x ${d}${d === 1 ? ` (or ${n} values)` : ''}`)
    return x
  } finally {
    removeFiles(out)
  }
}

/** The n sentences the child wrote at `out` and `out_offsets`, every token id checked against the vocabulary. */
export function readSentences(child: ModelProcess, out: Exchange, what: string, n: number, vocabSize: number): TokenSamples {
  try {
    const tokensFile = out.fields['out']!
    const offsetsFile = out.fields['out_offsets']!
    const ids = readReply(child, tokensFile, what, (buf) => decodeNpyIntegers(buf, tokensFile))
    const starts = readReply(child, offsetsFile, what, (buf) => decodeNpyIntegers(buf, offsetsFile))
    if (starts.length !== n + 1) {
      // In sentences first: a model's author thinks of what sample returned, not of the offsets its helper wrote.
      const sentences = Math.max(0, starts.length - 1)
      throw child.failed(`${what}: it wrote ${sentences} sentence${sentences === 1 ? '' : 's'} where ${n} were asked for (${starts.length} offsets; expected ${n + 1}: where each sentence starts, then the total)`)
    }
    if (starts[0] !== 0 || starts[n] !== ids.length) throw child.failed(`${what}: its offsets run from ${starts[0]} to ${starts[n]}; expected 0 to ${ids.length} (the number of token ids written)`)
    for (let i = 0; i < n; i++) if (starts[i + 1]! < starts[i]!) throw child.failed(`${what}: offset ${i + 1} (${starts[i + 1]}) is below offset ${i} (${starts[i]})`)
    const bad = ids.findIndex((t) => t < 0 || t >= vocabSize)
    if (bad >= 0) throw child.failed(`${what}: token id ${ids[bad]} (at ${bad}) is outside the vocabulary's 0 to ${vocabSize - 1}`)
    return { modality: 'tokens', n, vocabSize, tokens: Int32Array.from(ids), offsets: Uint32Array.from(starts) }
  } finally {
    removeFiles(out)
  }
}

/** The vocabulary as a JSON list of words (token id = index), one file per distinct vocabulary in this process. */
const vocabularies = new WeakMap<readonly string[], string>()
let vocabularyDir: string | undefined

export function vocabularyFile(words: readonly string[]): string {
  const known = vocabularies.get(words)
  if (known !== undefined && existsSync(known)) return known
  const text = JSON.stringify(words)
  if (vocabularyDir === undefined) {
    vocabularyDir = mkdtempSync(join(tmpdir(), 'ouroboros-vocabulary-'))
    removeAtExit(vocabularyDir)
  }
  const file = join(vocabularyDir, `${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`)
  if (!existsSync(file)) writeFileAtomic(file, text)
  vocabularies.set(words, file)
  return file
}
