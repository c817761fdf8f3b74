import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Rng, type TokenSamples } from '@ouroboros/core'
import { brown } from '@ouroboros/datasets'
import { builtinMetrics, genreClassifierFacts } from '@ouroboros/metrics'
import { cleanup, cli, tempDir } from './helpers.js'

afterAll(cleanup)

const cache = tempDir('ouroboros-genres-cache-')
process.env['OUROBOROS_CACHE_DIR'] = cache

describe('the Brown genre classifier', () => {
  it('classifies held-out sentences far above chance: 46.46 %, as an independent numpy naive Bayes does', async () => {
    const ds = await brown.create(brown.params.parse({}), Rng.from(0))
    const facts = genreClassifierFacts(ds.info)
    expect(facts.testItems).toBe(5734)
    // packages/metrics/fixtures/brown_genres.py, on the same split: 0.46459713986745726.
    expect(facts.accuracy).toBeCloseTo(0.4646, 4)
    // Chance is 1/15; always answering the largest genre (learned, 7,734 of 57,340) gives 13.5 %.
    expect(facts.accuracy).toBeGreaterThan(3 * (7734 / 57_340))
  })

  it('scores the genres of text files with eval --data brown', async () => {
    const ds = await brown.create(brown.params.parse({}), Rng.from(0))
    const vocabulary = ds.info.vocabulary!
    const text = (s: TokenSamples): string =>
      Array.from({ length: s.n }, (_, i) => Array.from(s.tokens.subarray(s.offsets[i]!, s.offsets[i + 1]!), (t) => vocabulary[t]).join(' ')).join('\n') + '\n'
    const dir = tempDir()
    const real = join(dir, 'real.txt')
    writeFileSync(real, text(ds.sample(2000, Rng.from(1))))
    const news = await brown.create(brown.params.parse({ categories: ['news'] }), Rng.from(0))
    const generated = join(dir, 'news.txt')
    writeFileSync(generated, text(news.sample(2000, Rng.from(2))))
    const env = { OUROBOROS_CACHE_DIR: cache }
    const same = cli(['eval', '--real', real, '--generated', real, '--data', 'brown', '--metrics', 'genres', '--json'], { env })
    expect(same.status, same.stderr).toBe(0)
    // The same file on both sides: the same predicted histogram, KL 0.
    expect(JSON.parse(same.stdout).genre_kl).toBe(0)
    const narrow = cli(['eval', '--real', real, '--generated', generated, '--data', 'brown', '--metrics', 'genres', '--json'], { env })
    expect(narrow.status, narrow.stderr).toBe(0)
    const values = JSON.parse(narrow.stdout)
    expect(values.genre_kl).toBeGreaterThan(0.1)
    // News alone: fewer predicted genres than in text of every genre.
    expect(values.genre_entropy).toBeLessThan(JSON.parse(same.stdout).genre_entropy)
    expect(values.genres_covered).toBeLessThan(JSON.parse(same.stdout).genres_covered)
    const refused = cli(['eval', '--real', real, '--generated', real, '--metrics', 'genres'], { env })
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain('--data brown')
    expect(builtinMetrics['genres']!.needs).toEqual(['dataset.genres'])
  })
})
