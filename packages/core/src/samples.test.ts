import { describe, expect, it } from 'vitest'
import { allFinite, inVocabulary, samplesAreFinite, vectors } from './samples.js'

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
