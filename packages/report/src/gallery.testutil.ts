/** Synthetic token and image runs for the gallery tests. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Rng, vectors, type TokenSamples } from '@ouroboros/core'
import { samplesPath, writeSamples } from '@ouroboros/store'
import { VOCABULARY_FILE } from './gallery.js'
import { writeSyntheticRun } from './runs.testutil.js'

export const HOSTILE_WORD = '<script>alert(1)</script>'
export const VOCABULARY = ['the', 'cat', 'sat', 'on', 'mat', HOSTILE_WORD, '.']

/**
 * Sentence i of generation g: "the cat sat on the mat ." with word g mod 7 in front; generation 3
 * starts with an empty sentence, as a model that ends a sequence at once writes, and generation 1
 * with one of 57 tokens (the sentence 8 times), longer than a gallery shows.
 */
function sentencesOf(g: number, n: number): TokenSamples {
  const base = [0, 1, 2, 3, 0, 4, 6]
  const tokens: number[] = []
  const offsets = [0]
  for (let i = 0; i < n; i++) {
    if (g !== 3 || i !== 0) tokens.push(((g < 0 ? 5 : g) % 7 + 7) % 7, ...base)
    if (g === 1 && i === 0) for (let k = 1; k < 8; k++) tokens.push(...base)
    offsets.push(tokens.length)
  }
  return { modality: 'tokens', n, vocabSize: VOCABULARY.length, tokens: Int32Array.from(tokens), offsets: Uint32Array.from(offsets) }
}

export function writeTokenRun(dir: string): void {
  writeSyntheticRun(dir, {
    name: 'text run',
    modality: 'tokens',
    dataset: { kind: 'brown', modality: 'tokens' },
    base: { generations: 4, samplesPerGeneration: 10, data: { kind: 'brown', n: 10 }, model: { kind: 'ngram' }, policy: { kind: 'replace' } },
    cells: [{}],
    replicates: 1,
    metrics: (_c, _r, g) => ({ vocab_size: 100 - 10 * Math.max(g, 0) }),
  })
  for (const g of [-1, 0, 1, 2, 3]) writeSamples(samplesPath(dir, 'c0-r0', g < 0 ? 'real' : g, 'tokens'), sentencesOf(g, 10))
  writeFileSync(join(dir, VOCABULARY_FILE), JSON.stringify(VOCABULARY))
}

/** 28 x 28 images: sample i of generation g is a constant image of grey level (i + g) / 64 (capped at 1). */
export function imageValue(i: number, g: number): number {
  return Math.min(1, (i + Math.max(g, 0)) / 64)
}

export function writeImageRun(dir: string): void {
  const rng = Rng.from(3, 'images')
  writeSyntheticRun(dir, {
    name: 'image run',
    dataset: { kind: 'mnist', modality: 'vectors', d: 784, image: { width: 28, height: 28 } },
    base: { generations: 3, samplesPerGeneration: 40, data: { kind: 'mnist', n: 40 }, model: { kind: 'vae' }, policy: { kind: 'replace' } },
    cells: [{}],
    replicates: 1,
    metrics: () => ({ total_variance: rng.uniform() }),
    samples: (_c, _r, g) => {
      const gen = g === 'real' ? -1 : g
      const data = new Float64Array(40 * 784)
      for (let i = 0; i < 40; i++) data.fill(imageValue(i, gen), i * 784, (i + 1) * 784)
      return vectors(40, 784, data)
    },
  })
}
