import { z } from 'zod'
import { asVectors, checkWeights, choleskyInPlace, defineModel, divergedError, effectiveSampleSize, inputError, meanAndCovariance, vectors, weightedMeanAndCovariance } from '@ouroboros/core'
import type { Samples, VectorSamples } from '@ouroboros/core'

const paramsSchema = z.strictObject({
  /** 'mle' divides the covariance by n (ddof 0), 'unbiased' by n - 1 (ddof 1). */
  estimator: z.enum(['mle', 'unbiased']).default('mle'),
})
export type GaussianParams = z.output<typeof paramsSchema>

export interface GaussianState {
  readonly d: number
  readonly mean: Float64Array
  /** d x d, row-major. */
  readonly cov: Float64Array
}

const LOG_2PI = Math.log(2 * Math.PI)

export const model = defineModel<GaussianParams, GaussianState>({
  id: 'gaussian',
  modality: 'vectors',
  description: 'Gaussian with full covariance fit by maximum likelihood (ddof 0) or the unbiased estimator (ddof 1)',
  params: paramsSchema,
  acceptsTemperature: true,

  fit(data, params) {
    const x = asVectors(data, 'training data')
    const ddof = params.estimator === 'unbiased' ? 1 : 0
    if (x.n < ddof + 1) {
      throw inputError(
        `the ${params.estimator} Gaussian needs at least ${ddof + 1} training points, got ${x.n}`,
        'generate more samples per generation',
      )
    }
    const state = x.d === 1 ? fit1d(x, x.n - ddof) : fitFull(x, x.n - ddof)
    checkFitted(state, x.n)
    return state
  },

  /**
   * The weighted mean and covariance Σ w (x − m)(x − m)ᵀ / Σ w (the maximiser of Σ w log p). The
   * unbiased estimator treats the weights as reliability weights (importance weights such as
   * exp(r/β), not repeat counts) and divides by Σw·(1 − Σw²/(Σw)²) instead of Σw, which makes it
   * unbiased for any fixed weights and is the ddof 1 estimator when the weights are equal.
   */
  fitWeighted(data, weights, params) {
    const x = asVectors(data, 'training data')
    const total = checkWeights(weights, x.n, 'gaussian fitWeighted')
    if (total === 0) throw inputError('gaussian fitWeighted: every weight is 0', 'give at least one item a positive weight')
    const nEff = effectiveSampleSize(weights)
    if (params.estimator === 'unbiased' && !(nEff > 1)) {
      throw inputError('the unbiased Gaussian needs at least 2 items of positive weight, got 1', 'use estimator mle or give more items a positive weight')
    }
    const { mean, cov } = weightedMeanAndCovariance(x.data, x.n, x.d, weights)
    if (params.estimator === 'unbiased') for (let j = 0; j < cov.length; j++) cov[j]! /= 1 - 1 / nEff
    const state = { d: x.d, mean, cov }
    checkFitted(state, positiveCount(weights))
    return state
  },

  sample(state, n, ctx) {
    const { d, mean, cov } = state
    const out = new Float64Array(n * d)
    // Temperature T scales the covariance by T, so the spread scales by sqrt(T).
    const scale = Math.sqrt(ctx.temperature)
    if (d === 1) {
      const m = mean[0]!
      const s = scale * Math.sqrt(cov[0]!)
      ctx.rng.fillNormal(out, m, s)
      return vectors(n, 1, out)
    }
    const l = choleskyOf(state)
    const z = new Float64Array(d)
    for (let i = 0; i < n; i++) {
      ctx.rng.fillNormal(z)
      const off = i * d
      for (let a = 0; a < d; a++) {
        let v = 0
        for (let b = 0; b <= a; b++) v += l[a * d + b]! * z[b]!
        out[off + a] = mean[a]! + scale * v
      }
    }
    return vectors(n, d, out)
  },

  logLikelihood(state, data) {
    const x = asDimension(data, state.d)
    const { d, mean, cov } = state
    const out = new Float64Array(x.n)
    if (d === 1) {
      const m = mean[0]!
      const v = cov[0]!
      const c = -0.5 * (LOG_2PI + Math.log(v))
      for (let i = 0; i < x.n; i++) {
        const r = x.data[i]! - m
        out[i] = c - (0.5 * r * r) / v
      }
      return out
    }
    const l = choleskyOf(state)
    let logDet = 0
    for (let a = 0; a < d; a++) logDet += 2 * Math.log(l[a * d + a]!)
    const c = -0.5 * (d * LOG_2PI + logDet)
    const z = new Float64Array(d)
    for (let i = 0; i < x.n; i++) {
      // Forward substitution L z = x - mean gives the Mahalanobis distance as |z|^2.
      let q = 0
      for (let a = 0; a < d; a++) {
        let v = x.data[i * d + a]! - mean[a]!
        for (let b = 0; b < a; b++) v -= l[a * d + b]! * z[b]!
        const za = v / l[a * d + a]!
        z[a] = za
        q += za * za
      }
      out[i] = c - 0.5 * q
    }
    return out
  },

  summary(state) {
    // Copies: metrics may move these buffers to another thread.
    return { mean: state.mean.slice(), covariance: state.cov.slice() }
  },
})

export default model

/** Two passes (mean, then squared deviations) keep the variance accurate when it is tiny next to the mean. */
function fit1d(x: VectorSamples, divisor: number): GaussianState {
  const data = x.data
  const n = x.n
  let sum = 0
  for (let i = 0; i < n; i++) sum += data[i]!
  const m = sum / n
  let ss = 0
  for (let i = 0; i < n; i++) {
    const r = data[i]! - m
    ss += r * r
  }
  return { d: 1, mean: Float64Array.of(m), cov: Float64Array.of(ss / divisor) }
}

function fitFull(x: VectorSamples, divisor: number): GaussianState {
  const { mean, cov } = meanAndCovariance(x.data, x.n, x.d)
  // meanAndCovariance divides by n; the unbiased estimator wants n - 1.
  const scale = x.n / divisor
  if (scale !== 1) for (let i = 0; i < cov.length; i++) cov[i]! *= scale
  return { d: x.d, mean, cov }
}

function checkFitted(state: GaussianState, n: number): void {
  for (const v of state.mean) if (!Number.isFinite(v)) throw divergedError('the fitted Gaussian mean is not finite: the training data hold NaN or infinite values')
  for (const v of state.cov) if (!Number.isFinite(v)) throw divergedError('the fitted Gaussian covariance is not finite: the training data hold NaN or infinite values')
  const positiveDefinite = state.d === 1 ? state.cov[0]! > 0 : choleskyInPlace(state.cov.slice(), state.d)
  if (!positiveDefinite) {
    throw inputError(
      `the covariance of the ${n} training points is singular: they are all equal or lie in a subspace of dimension < ${state.d}`,
      state.d > 1 && n <= state.d
        ? `a ${state.d}-dimensional Gaussian needs at least ${state.d + 1} points; generate more samples per generation`
        : 'the chain has collapsed to a point; stop it earlier or generate more samples per generation',
    )
  }
}

/** Lower Cholesky factor of the covariance; fit guarantees it exists. */
function choleskyOf(state: GaussianState): Float64Array {
  const l = state.cov.slice()
  if (!choleskyInPlace(l, state.d)) throw inputError('the Gaussian state has a covariance that is not positive definite', 'refit the model')
  return l
}

function positiveCount(weights: Float64Array): number {
  let n = 0
  for (const w of weights) if (w > 0) n++
  return n
}

function asDimension(data: Samples, d: number): VectorSamples {
  const x = asVectors(data, 'evaluation data')
  if (x.d !== d) throw inputError(`evaluation data have ${x.d} dimensions, the Gaussian has ${d}`)
  return x
}
