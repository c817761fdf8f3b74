import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { DatasetInfo, TokenSamples } from '@ouroboros/core'
import { genreClassifierFacts, genreClassifierFor, genreLogProbability, genres } from './genres.js'
import { evaluate } from '../fixtures/load.js'

const cache = mkdtempSync(join(tmpdir(), 'ouroboros-genres-test-'))
process.env['OUROBOROS_CACHE_DIR'] = cache
afterAll(() => rmSync(cache, { recursive: true, force: true }))

function tokens(sentences: number[][], vocabSize: number): TokenSamples {
  const offsets = new Uint32Array(sentences.length + 1)
  sentences.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
  return { modality: 'tokens', n: sentences.length, vocabSize, tokens: Int32Array.from(sentences.flat()), offsets }
}

/**
 * Words x = 0, y = 1, z = 2; genre a trains on "x x y", genre b on "z z y". Add-one smoothing over
 * V = 3 words: P(· | a) = (3, 2, 1)/6, P(· | b) = (1, 2, 3)/6, and the priors are ½ each.
 */
function dataset(): DatasetInfo {
  const sentences = tokens([[0, 0, 1], [2, 2, 1], [0], [2]], 3)
  return {
    kind: 'toy',
    modality: 'tokens',
    vocabulary: ['x', 'y', 'z'],
    genres: { names: ['a', 'b'], sentences, of: Uint8Array.of(0, 1, 0, 1), train: Uint32Array.of(0, 1) },
  }
}

describe('the naive Bayes genre classifier', () => {
  it('names the genre a misspelt one is one letter from, and none for a word far from every genre', async () => {
    const named: DatasetInfo = { ...dataset(), genres: { ...dataset().genres!, names: ['news', 'romance', 'humor'] } }
    await expect(genreLogProbability(named, 'romanse')).rejects.toThrow("unknown Brown genre 'romanse' (did you mean 'romance'?); expected one of news, romance, humor")
    await expect(genreLogProbability(named, 'western')).rejects.toThrow("unknown Brown genre 'western'; expected one of news, romance, humor")
  })

  it('gives the log-posterior of a genre in closed form', async () => {
    const logA = await genreLogProbability(dataset(), 'a')
    // "x": ½·3/6 against ½·1/6, so P(a) = 3/4. "x z": 3·1 against 1·3, so ½. "y": equal, ½.
    // Word 7 is outside the vocabulary the classifier knows: the prior alone, ½.
    const got = logA(tokens([[0], [0, 2], [1], [7], [2, 2]], 8))
    const want = [Math.log(3 / 4), Math.log(1 / 2), Math.log(1 / 2), Math.log(1 / 2), Math.log(1 / 10)]
    want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 14))
    // P(a) + P(b) = 1 for any sentence.
    const logB = (await genreLogProbability(dataset(), 'b'))(tokens([[0, 1, 2, 2]], 3))
    expect(Math.exp(logA(tokens([[0, 1, 2, 2]], 3))[0]!) + Math.exp(logB[0]!)).toBeCloseTo(1, 14)
  })

  it('refuses an unknown genre and data without genres, naming what there is', async () => {
    await expect(genreLogProbability(dataset(), 'sports')).rejects.toThrow("unknown Brown genre 'sports'; expected one of a, b")
    await expect(genreLogProbability({ kind: 'zipf', modality: 'tokens' }, 'a')).rejects.toThrow("dataset 'zipf' has no genres")
  })

  it('records its held-out accuracy, and is read back from the cache by content hash', () => {
    // The toy data with one more held-out sentence, "x y" (a), so that no other test cached it.
    const info: DatasetInfo = { ...dataset(), genres: { ...dataset().genres!, sentences: tokens([[0, 0, 1], [2, 2, 1], [0], [2], [0, 1]], 3), of: Uint8Array.of(0, 1, 0, 1, 0) } }
    const first = genreClassifierFacts(info)
    // The held-out "x", "z" and "x y" are classified a, b and a.
    expect(first).toMatchObject({ accuracy: 1, testItems: 3, trained: true })
    // Same content in new arrays: not the model in memory, the file on disk.
    const again = genreClassifierFor(structuredClone(info.genres!))
    expect(again.facts).toMatchObject({ accuracy: 1, hash: first.hash, trained: false })
    expect(again.logWordGivenGenre).toEqual(genreClassifierFor(info.genres!).logWordGivenGenre)
    // Other labels, another model, which gets one held-out sentence of three right.
    const relabelled = { ...info.genres!, of: Uint8Array.of(1, 0, 0, 1, 1) }
    const other = genreClassifierFor(relabelled).facts
    expect(other.hash).not.toBe(first.hash)
    expect(other.accuracy).toBeCloseTo(1 / 3, 15)
  })

  it('goes on with the model it trained where the cache cannot be written, saying why', () => {
    // The cache folder would be under a file: no user, root included, can make it.
    const file = join(cache, 'a-file')
    writeFileSync(file, '')
    process.env['OUROBOROS_CACHE_DIR'] = join(file, 'cache')
    try {
      const info: DatasetInfo = { ...dataset(), genres: { ...dataset().genres!, sentences: tokens([[0, 0, 1], [2, 2, 1], [0], [2], [2, 1]], 3), of: Uint8Array.of(0, 1, 0, 1, 1) } }
      const facts = genreClassifierFacts(info)
      expect(facts).toMatchObject({ accuracy: 1, testItems: 3, trained: true })
      expect(facts.notCached).toMatch(/^cannot (make|write) .*; set OUROBOROS_CACHE_DIR to a folder this user can write$/)
      // A second process would train it again: nothing was written.
      expect(existsSync(join(file, 'cache'))).toBe(false)
    } finally {
      process.env['OUROBOROS_CACHE_DIR'] = cache
    }
  })
})

describe('genres metrics', () => {
  it('entropy, genres covered and KL (add ½) of the predicted genres', async () => {
    const real = tokens([[0], [2]], 3)
    const generated = tokens([[0], [0, 0], [0, 1], [2]], 3)
    const got = await evaluate(genres, { real, generated, dataset: dataset() })
    // Predicted: a, a, a, b against the real a, b. Smoothed: p = (3.5, 1.5)/5, q = (1.5, 1.5)/3.
    expect(got.genre_entropy).toBeCloseTo(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)), 14)
    expect(got.genres_covered).toBe(2)
    expect(got.genre_kl).toBeCloseTo(0.7 * Math.log(0.7 / 0.5) + 0.3 * Math.log(0.3 / 0.5), 14)
    const narrow = await evaluate(genres, { real, generated, dataset: dataset(), options: { coveredShare: 0.3 } })
    expect(narrow.genres_covered).toBe(1)
  })

  it('is 0 KL and full entropy for text whose genres match the real text', async () => {
    const real = tokens([[0], [2]], 3)
    const got = await evaluate(genres, { real, generated: real, dataset: dataset() })
    expect(got).toEqual({ genre_entropy: Math.log(2), genres_covered: 2, genre_kl: 0 })
    expect(genres.needs).toEqual(['dataset.genres'])
  })
})
