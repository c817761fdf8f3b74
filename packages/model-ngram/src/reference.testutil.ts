import type { TokenSamples } from '@ouroboros/core'

/**
 * A second, deliberately plain implementation of interpolated Kneser-Ney for tests: n-grams as
 * string keys, every count and sum recomputed from the formula (Chen & Goodman 1998, with
 * KenLM's raw counts for grams that start with <s>). Slow, and independent of the trie code.
 */
export function referenceModel(
  sentences: readonly (readonly number[])[],
  V: number,
  order: number,
  discount: 'auto' | number,
  base: 'uniform' | 'support',
): (history: readonly number[], w: number) => number {
  const END = V
  const START = V + 1
  const raw = new Map<string, number>()
  for (const s of sentences) {
    const padded = [START, ...s, END]
    for (let t = 1; t < padded.length; t++) {
      for (let l = 1; l <= order && t - l + 1 >= 0; l++) {
        const key = padded.slice(t - l + 1, t + 1).join(' ')
        raw.set(key, (raw.get(key) ?? 0) + 1)
      }
    }
  }
  const length = (key: string): number => key.split(' ').length
  const adjusted = new Map<string, number>()
  for (const [key, c] of raw) {
    const l = length(key)
    if (l === order || key.startsWith(`${START} `)) {
      adjusted.set(key, c)
    } else {
      let left = 0
      for (const other of raw.keys()) if (length(other) === l + 1 && other.endsWith(` ${key}`)) left++
      adjusted.set(key, left)
    }
  }
  const D: number[] = []
  for (let l = 1; l <= order; l++) {
    if (discount !== 'auto') {
      D[l] = discount
      continue
    }
    let n1 = 0
    let n2 = 0
    for (const [key, c] of adjusted) {
      if (length(key) !== l) continue
      if (c === 1) n1++
      if (c === 2) n2++
    }
    // No count of 1: the estimate would be 0; 'auto' falls back to the textbook 0.75.
    D[l] = n1 === 0 ? 0.75 : n1 / (n1 + 2 * n2)
  }
  // Children of a context: the words w with an adjusted count for "context w".
  const children = (context: readonly number[], l: number): Map<number, number> => {
    const out = new Map<number, number>()
    const prefix = context.length === 0 ? '' : `${context.join(' ')} `
    for (const [key, c] of adjusted) {
      if (length(key) !== l || !key.startsWith(prefix)) continue
      out.set(Number(key.slice(prefix.length)), c)
    }
    return out
  }
  const uni = children([], 1)
  const level1 = (w: number): number => {
    let C = 0
    for (const c of uni.values()) C += c
    const p = Math.max((uni.get(w) ?? 0) - D[1]!, 0) / C + ((D[1]! * uni.size) / C) * (1 / (V + 1))
    if (base === 'uniform') return p
    if (!uni.has(w)) return 0
    let support = 0
    for (const u of uni.keys()) support += Math.max(uni.get(u)! - D[1]!, 0) / C + ((D[1]! * uni.size) / C) * (1 / (V + 1))
    return p / support
  }
  return (history, w) => {
    const full = [START, ...history]
    let p = level1(w)
    for (let l = 2; l <= order; l++) {
      if (full.length < l - 1) break
      const context = full.slice(full.length - (l - 1))
      const kids = children(context, l)
      if (kids.size === 0) continue
      let C = 0
      for (const c of kids.values()) C += c
      p = Math.max((kids.get(w) ?? 0) - D[l]!, 0) / C + ((D[l]! * kids.size) / C) * p
    }
    return p
  }
}

export function tokenSamples(sentences: readonly (readonly number[])[], vocabSize: number): TokenSamples {
  const offsets = new Uint32Array(sentences.length + 1)
  sentences.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
  return { modality: 'tokens', n: sentences.length, vocabSize, tokens: Int32Array.from(sentences.flat()), offsets }
}

export function sentencesOf(s: TokenSamples): number[][] {
  return Array.from({ length: s.n }, (_, i) => Array.from(s.tokens.subarray(s.offsets[i]!, s.offsets[i + 1]!)))
}

/** A small corpus with repeated structure, rare words, a word seen only once and one never seen (id 12). */
export const VOCABULARY = ['<unk>', 'the', 'cat', 'dog', 'sat', 'ran', 'on', 'mat', 'a', 'rug', '.', 'big', 'zebra', 'quietly']
export const CORPUS: number[][] = [
  'the cat sat on the mat .',
  'the dog sat on the rug .',
  'a cat ran on a mat .',
  'the big dog ran .',
  'a big cat sat .',
  'the cat sat .',
  'the dog ran quietly .',
  'cat .',
  'the the the cat',
  'on the mat the cat sat on the mat .',
].map((s) => s.split(' ').map((w) => VOCABULARY.indexOf(w)))
