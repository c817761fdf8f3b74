import { z } from 'zod'
import { Rng, defineModel, vectors, type DatasetInfo, type Samples } from '@ouroboros/core'
import { gaussian, grid } from '@ouroboros/datasets'
import { ringDataset, ringSamples, runFilterConformance } from '@ouroboros/testkit'
import { builtinFilters } from './index.js'

const info = (made: { info: DatasetInfo } | Promise<{ info: DatasetInfo }>): DatasetInfo => {
  if (made instanceof Promise) throw new TypeError('expected a dataset created synchronously')
  return made.info
}
const normal1d = info(gaussian.create(gaussian.params.parse({ d: 1 }), Rng.from(0, 'dataset')))
const grid25 = info(grid.create(grid.params.parse({}), Rng.from(0, 'dataset')))

/** log N(x; 0, 1) per item of 1-D samples. */
function standardNormal(s: Samples): Float64Array {
  if (s.modality !== 'vectors') throw new TypeError('vectors expected')
  return Float64Array.from(s.data, (x) => -0.5 * x * x - 0.5 * Math.log(2 * Math.PI))
}

/** The generating models as a filter's checks see them: one with a log-likelihood, one without. */
const withLikelihood = defineModel({
  id: 'normal',
  modality: 'vectors',
  description: 'a standard normal',
  params: z.strictObject({}),
  acceptsTemperature: false,
  fit: () => ({}),
  sample: (_state, n, ctx) => vectors(n, 1, ctx.rng.fillNormal(new Float64Array(n))),
  logLikelihood: (_state, data) => standardNormal(data),
})
const { logLikelihood: _ll, ...withoutLikelihood } = { ...withLikelihood, id: 'sampler' }

/** Ring samples blurred by N(0, 0.03²) noise: about three in four stay within 3 std of their mode. */
const blurredRing = (n: number, rng: Rng): Samples => {
  const s = ringSamples(n, rng)
  const data = Float64Array.from(s.data)
  const noise = rng.derive('blur').fillNormal(new Float64Array(data.length), 0, 0.03)
  for (let i = 0; i < data.length; i++) data[i]! += noise[i]!
  return vectors(n, 2, data)
}

// Every built-in filter passes the suite a filter from outside runs.
const cases: Record<string, Parameters<typeof runFilterConformance>[1]> = {
  modes: {
    params: { qualityStds: 3 },
    badParams: [{ params: { qualityStds: 0 }, field: 'qualityStds' }],
    run: { dataset: ringDataset, model: withoutLikelihood },
    draw: blurredRing,
    refuses: [{ run: { dataset: normal1d, model: withoutLikelihood }, field: 'filter.kind' }],
  },
  likelihood: {
    params: { keep: 0.5 },
    badParams: [{ params: { keep: 0 }, field: 'keep' }],
    run: { dataset: normal1d, model: withLikelihood },
    draw: (n, rng) => vectors(n, 1, rng.fillNormal(new Float64Array(n))),
    logLikelihood: standardNormal,
    refuses: [{ run: { dataset: normal1d, model: withoutLikelihood }, field: 'filter.kind' }],
  },
  reward: {
    params: { reward: { kind: 'modes', values: [1, 0.5, 0, 0, 0, 0, 0, -1] }, choices: 3 },
    badParams: [{ params: { reward: { kind: 'modes', values: [1] }, choices: 1 }, field: 'choices' }],
    run: { dataset: ringDataset, model: withoutLikelihood },
    draw: blurredRing,
    // 8 values for the 25 modes of the grid.
    refuses: [{ run: { dataset: grid25, model: withoutLikelihood }, field: 'filter.reward.values' }],
  },
}
for (const [kind, filter] of Object.entries(builtinFilters)) {
  const options = cases[kind]
  if (options === undefined) throw new Error(`no conformance case for the built-in filter '${kind}'`)
  runFilterConformance(filter, options)
}
