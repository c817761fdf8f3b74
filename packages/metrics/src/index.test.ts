import { describe, expect, it } from 'vitest'
import { Rng, vectors, type DatasetInfo, type MetricValues } from '@ouroboros/core'
import { builtinMetrics, metricsFor, unmetNeeds } from './index.js'
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

describe('output descriptions', () => {
  it.each(Object.entries(builtinMetrics))('%s describes every output, and only its outputs, with thresholds on the side of 1 their direction needs', (_id, plugin) => {
    expect(Object.keys(plugin.outputInfo ?? {}).sort()).toEqual([...plugin.outputs].sort())
    for (const [name, info] of Object.entries(plugin.outputInfo ?? {})) {
      expect(info.title.length, name).toBeGreaterThan(0)
      const t = info.threshold
      if (t === undefined) continue
      if (t.kind === 'offset') expect(t.value, name).toBeGreaterThan(0)
      else if (t.direction === 'falls') expect(t.value > 0 && t.value < 1, name).toBe(true)
      else expect(t.value, name).toBeGreaterThan(1)
    }
  })

  // Samples of 2 of the ring's 8 modes against fresh samples of all 8: a collapse every threshold
  // must see in its direction, and values the bounds must hold.
  const real = mixture(ringCenters(), 2, 0.02, 400, Rng.from(1)).samples
  const fresh = mixture(ringCenters(), 2, 0.02, 400, Rng.from(2)).samples
  const collapsed = mixture(ringCenters().subarray(0, 4), 2, 0.02, 400, Rng.from(3)).samples
  // Their values do not come from the samples (nll_real, excess_test_error read the model) or compare them with no ring (w2_to_reference).
  const fromModel = new Set(['nll_real', 'excess_test_error', 'w2_to_reference'])
  const model = { summary: { mean: Float64Array.of(0, 0), covariance: Float64Array.of(2, 0, 0, 2), weights: Float64Array.of(0.1, 0) } }
  it.each(vectorGroups)('%s: moves each output with a threshold its way under a collapse, and keeps bounded outputs inside their bounds', async (_id, plugin) => {
    const args = { real, dataset: ring, heldout: real, training: real, model }
    const before = await evaluate(plugin, { ...args, generated: fresh })
    const after = await evaluate(plugin, { ...args, generated: collapsed })
    for (const [name, info] of Object.entries(plugin.outputInfo ?? {})) {
      for (const v of [before[name], after[name]]) {
        if (info.bounds !== undefined && v !== null && v !== undefined) expect(v >= info.bounds[0] && v <= info.bounds[1], `${name} = ${v}`).toBe(true)
      }
      const direction = info.threshold?.direction
      if (direction === undefined || direction === 'departs' || fromModel.has(name)) continue
      // An output the group documents as null in some cases (reverse_kl_uniform with uniform weights).
      if (plugin.nullWhen?.[name] !== undefined && before[name] === null && after[name] === null) continue
      expect(before[name], name).not.toBeNull()
      expect(after[name], name).not.toBeNull()
      if (direction === 'falls') expect(after[name]!, name).toBeLessThan(before[name]!)
      else expect(after[name]!, name).toBeGreaterThan(before[name]!)
    }
  })
})

describe('metricsFor', () => {
  const plain: DatasetInfo = { kind: 'file', modality: 'vectors', d: 5 }
  const expensive = ['prdc', 'mmd_rbf', 'vendi', 'copy_rate']

  it('adds modes for mode data and likelihood for models that have one, and leaves out the expensive groups', () => {
    const modes = { kind: 'ring', modality: 'vectors', d: 2, modes: ring.modes } as const
    expect(metricsFor(modes, false)).toEqual(['modes', 'moments', 'clusters', 'sliced_wasserstein'])
    expect(metricsFor(plain, true)).toEqual(['moments', 'likelihood', 'clusters', 'sliced_wasserstein'])
    for (const id of expensive) expect(builtinMetrics[id]!.cost, id).toBe('expensive')
    expect(Object.keys(builtinMetrics).filter((id) => builtinMetrics[id]!.cost === 'expensive')).toEqual(expensive)
  })

  it('scores regression data by its weights and token data by the text groups (and genres for Brown)', () => {
    const regression: DatasetInfo = { kind: 'regression', modality: 'vectors', d: 3, regression: ring.regression! }
    expect(metricsFor(regression, false)).toEqual(['regression'])
    expect(metricsFor(regression, true)).toEqual(['likelihood', 'regression'])
    expect(metricsFor({ kind: 'zipf', modality: 'tokens' }, true)).toEqual(['text', 'perplexity'])
    const sentences = { modality: 'tokens', n: 0, vocabSize: 1, tokens: new Int32Array(0), offsets: Uint32Array.of(0) } as const
    const brown: DatasetInfo = { kind: 'brown', modality: 'tokens', genres: { names: ['news'], sentences, of: new Uint8Array(0), train: new Uint32Array(0) } }
    expect(metricsFor(brown, true)).toEqual(['text', 'perplexity', 'genres'])
  })

  it('adds the classifier group for labelled data only, and the task groups only while there is a task', () => {
    const labelled: DatasetInfo = { ...plain, kind: 'mnist', labelled: { classes: 2, d: 5, x: new Float32Array(10), labels: Uint8Array.of(0, 1) } }
    expect(metricsFor(labelled, false)).toEqual(['moments', 'clusters', 'sliced_wasserstein', 'classifier'])
    expect(metricsFor(ring, true)).not.toContain('classifier')
    expect(metricsFor(labelled, false, { task: true })).toEqual(['moments', 'clusters', 'sliced_wasserstein', 'classifier', 'task'])
    expect(metricsFor({ kind: 'zipf', modality: 'tokens' }, false, { task: true })).toEqual(['text', 'task_text'])
  })

  it('leaves out what the caller cannot give: held-out data, a training set', () => {
    expect(metricsFor(plain, true, { heldout: false })).toEqual(['moments', 'clusters', 'sliced_wasserstein'])
    const sources = { dataset: plain, logLikelihood: false, summary: false, training: false, heldout: false, task: false }
    expect(unmetNeeds(builtinMetrics['copy_rate']!, sources)).toEqual(['training'])
    expect(unmetNeeds(builtinMetrics['likelihood']!, sources)).toEqual(['model.logLikelihood', 'heldout'])
    expect(unmetNeeds(builtinMetrics['regression']!, sources)).toEqual(['dataset.regression', 'model.summary'])
    expect(unmetNeeds(builtinMetrics['modes']!, { ...sources, dataset: ring })).toEqual([])
  })

  it('names only groups that exist', () => {
    for (const id of metricsFor(ring, true)) expect(builtinMetrics[id]).toBeDefined()
  })
})
