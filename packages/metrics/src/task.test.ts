import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Rng, vectors, type DatasetInfo, type MetricPlugin, type MetricValues, type ModelView, type Samples, type TaskView, type TokenSamples } from '@ouroboros/core'
import { digitLogProbability } from './classifier.js'
import { task, taskText } from './task.js'
import { ringCenters } from '../fixtures/load.js'

const cache = mkdtempSync(join(tmpdir(), 'ouroboros-task-test-'))
process.env['OUROBOROS_CACHE_DIR'] = cache
afterAll(() => rmSync(cache, { recursive: true, force: true }))

async function score(plugin: MetricPlugin<any, any>, generated: Samples, taskView?: TaskView, model?: ModelView, options: Record<string, unknown> = {}): Promise<MetricValues> {
  return plugin.compute({
    real: generated,
    generated,
    options: plugin.options.parse(options),
    dataset: taskView?.dataset ?? { kind: 'test', modality: generated.modality },
    prepared: undefined,
    rng: Rng.from(0),
    ...(taskView === undefined ? {} : { task: taskView }),
    ...(model === undefined ? {} : { model }),
  })
}

const centers = ringCenters()
/** The ring finetuned towards modes 0 and 1: weight ½ each, 0 elsewhere. */
const ringTask: DatasetInfo = { kind: 'ring', modality: 'vectors', d: 2, modes: { centers, k: 8, std: 0.02, weights: Float64Array.of(0.5, 0.5, 0, 0, 0, 0, 0, 0) } }
const point = (k: number, dx = 0): number[] => [centers[2 * k]! + dx, centers[2 * k + 1]!]

describe('task metrics', () => {
  it('are null outside a finetuning stage', async () => {
    expect(await score(task, vectors(1, 2, Float64Array.of(2, 0)))).toEqual({ task_nll: null, task_share: null })
    expect(task.needs).toEqual(['task'])
  })

  it('count high-quality samples at modes of positive task weight, and the mean NLL of held-out task items', async () => {
    // Two HQ samples at mode 0 and one at mode 1 (in the task); one HQ at mode 3 (weight 0); one
    // 0.1 from mode 1, outside the HQ radius 3 · 0.02.
    const generated = vectors(5, 2, Float64Array.from([...point(0), ...point(0, 0.01), ...point(1), ...point(3), ...point(1, 0.1)]))
    const heldout = vectors(3, 2, new Float64Array(6))
    const model: ModelView = { logLikelihood: async () => Float64Array.of(-1, -2, -4.5) }
    expect(await score(task, generated, { dataset: ringTask, heldout }, model)).toEqual({ task_nll: 2.5, task_share: 3 / 5 })
    // Without a log-likelihood there is no NLL; a wider HQ radius takes in the fifth sample.
    expect(await score(task, generated, { dataset: ringTask, heldout }, undefined, { qualityStds: 6 })).toEqual({ task_nll: null, task_share: 4 / 5 })
  })

  it('count the samples the MNIST classifier puts in the task digits; the digit log-probability is a log-softmax', async () => {
    // Two classes of 16-d points around −1 (class 0) and +1 (class 1): the classifier separates them.
    const rng = Rng.from(2)
    const n = 600
    const d = 16
    const x = new Float32Array(n * d)
    const labels = new Uint8Array(n)
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2
      for (let j = 0; j < d; j++) x[i * d + j] = (labels[i] === 1 ? 1 : -1) + 0.5 * rng.normal()
    }
    const classifier = { hidden: [8, 4], epochs: 10, shift: 0, testItems: 100, batch: 50 }
    const blobs: DatasetInfo = { kind: 'blobs', modality: 'vectors', d, labelled: { classes: 2, d, x, labels }, digits: [1] }
    // 3 points of class 1, 1 of class 0, far from the boundary.
    const generated = vectors(4, d, Float64Array.from({ length: 4 * d }, (_, i) => (Math.floor(i / d) === 3 ? -1.5 : 1.5)))
    const got = await score(task, generated, { dataset: blobs, heldout: vectors(0, d, new Float64Array(0)) }, undefined, { classifier })
    expect(got).toEqual({ task_nll: null, task_share: 3 / 4 })
    const log1 = await (await digitLogProbability(blobs, 1, classifier))(generated)
    const log0 = await (await digitLogProbability(blobs, 0, classifier))(generated)
    for (let i = 0; i < 4; i++) expect(Math.exp(log0[i]!) + Math.exp(log1[i]!)).toBeCloseTo(1, 5)
    // The classes the classifier predicts: digit 1 is the likelier one for the first three.
    for (let i = 0; i < 3; i++) expect(log1[i]).toBeGreaterThan(Math.log(0.5))
    expect(log1[3]).toBeLessThan(Math.log(0.5))
    await expect(digitLogProbability(blobs, 2, classifier)).rejects.toThrow('the classifier knows the digits 0 to 1')
  })

  it('count the sentences the genre classifier puts in the task genres', async () => {
    // Genre a trains on "x x y", b on "z z y" (see genres.test.ts); the task is genre b.
    const tokens = (sentences: number[][]): TokenSamples => {
      const offsets = new Uint32Array(sentences.length + 1)
      sentences.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
      return { modality: 'tokens', n: sentences.length, vocabSize: 3, tokens: Int32Array.from(sentences.flat()), offsets }
    }
    const genres = { names: ['a', 'b'], sentences: tokens([[0, 0, 1], [2, 2, 1]]), of: Uint8Array.of(0, 1), train: Uint32Array.of(0, 1), selected: [1] }
    const dataset: DatasetInfo = { kind: 'brown', modality: 'tokens', vocabulary: ['x', 'y', 'z'], genres }
    const heldout = tokens([[2], [2, 1]])
    const model: ModelView = { logLikelihood: async (s) => new Float64Array(s.n).fill(-3) }
    // "z", "z z" and "z y" are b; "x" and "x y" are a.
    const got = await score(taskText, tokens([[2], [2, 2], [2, 1], [0], [0, 1]]), { dataset, heldout }, model)
    expect(got).toEqual({ task_nll: 3, task_share: 3 / 5 })
  })
})
