import { describe, expect, it } from 'vitest'
import { ErrorCode, Rng, toOuroborosError, type TokenSamples } from '@ouroboros/core'
import { model } from './index.js'
import { alphabetOf, readWords, spell } from './spelling.js'
import { VOCABULARY, toySentences } from './toy.testutil.js'

const dataset = { kind: 'toy', modality: 'tokens' as const, vocabulary: VOCABULARY }
const params = model.params.parse({ context: 8, embedding: 8, hidden: [48], steps: 400, batch: 64, lr: 1e-2, evalEvery: 0 })
const sentences = (s: TokenSamples): string[] =>
  Array.from({ length: s.n }, (_, i) => Array.from(s.tokens.subarray(s.offsets[i]!, s.offsets[i + 1]!), (id) => VOCABULARY[id]).join(' '))

describe('charlm', () => {
  const data = toySentences(300, Rng.from(1))
  const fitted = model.fit(data, params, { rng: Rng.from(2), generation: 0, dataset })

  it('spells sentences as characters, spaces and an end, and reads them back', () => {
    const alphabet = alphabetOf(VOCABULARY)
    const text = spell(data, VOCABULARY, alphabet)
    const ids = new Map(VOCABULARY.map((w, i) => [w, i]))
    for (let i = 0; i < 20; i++) {
      const a = text.offsets[i]!
      const b = text.offsets[i + 1]!
      expect(text.symbols[b - 1]).toBe(0)
      expect(readWords(text.symbols.subarray(a, b - 1), b - 1 - a, alphabet, ids, 0)).toEqual(Array.from(data.tokens.subarray(data.offsets[i]!, data.offsets[i + 1]!)))
    }
    // An empty sentence is its END alone.
    const withEmpty = spell({ modality: 'tokens', n: 3, vocabSize: VOCABULARY.length, tokens: Int32Array.from([1, 2]), offsets: Uint32Array.from([0, 0, 2, 2]) }, VOCABULARY, alphabet)
    expect(Array.from(withEmpty.offsets)).toEqual([0, 1, 9, 10])
    expect(withEmpty.symbols[0]).toBe(0)
    // Skipped words (the training text skips <unk>) leave no trace, spaces included.
    const skipped = spell({ modality: 'tokens', n: 2, vocabSize: VOCABULARY.length, tokens: Int32Array.from([0, 1, 0, 2, 0]), offsets: Uint32Array.from([0, 4, 5]) }, VOCABULARY, alphabet, 0)
    expect(Array.from(skipped.offsets)).toEqual([0, 8, 9])
    expect(Array.from(skipped.symbols.subarray(0, 8))).toEqual(Array.from(withEmpty.symbols.subarray(1, 9)))
    // A made-up word reads as <unk> (id 0).
    const code = (s: string): number[] => [...s].map((ch) => (ch === ' ' ? 1 : alphabet.chars.indexOf(ch) + 2))
    expect(readWords(code('the cta sat'), 11, alphabet, ids, 0)).toEqual([1, 0, 4])
  })

  it('learns the toy grammar: its samples are mostly grammar sentences, rarely made-up words', async () => {
    const samples = await model.sample(await fitted, 400, { rng: Rng.from(3), temperature: 1, dataset })
    const grammar = /^(the|a) (big )?(cat|dog) (sat|ran)( on (the|a) (mat|rug))? \.$/
    expect(sentences(samples).filter((s) => grammar.test(s)).length).toBeGreaterThan(300)
  })

  it('is greedy as the temperature goes to 0: every sample is the same sentence', async () => {
    const state = await fitted
    const a = sentences(await model.sample(state, 50, { rng: Rng.from(4), temperature: 1e-3, dataset }))
    const b = sentences(await model.sample(state, 50, { rng: Rng.from(5), temperature: 1e-3, dataset }))
    expect(new Set([...a, ...b]).size).toBe(1)
  })

  it('scores grammar sentences far above their shuffled words', async () => {
    const state = await fitted
    const heldout = toySentences(100, Rng.from(6))
    const shuffled = { ...heldout, tokens: heldout.tokens.slice().reverse() }
    const good = await model.logLikelihood!(state, heldout)
    const bad = await model.logLikelihood!(state, shuffled)
    expect(good.reduce((x, y) => x + y, 0)).toBeGreaterThan(bad.reduce((x, y) => x + y, 0) + 500)
    for (const v of good) expect(v).toBeLessThan(0)
  })

  it('reports the training loss every evalEvery steps and at the last step', async () => {
    const steps: number[] = []
    await model.fit(data, { ...params, steps: 25, evalEvery: 10 }, { rng: Rng.from(2), generation: 0, dataset, onTrainingStep: async (step) => void steps.push(step) })
    expect(steps).toEqual([10, 20, 25])
  })

  it('stops with a diverged error when the loss becomes NaN', async () => {
    // Adam's steps are bounded by lr, so a large lr alone does not overflow; start from NaN weights.
    const state = await fitted
    const broken = { ...state, weights: state.weights.map((w) => ({ ...w, data: w.data.map(() => NaN) })) }
    const err = await Promise.resolve(model.fit(data, params, { rng: Rng.from(7), generation: 1, dataset, init: broken })).catch((e: unknown) => e)
    expect(toOuroborosError(err).code).toBe(ErrorCode.DIVERGED)
  })

  it('refuses data whose vocabulary has no <unk>', async () => {
    const noUnknown = { ...dataset, vocabulary: VOCABULARY.slice(1) }
    await expect(Promise.resolve().then(() => model.fit(data, params, { rng: Rng.from(8), generation: 0, dataset: noUnknown }))).rejects.toThrow(/<unk>/)
  })
})
