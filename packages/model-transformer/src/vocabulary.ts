import { inputError, UNKNOWN_WORD, vocabularyWithUnknown, type DatasetInfo, type TokenSamples } from '@ouroboros/core'

/**
 * The model's token ids and how they map onto the dataset's. Model ids 0..K−1 are the K kept
 * words (the `maxVocab` most frequent of the chain's real training data, fewer when it has fewer
 * distinct words), K is `<unk>` (every other word) and K + 1 the end of a sentence, so the model
 * predicts V = K + 2 outcomes. The table is made once per chain, from generation 0's data, and
 * every later generation, warm start or not, keeps it: the model's inputs and outputs mean the
 * same words throughout the chain.
 *
 * Dataset ids outside the table read as `<unk>`, the dataset's own `<unk>` word included (it is
 * never a kept word). The model writes dataset ids: a kept word is its dataset id, and `<unk>`
 * the dataset's `<unk>` word.
 */
export interface Vocabulary {
  /** Dataset id of each kept word, by model id (descending count in the data it was made from, ties by dataset id). */
  readonly words: Int32Array
  /** The dataset's vocabulary size: dataset ids are 0..datasetSize−1. */
  readonly datasetSize: number
  /** Dataset id of the dataset's `<unk>` word, which sampled `<unk>` tokens become. */
  readonly datasetUnknown: number
}

/** Model id of `<unk>`. */
export function unknownId(v: Vocabulary): number {
  return v.words.length
}

/** Model id of the end of a sentence (also the token a sentence starts from). */
export function endId(v: Vocabulary): number {
  return v.words.length + 1
}

/** Outcomes the model predicts: the kept words, `<unk>` and the end of a sentence. */
export function outcomes(v: Vocabulary): number {
  return v.words.length + 2
}

/** Dataset ids the model's `<unk>` stands for, when it scores text: all but the kept words. */
export function unknownWords(v: Vocabulary): number {
  return v.datasetSize - v.words.length
}

/** The data's vocabulary, which must hold '<unk>': the word the transformer writes for those it does not keep. */
export function datasetVocabulary(dataset: DatasetInfo): readonly string[] {
  return vocabularyWithUnknown(dataset, 'the transformer', 'to write the words it does not know')
}

/** The vocabulary of `data`: its `maxVocab` most frequent words, the dataset's `<unk>` (which it must have) left out. */
export function makeVocabulary(data: TokenSamples, maxVocab: number, datasetVocabulary: readonly string[]): Vocabulary {
  const datasetUnknown = datasetVocabulary.indexOf(UNKNOWN_WORD)
  if (datasetUnknown < 0) throw new RangeError(`makeVocabulary: the dataset vocabulary has no '${UNKNOWN_WORD}'`)
  const datasetSize = datasetVocabulary.length
  checkIds(data, datasetSize, 'training data')
  const counts = new Float64Array(datasetSize)
  for (const t of data.tokens) counts[t]!++
  const seen: number[] = []
  for (let w = 0; w < datasetSize; w++) if (counts[w]! > 0 && w !== datasetUnknown) seen.push(w)
  seen.sort((a, b) => counts[b]! - counts[a]! || a - b)
  return { words: Int32Array.from(seen.slice(0, maxVocab)), datasetSize, datasetUnknown }
}

/** Dataset id -> model id (`<unk>` for every word not kept). */
export function modelIds(v: Vocabulary): Int32Array {
  const table = new Int32Array(v.datasetSize).fill(unknownId(v))
  v.words.forEach((w, k) => (table[w] = k))
  return table
}

export function checkIds(data: TokenSamples, datasetSize: number, what: string): void {
  if (data.vocabSize > datasetSize) throw inputError(`${what} have a vocabulary of ${data.vocabSize} words, the model's dataset ${datasetSize}`)
  for (const t of data.tokens) {
    if (!(t >= 0 && t < datasetSize)) throw inputError(`${what} hold the token id ${t}, outside the vocabulary of ${datasetSize} words`)
  }
}

/**
 * The training stream: an end of sentence, then every sentence, in `order`, each followed by an
 * end of sentence, in model ids. Every sentence is thus preceded by an end of sentence, the token
 * sampling starts from.
 */
export function trainingStream(data: TokenSamples, v: Vocabulary, order: ArrayLike<number>): Int32Array {
  const table = modelIds(v)
  const end = endId(v)
  const stream = new Int32Array(data.tokens.length + data.n + 1)
  stream[0] = end
  let at = 1
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!
    for (let t = data.offsets[i]!; t < data.offsets[i + 1]!; t++) stream[at++] = table[data.tokens[t]!]!
    stream[at++] = end
  }
  return stream
}
