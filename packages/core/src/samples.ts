import { inputError } from './errors.js'
import type { DatasetInfo } from './plugin.js'

export type Modality = 'vectors' | 'tokens'

/** n points in d dimensions, row-major. */
export interface VectorSamples {
  readonly modality: 'vectors'
  readonly n: number
  readonly d: number
  readonly data: Float64Array
}

/**
 * n token sequences over a vocabulary of `vocabSize` ids. Sequence i is
 * tokens[offsets[i] .. offsets[i+1]). The id -> word table belongs to the dataset.
 */
export interface TokenSamples {
  readonly modality: 'tokens'
  readonly n: number
  readonly vocabSize: number
  readonly tokens: Int32Array
  readonly offsets: Uint32Array
}

export type Samples = VectorSamples | TokenSamples

export function vectors(n: number, d: number, data?: Float64Array): VectorSamples {
  const buf = data ?? new Float64Array(n * d)
  if (buf.length !== n * d) throw new RangeError(`vectors: data has ${buf.length} values, expected ${n}x${d}`)
  return { modality: 'vectors', n, d, data: buf }
}

export function asVectors(s: Samples, what = 'samples'): VectorSamples {
  if (s.modality !== 'vectors') throw inputError(`${what} are ${s.modality}, but vectors are needed here`)
  return s
}

/** Rows `idx` of s, in that order. */
export function takeRows(s: VectorSamples, idx: ArrayLike<number>): VectorSamples {
  const out = new Float64Array(idx.length * s.d)
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!
    out.set(s.data.subarray(r * s.d, (r + 1) * s.d), i * s.d)
  }
  return vectors(idx.length, s.d, out)
}

/** The first n rows (a view, not a copy). */
export function headRows(s: VectorSamples, n: number): VectorSamples {
  return vectors(n, s.d, s.data.subarray(0, n * s.d))
}

export function concatVectors(parts: readonly VectorSamples[]): VectorSamples {
  if (parts.length === 0) throw new RangeError('concatVectors: nothing to concatenate')
  const d = parts[0]!.d
  let n = 0
  for (const p of parts) {
    if (p.d !== d) throw new RangeError(`concatVectors: dimension ${p.d} differs from ${d}`)
    n += p.n
  }
  const out = new Float64Array(n * d)
  let at = 0
  for (const p of parts) {
    out.set(p.data, at)
    at += p.data.length
  }
  return vectors(n, d, out)
}

export function concatTokens(parts: readonly TokenSamples[]): TokenSamples {
  if (parts.length === 0) throw new RangeError('concatTokens: nothing to concatenate')
  const vocabSize = Math.max(...parts.map((p) => p.vocabSize))
  let n = 0
  let len = 0
  for (const p of parts) {
    n += p.n
    len += p.tokens.length
  }
  const tokens = new Int32Array(len)
  const offsets = new Uint32Array(n + 1)
  let row = 0
  let at = 0
  for (const p of parts) {
    tokens.set(p.tokens, at)
    for (let i = 0; i < p.n; i++) offsets[row + i + 1] = at + p.offsets[i + 1]!
    row += p.n
    at += p.tokens.length
  }
  return { modality: 'tokens', n, vocabSize, tokens, offsets }
}

export function takeSequences(s: TokenSamples, idx: ArrayLike<number>): TokenSamples {
  let len = 0
  for (let i = 0; i < idx.length; i++) len += s.offsets[idx[i]! + 1]! - s.offsets[idx[i]!]!
  const tokens = new Int32Array(len)
  const offsets = new Uint32Array(idx.length + 1)
  let at = 0
  for (let i = 0; i < idx.length; i++) {
    const a = s.offsets[idx[i]!]!
    const b = s.offsets[idx[i]! + 1]!
    tokens.set(s.tokens.subarray(a, b), at)
    at += b - a
    offsets[i + 1] = at
  }
  return { modality: 'tokens', n: idx.length, vocabSize: s.vocabSize, tokens, offsets }
}

export function concatSamples(parts: readonly Samples[]): Samples {
  const first = parts[0]
  if (first === undefined) throw new RangeError('concatSamples: nothing to concatenate')
  if (parts.some((p) => p.modality !== first.modality)) throw new RangeError('concatSamples: mixed modalities')
  return first.modality === 'vectors'
    ? concatVectors(parts as VectorSamples[])
    : concatTokens(parts as TokenSamples[])
}

export function takeSamples(s: Samples, idx: ArrayLike<number>): Samples {
  return s.modality === 'vectors' ? takeRows(s, idx) : takeSequences(s, idx)
}

/** The first n items of s. */
export function headSamples(s: Samples, n: number): Samples {
  if (n >= s.n) return s
  if (s.modality === 'vectors') return headRows(s, n)
  return takeSequences(s, Array.from({ length: n }, (_, i) => i))
}

/** The transferable buffers of s, for zero-copy moves between threads. */
export function sampleBuffers(s: Samples): ArrayBuffer[] {
  const bufs = s.modality === 'vectors' ? [s.data.buffer] : [s.tokens.buffer, s.offsets.buffer]
  return bufs.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer)
}

/** True when every value is finite (vectors) or a valid id (tokens). */
export function samplesAreFinite(s: Samples): boolean {
  if (s.modality === 'vectors') return allFinite(s.data)
  for (let i = 0; i < s.tokens.length; i++) if (s.tokens[i]! < 0 || s.tokens[i]! >= s.vocabSize) return false
  return true
}

/**
 * How `s`, what a model gave when asked for n items, breaks the samples contract against the data
 * `like` it is fit to; undefined when it keeps it. Vectors: n rows of the data's dimension.
 * Sentences: n of them, offsets that run from 0 to the number of ids without falling, a
 * vocabulary no larger than the data's and every id in it. For vectors this is O(1), since cheap
 * chains check every generation's samples.
 */
export function samplesBreach(s: Samples, n: number, like: Samples): string | undefined {
  if (typeof s !== 'object' || s === null || s.modality !== like.modality) {
    // A bare list of numbers is the likeliest slip: say what a samples object holds.
    if (Array.isArray(s) || ArrayBuffer.isView(s)) {
      const shape = like.modality === 'vectors' ? "{ modality: 'vectors', n, d, data: a Float64Array of n × d values }" : "{ modality: 'tokens', offsets, tokens, vocabSize }"
      const length = (s as ArrayLike<unknown>).length
      return `a bare array of ${length} value${length === 1 ? '' : 's'}; expected samples, ${shape}`
    }
    const got = typeof s === 'object' && s !== null ? `an object whose modality is ${JSON.stringify(s.modality)}` : String(s)
    return `${got}; expected ${like.modality} (the data's modality)`
  }
  if (s.modality === 'vectors') {
    const { d } = like as VectorSamples
    if (s.n !== n || s.d !== d) return `${s.n} x ${s.d} values; expected ${n} x ${d} (the ${n} items asked for, in the data's dimension ${d})`
    if (s.data.length !== n * d) return `${n} x ${d} values whose data hold ${s.data.length}; expected ${n * d}`
    return undefined
  }
  const { offsets, tokens } = s
  if (s.n !== n) return `${s.n} ${s.n === 1 ? 'sentence' : 'sentences'}; expected ${n} (the items asked for)`
  if (offsets.length !== n + 1) return `${offsets.length} offsets; expected ${n + 1} (where each of the ${n} sentences starts, then the total)`
  if (offsets[0] !== 0 || offsets[n] !== tokens.length) return `offsets that run from ${offsets[0]} to ${offsets[n]}; expected 0 to ${tokens.length} (the number of token ids)`
  for (let i = 0; i < n; i++) if (offsets[i + 1]! < offsets[i]!) return `offset ${i + 1} (${offsets[i + 1]}) below offset ${i} (${offsets[i]})`
  const { vocabSize } = like as TokenSamples
  if (s.vocabSize > vocabSize) return `a vocabulary of ${s.vocabSize} words; expected at most the data's ${vocabSize}`
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (!(t >= 0 && t < s.vocabSize)) return `token id ${t} at position ${i}; expected ids 0 to ${s.vocabSize - 1} (its vocabulary of ${s.vocabSize} words)`
  }
  return undefined
}

/**
 * Whether every value is finite: x · 0 is 0 for a finite x and NaN for ±Infinity or NaN, and NaN
 * stays in a sum. Four independent sums and no branch per value: twice as fast as testing each
 * value, which cheap chains do for every sample of every generation.
 */
export function allFinite(data: Float64Array): boolean {
  let a = 0
  let b = 0
  let c = 0
  let d = 0
  const n = data.length
  let i = 0
  for (; i + 3 < n; i += 4) {
    a += data[i]! * 0
    b += data[i + 1]! * 0
    c += data[i + 2]! * 0
    d += data[i + 3]! * 0
  }
  for (; i < n; i++) a += data[i]! * 0
  return a + b + c + d === 0
}

/** The word a text dataset's vocabulary has for the words it does not keep (Brown's and the data files' first word). */
export const UNKNOWN_WORD = '<unk>'

/**
 * The vocabulary of `dataset` for a text model that writes `<unk>` for the words it does not keep
 * (`model` needs it `purpose`); otherwise an input error naming the data, which the config check
 * reports before a run (ModelPlugin.checkData).
 */
export function vocabularyWithUnknown(dataset: DatasetInfo, model: string, purpose: string): readonly string[] {
  const vocabulary = dataset.vocabulary
  if (vocabulary === undefined || !vocabulary.includes(UNKNOWN_WORD)) {
    throw inputError(
      `${model} needs a dataset vocabulary with a '${UNKNOWN_WORD}' word, ${purpose}; data.kind '${dataset.kind}' has ${vocabulary === undefined ? 'no vocabulary' : `no '${UNKNOWN_WORD}'`}`,
      "use data.kind 'brown', or 'text-file' for text of your own",
    )
  }
  return vocabulary
}

/** Whether two vocabularies are the same words under the same ids. */
export function sameWords(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((w, i) => w === b[i]))
}

/**
 * Token sequences renumbered from vocabulary `from` to `to` by word, the words `to` lacks as its
 * `<unk>`, as a pretrained model's tokenizer reads new text: a finetuning task of other text in the
 * words of the run's data.
 */
export function inVocabulary(s: TokenSamples, from: readonly string[], to: readonly string[]): TokenSamples {
  const ids = new Map(to.map((w, i) => [w, i]))
  const unknown = ids.get(UNKNOWN_WORD)
  const map = Int32Array.from(from, (w) => {
    const id = ids.get(w) ?? unknown
    if (id === undefined) throw new RangeError(`inVocabulary: '${w}' is not in the vocabulary, which has no '${UNKNOWN_WORD}' to read it as`)
    return id
  })
  return { modality: 'tokens', n: s.n, vocabSize: to.length, tokens: s.tokens.map((t) => map[t]!), offsets: s.offsets }
}
