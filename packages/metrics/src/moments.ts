import { z } from 'zod'
import { asVectors, choleskyInPlace, defineMetric, ErrorCode, meanAndCovariance, meanAndCovarianceInto, meansAndSquaredDeviations, OuroborosError, type DatasetInfo, type ModelBlockView, type ModelView, type Samples, type VectorSamples } from '@ouroboros/core'
import { vectorPair } from './vectors.js'
import { DOUBLES } from './outputs.js'
import { notRegression } from './defaults.js'

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
  byDefault: notRegression,
  outputInfo: {
    total_variance: { title: 'total variance', unit: 'data units²', threshold: { direction: 'departs', kind: 'factor', value: 2 } },
    log_det_cov: { title: 'log det covariance', unit: 'ln (data units)²ᵈ' },
    log_variance: { title: 'log variance', unit: 'ln data units²' },
    w2_to_reference: { title: 'W₂² to the true Gaussian', unit: 'data units²', threshold: DOUBLES },
  },
  nullWhen: {
    log_det_cov: 'the covariance is singular (fewer samples than dimensions, or samples on a subspace)',
    log_variance: 'the samples have more than one dimension, or no variance',
    w2_to_reference: 'the samples have more than one dimension',
  },
  options: z.strictObject({
    /** Use the model's fitted mean and covariance when its summary has them. */
    useModelFit: z.boolean().default(true),
  }),
  compute({ real, generated, dataset, model, options }) {
    const g = asVectors(generated, 'moments: generated samples')
    if (g.n === 0) return { total_variance: null, log_det_cov: null, log_variance: null, w2_to_reference: null }
    const cols = columns(1)
    const fit = options.useModelFit ? modelFit(model, g.d) : undefined
    const work = scratch(g.d)
    meanAndCovarianceInto(g.data, 0, g.n, g.d, g.n, work.mean, work.cov, work.row)
    outputsInto(g.d, fit, 0, () => reference(dataset, real, g), work, cols, 0)
    const values: Record<string, number | null> = {}
    for (const name of OUTPUTS) values[name] = Number.isNaN(cols[name][0]!) ? null : cols[name][0]!
    return values
  },
  computeBlock({ real, generated, dataset, model, options }) {
    const { chains, n, d } = generated
    const cols = columns(chains)
    if (n === 0) {
      for (const name of OUTPUTS) cols[name].fill(NaN)
      return cols
    }
    const fit = options.useModelFit ? modelFitBlock(model, chains, d) : undefined
    const work = scratch(d)
    const truth = dataset.gaussian
    const referenceOf = (c: number): { mean: number; std: number } =>
      truth ?? reference(dataset, real[c]!, { modality: 'vectors', n, d, data: generated.data.subarray(c * n * d, (c + 1) * n * d) })
    if (d === 1) {
      // Every chain's sample moments at once (the same sums, several chains overlapped).
      const means = new Float64Array(chains)
      const ss = new Float64Array(chains)
      meansAndSquaredDeviations(generated.data, 0, n, chains, means, ss)
      for (let c = 0; c < chains; c++) {
        work.mean[0] = means[c]!
        work.cov[0] = ss[c]! / n
        outputsInto(1, fit, c, referenceOf, work, cols, c)
      }
      return cols
    }
    for (let c = 0; c < chains; c++) {
      meanAndCovarianceInto(generated.data, c * n * d, n, d, n, work.mean, work.cov, work.row)
      outputsInto(d, fit, c, referenceOf, work, cols, c)
    }
    return cols
  },
})

const OUTPUTS = ['total_variance', 'log_det_cov', 'log_variance', 'w2_to_reference'] as const
type Columns = Record<(typeof OUTPUTS)[number], Float64Array>

function columns(chains: number): Columns {
  return { total_variance: new Float64Array(chains), log_det_cov: new Float64Array(chains), log_variance: new Float64Array(chains), w2_to_reference: new Float64Array(chains) }
}

function scratch(d: number): { mean: Float64Array; cov: Float64Array; row: Float64Array; chol: Float64Array } {
  return { mean: new Float64Array(d), cov: new Float64Array(d * d), row: new Float64Array(d), chol: new Float64Array(d * d) }
}

/** The Gaussian the samples are compared with: the data's true one, else the real data's moments. */
function reference(dataset: DatasetInfo, real: Samples, generated: VectorSamples): { mean: number; std: number } {
  return dataset.gaussian ?? realMoments(vectorPair('moments', real, generated).real)
}

/**
 * The outputs into column slot c (NaN for null) from the samples' mean and covariance in `work`,
 * `fit` being the model's means and covariances (slot k) or undefined for the sample moments: one
 * chain, or chain c of a block, by the same arithmetic.
 */
function outputsInto(
  d: number,
  fit: { mean: Float64Array; cov: Float64Array } | undefined,
  k: number,
  referenceOf: (c: number) => { mean: number; std: number },
  work: ReturnType<typeof scratch>,
  cols: Columns,
  c: number,
): void {
  cols.log_variance[c] = NaN
  cols.w2_to_reference[c] = NaN
  let totalVariance = 0
  for (let j = 0; j < d; j++) totalVariance += work.cov[j * d + j]!
  cols.total_variance[c] = totalVariance
  const mean = fit === undefined ? work.mean : fit.mean
  const cov = fit === undefined ? work.cov : fit.cov
  const slot = fit === undefined ? 0 : k
  cols.log_det_cov[c] = logDeterminant(cov, slot * d * d, d, work.chol)
  if (d !== 1) return

  const mu = mean[slot]!
  const variance = cov[slot]!
  const ref = referenceOf(c)
  const sigma = Math.sqrt(Math.max(variance, 0))
  cols.log_variance[c] = variance > 0 ? Math.log(variance) : NaN
  cols.w2_to_reference[c] = (mu - ref.mean) ** 2 + (sigma - ref.std) ** 2
}

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

/** The fitted means and covariances of a block's model (chain c's at slot c), when its summary has both. */
function modelFitBlock(model: ModelBlockView | undefined, chains: number, d: number): { mean: Float64Array; cov: Float64Array } | undefined {
  const mean = model?.summary?.['mean']
  const cov = model?.summary?.['covariance']
  if (mean === undefined || cov === undefined) return undefined
  if (mean.length !== chains * d || cov.length !== chains * d * d) {
    throw new OuroborosError(
      ErrorCode.MODEL,
      `moments: the model's summary has a mean of length ${mean.length / chains} and a covariance of length ${cov.length / chains}, but the samples have dimension ${d}`,
    )
  }
  return { mean, cov }
}

/** ln det of the covariance at cov[at] through its Cholesky factor (in `chol`); NaN when it is not positive definite. */
function logDeterminant(cov: Float64Array, at: number, d: number, chol: Float64Array): number {
  for (let j = 0; j < d * d; j++) chol[j] = cov[at + j]!
  if (!choleskyInPlace(chol, d)) return NaN
  let s = 0
  for (let j = 0; j < d; j++) s += Math.log(chol[j * d + j]!)
  return 2 * s
}

function realMoments(real: VectorSamples): { mean: number; std: number } {
  const { mean, cov } = meanAndCovariance(real.data, real.n, real.d)
  return { mean: mean[0]!, std: Math.sqrt(cov[0]!) }
}
