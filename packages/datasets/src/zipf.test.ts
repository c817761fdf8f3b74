import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import { expectedTypes, expectedTypesChain, zipf, zipfProbabilities } from './zipf.js'

describe('zipf', () => {
  it('has probabilities ∝ k^(−exponent) that sum to 1', () => {
    const p = zipfProbabilities(1000, 1.1)
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    expect(p[0]! / p[1]!).toBeCloseTo(2 ** 1.1, 12)
    expect(p[9]! / p[99]!).toBeCloseTo(10 ** 1.1, 10)
  })

  // M = 50 sequences of 40 tokens from V = 1000 types; 300 independent draws.
  const V = 1000
  const exponent = 1.1
  const M = 2000
  const reps = 300
  const ds = zipf.create(zipf.params.parse({ vocabSize: V, exponent, length: 40 }), Rng.from(0))
  const p = zipfProbabilities(V, exponent)

  it('keeps a type of probability p in M tokens with probability 1 − (1 − p)^M', () => {
    const seen = new Float64Array(V)
    let typesSum = 0
    let typesSq = 0
    for (let r = 0; r < reps; r++) {
      const present = new Set(ds.sample(50, Rng.from(r, 'survival')).tokens)
      for (const w of present) seen[w]!++
      typesSum += present.size
      typesSq += present.size ** 2
    }
    for (const k of [0, 9, 99, 299, 599, 999]) {
      const q = 1 - (1 - p[k]!) ** M
      expect(Math.abs(seen[k]! / reps - q)).toBeLessThan(5 * Math.sqrt((q * (1 - q)) / reps) + 1e-9)
    }
    const mean = typesSum / reps
    const sd = Math.sqrt(typesSq / reps - mean ** 2)
    expect(Math.abs(mean - expectedTypes(p, M))).toBeLessThan((5 * sd) / Math.sqrt(reps))
  })

  it('predicts the types left by a chain of resamplings (maximum-likelihood unigram models)', () => {
    const steps = 6
    const predicted = expectedTypesChain(p, M, steps)
    expect(predicted[0]).toBeCloseTo(expectedTypes(p, M), 6)
    const sums = new Float64Array(steps)
    const squares = new Float64Array(steps)
    for (let r = 0; r < reps; r++) {
      const rng = Rng.from(r, 'chain')
      // Step 1 draws from p; each later step draws M tokens from the previous step's tokens.
      let tokens = ds.sample(50, rng).tokens
      for (let s = 0; s < steps; s++) {
        if (s > 0) tokens = Int32Array.from({ length: M }, () => tokens[rng.int(M)]!)
        const types = new Set(tokens).size
        sums[s]! += types
        squares[s]! += types ** 2
      }
    }
    for (let s = 0; s < steps; s++) {
      const mean = sums[s]! / reps
      const sd = Math.sqrt(squares[s]! / reps - mean ** 2)
      expect(Math.abs(mean - predicted[s]!)).toBeLessThan((5 * sd) / Math.sqrt(reps))
    }
    for (let s = 1; s < steps; s++) expect(predicted[s]!).toBeLessThan(predicted[s - 1]!)
  })
})
