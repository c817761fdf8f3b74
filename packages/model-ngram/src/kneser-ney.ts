import type { TokenSamples } from '@ouroboros/core'
import { PairTable } from './pair-table.js'

/**
 * Interpolated Kneser-Ney (Chen & Goodman 1998; with KenLM's rule that n-grams starting
 * with the sentence-start symbol keep their raw counts, since nothing can precede them).
 *
 * Outcomes are the word ids 0..V-1 and END = V (end of sentence); START = V+1 pads the left of a
 * sentence, once (a context is never longer than the sentence so far, as in KenLM). With c_l the
 * adjusted count of an l-gram (raw at the highest order and for grams starting with START, else
 * the number of distinct words seen before it), D_l the discount, C(h) = Σ_w c_l(h w) and
 * N(h) = |{w : c_l(h w) > 0}|:
 *
 *   p_l(w | h) = max(c_l(h w) − D_l, 0) / C(h) + D_l N(h) / C(h) · p_{l−1}(w | h')
 *
 * where h' drops the first word of h, a context never seen skips its level, and p_0 is uniform
 * over the V + 1 outcomes: every outcome, a word never seen included, has a positive probability
 * while every D_l is positive. 'auto' keeps every D_l positive (chenGoodman); only a discount of 0
 * given in the config passes nothing down and gives an unseen continuation of a seen context
 * probability 0: held-out text then has an infinite perplexity, recorded as null.
 */
export interface NgramState {
  readonly order: number
  /** V: word ids are 0..V-1; V stands for the end of a sentence and V+1 for its start. */
  readonly vocabSize: number
  /** D_l at index l-1. */
  readonly discounts: Float64Array
  /** Adjusted counts of the V + 1 outcomes at level 1; fractional for a weighted unigram model (fitWeighted). */
  readonly unigram: Int32Array | Float64Array
  /** Levels 2..order, at index l-2. */
  readonly levels: readonly TrieLevel[]
}

/**
 * The l-grams of one level, grouped by context (a trie level, as in KenLM's trie). Row r holds the
 * grams whose first l-1 words are context r: at level 2 the context is a word id (START
 * included), above it the index of the (l-1)-gram in the level below. Within a row, words ascend.
 */
export interface TrieLevel {
  /** Row r spans [start[r], start[r+1]). */
  readonly start: Uint32Array
  readonly word: Int32Array
  /** Adjusted counts, all ≥ 1. */
  readonly count: Int32Array
}

export type Discount = 'auto' | number

/** Counts the l-grams of `data` for l = 1..order and builds the model. */
export function fitKneserNey(data: TokenSamples, order: number, discount: Discount): NgramState {
  const V = data.vocabSize
  const END = V
  const START = V + 1
  const positions = data.tokens.length + data.n
  // Per level l ≥ 2 (index l-2): the interning table and, per interned id, raw count, the id of
  // its suffix one level down (its last l-1 words) and whether it starts with START.
  const tables: PairTable[] = []
  const raw: Int32Array[] = []
  const suffix: Int32Array[] = []
  const fromStart: Uint8Array[] = []
  for (let l = 2; l <= order; l++) {
    tables.push(new PairTable(positions >>> 2))
    raw.push(new Int32Array(positions))
    suffix.push(new Int32Array(positions))
    fromStart.push(new Uint8Array(positions))
  }
  const rawUnigram = new Int32Array(V + 1)
  // prev[l] / cur[l]: id of the l-gram ending at the previous / current position, -1 if the
  // sentence is shorter than l there. Level 1 ids are word ids.
  const prev = new Int32Array(order + 1)
  const cur = new Int32Array(order + 1)
  for (let s = 0; s < data.n; s++) {
    prev.fill(-1)
    prev[1] = START
    const a = data.offsets[s]!
    const b = data.offsets[s + 1]!
    for (let t = a; t <= b; t++) {
      const w = t < b ? data.tokens[t]! : END
      if (t < b && (w < 0 || w >= V)) throw new RangeError(`token ${w} at position ${t} is outside the vocabulary of ${V}`)
      rawUnigram[w]!++
      cur[1] = w
      for (let l = 2; l <= order; l++) {
        const ctx = prev[l - 1]!
        if (ctx < 0) {
          cur[l] = -1
          continue
        }
        const table = tables[l - 2]!
        const before = table.size
        const id = table.intern(ctx, w)
        if (table.size > before) {
          suffix[l - 2]![id] = cur[l - 1]!
          fromStart[l - 2]![id] = l === 2 ? (ctx === START ? 1 : 0) : fromStart[l - 3]![ctx]!
        }
        raw[l - 2]![id]!++
        cur[l] = id
      }
      prev.set(cur)
    }
  }

  // Adjusted counts: raw at the top level and for grams that start with START; below the top,
  // the number of distinct (l+1)-grams whose suffix is this gram.
  const unigram = order === 1 ? rawUnigram : new Int32Array(V + 1)
  const adjusted: Int32Array[] = []
  for (let l = 2; l <= order; l++) {
    const size = tables[l - 2]!.size
    adjusted.push(l === order ? raw[l - 2]!.subarray(0, size) : new Int32Array(size))
  }
  for (let l = 2; l <= order; l++) {
    const size = tables[l - 2]!.size
    const below = l === 2 ? unigram : adjusted[l - 3]!
    const suf = suffix[l - 2]!
    for (let id = 0; id < size; id++) below[suf[id]!]!++
  }
  for (let l = 2; l < order; l++) {
    const adj = adjusted[l - 2]!
    const start = fromStart[l - 2]!
    const r = raw[l - 2]!
    for (let id = 0; id < adj.length; id++) if (start[id] === 1) adj[id] = r[id]!
  }

  const discounts = new Float64Array(order)
  discounts[0] = discount === 'auto' ? chenGoodman(unigram) : discount
  for (let l = 2; l <= order; l++) discounts[l - 1] = discount === 'auto' ? chenGoodman(adjusted[l - 2]!) : discount

  // Lay each level out as a trie level: rows by context in the final numbering of the level
  // below, words ascending within a row (two stable counting sorts: by word, then by context).
  const levels: TrieLevel[] = []
  let belowIndex: Int32Array | undefined
  for (let l = 2; l <= order; l++) {
    const table = tables[l - 2]!
    const size = table.size
    const rows = l === 2 ? V + 2 : levels[l - 3]!.word.length
    const ctxOf = new Int32Array(size)
    const wordOf = new Int32Array(size)
    for (let id = 0; id < size; id++) {
      ctxOf[id] = belowIndex === undefined ? table.ctxOf(id) : belowIndex[table.ctxOf(id)]!
      wordOf[id] = table.wordOf(id)
    }
    const byWord = countingSort(wordOf, V + 1, identity(size))
    const sorted = countingSort(ctxOf, rows, byWord)
    const start = new Uint32Array(rows + 1)
    for (let id = 0; id < size; id++) start[ctxOf[id]! + 1]!++
    for (let r = 0; r < rows; r++) start[r + 1]! += start[r]!
    const word = new Int32Array(size)
    const count = new Int32Array(size)
    const index = new Int32Array(size)
    const adj = adjusted[l - 2]!
    for (let j = 0; j < size; j++) {
      const id = sorted[j]!
      word[j] = wordOf[id]!
      count[j] = adj[id]!
      index[id] = j
    }
    levels.push({ start, word, count })
    belowIndex = index
  }
  return { order, vocabSize: V, discounts, unigram, levels }
}

/**
 * The discount 'auto' gives a level that holds no count of 1. Chen & Goodman's estimate is 0 there:
 * with no n-gram seen once, leaving one occurrence out never leaves an unseen event, so the
 * estimate sees no mass to reserve. D = 0 then passes nothing down, and held-out text that
 * continues a seen context differently gets probability 0 (an infinite perplexity). Small corpora
 * over a few words (every bigram seen twice or more) and collapsed chains hold such levels. KenLM
 * refuses the estimate there too and offers fixed fallback discounts (lmplz --discount_fallback);
 * ours is the textbook D = 0.75, the value `discount: 0.75` applies to every level.
 */
export const FALLBACK_DISCOUNT = 0.75

/** Chen & Goodman's estimate D = n1 / (n1 + 2 n2) from the counts of count 1 and 2; FALLBACK_DISCOUNT where n1 = 0. */
export function chenGoodman(counts: Int32Array): number {
  let n1 = 0
  let n2 = 0
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] === 1) n1++
    else if (counts[i] === 2) n2++
  }
  return n1 === 0 ? FALLBACK_DISCOUNT : n1 / (n1 + 2 * n2)
}

function identity(n: number): Int32Array {
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) out[i] = i
  return out
}

/** The ids of `items` stably sorted by key[id] (keys in [0, range)). */
function countingSort(key: Int32Array, range: number, items: Int32Array): Int32Array {
  const at = new Uint32Array(range + 1)
  for (let i = 0; i < items.length; i++) at[key[items[i]!]! + 1]!++
  for (let k = 0; k < range; k++) at[k + 1]! += at[k]!
  const out = new Int32Array(items.length)
  for (let i = 0; i < items.length; i++) {
    const id = items[i]!
    out[at[key[id]!]!++] = id
  }
  return out
}

/** Per-row totals C(h) and the level-1 total: derived from a state once, not stored in it. */
export interface Totals {
  readonly unigramTotal: number
  /** Outcomes with a positive level-1 count. */
  readonly unigramTypes: number
  /** C(h) per row, per level at index l-2. */
  readonly rowTotal: readonly Float64Array[]
}

const totalsCache = new WeakMap<NgramState, Totals>()

export function totalsOf(state: NgramState): Totals {
  let totals = totalsCache.get(state)
  if (totals === undefined) {
    let unigramTotal = 0
    let unigramTypes = 0
    for (let w = 0; w < state.unigram.length; w++) {
      unigramTotal += state.unigram[w]!
      if (state.unigram[w]! > 0) unigramTypes++
    }
    const rowTotal = state.levels.map(({ start, count }) => {
      const out = new Float64Array(start.length - 1)
      for (let r = 0; r < out.length; r++) for (let j = start[r]!; j < start[r + 1]!; j++) out[r]! += count[j]!
      return out
    })
    totals = { unigramTotal, unigramTypes, rowTotal }
    totalsCache.set(state, totals)
  }
  return totals
}

/** Index of `w` in row r of a trie level, or -1. */
export function findChild(level: TrieLevel, r: number, w: number): number {
  let lo = level.start[r]!
  let hi = level.start[r + 1]!
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const x = level.word[mid]!
    if (x === w) return mid
    if (x < w) lo = mid + 1
    else hi = mid
  }
  return -1
}

/**
 * The context of a sentence's first word. A context is an array of order + 1 ids: ctx[l] is the
 * id of the l-gram that ends at the last word (ctx[1] the word id itself, START at a sentence's
 * beginning), -1 where the sentence is shorter than l or the gram was never seen; only indices
 * 1..order-1 are read.
 */
export function startContext(state: NgramState, ctx = new Int32Array(state.order + 1)): Int32Array {
  ctx.fill(-1)
  ctx[1] = state.vocabSize + 1
  return ctx
}

/** The row of level l ≥ 2 that ctx names, or -1 when the context was never seen there. */
export function rowOf(state: NgramState, l: number, ctx: Int32Array): number {
  const r = ctx[l - 1]!
  if (r < 0) return -1
  const { start } = state.levels[l - 2]!
  return start[r + 1]! > start[r]! ? r : -1
}

/** max(c − D_l, 0) / C(h) of child j of row r at level l (0 when j < 0). */
export function discounted(state: NgramState, totals: Totals, l: number, r: number, j: number): number {
  return j < 0 ? 0 : Math.max(state.levels[l - 2]!.count[j]! - state.discounts[l - 1]!, 0) / totals.rowTotal[l - 2]![r]!
}

/** γ(h) = D_l N(h) / C(h): the weight that row r of level l gives the level below. */
export function backoff(state: NgramState, totals: Totals, l: number, r: number): number {
  const { start } = state.levels[l - 2]!
  return (state.discounts[l - 1]! * (start[r + 1]! - start[r]!)) / totals.rowTotal[l - 2]![r]!
}

/**
 * p_upTo(w | ctx): the recursion of levels 2..upTo on top of p1, the level-1 probability of w.
 * When `next` is given it receives the context after w (then upTo must be the order).
 */
export function interpolate(state: NgramState, totals: Totals, ctx: Int32Array, w: number, p1: number, upTo: number, next?: Int32Array): number {
  let p = p1
  if (next !== undefined) next[1] = w
  for (let l = 2; l <= upTo; l++) {
    const r = rowOf(state, l, ctx)
    const j = r < 0 ? -1 : findChild(state.levels[l - 2]!, r, w)
    if (r >= 0) p = discounted(state, totals, l, r, j) + backoff(state, totals, l, r) * p
    if (next !== undefined && l < state.order) next[l] = j
  }
  return p
}

/** Scoring probability of outcome w after context `ctx`, the uniform floor included; see interpolate for `next`. */
export function scoreNext(state: NgramState, totals: Totals, ctx: Int32Array, w: number, next?: Int32Array): number {
  const D1 = state.discounts[0]!
  const C1 = totals.unigramTotal
  const p1 = Math.max(state.unigram[w]! - D1, 0) / C1 + ((D1 * totals.unigramTypes) / C1) * (1 / (state.vocabSize + 1))
  return interpolate(state, totals, ctx, w, p1, state.order, next)
}

/**
 * Natural-log probability of each sequence, its end of sentence included, except for a sequence of
 * maxLength words: sampling cuts a sentence there without drawing an end, so none is scored.
 */
export function sentenceLogProbs(state: NgramState, data: TokenSamples, maxLength = Infinity): Float64Array {
  const totals = totalsOf(state)
  const out = new Float64Array(data.n)
  let ctx = new Int32Array(state.order + 1)
  let next = new Int32Array(state.order + 1)
  for (let s = 0; s < data.n; s++) {
    startContext(state, ctx)
    const a = data.offsets[s]!
    const b = data.offsets[s + 1]!
    const last = b - a === maxLength ? b - 1 : b
    let ll = 0
    for (let t = a; t <= last; t++) {
      const w = t < b ? data.tokens[t]! : state.vocabSize
      ll += Math.log(scoreNext(state, totals, ctx, w, next))
      const swap = ctx
      ctx = next
      next = swap
    }
    out[s] = ll
  }
  return out
}
