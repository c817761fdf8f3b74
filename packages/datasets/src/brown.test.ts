import { describe, expect, it } from 'vitest'
import { Rng, type DatasetInstance, type TokenSamples } from '@ouroboros/core'
import { UNKNOWN_WORD } from '@ouroboros/core'
import { brown } from './brown.js'

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

  it('refuses a minCount that keeps no word, naming the most frequent word and its count', () => {
    expect(() => create({ minCount: 100_000_000 })).toThrow(/^data\.minCount: 100000000 keeps no word of the corpus, whose most frequent, 'the', occurs \d+ times$/)
    expect(() => brown.limits!(brown.params.parse({ minCount: 100_000_000 }))).toThrow(/^data\.minCount: 100000000 keeps no word/)
  })

  it('refuses more sentences than a split has, naming the size', () => {
    expect(() => ds.heldout(6000, Rng.from(0))).toThrow(/5734 sentences/)
  })

  // Sentences per category of NLTK's brown.sents(categories=...), which reads the same files.
  const perGenre: Record<string, number> = {
    adventure: 4637, belles_lettres: 7209, editorial: 2997, fiction: 4249, government: 3032, hobbies: 4193, humor: 1053, learned: 7734,
    lore: 4881, mystery: 3886, news: 4623, religion: 1716, reviews: 1751, romance: 4431, science_fiction: 948,
  }

  it('knows the genre of every sentence, from the corpus\'s cats.txt', () => {
    const genres = ds.info.genres!
    expect(genres.names).toEqual(Object.keys(perGenre))
    expect(genres.sentences.n).toBe(57_340)
    expect(genres.sentences.tokens.length).toBe(1_161_192)
    const counts = Object.fromEntries(genres.names.map((name, g) => [name, genres.of.filter((x) => x === g).length]))
    expect(counts).toEqual(perGenre)
    expect(genres.train.length).toBe(trainSize)
    expect(genres.selected).toBeUndefined()
  })

  it('names the category a misspelt one is one letter from, and none for a word far from every category', () => {
    const message = (name: string): string => brown.params.safeParse({ categories: [name] }).error!.issues[0]!.message
    expect(message('newz')).toMatch(/^unknown Brown category 'newz' \(did you mean 'news'\?\); expected one of adventure, /)
    expect(message('poetry')).toMatch(/^unknown Brown category 'poetry'; expected one of adventure, /)
  })

  it('restricts training and held-out sentences alike to data.categories, within the split of the whole corpus', () => {
    for (const name of ['news', 'science_fiction']) {
      const limits = brown.limits!(brown.params.parse({ categories: [name] }))
      expect(limits.n + limits.heldout!).toBe(perGenre[name])
    }
    const params = brown.params.parse({ categories: ['romance', 'news'] })
    const restricted = create({ categories: ['romance', 'news'] })
    const { n, heldout: h } = brown.limits!(params)
    const genres = restricted.info.genres!
    expect(genres.selected).toEqual([genres.names.indexOf('news'), genres.names.indexOf('romance')])
    // The texts of the corpus's news and romance sentences.
    const all = genres.sentences
    const wanted = new Set<string>()
    const copies = new Map<string, number>()
    for (const [i, text] of sentenceTexts(all).entries()) {
      if (genres.selected!.includes(genres.of[i]!)) wanted.add(text)
      copies.set(text, (copies.get(text) ?? 0) + 1)
    }
    const trainTexts = sentenceTexts(restricted.sample(n, Rng.from(1)))
    const heldoutTexts = sentenceTexts(restricted.heldout(h!, Rng.from(2)))
    for (const t of [...trainTexts, ...heldoutTexts]) expect(wanted.has(t)).toBe(true)
    // Held out of the whole corpus's split, and never drawn for training (seen on sentences the
    // corpus has once: it repeats a few, such as "yes .", across the split).
    const heldoutAll = new Set(sentenceTexts(heldout))
    const trainSet = new Set(trainTexts)
    for (const t of heldoutTexts) {
      expect(heldoutAll.has(t)).toBe(true)
      if (copies.get(t) === 1) expect(trainSet.has(t)).toBe(false)
    }
    expect(() => restricted.sample(n + 1, Rng.from(3))).toThrow(new RegExp(`${n} sentences of the chosen categories`))
  })

  it('refuses unknown and repeated categories, naming the known ones', () => {
    const unknown = brown.params.safeParse({ categories: ['news', 'sports'] })
    expect(unknown.success).toBe(false)
    expect(unknown.error!.issues[0]!.message).toContain("unknown Brown category 'sports'; expected one of adventure, belles_lettres")
    expect(brown.params.safeParse({ categories: ['news', 'news'] }).success).toBe(false)
    expect(brown.params.safeParse({ categories: [] }).success).toBe(false)
  })
})
