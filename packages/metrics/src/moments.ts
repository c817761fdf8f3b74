import { z } from 'zod'
import { asVectors, choleskyInPlace, defineMetric, ErrorCode, meanAndCovariance, OuroborosError, type ModelView, type VectorSamples } from '@ouroboros/core'
import { vectorPair } from './vectors.js'
import { DOUBLES } from './outputs.js'

/**
 * Moments of the generated samples (METRICS.md "Moments and distances"). `total_variance` is
 * always the sample trace. The others describe the Gaussian fit: when the model reports its fitted
 * `mean` and `covariance` (the Gaussian model does) those are used, because the theory curves are
 * about the fitted σ², not about σ² re-estimated from the samples; otherwise the sample moments.
 */
export const moments = defineMetric({
  id: 'moments',
  modality: 'vectors',
  description: 'Total variance, log det covariance; in 1-D log variance and W2² to the true (or real-data) Gaussian',
  outputs: ['total_variance', 'log_det_cov', 'log_variance', 'w2_to_reference'],
  outputInfo: {
    total_variance: { title: 'total variance', unit: 'data units²', threshold: { direction: 'departs', kind: 'factor', value: 2 } },
    log_det_cov: { title: 'log det covariance', unit: 'ln data units^(2d)' },
    log_variance: { title: 'log variance', unit: 'ln data units²' },
    w2_to_reference: { title: 'W₂² to the true Gaussian', unit: 'data units²', threshold: DOUBLES },
  },
  nullWhen: {
    log_det_cov: 'the covariance is singular (fewer samples than dimensions, or samples on a subspace)',
    log_variance: 'defined for 1-D samples only, with a positive variance',
    w2_to_reference: 'defined for 1-D samples only',
  },
  options: z.strictObject({
    /** Use the model's fitted mean and covariance when its summary has them. */
    useModelFit: z.boolean().default(true),
  }),
  compute({ real, generated, dataset, model, options }) {
    const g = asVectors(generated, 'moments: generated samples')
    const d = g.d
    if (g.n === 0) return { total_variance: null, log_det_cov: null, log_variance: null, w2_to_reference: null }
    const sample = meanAndCovariance(g.data, g.n, d)
    let totalVariance = 0
    for (let j = 0; j < d; j++) totalVariance += sample.cov[j * d + j]!

    const fit = (options.useModelFit ? modelFit(model, d) : undefined) ?? sample
    const logDet = logDeterminant(fit.cov, d)
    if (d !== 1) return { total_variance: totalVariance, log_det_cov: logDet, log_variance: null, w2_to_reference: null }

    const mu = fit.mean[0]!
    const variance = fit.cov[0]!
    const reference = dataset.gaussian ?? realMoments(vectorPair('moments', real, g).real)
    const sigma = Math.sqrt(Math.max(variance, 0))
    return {
      total_variance: totalVariance,
      log_det_cov: logDet,
      log_variance: variance > 0 ? Math.log(variance) : null,
      w2_to_reference: (mu - reference.mean) ** 2 + (sigma - reference.std) ** 2,
    }
  },
})

/** The model's fitted mean and covariance, when its summary has both. */
function modelFit(model: ModelView | undefined, d: number): { mean: Float64Array; cov: Float64Array } | undefined {
  const mean = model?.summary?.['mean']
  const cov = model?.summary?.['covariance']
  if (mean === undefined || cov === undefined) return undefined
  const m = typeof mean === 'number' ? Float64Array.of(mean) : mean
  const c = typeof cov === 'number' ? Float64Array.of(cov) : cov
  if (m.length !== d || c.length !== d * d) {
    throw new OuroborosError(
      ErrorCode.MODEL,
      `moments: the model's summary has a mean of length ${m.length} and a covariance of length ${c.length}, but the samples have dimension ${d}`,
    )
  }
  return { mean: m, cov: c }
}

/** ln det of a covariance through its Cholesky factor; null when it is not positive definite. */
function logDeterminant(cov: Float64Array, d: number): number | null {
  const l = Float64Array.from(cov)
  if (!choleskyInPlace(l, d)) return null
  let s = 0
  for (let j = 0; j < d; j++) s += Math.log(l[j * d + j]!)
  return 2 * s
}

function realMoments(real: VectorSamples): { mean: number; std: number } {
  const { mean, cov } = meanAndCovariance(real.data, real.n, real.d)
  return { mean: mean[0]!, std: Math.sqrt(cov[0]!) }
}
