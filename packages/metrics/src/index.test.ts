import { describe, expect, it } from 'vitest'
import { Rng, vectors, type DatasetInfo, type MetricValues } from '@ouroboros/core'
import { builtinMetrics, metricsFor } from './index.js'
import { evaluate, mixture, ringCenters } from '../fixtures/load.js'

const ring: DatasetInfo = {
  kind: 'ring',
  modality: 'vectors',
  d: 2,
  modes: { centers: ringCenters(), k: 8, std: 0.02, weights: new Float64Array(8).fill(1 / 8) },
  gaussian: { mean: 0, std: 1 },
  regression: { weights: Float64Array.of(0, 0), sigma: 1, T: 10 },
}

// The generic checks run on ring vectors: token groups have their own tests (text.test.ts,
// perplexity.test.ts), and the classifier needs labelled data (classifier.test.ts).
const vectorGroups = Object.entries(builtinMetrics).filter(([id, p]) => p.modality === 'vectors' && id !== 'classifier')

describe('builtinMetrics', () => {
  const real = mixture(ringCenters(), 2, 0.02, 400, Rng.from(1)).samples
  const generated = mixture(ringCenters().subarray(0, 6), 2, 0.05, 300, Rng.from(2)).samples
  const model = {
    summary: { mean: Float64Array.of(0, 0), covariance: Float64Array.of(2, 0, 0, 2), weights: Float64Array.of(0.1, 0) },
    logLikelihood: async (data: { n: number }) => new Float64Array(data.n).fill(-1),
  }
  const args = { real, generated, dataset: ring, heldout: real, training: real, model }

  it.each(vectorGroups)('%s: id, strict options with defaults, exactly its outputs, reproducible', async (id, plugin) => {
    expect(plugin.id).toBe(id)
    expect(plugin.modality).toBe('vectors')
    expect(() => plugin.options.parse({ noSuchOption: 1 })).toThrow()
    const first = await evaluate(plugin, args)
    expect(Object.keys(first).sort()).toEqual([...plugin.outputs].sort())
    for (const v of Object.values(first)) expect(v === null || Number.isFinite(v)).toBe(true)
    const again = await evaluate(plugin, args)
    for (const name of plugin.outputs) expect(Object.is(again[name], first[name])).toBe(true)
  })

  it.each(vectorGroups.filter(([, p]) => p.prepare !== undefined))('%s: prepared state survives structuredClone', async (_id, plugin) => {
    const options = plugin.options.parse({})
    const prepared = await plugin.prepare!({ real, dataset: ring, options, rng: Rng.from(3) })
    const cloned = structuredClone(prepared)
    expect(cloned).toEqual(prepared)
    const rng = () => Rng.from(4)
    const direct: MetricValues = await plugin.compute({ ...args, options, prepared, rng: rng() })
    expect(await plugin.compute({ ...args, options, prepared: cloned, rng: rng() })).toEqual(direct)
  })

  it('rejects real and generated vectors of different dimensions', async () => {
    const a = vectors(10, 2, new Float64Array(20))
    const b = vectors(10, 3, new Float64Array(30))
    await expect(evaluate(builtinMetrics['prdc']!, { real: a, generated: b })).rejects.toThrow(/dimension 3 but real samples have 2/)
  })

  it('records the PRDC operator as an option value', () => {
    expect(builtinMetrics['prdc']!.options.parse({})).toEqual({ k: 5, operator: '<=' })
  })
})

describe('metricsFor', () => {
  const plain: DatasetInfo = { kind: 'file', modality: 'vectors', d: 5 }

  it('adds modes for mode data and likelihood for models that have one', () => {
    const modes = { kind: 'ring', modality: 'vectors', d: 2, modes: ring.modes } as const
    expect(metricsFor(modes, false)).toEqual(['modes', 'moments', 'prdc', 'clusters', 'sliced_wasserstein', 'mmd_rbf', 'vendi', 'copy_rate'])
    expect(metricsFor(plain, true)).toEqual(['moments', 'likelihood', 'prdc', 'clusters', 'sliced_wasserstein', 'mmd_rbf', 'vendi', 'copy_rate'])
  })

  it('scores regression data by its weights and token data by the text groups', () => {
    const regression: DatasetInfo = { kind: 'regression', modality: 'vectors', d: 3, regression: ring.regression! }
    expect(metricsFor(regression, false)).toEqual(['regression'])
    expect(metricsFor(regression, true)).toEqual(['regression', 'likelihood'])
    expect(metricsFor({ kind: 'brown', modality: 'tokens' }, true)).toEqual(['text', 'perplexity'])
  })

  it('adds the classifier group for labelled data only', () => {
    const labelled: DatasetInfo = { ...plain, kind: 'mnist', labelled: { classes: 2, d: 5, x: new Float32Array(10), labels: Uint8Array.of(0, 1) } }
    expect(metricsFor(labelled, false)).toEqual(['moments', 'prdc', 'clusters', 'sliced_wasserstein', 'mmd_rbf', 'vendi', 'copy_rate', 'classifier'])
    expect(metricsFor(ring, true)).not.toContain('classifier')
  })

  it('names only groups that exist', () => {
    for (const id of metricsFor(ring, true)) expect(builtinMetrics[id]).toBeDefined()
  })
})
