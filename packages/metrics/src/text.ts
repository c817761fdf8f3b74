import { z } from 'zod'
import { defineMetric, type TokenSamples } from '@ouroboros/core'
import { asTokens, entropyOfCounts } from './vectors.js'
import { ENTROPY_HALVES, HALVES, SHARE } from './outputs.js'

/** The real data's head and tail types (METRICS.md "Text"), found once per chain. */
interface Head {
  /** 1 for the types of the head, by id. */
  readonly inHead: Uint8Array
  /** Types of the real data outside the head. */
  readonly tail: Int32Array
}

const options = z.strictObject({
  /** The head is the fewest most frequent real types holding this share of the real tokens. */
  headShare: z.number().gt(0).max(1).default(0.9),
  /** zipf_slope fits ranks 1..zipfRanks. */
  zipfRanks: z.int().min(2).default(1000),
})

/**
 * Diversity of generated text (METRICS.md "Text"): vocab_size, distinct_1..distinct_4 (distinct
 * n-grams within sequences / all n-grams), unigram_entropy (nats), tail_mass, tail_coverage and
 * zipf_slope. Values that have no tokens (or no tail types) to be computed from are null.
 */
export const text = defineMetric({
  id: 'text',
  modality: 'tokens',
  description: 'Vocabulary, distinct n-grams, unigram entropy, tail mass and coverage, Zipf slope of generated token sequences',
  outputs: ['vocab_size', 'distinct_1', 'distinct_2', 'distinct_3', 'distinct_4', 'unigram_entropy', 'tail_mass', 'tail_coverage', 'zipf_slope'],
  outputInfo: {
    vocab_size: { title: 'vocabulary size', unit: 'token types', threshold: HALVES, diversity: 14 },
    distinct_1: { title: 'distinct 1-grams', unit: 'fraction', threshold: HALVES, bounds: SHARE, diversity: 10 },
    distinct_2: { title: 'distinct 2-grams', unit: 'fraction', threshold: HALVES, bounds: SHARE, diversity: 9 },
    distinct_3: { title: 'distinct 3-grams', unit: 'fraction', threshold: HALVES, bounds: SHARE, diversity: 11 },
    distinct_4: { title: 'distinct 4-grams', unit: 'fraction', threshold: HALVES, bounds: SHARE, diversity: 12 },
    unigram_entropy: { title: 'unigram entropy', unit: 'nats', threshold: ENTROPY_HALVES, diversity: 13 },
    // No threshold: collapse moves tail mass no one known way. Every type outside the real head
    // counts as tail, words the real data lack included, so a model that makes words up raises it
    // above the real value (the character model's generation 0), a chain losing the real tail
    // lowers it, and one whose surviving tail types absorb the lost ones' mass keeps it flat.
    tail_mass: { title: 'tail mass', unit: 'fraction of tokens', bounds: SHARE },
    tail_coverage: { title: 'tail coverage', unit: 'fraction of real tail types', threshold: HALVES, bounds: SHARE, diversity: 15 },
    zipf_slope: { title: 'Zipf slope', unit: 'log-log slope' },
  },
  nullWhen: {
    distinct_2: 'no sequence has 2 tokens',
    distinct_3: 'no sequence has 3 tokens',
    distinct_4: 'no sequence has 4 tokens',
    tail_coverage: 'the real data have no tail types (their most frequent types hold every token)',
    zipf_slope: 'fewer than 2 types',
  },
  options,
  prepare({ real, options: o }): Head {
    const counts = typeCounts(asTokens(real, 'text metrics'))
    const types = Array.from(counts.keys()).sort((a, b) => counts.get(b)! - counts.get(a)! || a - b)
    let total = 0
    for (const c of counts.values()) total += c
    const inHead = new Uint8Array(asTokens(real, 'text metrics').vocabSize)
    let covered = 0
    let h = 0
    // Compare counts, not shares, so that a share of exactly headShare needs no rounding luck.
    while (h < types.length && covered < o.headShare * total) {
      inHead[types[h]!] = 1
      covered += counts.get(types[h]!)!
      h++
    }
    return { inHead, tail: Int32Array.from(types.slice(h)) }
  },
  compute({ generated, prepared, options: o }) {
    const g = asTokens(generated, 'text metrics')
    const counts = typeCounts(g)
    const N = g.tokens.length
    let tailTokens = 0
    for (const [w, c] of counts) if (prepared.inHead[w] !== 1) tailTokens += c
    let tailSeen = 0
    for (const w of prepared.tail) if (counts.has(w)) tailSeen++
    const distinct = distinctNgrams(g, 4)
    return {
      vocab_size: counts.size,
      distinct_1: distinct[0]!,
      distinct_2: distinct[1]!,
      distinct_3: distinct[2]!,
      distinct_4: distinct[3]!,
      unigram_entropy: N === 0 ? null : entropyOfCounts(Array.from(counts.values()), N),
      tail_mass: N === 0 ? null : tailTokens / N,
      tail_coverage: prepared.tail.length === 0 ? null : tailSeen / prepared.tail.length,
      zipf_slope: zipfSlope(Array.from(counts.values()), o.zipfRanks),
    }
  },
})

function typeCounts(s: TokenSamples): Map<number, number> {
  const counts = new Map<number, number>()
  for (const w of s.tokens) counts.set(w, (counts.get(w) ?? 0) + 1)
  return counts
}

/**
 * distinct_n for n = 1..maxN: distinct n-grams (within sequences) / all n-grams, null where there
 * are none. Each n-gram gets an id from the key (id of the (n−1)-gram before it, word) in an
 * open-addressing table over typed arrays: a Map of a million number keys is several times slower.
 */
function distinctNgrams(s: TokenSamples, maxN: number): (number | null)[] {
  const out: (number | null)[] = [s.tokens.length === 0 ? null : new Set(s.tokens).size / s.tokens.length]
  // ids[t]: id of the n-gram that ends at token t (the word id for n = 1), where the sequence has one.
  let ids = s.tokens
  for (let n = 2; n <= maxN; n++) {
    const table = new KeyTable(s.tokens.length)
    const next = new Int32Array(s.tokens.length)
    let total = 0
    for (let i = 0; i < s.n; i++) {
      for (let t = s.offsets[i]! + n - 1; t < s.offsets[i + 1]!; t++) {
        next[t] = table.id(ids[t - 1]! * s.vocabSize + s.tokens[t]!)
        total++
      }
    }
    out.push(total === 0 ? null : table.size / total)
    ids = next
  }
  return out
}

/** Dense ids for non-negative integer keys below 2^53, in order of first appearance. */
class KeyTable {
  private readonly keys: Float64Array
  private readonly slots: Int32Array
  private readonly mask: number
  size = 0

  constructor(maxKeys: number) {
    let capacity = 16
    while (capacity < maxKeys * 2) capacity *= 2
    this.slots = new Int32Array(capacity).fill(-1)
    this.mask = capacity - 1
    this.keys = new Float64Array(maxKeys)
  }

  id(key: number): number {
    const lo = key >>> 0
    const hi = (key - lo) / 0x100000000
    let i = (Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca77) ^ (lo >>> 13)) & this.mask
    for (;;) {
      const id = this.slots[i]!
      if (id === -1) break
      if (this.keys[id] === key) return id
      i = (i + 1) & this.mask
    }
    this.keys[this.size] = key
    this.slots[i] = this.size
    return this.size++
  }
}

/** Least-squares slope of ln(count) on ln(rank) over ranks 1..maxRank; null with fewer than 2 types. */
function zipfSlope(counts: number[], maxRank: number): number | null {
  counts.sort((a, b) => b - a)
  const R = Math.min(maxRank, counts.length)
  if (R < 2) return null
  let sx = 0
  let sy = 0
  let sxx = 0
  let sxy = 0
  for (let r = 1; r <= R; r++) {
    const x = Math.log(r)
    const y = Math.log(counts[r - 1]!)
    sx += x
    sy += y
    sxx += x * x
    sxy += x * y
  }
  return (R * sxy - sx * sy) / (R * sxx - sx * sx)
}
