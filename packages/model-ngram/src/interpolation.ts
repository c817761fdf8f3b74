import { logSumExp, searchCumulative, type Rng, type TokenSamples } from '@ouroboros/core'
import { scoreNext, sentenceLogProbs, startContext, totalsOf, type NgramState, type Totals } from './kneser-ney.js'
import { Sampler, sampleSentences, type SamplingOptions } from './sampler.js'

/**
 * Interpolated n-gram models, the state post-training leaves (the trainer): models of one order
 * and vocabulary whose next-word distributions are mixed with weights λ_j summing to 1,
 *
 *   p(w | h) = Σ_j λ_j p_j(w | h),
 *
 * an n-gram model again, scored and sampled exactly: logLikelihood mixes the models' scoring
 * probabilities (kneser-ney.ts) word by word, sampling their sampling probabilities (sampler.ts).
 * A single model takes the plain code paths.
 */

/** Natural-log probability of each sequence under the interpolation, its end included unless it has maxLength words (sentenceLogProbs). */
export function interpolatedLogProbs(models: readonly NgramState[], weights: Float64Array, data: TokenSamples, maxLength = Infinity): Float64Array {
  if (models.length === 1) return sentenceLogProbs(models[0]!, data, maxLength)
  const J = models.length
  const totals = models.map(totalsOf)
  let ctx = models.map((m) => new Int32Array(m.order + 1))
  let next = models.map((m) => new Int32Array(m.order + 1))
  const V = models[0]!.vocabSize
  const out = new Float64Array(data.n)
  for (let s = 0; s < data.n; s++) {
    for (let j = 0; j < J; j++) startContext(models[j]!, ctx[j])
    const a = data.offsets[s]!
    const b = data.offsets[s + 1]!
    const last = b - a === maxLength ? b - 1 : b
    let ll = 0
    for (let t = a; t <= last; t++) {
      const w = t < b ? data.tokens[t]! : V
      let p = 0
      for (let j = 0; j < J; j++) p += weights[j]! * scoreNext(models[j]!, totals[j]!, ctx[j]!, w, next[j])
      ll += Math.log(p)
      const swap = ctx
      ctx = next
      next = swap
    }
    out[s] = ll
  }
  return out
}

/** n sentences drawn from the interpolation, tempered and truncated as sampleSentences does for one model. */
export function sampleInterpolated(models: readonly NgramState[], weights: Float64Array, n: number, rng: Rng, options: SamplingOptions): TokenSamples {
  if (models.length === 1) return sampleSentences(models[0]!, n, rng, options)
  const sampler = new InterpolatedSampler(models, weights, options)
  const J = models.length
  const END = models[0]!.vocabSize
  let tokens = new Int32Array(Math.max(16, n * 24))
  const offsets = new Uint32Array(n + 1)
  let ctx = models.map((m) => new Int32Array(m.order + 1))
  let next = models.map((m) => new Int32Array(m.order + 1))
  let at = 0
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < J; j++) startContext(models[j]!, ctx[j])
    for (let len = 0; len < options.maxLength; len++) {
      const w = sampler.draw(ctx, rng)
      if (w === END) break
      if (at === tokens.length) {
        const grown = new Int32Array(tokens.length * 2)
        grown.set(tokens)
        tokens = grown
      }
      tokens[at++] = w
      // Each model's context after w, in its own trie.
      for (let j = 0; j < J; j++) scoreNext(models[j]!, sampler.totals[j]!, ctx[j]!, w, next[j])
      const swap = ctx
      ctx = next
      next = swap
    }
    offsets[i + 1] = at
  }
  return { modality: 'tokens', n, vocabSize: END, tokens: tokens.slice(0, at), offsets }
}

/**
 * Draws from q(w) ∝ p(w)^(1/T), p = Σ_j λ_j p_j, without the full distribution, by rejection from
 * the models' own tempered samplers. With s = 1/T ≥ 1, Jensen gives (Σ_j λ_j p_j)^s ≤ Σ_j λ_j p_j^s;
 * with s < 1, subadditivity gives (Σ_j λ_j p_j)^s ≤ Σ_j (λ_j p_j)^s. So with c_j = λ_j (s ≥ 1) or
 * λ_j^s (s < 1), the proposal g(w) ∝ Σ_j c_j p_j(w)^s = Σ_j c_j Z_j q_j(w) (pick model j with
 * probability ∝ c_j Z_j, Z_j its tempered normaliser, then draw from its tempered distribution q_j)
 * bounds the target, and accepting with probability (Σ_j λ_j p_j(w))^s / Σ_j c_j p_j(w)^s draws
 * from q exactly. At T = 1 every draw is accepted. The acceptance rate is Z / Σ_j c_j Z_j: low
 * when a small temperature meets models that disagree on the most probable word.
 *
 * Top-k and top-p need the ranking of the mixed distribution, so with either the distribution is
 * computed over the union of the models' supports, then tempered and truncated as sampleSentences
 * does (ties within a relative 1e-12 kept together): exact, and O(V log V) per context, kept for
 * the contexts met again in the same sample call (up to TRUNCATED_CONTEXTS of them at a time).
 */
const TRUNCATED_CONTEXTS = 4096

interface Truncated {
  readonly outcomes: Int32Array
  readonly cumulative: Float64Array
}

class InterpolatedSampler {
  readonly totals: readonly Totals[]
  private readonly samplers: readonly Sampler[]
  private readonly weights: Float64Array
  private readonly s: number
  private readonly logC: Float64Array
  private readonly topK: number | undefined
  private readonly topP: number | undefined
  private readonly order: number
  private readonly V: number
  private readonly truncatedByContext = new Map<string, Truncated>()
  private readonly proposal: Float64Array
  private readonly logP: Float64Array

  constructor(models: readonly NgramState[], weights: Float64Array, options: SamplingOptions) {
    this.samplers = models.map((m) => new Sampler(m, { temperature: options.temperature, maxLength: options.maxLength }))
    this.totals = this.samplers.map((s) => s.totals)
    this.weights = weights
    this.s = 1 / options.temperature
    this.logC = weights.map((w) => (this.s >= 1 ? Math.log(w) : this.s * Math.log(w)))
    this.topK = options.topK
    this.topP = options.topP
    this.order = models[0]!.order
    this.V = models[0]!.vocabSize
    this.proposal = new Float64Array(models.length)
    this.logP = new Float64Array(models.length)
  }

  draw(ctx: readonly Int32Array[], rng: Rng): number {
    if (this.topK !== undefined || this.topP !== undefined) {
      // The distribution after a context depends on ctx[1 .. order − 1] of every model.
      const key = ctx.map((c) => c.subarray(1, this.order).join(',')).join(';')
      let dist = this.truncatedByContext.get(key)
      if (dist === undefined) {
        if (this.truncatedByContext.size === TRUNCATED_CONTEXTS) this.truncatedByContext.clear()
        dist = this.truncated(ctx)
        this.truncatedByContext.set(key, dist)
      }
      return dist.outcomes[searchCumulative(dist.cumulative, rng.uniform())]!
    }
    const J = this.samplers.length
    if (this.s === 1) {
      const j = rng.categorical(this.weights)
      return this.samplers[j]!.draw(ctx[j]!, rng)
    }
    let max = -Infinity
    for (let j = 0; j < J; j++) {
      this.proposal[j] = this.logC[j]! + this.samplers[j]!.logNormaliser(ctx[j]!)
      if (this.proposal[j]! > max) max = this.proposal[j]!
    }
    for (let j = 0; j < J; j++) this.proposal[j] = Math.exp(this.proposal[j]! - max)
    for (;;) {
      const j = rng.categorical(this.proposal)
      const w = this.samplers[j]!.draw(ctx[j]!, rng)
      let mixed = 0
      for (let i = 0; i < J; i++) {
        const p = this.samplers[i]!.probability(ctx[i]!, w)
        mixed += this.weights[i]! * p
        this.logP[i] = this.logC[i]! + this.s * Math.log(p)
      }
      if (Math.log(rng.uniform()) < this.s * Math.log(mixed) - logSumExp(this.logP)) return w
    }
  }

  /** The tempered, truncated mixed distribution after ctx: its outcomes and their cumulative probabilities. */
  private truncated(ctx: readonly Int32Array[]): Truncated {
    const p = new Float64Array(this.V + 1)
    this.samplers.forEach((sampler, j) => {
      for (const w of sampler.support) p[w]! += this.weights[j]! * sampler.probability(ctx[j]!, w)
    })
    const ranked = Int32Array.from(p.keys()).filter((w) => p[w]! > 0)
    ranked.sort((a, b) => p[b]! - p[a]!)
    const logQ = Float64Array.from(ranked, (w) => this.s * Math.log(p[w]!))
    const logZ = logSumExp(logQ)
    let kept = 0
    let above = 0
    let massAbove = 0
    for (let r = 0; r < ranked.length; r++) {
      // Outcomes strictly more probable than this one: ties within a relative 1e-12 do not count.
      const x = p[ranked[r]!]! * (1 + 1e-12)
      while (p[ranked[above]!]! > x) massAbove += Math.exp(logQ[above++]! - logZ)
      if (this.topK !== undefined && above >= this.topK) break
      if (this.topP !== undefined && massAbove >= this.topP) break
      kept++
    }
    const cumulative = new Float64Array(kept)
    let acc = 0
    for (let r = 0; r < kept; r++) cumulative[r] = acc += Math.exp(logQ[r]! - logZ)
    for (let r = 0; r < kept; r++) cumulative[r]! /= acc
    return { outcomes: ranked.subarray(0, kept), cumulative }
  }
}

/** The scoring probabilities of the V + 1 outcomes (words, then END) of interpolated unigram models. */
export function unigramOutcomes(models: readonly NgramState[], weights: Float64Array): Float64Array {
  const p = new Float64Array(models[0]!.vocabSize + 1)
  models.forEach((m, j) => {
    const totals = totalsOf(m)
    const ctx = startContext(m)
    for (let o = 0; o < p.length; o++) p[o]! += weights[j]! * scoreNext(m, totals, ctx, o)
  })
  return p
}

/**
 * KL(p‖q) per sentence between unigram models with outcome probabilities p and q (END last). A
 * sentence is a run of outcomes up to END, so by Wald's identity its KL is the per-outcome KL times
 * the expected number of outcomes per sentence under p, 1/p(END). Writing p(w) = (1 − e)·p_V(w),
 * p(END) = e (and q alike), it is KL(e‖e_q)/e, the KL between the geometric length distributions,
 * plus ((1 − e)/e)·KL(p_V‖q_V), the expected words per sentence times the KL between the
 * vocabulary distributions.
 *
 * Both models cut sentences at `maxLength` L words, with no END (logLikelihood scores them so): a
 * sentence then holds min(G, L) words, G the geometric count, and ends with END only when G < L.
 * The expected words, Σ_{l=1..L} (1 − e)^l, and the chance of an END, 1 − (1 − e)^L, are both the
 * uncut ones times 1 − (1 − e)^L, and so is the KL.
 */
export function unigramSentenceKl(p: Float64Array, q: Float64Array, maxLength = Infinity): number {
  let kl = 0
  for (let o = 0; o < p.length; o++) if (p[o]! > 0) kl += p[o]! * Math.log(p[o]! / q[o]!)
  const e = p[p.length - 1]!
  if (maxLength === Infinity) return kl / e
  // No sentence ends: every one is L words.
  if (e === 0) return maxLength * kl
  return (-Math.expm1(maxLength * Math.log1p(-e)) * kl) / e
}
