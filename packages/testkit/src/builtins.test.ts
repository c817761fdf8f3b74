import { Rng, vectors, type Samples, type TokenSamples } from '@ouroboros/core'
import { builtinDatasets, zipf } from '@ouroboros/datasets'
import { builtinMetrics } from '@ouroboros/metrics'
import { ringDataset, ringSamples } from './data.js'
import { runDatasetConformance } from './dataset-conformance.js'
import { runMetricConformance } from './metric-conformance.js'
import type { BadParams } from './conformance.js'

// The built-in datasets pass the suite every dataset package runs.
const datasets: Record<string, { params: Record<string, unknown>; badParams: BadParams[] }> = {
  ring: { params: { modes: 8 }, badParams: [{ params: { modes: 0 }, field: 'modes' }] },
  grid: { params: { std: 0.05 }, badParams: [{ params: { std: -1 }, field: 'std' }] },
  gaussian: { params: { d: 3 }, badParams: [{ params: { d: 1.5 }, field: 'd' }] },
  regression: { params: { T: 50, d: 4 }, badParams: [{ params: { sigma: 0 }, field: 'sigma' }] },
  zipf: { params: { vocabSize: 500 }, badParams: [{ params: { exponent: -1 }, field: 'exponent' }] },
  mnist: { params: {}, badParams: [{ params: { heldout: 0 }, field: 'heldout' }] },
  brown: { params: {}, badParams: [{ params: { heldoutFraction: 1 }, field: 'heldoutFraction' }] },
}
for (const [kind, options] of Object.entries(datasets)) runDatasetConformance(builtinDatasets[kind]!, options)

// The built-in metric groups whose needs plain data can meet, on ring points and Zipf sentences.
const ring = (n: number) => (rng: Rng) => ringSamples(n, rng)
const shifted = (rng: Rng) => {
  const x = ringSamples(300, rng)
  return vectors(x.n, x.d, x.data.map((v, i) => v + (i % 2 === 0 ? 0.3 : 0)))
}
/** A standard normal model in 2-D, as a metric sees a model. */
const gaussianView = {
  async logLikelihood(data: Samples): Promise<Float64Array> {
    if (data.modality !== 'vectors') throw new TypeError('vectors expected')
    const out = new Float64Array(data.n)
    for (let i = 0; i < data.n; i++) out[i] = -Math.log(2 * Math.PI) - 0.5 * (data.data[2 * i]! ** 2 + data.data[2 * i + 1]! ** 2)
    return out
  },
}
for (const id of ['modes', 'moments', 'prdc', 'clusters', 'sliced_wasserstein', 'mmd_rbf', 'vendi', 'copy_rate', 'likelihood']) {
  runMetricConformance(builtinMetrics[id]!, {
    options: {},
    real: ring(300),
    generated: shifted,
    dataset: ringDataset,
    extra: { heldout: ringSamples(200, Rng.from(9, 'heldout')), training: ringSamples(300, Rng.from(10, 'training')), model: gaussianView },
    badOptions: [],
  })
}

// Moments in 1-D with a fitted model's summary and the data's true Gaussian, and with neither:
// the branches computeBlock shares with compute.
const line = (mean: number) => (rng: Rng) => vectors(150, 1, rng.fillNormal(new Float64Array(150), mean, 1.5))
const fitted = { summary: { mean: Float64Array.of(0.25), covariance: Float64Array.of(2.1) } }
for (const [dataset, extra] of [
  [{ kind: 'gaussian', modality: 'vectors', d: 1, gaussian: { mean: 0, std: 1 } }, { model: fitted }],
  [{ kind: 'test', modality: 'vectors', d: 1 }, {}],
] as const) {
  runMetricConformance(builtinMetrics['moments']!, { options: {}, real: line(0), generated: line(0.5), dataset, extra, badOptions: [] })
}

const words = zipf.create(zipf.params.parse({ vocabSize: 300 }), Rng.from(0, 'zipf'))
if (words instanceof Promise) throw new TypeError('zipf is created synchronously')
const sentences = (rng: Rng) => words.sample(200, rng) as TokenSamples
/** A uniform unigram model over the vocabulary. */
const uniformView = {
  async logLikelihood(data: Samples): Promise<Float64Array> {
    if (data.modality !== 'tokens') throw new TypeError('tokens expected')
    return Float64Array.from({ length: data.n }, (_, i) => -(data.offsets[i + 1]! - data.offsets[i]!) * Math.log(data.vocabSize))
  },
}
for (const id of ['text', 'perplexity']) {
  runMetricConformance(builtinMetrics[id]!, {
    options: {},
    real: sentences,
    generated: sentences,
    dataset: words.info,
    extra: { heldout: words.sample(100, Rng.from(9, 'heldout')), model: uniformView },
    badOptions: [],
  })
}
