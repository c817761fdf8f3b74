import { describe, expect, it } from 'vitest'
import { fitKneserNey, scoreNext, sentenceLogProbs, startContext, totalsOf, type NgramState } from './kneser-ney.js'
import { CORPUS, VOCABULARY, referenceModel, tokenSamples } from './reference.testutil.js'

const V = VOCABULARY.length
const data = tokenSamples(CORPUS, V)

/** Scoring probability of w after `history` (a sentence's first words). */
function probability(state: NgramState, history: readonly number[], w: number): number {
  const totals = totalsOf(state)
  let ctx = startContext(state)
  let next = new Int32Array(state.order + 1)
  for (const h of history) {
    scoreNext(state, totals, ctx, h, next)
    ;[ctx, next] = [next, ctx]
  }
  return scoreNext(state, totals, ctx, w)
}

/** Every prefix of every training sentence, and histories with unseen words and unseen n-grams. */
const histories: number[][] = [
  ...CORPUS.flatMap((s) => Array.from({ length: s.length + 1 }, (_, i) => s.slice(0, i))),
  [12],
  [12, 2],
  [2, 12, 1],
  [1, 1, 1, 1, 1],
  [4, 4, 4],
  [13, 10, 1],
]

describe('interpolated Kneser-Ney', () => {
  for (const order of [1, 2, 3, 4, 5]) {
    for (const discount of ['auto', 0.75, 0] as const) {
      it(`order ${order}, discount ${discount}: probabilities sum to 1 over the vocabulary and match a plain reimplementation`, () => {
        const state = fitKneserNey(data, order, discount)
        const reference = referenceModel(CORPUS, V, order, discount, 'uniform')
        for (const h of histories) {
          let sum = 0
          for (let w = 0; w <= V; w++) {
            const p = probability(state, h, w)
            expect(p).toBeCloseTo(reference(h, w), 12)
            sum += p
          }
          expect(sum).toBeCloseTo(1, 12)
        }
      })
    }
  }

  it('gives a word never seen in training (and <unk>) a positive probability: the uniform floor', () => {
    const state = fitKneserNey(data, 3, 'auto')
    expect(probability(state, [1], 12)).toBeGreaterThan(0)
    expect(probability(state, [], 0)).toBeGreaterThan(0)
    const ll = sentenceLogProbs(state, tokenSamples([[1, 12, 4]], V))
    expect(Number.isFinite(ll[0]!)).toBe(true)
  })

  it('uses the Chen & Goodman discount n1 / (n1 + 2 n2) of the top order by default', () => {
    const state = fitKneserNey(data, 2, 'auto')
    // Top-order (raw) bigram counts of the corpus, counted independently.
    const counts = new Map<string, number>()
    for (const s of CORPUS) {
      const padded = [V + 1, ...s, V]
      for (let t = 1; t < padded.length; t++) counts.set(`${padded[t - 1]} ${padded[t]}`, (counts.get(`${padded[t - 1]} ${padded[t]}`) ?? 0) + 1)
    }
    const n1 = [...counts.values()].filter((c) => c === 1).length
    const n2 = [...counts.values()].filter((c) => c === 2).length
    expect(state.discounts[1]).toBeCloseTo(n1 / (n1 + 2 * n2), 15)
  })

  it("keeps 'auto' from giving a held-out word probability 0 where no n-gram is seen once: the textbook D = 0.75", () => {
    // Every bigram and every continuation count is 2, so n1 = 0 at both levels and Chen & Goodman's
    // estimate would be 0, giving the bigram "0 0" (context 0 seen, continuation not) probability 0.
    const twice = tokenSamples([[0, 1], [0, 1], [1, 0], [1, 0]], 2)
    const state = fitKneserNey(twice, 2, 'auto')
    expect(Array.from(state.discounts)).toEqual([0.75, 0.75])
    // By hand, D = 0.75, outcomes 0, 1, END (V + 1 = 3). Level 1: continuation counts 2, 2, 2 (C = 6,
    // 3 types), p1 = (2 − 0.75)/6 + (0.75·3/6)·(1/3) = 1/3 each. Context START: children 0 and 1 of
    // count 2 (C = 4, N = 2), p(0 | START) = 1.25/4 + (0.75·2/4)·(1/3) = 0.4375. Context 0: children 1
    // and END of count 2, p(0 | 0) = 0 + 0.375·(1/3) = 0.125 and p(END | 0) = 0.4375.
    const ll = sentenceLogProbs(state, tokenSamples([[0, 0]], 2))
    expect(ll[0]).toBeCloseTo(Math.log(0.4375 * 0.125 * 0.4375), 12)
  })

  it('gives a unigram model, on its own training text, the perplexity exp(entropy) of the word-and-end frequencies', () => {
    const state = fitKneserNey(data, 1, 0)
    const ll = sentenceLogProbs(state, data)
    const tokens = data.tokens.length + data.n
    const perplexity = Math.exp(-ll.reduce((a, b) => a + b, 0) / tokens)
    const counts = new Map<number, number>()
    for (const s of CORPUS) for (const w of [...s, V]) counts.set(w, (counts.get(w) ?? 0) + 1)
    let entropy = 0
    for (const c of counts.values()) entropy -= (c / tokens) * Math.log(c / tokens)
    expect(perplexity).toBeCloseTo(Math.exp(entropy), 10)
  })

  it('scores each sentence as the sum of its words and its end', () => {
    const state = fitKneserNey(data, 3, 'auto')
    const sentence = CORPUS[0]!
    let expected = 0
    for (let i = 0; i <= sentence.length; i++) expected += Math.log(probability(state, sentence.slice(0, i), i < sentence.length ? sentence[i]! : V))
    expect(sentenceLogProbs(state, tokenSamples([sentence], V))[0]).toBeCloseTo(expected, 12)
  })
})
