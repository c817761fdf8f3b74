import { describe, expect, it } from 'vitest'
import { Rng, type MetricValues, type TokenSamples } from '@ouroboros/core'
import { text } from './text.js'

function tokens(sentences: number[][], vocabSize: number): TokenSamples {
  const offsets = new Uint32Array(sentences.length + 1)
  sentences.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
  return { modality: 'tokens', n: sentences.length, vocabSize, tokens: Int32Array.from(sentences.flat()), offsets }
}

const dataset = { kind: 'toy', modality: 'tokens' as const }

async function textMetrics(real: TokenSamples, generated: TokenSamples, raw: Record<string, unknown> = {}): Promise<MetricValues> {
  const options = text.options.parse(raw)
  const rng = Rng.from(0)
  const prepared = await text.prepare!({ real, dataset, options, rng })
  return text.compute({ real, generated, options, dataset, prepared, rng })
}

describe('text metrics', () => {
  // Real counts: type 0 ×13, 1 ×6, 2, 3, 4 once each (22 tokens). 90 % is 19.8 tokens, reached by
  // 0, 1 and then 2 (the lowest id among the types seen once): head {0, 1, 2}, tail {3, 4}.
  const real = tokens([[0, 0, 0, 0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0, 1, 1, 1], [2, 3, 4]], 6)
  // Generated: 0 ×3, 1 ×3, 3 ×1 and 5 (never in the real data) ×1, with an empty sentence.
  const generated = tokens([[0, 1, 0, 1], [0, 1, 3], [5], []], 6)

  it('matches hand-computed values on a tiny corpus', async () => {
    const m = await textMetrics(real, generated)
    expect(m['vocab_size']).toBe(4)
    // 4 types / 8 tokens; bigrams 01 10 01 | 01 13: 3 of 5; trigrams 010 101 | 013: 3 of 3; 4-grams 0101: 1 of 1.
    expect(m['distinct_1']).toBeCloseTo(0.5, 15)
    expect(m['distinct_2']).toBeCloseTo(0.6, 15)
    expect(m['distinct_3']).toBeCloseTo(1, 15)
    expect(m['distinct_4']).toBeCloseTo(1, 15)
    expect(m['unigram_entropy']).toBeCloseTo(0.75 * Math.log(8 / 3) + 0.25 * Math.log(8), 14)
    // Tokens 3 and 5 lie outside the head; of the tail {3, 4} only 3 appears.
    expect(m['tail_mass']).toBeCloseTo(2 / 8, 15)
    expect(m['tail_coverage']).toBeCloseTo(1 / 2, 15)
  })

  it('claims no direction for tail_mass: made-up words raise it above the real value, a lost tail lowers it', async () => {
    // Real tail mass: tokens 3 and 4 of 22, 1/11. Words the real data lack (5) are all tail: 1.
    // Only head words (0, 1, 2): 0. Both are as far from real text, on opposite sides.
    expect((await textMetrics(real, real))['tail_mass']).toBeCloseTo(2 / 22, 15)
    expect((await textMetrics(real, tokens([[5, 5], [5]], 6)))['tail_mass']).toBe(1)
    expect((await textMetrics(real, tokens([[0, 1], [2]], 6)))['tail_mass']).toBe(0)
    const info = text.outputInfo!['tail_mass']!
    expect(info.threshold).toBeUndefined()
    expect(info.better).toBeUndefined()
  })

  it('counts distinct n-grams as a set of their word sequences does, past thousands of them', async () => {
    // Sentences of 1..40 words from a vocabulary of 3,000 with a heavy head: tens of thousands of
    // n-grams, many repeated, so the id table grows several times.
    const rng = Rng.from(7, 'distinct')
    const sentences = Array.from({ length: 2000 }, () => Array.from({ length: 1 + Math.floor(rng.uniform() * 40) }, () => Math.floor(3000 * rng.uniform() ** 3)))
    const m = await textMetrics(real, tokens(sentences, 3000))
    for (let n = 1; n <= 4; n++) {
      const seen = new Set<string>()
      let total = 0
      for (const s of sentences) for (let t = n - 1; t < s.length; t++, total++) seen.add(s.slice(t - n + 1, t + 1).join(' '))
      expect(seen.size, `n = ${n}`).toBeGreaterThan(1024)
      expect(m[`distinct_${n}`], `n = ${n}`).toBe(seen.size / total)
    }
  })

  it('gives null where there is nothing to count', async () => {
    const m = await textMetrics(real, tokens([[2], []], 6))
    expect(m['vocab_size']).toBe(1)
    expect(m['distinct_1']).toBe(1)
    expect(m['distinct_2']).toBeNull()
    expect(m['zipf_slope']).toBeNull()
    const empty = await textMetrics(real, tokens([[]], 6))
    expect(empty['unigram_entropy']).toBeNull()
    expect(empty['tail_mass']).toBeNull()
    expect(empty['tail_coverage']).toBe(0)
  })

  it('fits a Zipf slope of exactly -1 to counts 60/r, over the ranks it is told to use', async () => {
    // Counts 60, 30, 20, 15, 12, 10 for types 0..5, then four types seen once.
    const counts = [60, 30, 20, 15, 12, 10, 1, 1, 1, 1]
    const sample = tokens([counts.flatMap((c, w) => Array<number>(c).fill(w))], 10)
    expect((await textMetrics(sample, sample, { zipfRanks: 6 }))['zipf_slope']).toBeCloseTo(-1, 12)
    expect((await textMetrics(sample, sample))['zipf_slope']).toBeLessThan(-1)
  })

  it('counts distinct n-grams of a large vocabulary exactly', async () => {
    const V = 60_000
    const sample = tokens([[V - 1, V - 2, V - 1, V - 2, V - 1], [V - 2, V - 1]], V)
    const m = await textMetrics(sample, sample)
    // bigrams (a b) (b a) (a b) (b a) | (b a): 2 of 5; trigrams aba bab aba: 2 of 3.
    expect(m['distinct_2']).toBeCloseTo(2 / 5, 15)
    expect(m['distinct_3']).toBeCloseTo(2 / 3, 15)
  })
})
