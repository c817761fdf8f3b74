import { vectors } from '@ouroboros/core'
import type { Rng, VectorSamples } from '@ouroboros/core'
import { runModelConformance, runPosttrainConformance } from '@ouroboros/testkit'
import { model } from './index.js'

const centers = [0, 0, 3, 0, 0, 3]

/** 600 points of three round blobs. */
function blobs(rng: Rng): VectorSamples {
  const out = new Float64Array(600 * 2)
  for (let i = 0; i < 600; i++) {
    const c = rng.int(3)
    out[2 * i] = centers[2 * c]! + 0.3 * rng.normal()
    out[2 * i + 1] = centers[2 * c + 1]! + 0.3 * rng.normal()
  }
  return vectors(600, 2, out)
}

for (const covarianceType of ['full', 'diag'] as const) {
  runModelConformance(model, {
    params: { components: 3, nInit: 2, covarianceType },
    data: blobs,
    dataset: { kind: 'blobs', modality: 'vectors', d: 2 },
    badParams: [
      { params: { components: 0 }, field: 'components' },
      { params: { components: 2.5 }, field: 'components' },
      { params: { tol: -1 }, field: 'tol' },
      { params: { maxIter: 0 }, field: 'maxIter' },
      { params: { regCovar: -1e-6 }, field: 'regCovar' },
      { params: { init: 'k-means++' }, field: 'init' },
      { params: { nInit: 0 }, field: 'nInit' },
      { params: { covarianceType: 'spherical' }, field: 'covarianceType' },
    ],
  })

  // EM run to a tight tol, so that fits from different initialisations meet at the same optimum.
  runPosttrainConformance(model, {
    params: { components: 3, tol: 1e-12, maxIter: 2000, covarianceType },
    data: blobs,
    dataset: { kind: 'blobs', modality: 'vectors', d: 2 },
    tolerance: 1e-8,
  })
}
