import { describe, expect, it } from 'vitest'
import { Rng, type TokenSamples } from '@ouroboros/core'
import { fitKneserNey } from './kneser-ney.js'
import { sampleSentences, type SamplingOptions } from './sampler.js'
import { CORPUS, VOCABULARY, referenceModel, sentencesOf, tokenSamples } from './reference.testutil.js'

const V = VOCABULARY.length
const END = V
const data = tokenSamples(CORPUS, V)
const N = 40_000

/** How often each outcome follows `history` in the samples (END where a sentence stops there). */
function nextCounts(samples: TokenSamples, history: readonly number[]): { counts: Float64Array; total: number } {
  const counts = new Float64Array(V + 1)
  let total = 0
  for (const s of sentencesOf(samples)) {
    if (s.length < history.length || history.some((h, i) => s[i] !== h)) continue
    counts[history.length < s.length ? s[history.length]! : END]!++
    total++
  }
  return { counts, total }
}

/** The reference sampling distribution after `history`: tempered, then truncated, renormalised. */
function expected(order: number, history: readonly number[], options: Omit<SamplingOptions, 'maxLength'>): Float64Array {
  const reference = referenceModel(CORPUS, V, order, 'auto', 'support')
  const p = Array.from({ length: V + 1 }, (_, w) => reference(history, w))
  const ranked = p.map((_, w) => w).sort((a, b) => p[b]! - p[a]!)
  const q = p.map((x) => x ** (1 / options.temperature))
  const total = q.reduce((a, b) => a + b, 0)
  const keep = new Set<number>()
  let mass = 0
  for (const w of ranked) {
    if (p[w] === 0) break
    if (options.topK !== undefined && keep.size >= options.topK) break
    if (options.topP !== undefined && mass >= options.topP * total) break
    keep.add(w)
    mass += q[w]!
  }
  return Float64Array.from(q, (x, w) => (keep.has(w) ? x / mass : 0))
}

/** Every frequency within 5 binomial standard errors (plus a little) of its expectation. */
function expectFrequencies(observed: { counts: Float64Array; total: number }, probabilities: Float64Array): void {
  expect(observed.total).toBeGreaterThan(1000)
  for (let w = 0; w <= V; w++) {
    const p = probabilities[w]!
    const f = observed.counts[w]! / observed.total
    if (p === 0) expect(observed.counts[w]).toBe(0)
    else expect(Math.abs(f - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / observed.total) + 1e-3)
  }
}

describe('n-gram sampling', () => {
  const cases: { name: string; order: number; options: Omit<SamplingOptions, 'maxLength'> }[] = [
    { name: 'trigram, temperature 1', order: 3, options: { temperature: 1 } },
    { name: 'trigram, temperature 0.5', order: 3, options: { temperature: 0.5 } },
    { name: 'bigram, temperature 2', order: 2, options: { temperature: 2 } },
    { name: '4-gram, top-k 3', order: 4, options: { temperature: 1, topK: 3 } },
    { name: 'trigram, top-p 0.6', order: 3, options: { temperature: 1, topP: 0.6 } },
    { name: 'trigram, temperature 0.7 and top-p 0.8', order: 3, options: { temperature: 0.7, topP: 0.8 } },
    { name: 'trigram, top-k 4 and top-p 0.9', order: 3, options: { temperature: 1, topK: 4, topP: 0.9 } },
  ]
  for (const { name, order, options } of cases) {
    it(`${name}: next-word frequencies match the model's tempered, truncated distribution`, () => {
      const state = fitKneserNey(data, order, 'auto')
      const samples = sampleSentences(state, N, Rng.from(1, name), { ...options, maxLength: 50 })
      for (const history of [[], [1], [1, 2], [8, 11]]) {
        const observed = nextCounts(samples, history)
        if (observed.total > 1000) expectFrequencies(observed, expected(order, history, options))
      }
    })
  }

  it('never draws a word the training data lack (the floor is for scoring only)', () => {
    const state = fitKneserNey(data, 3, 'auto')
    const samples = sampleSentences(state, N, Rng.from(2), { temperature: 1.5, maxLength: 50 })
    expect(samples.tokens.includes(12)).toBe(false)
    expect(samples.tokens.includes(0)).toBe(false)
  })

  it('is greedy as the temperature goes to 0', () => {
    const order = 3
    const state = fitKneserNey(data, order, 'auto')
    const reference = referenceModel(CORPUS, V, order, 'auto', 'support')
    // Greedy decoding by brute force over the reference distribution.
    const greedy: number[] = []
    for (;;) {
      const p = Array.from({ length: V + 1 }, (_, w) => reference(greedy, w))
      const sorted = [...p].sort((a, b) => b - a)
      expect(sorted[0]! / sorted[1]!).toBeGreaterThan(1.01)
      const w = p.indexOf(sorted[0]!)
      if (w === END || greedy.length === 30) break
      greedy.push(w)
    }
    const samples = sampleSentences(state, 200, Rng.from(3), { temperature: 1e-3, maxLength: 30 })
    for (const s of sentencesOf(samples)) expect(s).toEqual(greedy)
  })

  it('ends a sentence at maxLength', () => {
    const state = fitKneserNey(tokenSamples([[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]], V), 2, 'auto')
    const samples = sampleSentences(state, 50, Rng.from(4), { temperature: 1, maxLength: 4 })
    for (const s of sentencesOf(samples)) expect(s.length).toBeLessThanOrEqual(4)
  })
})
