import { z } from 'zod'
import { defineDataset, searchCumulative } from '@ouroboros/core'

/**
 * Sequences of `length` i.i.d. tokens over `vocabSize` types with Zipf probabilities
 * p_k ∝ k^(−exponent) (type k has id k − 1 and the word `w<k>`): the setting in which the
 * tail-cutting theory of model collapse is exact. A type of probability p appears in M tokens with
 * probability 1 − (1 − p)^M, so each generation that is fit to a finite sample loses rare types.
 */
export const zipf = defineDataset({
  id: 'zipf',
  modality: 'tokens',
  description: 'Sequences of i.i.d. tokens with Zipf probabilities p_k ∝ k^(−exponent) over vocabSize types',
  params: z.strictObject({
    vocabSize: z.int().min(1).max(10_000_000).default(10_000),
    exponent: z.number().min(0).max(10).default(1),
    /** Tokens per sequence. */
    length: z.int().min(1).max(100_000).default(20),
  }),
  create(p) {
    const probs = zipfProbabilities(p.vocabSize, p.exponent)
    const cdf = new Float64Array(p.vocabSize)
    let acc = 0
    for (let k = 0; k < p.vocabSize; k++) cdf[k] = acc += probs[k]!
    return {
      info: { kind: 'zipf', modality: 'tokens', vocabulary: Array.from({ length: p.vocabSize }, (_, k) => `w${k + 1}`) },
      sample(n, rng) {
        const tokens = new Int32Array(n * p.length)
        for (let t = 0; t < tokens.length; t++) tokens[t] = searchCumulative(cdf, rng.uniform())
        const offsets = Uint32Array.from({ length: n + 1 }, (_, i) => i * p.length)
        return { modality: 'tokens', n, vocabSize: p.vocabSize, tokens, offsets }
      },
    }
  },
})

/** p_k = k^(−exponent) / Σ_j j^(−exponent), k = 1..V, at index k − 1. */
export function zipfProbabilities(V: number, exponent: number): Float64Array {
  const p = new Float64Array(V)
  let total = 0
  for (let k = 0; k < V; k++) total += p[k] = (k + 1) ** -exponent
  for (let k = 0; k < V; k++) p[k]! /= total
  return p
}

/** Expected number of distinct types in M i.i.d. draws from p: Σ_k 1 − (1 − p_k)^M. */
export function expectedTypes(p: ArrayLike<number>, M: number): number {
  let s = 0
  for (let k = 0; k < p.length; k++) s -= Math.expm1(M * Math.log1p(-p[k]!))
  return s
}

/**
 * Expected number of distinct types after each of `steps` successive samplings of M tokens, each
 * from the empirical distribution of the one before (the first from p): a chain of maximum-
 * likelihood unigram models. A type's count is Binomial(M, its previous share), so the expected
 * number of types with each count is propagated exactly; a type whose count exceeds `cap` is
 * counted as surviving every later step (its extinction probability is below e^(−2·cap/steps)).
 */
export function expectedTypesChain(p: ArrayLike<number>, M: number, steps: number, cap = 2000): Float64Array {
  const out = new Float64Array(steps)
  // Expected number of types with each count 1..cap, and of types above cap.
  let byCount = new Float64Array(cap + 1)
  let above = 0
  const spread = (q: number, weight: number, into: Float64Array): number => {
    if (q * M > cap) return weight
    const sd = Math.sqrt(M * q * (1 - q))
    const lo = Math.max(1, Math.floor(q * M - 12 * sd - 5))
    const hi = Math.ceil(q * M + 12 * sd + 5)
    let spilled = 0
    const logNorm = logGamma(M + 1)
    for (let c = lo; c <= hi; c++) {
      const logPmf = logNorm - logGamma(c + 1) - logGamma(M - c + 1) + c * Math.log(q) + (M - c) * Math.log1p(-q)
      if (c > cap) spilled += weight * Math.exp(logPmf)
      else into[c]! += weight * Math.exp(logPmf)
    }
    return spilled
  }
  for (let k = 0; k < p.length; k++) above += spread(p[k]!, 1, byCount)
  for (let step = 0; step < steps; step++) {
    if (step > 0) {
      const next = new Float64Array(cap + 1)
      for (let c = 1; c <= cap; c++) if (byCount[c]! > 0) above += spread(c / M, byCount[c]!, next)
      byCount = next
    }
    let alive = above
    for (let c = 1; c <= cap; c++) alive += byCount[c]!
    out[step] = alive
  }
  return out
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error about 1e-15). */
function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  const g = 7
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7]
  x -= 1
  let a = c[0]!
  const t = x + g + 0.5
  for (let i = 1; i < g + 2; i++) a += c[i]! / (x + i)
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a)
}
