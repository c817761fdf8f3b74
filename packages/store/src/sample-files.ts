import { readFileSync } from 'node:fs'
import { dirname, extname, join } from 'node:path'
import { deserialize } from 'node:v8'
import { inputError, unreadable, vectors, type TokenSamples, type VectorSamples } from '@ouroboros/core'
import { decodeNpy } from './npy.js'

/**
 * Reads a file of vector samples for `ouroboros eval`: .npy (float32/float64, C order),
 * .csv (comma-separated, optional header row) or .json (an array of equal-length number arrays).
 * Every value must be finite; errors name the file, the row and the column.
 */
export function readVectorFile(file: string): VectorSamples {
  const buf = readInput(file)
  const ext = extname(file).toLowerCase()
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
  const lines = extname(file).toLowerCase() === '.tokens' ? runTokenLines(file) : textLines(file)
  if (lines.length === 0) throw inputError(`${file}: no sequences (expected one sequence of words a line)`)
  const ids = new Map(vocabulary.map((w, i) => [w, i]))
  const fresh = new Map<string, number>()
  for (const words of lines) for (const w of words) if (!ids.has(w)) fresh.set(w, (fresh.get(w) ?? 0) + 1)
  // Map iteration follows first appearance, and sort is stable.
  const added = [...fresh.keys()].sort((a, b) => fresh.get(b)! - fresh.get(a)!)
  added.forEach((w, i) => ids.set(w, vocabulary.length + i))
  const offsets = new Uint32Array(lines.length + 1)
  lines.forEach((words, i) => (offsets[i + 1] = offsets[i]! + words.length))
  const tokens = Int32Array.from(lines.flat(), (w) => ids.get(w)!)
  const all = [...vocabulary, ...added]
  return { samples: { modality: 'tokens', n: lines.length, vocabSize: all.length, tokens, offsets }, vocabulary: all }
}

function textLines(file: string): string[][] {
  return readInput(file)
    .toString('utf8')
    .split(/\r?\n/)
    .map((line) => line.toLowerCase().split(/\s+/).filter((w) => w !== ''))
    .filter((words) => words.length > 0)
}

/**
 * The words of a run's token sample file, a run directory's `chains/<chain>/<name>.tokens`, looked
 * up in the run's `vocabulary.json`. Empty sequences (a model may end one at once) are kept: they
 * are samples, and they count in the metrics as they do in the run.
 */
function runTokenLines(file: string): string[][] {
  const buf = readInput(file)
  const vocabularyFile = join(dirname(file), '..', '..', 'vocabulary.json')
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
  if (s?.modality !== 'tokens' || !(s.tokens instanceof Int32Array) || !(s.offsets instanceof Uint32Array) || s.offsets.length !== s.n + 1) {
    throw inputError(`${file}: not a run's token sample file`)
  }
  const lines: string[][] = []
  for (let i = 0; i < s.n; i++) {
    const ids = s.tokens.subarray(s.offsets[i]!, s.offsets[i + 1]!)
    lines.push(Array.from(ids, (id) => {
      const w = words[id]
      if (w === undefined) throw inputError(`${file}: word id ${id} is outside ${vocabularyFile}'s ${words.length} words (a file from another run?)`)
      return w
    }))
  }
  return lines
}

/** A file's bytes; a file that cannot be read is an input error naming it and why (no such file, a directory). */
export function readInput(file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (err) {
    throw inputError(`${file}: ${unreadable(err)}`)
  }
}

function parseCsv(text: string, file: string): VectorSamples {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  const values: number[] = []
  let d = -1
  let first = 0
  if (lines.length > 0 && lines[0]!.split(',').some((c) => c.trim() !== '' && Number.isNaN(Number(c)))) first = 1
  for (let i = first; i < lines.length; i++) {
    const cells = lines[i]!.split(',')
    if (d === -1) d = cells.length
    if (cells.length !== d) throw inputError(`${file}: line ${i + 1} has ${cells.length} columns, expected ${d} (ragged rows)`)
    for (let j = 0; j < cells.length; j++) {
      const t = cells[j]!.trim()
      const v = t === '' ? NaN : Number(t)
      if (!Number.isFinite(v)) throw inputError(`${file}: line ${i + 1}, column ${j + 1}: '${t}' is not a finite number`)
      values.push(v)
    }
  }
  if (d === -1) throw inputError(`${file}: no data rows`)
  return vectors(values.length / d, d, Float64Array.from(values))
}

function parseJsonRows(text: string, file: string): VectorSamples {
  let rows: unknown
  try {
    rows = JSON.parse(text)
  } catch (err) {
    throw inputError(`${file}: not valid JSON (${(err as Error).message})`)
  }
  if (!Array.isArray(rows)) throw inputError(`${file}: expected a JSON array of rows`)
  if (rows.length === 0) throw inputError(`${file}: no samples`)
  const asRow = (r: unknown): unknown[] => (Array.isArray(r) ? r : typeof r === 'number' ? [r] : [r])
  const d = asRow(rows[0]).length
  const out = new Float64Array(rows.length * d)
  rows.forEach((r, i) => {
    const row = asRow(r)
    if (row.length !== d) throw inputError(`${file}: row ${i + 1} has ${row.length} values, expected ${d} (ragged rows)`)
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw inputError(`${file}: row ${i + 1}, column ${j + 1}: ${JSON.stringify(v)} is not a finite number`)
      out[i * d + j] = v
    })
  })
  return vectors(rows.length, d, out)
}
