import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { Rng, vectors, type DatasetInfo } from '@ouroboros/core'
import { classifier, classifierFacts, frechetDistance } from './classifier.js'

const cache = mkdtempSync(join(tmpdir(), 'ouroboros-classifier-test-'))
process.env['OUROBOROS_CACHE_DIR'] = cache
afterAll(() => rmSync(cache, { recursive: true, force: true }))

describe('frechetDistance', () => {
  it('is Σ (Δμ)² + Σ (σ_a − σ_b)² for diagonal covariances', () => {
    const w = 4
    const rng = Rng.from(1)
    const mean = (v: number[]) => Float64Array.from(v)
    const diag = (v: number[]) => {
      const c = new Float64Array(w * w)
      v.forEach((x, j) => (c[j * w + j] = x))
      return c
    }
    const va = [1, 4, 0.25, 2]
    const vb = [2, 1, 0.25, 0.5]
    const ma = Array.from({ length: w }, () => rng.normal())
    const mb = Array.from({ length: w }, () => rng.normal())
    let expected = 0
    for (let j = 0; j < w; j++) expected += (ma[j]! - mb[j]!) ** 2 + (Math.sqrt(va[j]!) - Math.sqrt(vb[j]!)) ** 2
    expect(frechetDistance({ mean: mean(ma), cov: diag(va) }, { mean: mean(mb), cov: diag(vb) }, w)).toBeCloseTo(expected, 10)
  })

  it('is Σ (√a_j − √b_j)² for covariances sharing eigenvectors, and survives a dead feature', () => {
    // Q = a rotation by 30° in the plane of features 0 and 1; feature 2 is constant in a.
    const c = Math.cos(Math.PI / 6)
    const s = Math.sin(Math.PI / 6)
    const q = [c, -s, 0, s, c, 0, 0, 0, 1]
    const rotate = (d: number[]) => {
      const out = new Float64Array(9)
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) out[i * 3 + j]! += q[i * 3 + k]! * d[k]! * q[j * 3 + k]!
      return out
    }
    const zero = new Float64Array(3)
    const expected = (Math.sqrt(3) - 1) ** 2 + (Math.sqrt(0.5) - Math.sqrt(2)) ** 2 + (0 - Math.sqrt(0.7)) ** 2
    expect(frechetDistance({ mean: zero, cov: rotate([3, 0.5, 0]) }, { mean: zero, cov: rotate([1, 2, 0.7]) }, 3)).toBeCloseTo(expected, 4)
  })
})

/** Two classes of 16-d points around ±1 in every coordinate: a classifier separates them perfectly. */
function blobs(): DatasetInfo {
  const rng = Rng.from(2)
  const n = 600
  const d = 16
  const x = new Float32Array(n * d)
  const labels = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2
    for (let j = 0; j < d; j++) x[i * d + j] = (labels[i] === 1 ? 1 : -1) + 0.5 * rng.normal()
  }
  return { kind: 'blobs', modality: 'vectors', d, labelled: { classes: 2, d, x, labels } }
}

/** Rows of the labelled set with the given label (all of them when undefined), as samples. */
function rowsOf(info: DatasetInfo, label?: number) {
  const { x, labels, d } = info.labelled!
  const keep = Array.from(labels.keys()).filter((i) => label === undefined || labels[i] === label)
  const out = new Float64Array(keep.length * d)
  keep.forEach((r, i) => out.set(x.subarray(r * d, (r + 1) * d), i * d))
  return vectors(keep.length, d, out)
}

describe('classifier metrics', () => {
  const options = classifier.options.parse({ hidden: [8, 4], epochs: 10, shift: 0, testItems: 100, batch: 50 })

  it('trains once, then reads the classifier from the cache', async () => {
    const info = blobs()
    const first = await classifierFacts(info, options)
    expect(first.accuracy).toBe(1)
    expect(first.trained).toBe(true)
    expect(first.cacheFile).toBe(join(cache, `mnist-classifier-${first.hash.slice(0, 32)}.v8`))
    expect(existsSync(first.cacheFile)).toBe(true)
    expect(await classifierFacts(info, options)).toEqual(first)
    // A fresh copy of the module (a new process) finds the weights on disk.
    vi.resetModules()
    const fresh = (await import('./classifier.js')) as typeof import('./classifier.js')
    expect(await fresh.classifierFacts(info, options)).toEqual({ ...first, trained: false })
  })

  it('says at once, in its setup for a run, that it trains a classifier not in the cache, and nothing where it reads one', async () => {
    const info = blobs()
    const other = classifier.options.parse({ ...options, seed: 7 })
    const said: string[] = []
    const setup = await classifier.setupRun!({ dataset: info, options: other, say: (line) => said.push(line) })
    expect(said).toEqual(['training the classifier (10 epochs on 500 digits; not in the cache yet, so this once)…'])
    expect(setup.line).toContain('(trained now: ')
    vi.resetModules()
    const fresh = (await import('./classifier.js')) as typeof import('./classifier.js')
    const again = await fresh.classifier.setupRun!({ dataset: info, options: other, say: (line) => said.push(line) })
    expect(again.line).toContain('(read from the cache: ')
    expect(said).toHaveLength(1)
  })

  it('where the cache cannot be written, trains the same weights and says why it kept none', async () => {
    const info = blobs()
    const cached = await classifierFacts(info, options)
    // The cache folder would be under a file: no user, root included, can make it.
    writeFileSync(join(cache, 'a-file'), '')
    process.env['OUROBOROS_CACHE_DIR'] = join(cache, 'a-file', 'cache')
    try {
      vi.resetModules()
      const fresh = (await import('./classifier.js')) as typeof import('./classifier.js')
      const uncached = await fresh.classifierFacts(info, options)
      expect(uncached).toMatchObject({ accuracy: cached.accuracy, hash: cached.hash, trained: true })
      expect(uncached.notCached).toMatch(/^cannot (make|write) .*; set OUROBOROS_CACHE_DIR to a folder this user can write$/)
      const setup = await fresh.classifier.setupRun!({ dataset: info, options })
      expect(setup.line).toContain('trained now, not cached, so each worker trains it again: cannot')
      // The weights are those of the cached entry: the same scores.
      const real = rowsOf(info)
      const rng = Rng.from(3)
      const score = async (m: typeof classifier) => m.compute({ real, generated: rowsOf(info, 1), dataset: info, options, prepared: await m.prepare!({ real, dataset: info, options, rng }), rng })
      expect(await score(fresh.classifier)).toEqual(await score(classifier))
    } finally {
      process.env['OUROBOROS_CACHE_DIR'] = cache
    }
  })

  it('scores a sample with both classes as covered and one class as collapsed', async () => {
    const dataset = blobs()
    const real = rowsOf(dataset)
    const rng = Rng.from(3)
    const prepared = await classifier.prepare!({ real, dataset, options, rng })
    const score = (generated: ReturnType<typeof rowsOf>) => classifier.compute({ real, generated, dataset, options, prepared, rng })
    const same = await score(real)
    expect(same.classes_covered).toBe(2)
    expect(same.class_entropy).toBeCloseTo(Math.log(2), 10)
    expect(same.class_kl).toBeCloseTo(0, 12)
    expect(same.frechet_feature_distance).toBeCloseTo(0, 6)
    const collapsed = await score(rowsOf(dataset, 1))
    expect(collapsed.classes_covered).toBe(1)
    expect(collapsed.class_entropy).toBe(0)
    // All 300 generated in class 1 against a 300/300 real histogram, each count + ½.
    const p = [0.5 / 301, 300.5 / 301]
    expect(collapsed.class_kl).toBeCloseTo(p[0]! * Math.log(p[0]! / 0.5) + p[1]! * Math.log(p[1]! / 0.5), 10)
    expect(collapsed.frechet_feature_distance!).toBeGreaterThan(same.frechet_feature_distance! + 1)
  })

  it('refuses to score with a classifier below minAccuracy, and data without labels', async () => {
    const dataset = blobs()
    const weak = classifier.options.parse({ ...options, minAccuracy: 1, epochs: 1, hidden: [1], lr: 1e-6 })
    await expect(classifier.prepare!({ real: rowsOf(dataset), dataset, options: weak, rng: Rng.from(4) })).rejects.toThrow(/below minAccuracy 100 %/)
    await expect(classifierFacts({ kind: 'ring', modality: 'vectors', d: 2 })).rejects.toThrow(/has no labels/)
  })
})
