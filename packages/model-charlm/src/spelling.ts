import { inputError, UNKNOWN_WORD, type TokenSamples } from '@ouroboros/core'

/**
 * How sentences of word ids become character streams and back. Symbols: END = 0 (end of
 * sentence), SPACE = 1 (between words), then the alphabet's characters; one more symbol, START,
 * pads contexts before a sentence's first character and is never predicted.
 */
export const END = 0
export const SPACE = 1
const FIRST_CHAR = 2

export interface Alphabet {
  /** The characters of the vocabulary, sorted; character i is symbol i + 2. */
  readonly chars: readonly string[]
  /** Symbols a model predicts: END, SPACE and the characters. */
  readonly outputs: number
  /** The padding symbol (outputs): input only. */
  readonly start: number
}

export function alphabetOf(vocabulary: readonly string[]): Alphabet {
  const chars = new Set<string>()
  for (const word of vocabulary) {
    for (const ch of word) {
      if (/\s/.test(ch)) throw inputError(`the vocabulary word ${JSON.stringify(word)} contains whitespace, which separates words when spelled`)
      chars.add(ch)
    }
  }
  const sorted = [...chars].sort()
  return { chars: sorted, outputs: sorted.length + FIRST_CHAR, start: sorted.length + FIRST_CHAR }
}

/** Sentences as one symbol stream: words joined by SPACE, each sentence closed by END. */
export interface Spelled {
  readonly symbols: Int32Array
  /** Sentence i spans symbols [offsets[i], offsets[i+1]), its END included. */
  readonly offsets: Uint32Array
  /** The sentence of each symbol. */
  readonly sentence: Int32Array
}

/** Sentences spelled out; words with the id `skip` are left out as if absent. */
export function spell(data: TokenSamples, vocabulary: readonly string[], alphabet: Alphabet, skip = -1): Spelled {
  const code = new Map(alphabet.chars.map((ch, i) => [ch, i + FIRST_CHAR]))
  const words = vocabulary.map((w) => Int32Array.from([...w], (ch) => code.get(ch)!))
  // A sentence of k ≥ 1 words adds k − 1 spaces and an END to its letters; an empty one, its END.
  let length = 0
  for (let i = 0; i < data.n; i++) {
    let kept = 0
    for (let t = data.offsets[i]!; t < data.offsets[i + 1]!; t++) {
      if (data.tokens[t] === skip) continue
      length += words[data.tokens[t]!]!.length
      kept++
    }
    length += Math.max(kept, 1)
  }
  const symbols = new Int32Array(length)
  const sentence = new Int32Array(length)
  const offsets = new Uint32Array(data.n + 1)
  let at = 0
  for (let i = 0; i < data.n; i++) {
    for (let t = data.offsets[i]!; t < data.offsets[i + 1]!; t++) {
      if (data.tokens[t] === skip) continue
      if (at > offsets[i]!) symbols[at++] = SPACE
      const w = words[data.tokens[t]!]!
      symbols.set(w, at)
      at += w.length
    }
    symbols[at++] = END
    sentence.fill(i, offsets[i]!, at)
    offsets[i + 1] = at
  }
  return { symbols, offsets, sentence }
}

/**
 * Word ids of a sampled symbol sequence (END excluded): split at SPACE, empty words dropped, a
 * word outside the vocabulary (one the model made up) read as `<unk>`.
 */
export function readWords(symbols: ArrayLike<number>, length: number, alphabet: Alphabet, ids: ReadonlyMap<string, number>, unknown: number): number[] {
  const out: number[] = []
  let word = ''
  for (let t = 0; t <= length; t++) {
    const s = t < length ? symbols[t]! : SPACE
    if (s === SPACE) {
      if (word !== '') out.push(ids.get(word) ?? unknown)
      word = ''
    } else {
      word += alphabet.chars[s - FIRST_CHAR]
    }
  }
  return out
}
