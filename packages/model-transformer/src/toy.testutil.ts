import type { Rng, TokenSamples } from '@ouroboros/core'

export const VOCABULARY = ['<unk>', 'the', 'cat', 'dog', 'sat', 'ran', 'on', 'mat', 'a', 'rug', '.', 'big']

const w = (s: string): number[] => s.split(' ').map((x) => VOCABULARY.indexOf(x))

/** n sentences of a toy grammar: (the|a) [big] (cat|dog) (sat|ran) [on (the|a) (mat|rug)] . */
export function toySentences(n: number, rng: Rng): TokenSamples {
  const pick = (...xs: string[]): string => xs[rng.int(xs.length)]!
  const sentences = Array.from({ length: n }, () => {
    let s = `${pick('the', 'a')} ${rng.uniform() < 0.3 ? 'big ' : ''}${pick('cat', 'dog')} ${pick('sat', 'ran')}`
    if (rng.uniform() < 0.5) s += ` on ${pick('the', 'a')} ${pick('mat', 'rug')}`
    return w(`${s} .`)
  })
  const offsets = new Uint32Array(n + 1)
  sentences.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
  return { modality: 'tokens', n, vocabSize: VOCABULARY.length, tokens: Int32Array.from(sentences.flat()), offsets }
}
