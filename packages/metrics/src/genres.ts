import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { z } from 'zod'
import { defineMetric, didYouMean, inputError, type DatasetInfo, type Samples, type TokenSamples } from '@ouroboros/core'
import { cacheDir, readCache, writeCache } from './cache.js'
import { asTokens, entropyOfCounts, smoothedKl } from './vectors.js'
import { ENTROPY_HALVES, HALVES, KL_RISES } from './outputs.js'

type Genres = NonNullable<DatasetInfo['genres']>

/** What run.json can record about the genre classifier in use. */
export interface GenreClassifierFacts {
  /** Accuracy on the sentences outside the training split. */
  readonly accuracy: number
  readonly testItems: number
  /** Hex digest naming the cached model: the labelled sentences and the training split. */
  readonly hash: string
  readonly cacheFile: string
  /** Whether this call trained it (false: read from the cache). */
  readonly trained: boolean
  /** Why it could not be written to the cache, when it could not. */
  readonly notCached?: string
}

/**
 * Multinomial naive Bayes over words with add-one smoothing: log P(c) + Σ_words log P(w | c),
 * P(w | c) = (count of w in genre c + 1) / (words of genre c + V). Token ids from V on (words a
 * file read by `eval` adds to the vocabulary) are words it never saw: they are left out, as a word
 * of equal probability in every genre would be.
 */
export interface GenreClassifier {
  readonly names: readonly string[]
  readonly vocabSize: number
  readonly logPrior: Float64Array
  /** log P(w | c) at [w · C + c], C = the number of genres: a word's values side by side. */
  readonly logWordGivenGenre: Float64Array
  readonly facts: GenreClassifierFacts
}

interface Cached {
  readonly version: number
  readonly accuracy: number
  readonly logPrior: Float64Array
  readonly logWordGivenGenre: Float64Array
}

/** Bump when training changes the model: old cache files are then ignored. */
const CACHE_VERSION = 1

const models = new WeakMap<Genres, GenreClassifier>()

/** The classifier of these labelled sentences: from memory, from the cache on disk, or trained (a fraction of a second) and written there. */
export function genreClassifierFor(genres: Genres): GenreClassifier {
  let model = models.get(genres)
  if (model === undefined) {
    model = loadOrTrain(genres)
    models.set(genres, model)
  }
  return model
}

function loadOrTrain(genres: Genres): GenreClassifier {
  const { names, sentences, of, train } = genres
  const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
  const hash = createHash('sha256')
    .update(JSON.stringify({ version: CACHE_VERSION, names, vocabSize: sentences.vocabSize, n: sentences.n }))
    .update(bytes(sentences.tokens))
    .update(bytes(sentences.offsets))
    .update(of)
    .update(bytes(train))
    .digest('hex')
  const cacheFile = join(cacheDir(), `brown-genre-classifier-${hash.slice(0, 32)}.v8`)
  const testItems = sentences.n - train.length
  const cached = readCache<Cached>(cacheFile, CACHE_VERSION)
  if (cached !== undefined) {
    return { names, vocabSize: sentences.vocabSize, logPrior: cached.logPrior, logWordGivenGenre: cached.logWordGivenGenre, facts: { accuracy: cached.accuracy, testItems, hash, cacheFile, trained: false } }
  }
  const { logPrior, logWordGivenGenre } = fitNaiveBayes(genres)
  const partial = { names, vocabSize: sentences.vocabSize, logPrior, logWordGivenGenre }
  const accuracy = heldoutAccuracy(partial, genres)
  const notCached = writeCache(cacheFile, { version: CACHE_VERSION, accuracy, logPrior, logWordGivenGenre } satisfies Cached)
  return { ...partial, facts: { accuracy, testItems, hash, cacheFile, trained: true, ...(notCached === undefined ? {} : { notCached }) } }
}

function fitNaiveBayes(genres: Genres): { logPrior: Float64Array; logWordGivenGenre: Float64Array } {
  const { names, sentences, of, train } = genres
  const C = names.length
  const V = sentences.vocabSize
  const counts = new Float64Array(V * C)
  const words = new Float64Array(C)
  const docs = new Float64Array(C)
  for (const i of train) {
    const c = of[i]!
    docs[c]!++
    for (let t = sentences.offsets[i]!; t < sentences.offsets[i + 1]!; t++) counts[sentences.tokens[t]! * C + c]!++
    words[c]! += sentences.offsets[i + 1]! - sentences.offsets[i]!
  }
  const logPrior = Float64Array.from(docs, (d) => Math.log(d / train.length))
  const logDenominator = Float64Array.from(words, (w) => Math.log(w + V))
  const logWordGivenGenre = new Float64Array(V * C)
  for (let w = 0; w < V; w++) for (let c = 0; c < C; c++) logWordGivenGenre[w * C + c] = Math.log(counts[w * C + c]! + 1) - logDenominator[c]!
  return { logPrior, logWordGivenGenre }
}

/** Share of the sentences outside the training split whose genre the classifier predicts. */
function heldoutAccuracy(model: Omit<GenreClassifier, 'facts'>, genres: Genres): number {
  const inTrain = new Uint8Array(genres.sentences.n)
  for (const i of genres.train) inTrain[i] = 1
  const scores = new Float64Array(model.names.length)
  let correct = 0
  let total = 0
  for (let i = 0; i < genres.sentences.n; i++) {
    if (inTrain[i] === 1) continue
    total++
    if (argMax(jointScores(model, genres.sentences, i, scores)) === genres.of[i]) correct++
  }
  return total === 0 ? Number.NaN : correct / total
}

/** log P(c) + Σ log P(w | c) of sentence i, for every genre c, into out. */
function jointScores(model: Omit<GenreClassifier, 'facts'>, s: TokenSamples, i: number, out: Float64Array): Float64Array {
  const C = model.names.length
  out.set(model.logPrior)
  for (let t = s.offsets[i]!; t < s.offsets[i + 1]!; t++) {
    const w = s.tokens[t]!
    if (w >= model.vocabSize) continue
    for (let c = 0; c < C; c++) out[c]! += model.logWordGivenGenre[w * C + c]!
  }
  return out
}

function argMax(v: Float64Array): number {
  let best = 0
  for (let c = 1; c < v.length; c++) if (v[c]! > v[best]!) best = c
  return best
}

/** The predicted genre of every sentence. */
export function predictGenres(model: GenreClassifier, s: TokenSamples): Int32Array {
  const scores = new Float64Array(model.names.length)
  return Int32Array.from({ length: s.n }, (_, i) => argMax(jointScores(model, s, i, scores)))
}

/** log P(genre | sentence) under the classifier, for every sentence. */
function logPosterior(model: GenreClassifier, s: TokenSamples, genre: number): Float64Array {
  const scores = new Float64Array(model.names.length)
  return Float64Array.from({ length: s.n }, (_, i) => {
    jointScores(model, s, i, scores)
    const top = scores[argMax(scores)]!
    let sum = 0
    for (const v of scores) sum += Math.exp(v - top)
    return scores[genre]! - top - Math.log(sum)
  })
}

/**
 * Per sentence, the Brown genre classifier's log-probability of `genre` (a name of the corpus's
 * categories): a reward for post-training towards a genre. Trains or loads the classifier first.
 */
export async function genreLogProbability(dataset: DatasetInfo, genre: string): Promise<(s: Samples) => Float64Array> {
  const genres = needGenres(dataset, 'the genre log-probability')
  const index = genres.names.indexOf(genre)
  if (index < 0) throw inputError(`unknown Brown genre '${genre}'${didYouMean(genre, genres.names)}; expected one of ${genres.names.join(', ')}`)
  const model = genreClassifierFor(genres)
  return (s) => logPosterior(model, asTokens(s, 'the genre classifier'), index)
}

/** What run.json can record: the genre classifier's held-out accuracy and cache entry (training it if needed). */
export function genreClassifierFacts(dataset: DatasetInfo): GenreClassifierFacts {
  return genreClassifierFor(needGenres(dataset, 'the genres metrics')).facts
}

export function needGenres(dataset: DatasetInfo, what: string): Genres {
  if (dataset.genres === undefined) throw inputError(`${what}: dataset '${dataset.kind}' has no genres; this needs Brown data (data.kind 'brown')`)
  return dataset.genres
}

interface Prepared {
  readonly model: GenreClassifier
  readonly realCounts: Float64Array
}

function histogram(classes: Int32Array, k: number): Float64Array {
  const counts = new Float64Array(k)
  for (const c of classes) counts[c]!++
  return counts
}

/**
 * Genres of generated text (METRICS.md "Brown genres"), as the classifier metrics do for MNIST
 * classes: the entropy of the predicted genres, the genres with at least `coveredShare` of the
 * sentences, and the KL to the real sentences' predicted genres with ½ added to every count.
 */
export const genres = defineMetric<{ coveredShare: number }, Prepared>({
  id: 'genres',
  modality: 'tokens',
  description: 'Brown genres of generated sentences (naive Bayes classifier): entropy, genres covered, KL to the real genre histogram',
  outputs: ['genre_entropy', 'genres_covered', 'genre_kl'],
  outputInfo: {
    genre_entropy: { title: 'genre entropy', unit: 'nats', threshold: ENTROPY_HALVES, diversity: 6 },
    genres_covered: { title: 'genres covered', unit: 'genres', threshold: HALVES, diversity: 7 },
    genre_kl: { title: 'genre KL', unit: 'nats', threshold: KL_RISES, diversity: 8 },
  },
  needs: ['dataset.genres'],
  nullWhen: Object.fromEntries(['genre_entropy', 'genres_covered', 'genre_kl'].map((name) => [name, 'no generated sentences'])),
  options: z.strictObject({
    /** genres_covered counts the genres with at least this share of the generated sentences. */
    coveredShare: z.number().min(0).max(1).default(0.01),
  }),
  prepare({ real, dataset }) {
    const model = genreClassifierFor(needGenres(dataset, 'genres'))
    return { model, realCounts: histogram(predictGenres(model, asTokens(real, 'genres metrics')), model.names.length) }
  },
  compute({ generated, options, prepared }) {
    const g = asTokens(generated, 'genres metrics')
    if (g.n === 0) return { genre_entropy: null, genres_covered: null, genre_kl: null }
    const counts = histogram(predictGenres(prepared.model, g), prepared.model.names.length)
    let covered = 0
    for (const c of counts) if (c > 0 && c >= options.coveredShare * g.n) covered++
    return { genre_entropy: entropyOfCounts(counts, g.n), genres_covered: covered, genre_kl: smoothedKl(counts, prepared.realCounts) }
  },
})
