import { describe, expect, it } from 'vitest'
import { Rng, type DatasetInstance, type TokenSamples } from '@ouroboros/core'
import { UNKNOWN_WORD, brown } from './brown.js'

const create = (params: Record<string, unknown> = {}): Required<DatasetInstance> => brown.create(brown.params.parse(params), Rng.from(0)) as Required<DatasetInstance>

const sentenceTexts = (s: TokenSamples): string[] =>
  Array.from({ length: s.n }, (_, i) => Array.from(s.tokens.subarray(s.offsets[i]!, s.offsets[i + 1]!)).join(' '))

describe('brown', () => {
  const ds = create()
  const { n: trainSize, heldout: heldoutSize } = brown.limits!(brown.params.parse({}))
  const train = ds.sample(trainSize, Rng.from(1))
  const heldout = ds.heldout(57_340 - trainSize, Rng.from(2))

  it('holds the NLTK Brown corpus: 57,340 sentences, 1,161,192 tokens, 49,815 lower-cased types', () => {
    expect(trainSize + heldoutSize!).toBe(57_340)
    expect(trainSize + heldout.n).toBe(57_340)
    expect(heldout.n).toBe(5734)
    expect(train.tokens.length + heldout.tokens.length).toBe(1_161_192)
    const vocabulary = ds.info.vocabulary!
    expect(vocabulary.length).toBe(49_816)
    expect(vocabulary[0]).toBe(UNKNOWN_WORD)
    // The most frequent words of the Brown corpus, in order.
    expect(vocabulary.slice(1, 5)).toEqual(['the', ',', '.', 'of'])
    expect(new Set(vocabulary).size).toBe(vocabulary.length)
    expect(vocabulary.every((w) => w === w.toLowerCase() && !/\s/.test(w))).toBe(true)
  })

  it('draws distinct sentences, and the same split for every chain', () => {
    // All training and all held-out sentences together are the corpus (first test): the splits
    // are disjoint. Within a draw, sentences do not repeat (the corpus repeats a few, "yes .").
    const a = sentenceTexts(ds.sample(2000, Rng.from(3)))
    expect(new Set(a).size).toBeGreaterThan(1990)
    const heldoutTexts = sentenceTexts(heldout)
    expect(sentenceTexts(create().heldout(50, Rng.from(2)))).toEqual(heldoutTexts.slice(0, 50))
    expect(sentenceTexts(create({ splitSeed: 1 }).heldout(50, Rng.from(2)))).not.toEqual(heldoutTexts.slice(0, 50))
  })

  it('maps words rarer than minCount to <unk>', () => {
    const ds2 = create({ minCount: 2 })
    const all = ds2.sample(trainSize, Rng.from(1))
    const held = ds2.heldout(57_340 - trainSize, Rng.from(2))
    // 22,010 of the 49,815 types occur once in the whole corpus.
    expect(ds2.info.vocabulary!.length).toBe(1 + 49_815 - 22_010)
    const unknown = all.tokens.filter((t) => t === 0).length + held.tokens.filter((t) => t === 0).length
    expect(unknown).toBe(22_010)
  })

  it('refuses more sentences than a split has, naming the size', () => {
    expect(() => ds.heldout(6000, Rng.from(0))).toThrow(/5734 sentences/)
  })
})
