import { vectors } from '@ouroboros/core'
import { runModelConformance } from '@ouroboros/testkit'
import { model } from './index.js'

const weights = Float64Array.of(1, -2, 0.5)
const T = 100

runModelConformance(model, {
  params: {},
  data: (rng) => {
    const out = new Float64Array(T * 4)
    for (let i = 0; i < T; i++) {
      let y = 0
      for (let a = 0; a < 3; a++) {
        out[i * 4 + a] = rng.normal()
        y += out[i * 4 + a]! * weights[a]!
      }
      out[i * 4 + 3] = y + 0.5 * rng.normal()
    }
    return vectors(T, 4, out)
  },
  dataset: { kind: 'regression', modality: 'vectors', d: 4, regression: { weights, sigma: 0.5, T } },
  badParams: [{ params: { sigma: 1 }, field: 'sigma' }],
})
