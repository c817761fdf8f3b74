import { logSumExp, searchCumulative, type Rng, type TokenSamples } from '@ouroboros/core'
import { backoff, discounted, findChild, interpolate, rowOf, scoreNext, startContext, totalsOf, type NgramState, type Totals } from './kneser-ney.js'

export interface SamplingOptions {
  /** q(w) ∝ p(w)^(1/temperature). */
  readonly temperature: number
  /** Keep only the k most probable next words. */
  readonly topK?: number
  /** Keep the fewest most probable next words whose tempered probability reaches topP. */
  readonly topP?: number
  /** A sentence that reaches this many words ends there. */
  readonly maxLength: number
}

/**
 * Draws n sentences. The sampling distribution is the scoring one (kneser-ney.ts) with its
 * level-0 uniform floor left out: level 1 is renormalised over the outcomes the training data
 * contain, so a word lost from one generation's training data stays lost, as in any model fit to
 * a finite sample (the floor exists only so that held-out text has a finite perplexity).
 */
export function sampleSentences(state: NgramState, n: number, rng: Rng, options: SamplingOptions): TokenSamples {
  const sampler = new Sampler(state, options)
  const END = state.vocabSize
  let tokens = new Int32Array(Math.max(16, n * 24))
  const offsets = new Uint32Array(n + 1)
  let ctx = new Int32Array(state.order + 1)
  let next = new Int32Array(state.order + 1)
  let at = 0
  for (let i = 0; i < n; i++) {
    startContext(state, ctx)
    for (let len = 0; len < options.maxLength; len++) {
      const w = sampler.draw(ctx, rng)
      if (w === END) break
      if (at === tokens.length) {
        const grown = new Int32Array(tokens.length * 2)
        grown.set(tokens)
        tokens = grown
      }
      tokens[at++] = w
      // scoreNext's probability is not needed here; it also yields the context after w.
      scoreNext(state, sampler.totals, ctx, w, next)
      const swap = ctx
      ctx = next
      next = swap
    }
    offsets[i + 1] = at
  }
  return { modality: 'tokens', n, vocabSize: state.vocabSize, tokens: tokens.slice(0, at), offsets }
}

/**
 * Tempered sampling without building a distribution over the whole vocabulary per word. Level l
 * of the model is p_l(w | h) = a_l(w | h) + γ(h) p_{l−1}(w | h'), with a_l non-zero only on the
 * words seen after h (the row's children). So with q = p^(1/T):
 *
 *   Z_l(h) = Σ_children q_l(w | h) + γ(h)^(1/T) · (Z_{l−1}(h') − Σ_children q_{l−1}(w | h'))
 *
 * and a draw either picks a child of h (with probability Σ_children q_l / Z_l) or draws from level
 * l−1 and rejects children of h (exact: off the children, q_l is γ^(1/T) q_{l−1}). Z and the
 * children's cumulative q are computed once per row, in logs so that a small temperature neither
 * underflows nor overflows. At T = 1 every Z is 1 and this is ordinary interpolated sampling.
 *
 * Top-k and top-p draw from that tempered distribution and reject a word unless fewer than k
 * words are strictly more probable (top-k) and those words hold less than topP of the tempered
 * mass (top-p): exactly the truncated distribution, the smaller of the two sets when both are
 * given, words tied at the boundary all kept. The count and mass of the words more probable than
 * x follow the same recursion, from each row's children sorted by p_l and by p_{l−1}. Top-p
 * accepts at least a share topP of draws; top-k's share is the mass of its k words, so a very
 * small k (where a low temperature would do) samples slowly.
 */
export class Sampler {
  readonly totals: Totals
  private readonly state: NgramState
  private readonly invT: number
  private readonly topK: number | undefined
  private readonly topP: number | undefined
  /** log p of the level-1 sampling distribution, -Infinity off the training support. */
  private readonly logBase: Float64Array
  private readonly baseWords: Int32Array
  private readonly baseCum: Float64Array
  private readonly baseLogZ: number
  /** The level-1 probabilities in descending order and the log of their cumulative q (truncation only). */
  private readonly baseSorted: Sorted | undefined
  /** Per level l ≥ 2 at index l-2: log Z per row (NaN until computed), log Σ_children q per row, children's cumulative q. */
  private readonly rowLogZ: Float64Array[]
  private readonly rowLogMass: Float64Array[]
  private readonly childCum: Float64Array[]
  /** Per level l ≥ 2 (truncation only): each row's children's p_l and p_{l−1}, sorted. */
  private readonly own: Sorted[]
  private readonly lower: Sorted[]
  private scratch = new Float64Array(256)
  private scratchLower = new Float64Array(256)

  constructor(state: NgramState, options: SamplingOptions) {
    this.state = state
    this.totals = totalsOf(state)
    this.invT = 1 / options.temperature
    this.topK = options.topK
    this.topP = options.topP
    const { unigramTotal: C1, unigramTypes } = this.totals
    const V1 = state.vocabSize + 1
    const D1 = state.discounts[0]!
    const floor = (D1 * unigramTypes) / C1 / V1
    // Σ over the support of the scoring level-1 probabilities, to renormalise them.
    const supportMass = (C1 - D1 * unigramTypes) / C1 + floor * unigramTypes
    this.logBase = new Float64Array(V1).fill(-Infinity)
    const words: number[] = []
    for (let w = 0; w < V1; w++) {
      const c = state.unigram[w]!
      if (c > 0) {
        this.logBase[w] = Math.log((Math.max(c - D1, 0) / C1 + floor) / supportMass)
        words.push(w)
      }
    }
    this.baseWords = Int32Array.from(words)
    const logQ = Float64Array.from(words, (w) => this.logBase[w]! * this.invT)
    this.baseCum = new Float64Array(words.length)
    this.baseLogZ = normalisedCumulative(logQ, this.baseCum, 0, words.length)
    this.rowLogZ = state.levels.map((lv) => new Float64Array(lv.start.length - 1).fill(NaN))
    this.rowLogMass = state.levels.map((lv) => new Float64Array(lv.start.length - 1))
    this.childCum = state.levels.map((lv) => new Float64Array(lv.word.length))
    const truncating = this.topK !== undefined || this.topP !== undefined
    this.baseSorted = truncating ? sortedOf(Float64Array.from(words, (w) => Math.exp(this.logBase[w]!)), this.invT) : undefined
    this.own = truncating ? state.levels.map((lv) => newSorted(lv.word.length)) : []
    this.lower = truncating ? state.levels.map((lv) => newSorted(lv.word.length)) : []
  }

  /** One outcome after context ctx. */
  draw(ctx: Int32Array, rng: Rng): number {
    const L = this.state.order
    for (;;) {
      const w = this.drawAt(L, ctx, rng)
      if (this.topK === undefined && this.topP === undefined) return w
      // Words within a relative 1e-12 of w's probability count as ties, not as more probable
      // (the recursion recomputes products in another order).
      const x = this.probAt(L, ctx, w) * (1 + 1e-12)
      if (this.topK !== undefined && this.countAbove(L, ctx, x) >= this.topK) continue
      if (this.topP !== undefined && this.logMassAbove(L, ctx, x) >= Math.log(this.topP) + this.logZAt(L, ctx)) continue
      return w
    }
  }

  /** The sampling probability p(w | ctx), untempered and untruncated. */
  probability(ctx: Int32Array, w: number): number {
    return this.probAt(this.state.order, ctx, w)
  }

  /** log Σ_w p(w | ctx)^(1/T): the normaliser of the tempered distribution that draw() samples (without truncation). */
  logNormaliser(ctx: Int32Array): number {
    return this.logZAt(this.state.order, ctx)
  }

  /** The outcomes of positive sampling probability, ascending. */
  get support(): Int32Array {
    return this.baseWords
  }

  private drawAt(l: number, ctx: Int32Array, rng: Rng): number {
    if (l === 1) return this.baseWords[searchCumulative(this.baseCum, rng.uniform())]!
    const r = rowOf(this.state, l, ctx)
    if (r < 0) return this.drawAt(l - 1, ctx, rng)
    this.ensureRow(l, r, ctx)
    const level = this.state.levels[l - 2]!
    if (rng.uniform() < Math.exp(this.rowLogMass[l - 2]![r]! - this.rowLogZ[l - 2]![r]!)) {
      return level.word[searchCumulative(this.childCum[l - 2]!, rng.uniform(), level.start[r]!, level.start[r + 1]!)]!
    }
    for (;;) {
      const w = this.drawAt(l - 1, ctx, rng)
      if (findChild(level, r, w) < 0) return w
    }
  }

  /** log Z of the tempered level-l distribution after ctx. */
  private logZAt(l: number, ctx: Int32Array): number {
    if (l === 1) return this.baseLogZ
    const r = rowOf(this.state, l, ctx)
    if (r < 0) return this.logZAt(l - 1, ctx)
    this.ensureRow(l, r, ctx)
    return this.rowLogZ[l - 2]![r]!
  }

  /** Number of outcomes with p_l(w | ctx) > x. */
  private countAbove(l: number, ctx: Int32Array, x: number): number {
    if (l === 1) return countGreater(this.baseSorted!.p, 0, this.baseSorted!.p.length, x)
    const r = rowOf(this.state, l, ctx)
    if (r < 0) return this.countAbove(l - 1, ctx, x)
    this.ensureRow(l, r, ctx)
    const { start } = this.state.levels[l - 2]!
    const s = start[r]!
    const e = start[r + 1]!
    const own = countGreater(this.own[l - 2]!.p, s, e, x)
    const gamma = backoff(this.state, this.totals, l, r)
    if (gamma === 0) return own
    const y = x / gamma
    return own + this.countAbove(l - 1, ctx, y) - countGreater(this.lower[l - 2]!.p, s, e, y)
  }

  /** log Σ q over the outcomes with p_l(w | ctx) > x. */
  private logMassAbove(l: number, ctx: Int32Array, x: number): number {
    if (l === 1) return prefixLogMass(this.baseSorted!, 0, this.baseSorted!.p.length, x)
    const r = rowOf(this.state, l, ctx)
    if (r < 0) return this.logMassAbove(l - 1, ctx, x)
    this.ensureRow(l, r, ctx)
    const { start } = this.state.levels[l - 2]!
    const s = start[r]!
    const e = start[r + 1]!
    const own = prefixLogMass(this.own[l - 2]!, s, e, x)
    const gamma = backoff(this.state, this.totals, l, r)
    if (gamma === 0) return own
    const y = x / gamma
    const rest = logSubExp(this.logMassAbove(l - 1, ctx, y), prefixLogMass(this.lower[l - 2]!, s, e, y))
    return logAddExp(own, Math.log(gamma) * this.invT + rest)
  }

  /** Sampling probability p_l(w | ctx). */
  private probAt(l: number, ctx: Int32Array, w: number): number {
    return interpolate(this.state, this.totals, ctx, w, Math.exp(this.logBase[w]!), l)
  }

  private ensureRow(l: number, r: number, ctx: Int32Array): void {
    const logZ = this.rowLogZ[l - 2]!
    if (!Number.isNaN(logZ[r]!)) return
    // First, since it may fill the level below and with it the scratch arrays.
    const lowerLogZ = this.logZAt(l - 1, ctx)
    const level = this.state.levels[l - 2]!
    const s = level.start[r]!
    const e = level.start[r + 1]!
    if (this.scratch.length < e - s) {
      this.scratch = new Float64Array(e - s)
      this.scratchLower = new Float64Array(e - s)
    }
    const p = this.scratch.subarray(0, e - s)
    const pLower = this.scratchLower.subarray(0, e - s)
    const gamma = backoff(this.state, this.totals, l, r)
    for (let j = s; j < e; j++) {
      pLower[j - s] = this.probAt(l - 1, ctx, level.word[j]!)
      p[j - s] = discounted(this.state, this.totals, l, r, j) + gamma * pLower[j - s]!
    }
    if (this.own.length > 0) {
      fillSorted(this.own[l - 2]!, s, p, this.invT)
      fillSorted(this.lower[l - 2]!, s, pLower, this.invT)
    }
    for (let i = 0; i < p.length; i++) {
      p[i] = Math.log(p[i]!) * this.invT
      pLower[i] = Math.log(pLower[i]!) * this.invT
    }
    const mass = logSumExp(p)
    const rest = logSubExp(lowerLogZ, logSumExp(pLower))
    logZ[r] = logAddExp(mass, Math.log(gamma) * this.invT + rest)
    this.rowLogMass[l - 2]![r] = mass
    normalisedCumulative(p, this.childCum[l - 2]!, s, e)
  }
}

/** Probabilities in descending order with the log of the cumulative Σ p^(1/T). */
interface Sorted {
  readonly p: Float64Array
  readonly logCum: Float64Array
}

function newSorted(n: number): Sorted {
  return { p: new Float64Array(n), logCum: new Float64Array(n) }
}

function sortedOf(p: Float64Array, invT: number): Sorted {
  const out = newSorted(p.length)
  fillSorted(out, 0, p, invT)
  return out
}

/** Writes p sorted in descending order, and its cumulative log Σ p^(1/T), into out at offset s. */
function fillSorted(out: Sorted, s: number, p: Float64Array, invT: number): void {
  const sorted = out.p.subarray(s, s + p.length)
  sorted.set(p)
  sorted.sort().reverse()
  let acc = -Infinity
  for (let i = 0; i < sorted.length; i++) out.logCum[s + i] = acc = logAddExp(acc, Math.log(sorted[i]!) * invT)
}

/** Number of entries of the descending p[s..e) that exceed x. */
function countGreater(p: Float64Array, s: number, e: number, x: number): number {
  let lo = s
  let hi = e
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (p[mid]! > x) lo = mid + 1
    else hi = mid
  }
  return lo - s
}

/** log Σ p^(1/T) over the entries of sorted[s..e) that exceed x. */
function prefixLogMass(sorted: Sorted, s: number, e: number, x: number): number {
  const n = countGreater(sorted.p, s, e, x)
  return n === 0 ? -Infinity : sorted.logCum[s + n - 1]!
}

/**
 * log(e^a − e^b) for b ≤ a. A difference below a relative 1e-9 is rounding error of the sums
 * (the subtracted words cover all of a), not probability: it is 0.
 */
function logSubExp(a: number, b: number): number {
  if (a === -Infinity) return -Infinity
  return b - a > Math.log1p(-1e-9) ? -Infinity : a + Math.log1p(-Math.exp(b - a))
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b
  if (b === -Infinity) return a
  return Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)))
}

/** Writes the normalised cumulative sums of exp(logQ) into out[s..e); returns log Σ exp(logQ). */
function normalisedCumulative(logQ: Float64Array, out: Float64Array, s: number, e: number): number {
  const logTotal = logSumExp(logQ, e - s)
  let acc = 0
  for (let j = s; j < e; j++) {
    acc += Math.exp(logQ[j - s]! - logTotal)
    out[j] = acc
  }
  return logTotal
}

