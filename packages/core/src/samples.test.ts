import { describe, expect, it } from 'vitest'
import { allFinite, inVocabulary, samplesAreFinite, samplesBreach, vectors, type Samples, type TokenSamples } from './samples.js'

describe('allFinite', () => {
  it('finds a non-finite value at every position, in the unrolled part and the tail', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 13]) {
      for (let at = 0; at < n; at++) {
        for (const bad of [Infinity, -Infinity, NaN]) {
          const x = Float64Array.from({ length: n }, (_, i) => i - 3.5)
          x[at] = bad
          expect(allFinite(x)).toBe(false)
        }
      }
      expect(allFinite(Float64Array.from({ length: n }, (_, i) => i - 3.5))).toBe(true)
    }
  })

  it('takes huge values whose sum would overflow, negative zeros and no values at all as finite', () => {
    expect(allFinite(new Float64Array(9).fill(Number.MAX_VALUE))).toBe(true)
    expect(allFinite(new Float64Array(9).fill(-Number.MAX_VALUE))).toBe(true)
    expect(allFinite(new Float64Array(5).fill(-0))).toBe(true)
    expect(allFinite(new Float64Array(0))).toBe(true)
  })

  it('is what samplesAreFinite says of vectors', () => {
    expect(samplesAreFinite(vectors(2, 2, Float64Array.of(1, 2, 3, 4)))).toBe(true)
    expect(samplesAreFinite(vectors(2, 2, Float64Array.of(1, 2, NaN, 4)))).toBe(false)
  })
})

describe('inVocabulary', () => {
  const task = ['<unk>', 'the', 'court', 'ruled']
  const run = ['<unk>', 'ruled', 'the', 'jury']
  // "the court ruled", "ruled", an empty sentence, "<unk> the".
  const s = { modality: 'tokens' as const, n: 4, vocabSize: 4, tokens: Int32Array.from([1, 2, 3, 3, 0, 1]), offsets: Uint32Array.from([0, 3, 4, 4, 6]) }

  it("renumbers every word by the other vocabulary, reading words it lacks as its '<unk>'", () => {
    const t = inVocabulary(s, task, run)
    const words = (x: typeof t, i: number): string[] => Array.from(x.tokens.subarray(x.offsets[i]!, x.offsets[i + 1]!), (id) => run[id]!)
    expect([0, 1, 2, 3].map((i) => words(t, i))).toEqual([['the', '<unk>', 'ruled'], ['ruled'], [], ['<unk>', 'the']])
    expect(t.vocabSize).toBe(4)
    expect(Array.from(t.offsets)).toEqual([0, 3, 4, 4, 6])
  })

  it("refuses a word the other vocabulary lacks when it has no '<unk>'", () => {
    expect(() => inVocabulary(s, task, ['the', 'court', 'ruled'])).toThrow("'<unk>' is not in the vocabulary")
    expect(Array.from(inVocabulary(s, task, ['ruled', 'court', 'the', '<unk>']).tokens)).toEqual([2, 1, 0, 0, 3, 2])
  })
})

describe('samplesBreach', () => {
  const data = vectors(5, 2)
  const text: TokenSamples = { modality: 'tokens', n: 2, vocabSize: 10, tokens: Int32Array.of(1, 2, 3), offsets: Uint32Array.of(0, 2, 3) }
  const sentences = (n: number, offsets: number[], vocabSize = 10): TokenSamples => ({ modality: 'tokens', n, vocabSize, tokens: Int32Array.of(4, 5, 6), offsets: Uint32Array.from(offsets) })

  it('passes n vectors of the data\'s dimension, and n sentences over at most its vocabulary', () => {
    expect(samplesBreach(vectors(3, 2), 3, data)).toBeUndefined()
    expect(samplesBreach(vectors(0, 2), 0, data)).toBeUndefined()
    expect(samplesBreach(sentences(2, [0, 1, 3]), 2, text)).toBeUndefined()
    expect(samplesBreach(sentences(3, [0, 0, 3, 3], 7), 3, text)).toBeUndefined()
  })

  it('names the shape got and the shape expected of vectors', () => {
    expect(samplesBreach(vectors(3, 3), 3, data)).toBe("3 x 3 values; expected 3 x 2 (the 3 items asked for, in the data's dimension 2)")
    expect(samplesBreach(vectors(2, 2), 3, data)).toBe("2 x 2 values; expected 3 x 2 (the 3 items asked for, in the data's dimension 2)")
    expect(samplesBreach({ modality: 'vectors', n: 3, d: 2, data: new Float64Array(5) }, 3, data)).toBe('3 x 2 values whose data hold 5; expected 6')
  })

  it('names sentences where vectors are expected, and what is not samples at all', () => {
    expect(samplesBreach(text, 2, data)).toBe("an object whose modality is \"tokens\"; expected vectors (the data's modality)")
    expect(samplesBreach(Float64Array.of(1, 2) as unknown as Samples, 1, data)).toBe("a bare array of 2 values; expected samples, { modality: 'vectors', n, d, data: a Float64Array of n × d values }")
    expect(samplesBreach([[1, 2]] as unknown as Samples, 1, data)).toBe("a bare array of 1 value; expected samples, { modality: 'vectors', n, d, data: a Float64Array of n × d values }")
    expect(samplesBreach({ n: 1 } as unknown as Samples, 1, data)).toBe("an object whose modality is undefined; expected vectors (the data's modality)")
    expect(samplesBreach(undefined as unknown as Samples, 1, data)).toBe("undefined; expected vectors (the data's modality)")
  })

  it('names the count, offsets or vocabulary of sentences that break the contract', () => {
    expect(samplesBreach(sentences(1, [0, 3]), 2, text)).toBe('1 sentence; expected 2 (the items asked for)')
    expect(samplesBreach(sentences(2, [0, 3]), 2, text)).toBe('2 offsets; expected 3 (where each of the 2 sentences starts, then the total)')
    expect(samplesBreach(sentences(2, [0, 1, 2]), 2, text)).toBe('offsets that run from 0 to 2; expected 0 to 3 (the number of token ids)')
    expect(samplesBreach(sentences(2, [1, 1, 3]), 2, text)).toBe('offsets that run from 1 to 3; expected 0 to 3 (the number of token ids)')
    expect(samplesBreach(sentences(3, [0, 2, 1, 3]), 3, text)).toBe('offset 2 (1) below offset 1 (2)')
    expect(samplesBreach(sentences(2, [0, 1, 3], 11), 2, text)).toBe("a vocabulary of 11 words; expected at most the data's 10")
    const outside = sentences(2, [0, 1, 3])
    outside.tokens[2] = 10
    expect(samplesBreach(outside, 2, text)).toBe('token id 10 at position 2; expected ids 0 to 9 (its vocabulary of 10 words)')
    outside.tokens[2] = -1
    expect(samplesBreach(outside, 2, text)).toBe('token id -1 at position 2; expected ids 0 to 9 (its vocabulary of 10 words)')
  })
})
