import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path'
import { deserialize } from 'node:v8'
import { inputError, jsonFault, unreadable, vectors, type TokenSamples, type VectorSamples } from '@ouroboros/core'
import { decodeNpy } from './npy.js'

/**
 * Reads a file of vector samples for `ouroboros eval`: .npy (float32/float64, C order),
 * .csv (comma-separated, optional header row) or .json (an array of equal-length number arrays).
 * Every value must be finite; errors name the file, the row and the column.
 */
export function readVectorFile(file: string): VectorSamples {
  const buf = readInput(file)
  const ext = extname(file).toLowerCase()
  if (buf.length === 0 && ['.npy', '.csv', '.json'].includes(ext)) throw inputError(`${file}: empty file (0 bytes)`)
  const s = ext === '.npy' ? decodeNpy(buf, file) : ext === '.csv' ? parseCsv(buf.toString('utf8'), file) : ext === '.json' ? parseJsonRows(buf.toString('utf8'), file) : null
  if (s === null) throw inputError(`${file}: unsupported file type '${ext || '(none)'}'; use .csv, .json or .npy`)
  if (s.n === 0) throw inputError(`${file}: no samples`)
  for (let i = 0; i < s.data.length; i++) {
    if (!Number.isFinite(s.data[i]!)) {
      throw inputError(`${file}: row ${Math.floor(i / s.d) + 1}, column ${(i % s.d) + 1} is ${s.data[i]} (values must be finite numbers)`)
    }
  }
  return s
}

/** Token sequences read from plain text, and the vocabulary their ids index. */
export interface TokenFile {
  readonly samples: TokenSamples
  readonly vocabulary: readonly string[]
}

/**
 * Reads token sequences for `ouroboros eval`: plain text, one sequence a line (blank lines
 * skipped), words lower-cased and split on whitespace, as the Brown corpus is tokenised; or a run's
 * own token sample file (`.tokens`: real, held-out or a generation's), whose ids are words of the
 * run's `vocabulary.json`. Words of `vocabulary` keep their ids; the file's other words are
 * numbered after them by descending count (ties by first appearance), so that a real and a
 * generated file read one after the other share one vocabulary. The samples' vocabSize is the
 * returned vocabulary's size.
 */
export function readTokenFile(file: string, vocabulary: readonly string[] = []): TokenFile {
  const ofRun = extname(file).toLowerCase() === '.tokens'
  const read = ofRun ? runTokens(file) : textTokens(file)
  if (read.samples.n === 0) throw inputError(`${file}: no sequences (expected one sequence of words a line)`)
  // A run's file, with no other vocabulary to number it in, keeps the run's ids: its metrics are
  // then the run's to the bit (the text group's head of frequent types breaks ties by id).
  return renumbered(read.samples, read.words, ofRun && vocabulary.length === 0 ? read.words : vocabulary)
}

/** Sequences of ids into `words`, whatever vocabulary they come with. */
interface LocalTokens {
  readonly samples: TokenSamples
  readonly words: readonly string[]
}

/**
 * The samples with `vocabulary`'s words at its ids and their other words numbered after them, by
 * descending count, ties by first appearance. Counted per id, not per token: a generation's file
 * holds millions of tokens of a few thousand words.
 */
function renumbered(s: TokenSamples, words: readonly string[], vocabulary: readonly string[]): TokenFile {
  const count = new Float64Array(words.length)
  const first = new Float64Array(words.length)
  for (let t = 0; t < s.tokens.length; t++) if (count[s.tokens[t]!]!++ === 0) first[s.tokens[t]!] = t
  const ids = new Map(vocabulary.map((w, i) => [w, i]))
  // A word under two ids (a vocabulary file that repeats it) counts as one.
  const fresh = new Map<string, { count: number; first: number }>()
  for (let id = 0; id < words.length; id++) {
    if (count[id] === 0 || ids.has(words[id]!)) continue
    const seen = fresh.get(words[id]!)
    if (seen === undefined) fresh.set(words[id]!, { count: count[id]!, first: first[id]! })
    else fresh.set(words[id]!, { count: seen.count + count[id]!, first: Math.min(seen.first, first[id]!) })
  }
  const added = [...fresh].sort((a, b) => b[1].count - a[1].count || a[1].first - b[1].first).map(([w]) => w)
  added.forEach((w, i) => ids.set(w, vocabulary.length + i))
  const to = Int32Array.from(words, (w) => ids.get(w) ?? -1)
  const tokens = new Int32Array(s.tokens.length)
  for (let t = 0; t < tokens.length; t++) tokens[t] = to[s.tokens[t]!]!
  const all = [...vocabulary, ...added]
  return { samples: { modality: 'tokens', n: s.n, vocabSize: all.length, tokens, offsets: s.offsets }, vocabulary: all }
}

/**
 * Plain text: one sequence a line (blank lines skipped; lines end in \n, \r\n or \r), words
 * lower-cased and split on whitespace, numbered as they first appear.
 */
function textTokens(file: string): LocalTokens {
  const lines = utf8Text(readInput(file), file)
    .split(/\r\n|\r|\n/)
    .map((line) => line.toLowerCase().split(/\s+/).filter((w) => w !== ''))
    .filter((words) => words.length > 0)
  const local = new Map<string, number>()
  const offsets = new Uint32Array(lines.length + 1)
  lines.forEach((words, i) => (offsets[i + 1] = offsets[i]! + words.length))
  const tokens = new Int32Array(offsets[lines.length]!)
  let t = 0
  for (const words of lines) {
    for (const w of words) {
      let id = local.get(w)
      if (id === undefined) local.set(w, (id = local.size))
      tokens[t++] = id
    }
  }
  return { samples: { modality: 'tokens', n: lines.length, vocabSize: local.size, tokens, offsets }, words: [...local.keys()] }
}

/**
 * A text file's text, refused where it is not UTF-8: decoding a Latin-1 file would turn café and
 * cafè into one word with a replacement character, and the word counts are what is measured.
 */
function utf8Text(buf: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf)
  } catch {
    // The first replacement character that does not stand for one in the file (EF BF BD) marks
    // the first byte that is not UTF-8; every character before it decoded as it is in the file.
    const text = buf.toString('utf8')
    for (let at = text.indexOf('\uFFFD'); at >= 0; at = text.indexOf('\uFFFD', at + 1)) {
      const byte = Buffer.byteLength(text.slice(0, at))
      if (buf[byte] === 0xef && buf[byte + 1] === 0xbf && buf[byte + 2] === 0xbd) continue
      const line = text.slice(0, at).split(/\r\n|\r|\n/).length
      throw inputError(`${file}: line ${line}: byte ${byte} (0x${buf[byte]!.toString(16).padStart(2, '0')}) is not UTF-8`, 'save the file as UTF-8 (a Latin-1 file: iconv -f latin1 -t utf-8 FILE)')
    }
    throw inputError(`${file}: not UTF-8`, 'save the file as UTF-8')
  }
}

/** A token run's id -> word table, at the top of its run directory. */
export const VOCABULARY_FILE = 'vocabulary.json'

/** The table of a cell whose words differ from the first cell's (a sweep over data.path or a vocabulary size). */
export function cellVocabularyFile(cell: number): string {
  return `vocabulary-c${cell}.json`
}

/** Whether a run directory's entry is a cell's table (cellVocabularyFile). */
export function isCellVocabularyFile(name: string): boolean {
  return /^vocabulary-c\d+\.json$/.test(name)
}

/**
 * The table a chain's token files are read with: its cell's own where a sweep gave the cell other
 * words (chains of a sweep are `c<cell>-r<replicate>`), else the run's.
 */
export function vocabularyPath(runDir: string, chain: string): string {
  const cell = /^c(\d+)-r\d+$/.exec(chain)?.[1]
  const own = cell === undefined ? undefined : join(runDir, cellVocabularyFile(Number(cell)))
  return own !== undefined && existsSync(own) ? own : join(runDir, VOCABULARY_FILE)
}

/**
 * A run's token sample file, a run directory's `chains/<chain>/<name>.tokens`, with the words of the
 * run's `vocabulary.json` (or of its cell's own). Empty sequences (a model may end one at once) are kept: they are
 * samples, and they count in the metrics as they do in the run.
 */
function runTokens(file: string): LocalTokens {
  const buf = readInput(file)
  // Absolute first: `real.tokens` given from inside its chain's folder is in its run.
  const chainDir = dirname(resolve(file))
  // Copied out of its run, a file has no vocabulary two folders up to name.
  if (basename(dirname(chainDir)) !== 'chains') {
    throw inputError(`${file}: a run's token file is read with its run's ${VOCABULARY_FILE}, and this one is not in a run's chains/<chain>/ folder`, 'give the file where its run wrote it, or a .txt file of words')
  }
  const vocabularyFile = vocabularyPath(join(chainDir, '..', '..'), basename(chainDir))
  let words: unknown
  try {
    words = JSON.parse(readFileSync(vocabularyFile, 'utf8'))
  } catch (err) {
    const why = (err as { code?: string }).code === 'ENOENT' ? 'not found' : (err as Error).message
    throw inputError(`${file}: a run's token file needs the run's vocabulary, ${vocabularyFile}: ${why} (give the file inside its run directory, chains/<chain>/, or a .txt file of words)`)
  }
  if (!Array.isArray(words) || !words.every((w) => typeof w === 'string')) throw inputError(`${vocabularyFile}: expected a JSON array of words`)
  let s: TokenSamples
  try {
    s = deserialize(buf) as TokenSamples
  } catch (err) {
    throw inputError(`${file}: not a run's token sample file (${(err as Error).message})`)
  }
  if (s?.modality !== 'tokens' || !(s.tokens instanceof Int32Array) || !(s.offsets instanceof Uint32Array) || s.offsets.length !== s.n + 1 || !offsetsFit(s)) {
    throw inputError(`${file}: not a run's token sample file`)
  }
  for (const id of s.tokens) {
    if (!(id >= 0 && id < words.length)) throw inputError(`${file}: word id ${id} is outside ${vocabularyFile}'s ${words.length} words (a file from another run?)`)
  }
  return { samples: s, words: words as string[] }
}

/** Offsets that run from 0 to the number of tokens, never back. */
function offsetsFit(s: TokenSamples): boolean {
  if (s.offsets[0] !== 0 || s.offsets[s.n] !== s.tokens.length) return false
  for (let i = 0; i < s.n; i++) if (s.offsets[i + 1]! < s.offsets[i]!) return false
  return true
}

/** A file's bytes; a file that cannot be read is an input error naming it and why (no such file, a directory). */
export function readInput(file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    throw inputError(unreadableFile(file, err))
  }
}

/**
 * "FILE: why it could not be read"; a missing file given by a relative path also names the folder it
 * was looked for in, which is not the user's where a tool ran the command elsewhere (pnpm runs a
 * script from the workspace root).
 */
export function unreadableFile(file: string, err: unknown): string {
  const missing = (err as { code?: string }).code === 'ENOENT' && !isAbsolute(file)
  return `${file}: ${unreadable(err)}${missing ? ` (looked for ${resolve(file)})` : ''}`
}

/**
 * A .csv of numbers, with an optional header row. A header is a first line none of whose cells is
 * a number: a header of numbers (`0,1`, pandas' integer column names) cannot be told from a data
 * row and is read as one (the README and `eval --help` say so).
 */
/**
 * A number as a .csv writes one: decimal digits, with a sign, a point and an exponent. JavaScript's
 * Number() also reads hexadecimal, binary and octal (`0x10` as 16), which no table means: such a
 * cell is refused (a first line of them is data, not a header, as it was read before).
 */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

function parseCsv(text: string, file: string): VectorSamples {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  const values: number[] = []
  let d = -1
  let first = 0
  if (lines.length > 0) {
    // Said before the header is looked at: `x;y` has no number in it, and would be skipped as one.
    otherSeparator(lines[0]!, 0, file)
    const header = lines[0]!.split(',')
    // A first row with some numbers and a bad cell (`1,2x`) is data with an error, reported below,
    // not a header to skip.
    if (header.every((c) => c.trim() === '' || Number.isNaN(Number(c)))) {
      // pandas' index column (R's row names): its header cell is empty, and its numbers would be
      // read as one more dimension.
      if (header.length > 1 && header[0]!.trim() === '' && header.some((c) => c.trim() !== '')) {
        throw inputError(`${file}: line 1, column 1: an empty name before named columns is how pandas writes its index column (R its row names), which would be read as a dimension; write the file with pandas' to_csv(index=False)`)
      }
      first = 1
    }
  }
  for (let i = first; i < lines.length; i++) {
    otherSeparator(lines[i]!, i, file)
    const cells = lines[i]!.split(',')
    if (d === -1) d = cells.length
    if (cells.length !== d) throw inputError(`${file}: line ${i + 1} has ${cells.length} column${cells.length === 1 ? '' : 's'}, expected ${d} (ragged rows)`)
    for (let j = 0; j < cells.length; j++) {
      const t = cells[j]!.trim()
      const v = DECIMAL.test(t) ? Number(t) : NaN
      if (!Number.isFinite(v)) {
        const separated = /[;\t]/.test(t) ? ' (columns of a .csv are separated by commas)' : ''
        // `,0,1`: pandas' index column beside integer column names, a header that reads as data.
        const index = i === 0 && j === 0 && t === '' && cells.length > 1 ? ` (an empty first field of line 1 is how pandas writes its index column: write the file with to_csv(index=False, header=False), as a header of numbers would read as data)` : ''
        const radix = /^[+-]?0[xXbBoO]/.test(t) ? ' (write numbers in decimal)' : ''
        throw inputError(`${file}: line ${i + 1}, column ${j + 1}: '${t}' is not a finite number${radix}${separated}${index}`)
      }
      values.push(v)
    }
  }
  if (d === -1) throw inputError(`${file}: no data rows`)
  return vectors(values.length / d, d, Float64Array.from(values))
}

/** A line with semicolons or tabs and no comma: the file is separated by them, which a .csv is not. */
function otherSeparator(line: string, i: number, file: string): void {
  // Trimmed: a tab after a lone number is blank space, not a separator.
  const text = line.trim()
  if (text.includes(',')) return
  const separator = text.includes(';') ? 'semicolon' : text.includes('\t') ? 'tab' : undefined
  if (separator === undefined) return
  throw inputError(`${file}: line ${i + 1} holds ${separator === 'semicolon' ? "';'" : 'tabs'} and no ',': the file looks ${separator}-separated, and columns of a .csv are separated by commas`)
}

function parseJsonRows(text: string, file: string): VectorSamples {
  let rows: unknown
  try {
    rows = JSON.parse(text)
  } catch (err) {
    throw inputError(`${file}: ${jsonFault(text, err)}`)
  }
  if (!Array.isArray(rows)) throw inputError(`${file}: expected a JSON array of rows`)
  if (rows.length === 0) throw inputError(`${file}: no samples`)
  const asRow = (r: unknown): unknown[] => (Array.isArray(r) ? r : typeof r === 'number' ? [r] : [r])
  const d = asRow(rows[0]).length
  const out = new Float64Array(rows.length * d)
  rows.forEach((r, i) => {
    const row = asRow(r)
    if (row.length !== d) throw inputError(`${file}: row ${i + 1} has ${row.length} value${row.length === 1 ? '' : 's'}, expected ${d} (ragged rows)`)
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw inputError(`${file}: row ${i + 1}, column ${j + 1}: ${JSON.stringify(v)} is not a finite number`)
      out[i * d + j] = v
    })
  })
  return vectors(rows.length, d, out)
}
