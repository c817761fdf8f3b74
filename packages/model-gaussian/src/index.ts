import { z } from 'zod'
import { SUBSPACE_HINT, MORE_POINTS_HINT, asVectors, checkWeights, choleskyInPlace, defineModel, divergedError, effectiveSampleSize, inputError, meanAndCovarianceInto, meansAndSquaredDeviations, vectors, weightedMeanAndCovariance } from '@ouroboros/core'
import type { ModelBlocks, Rng, Samples, VectorSamples } from '@ouroboros/core'

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
  // d + 1 points span d dimensions; fewer leave the covariance singular, whichever the estimator.
  minimumRows: (_params, dataset) => ({ rows: (dataset.d ?? 1) + 1, what: `a ${dataset.d ?? 1}-dimensional Gaussian` }),

  fit(data, params) {
    const x = asVectors(data, 'training data')
    const divisor = divisorOf(params, x.n)
    const state: GaussianState = { d: x.d, mean: new Float64Array(x.d), cov: new Float64Array(x.d * x.d) }
    fitInto(x.data, 0, x.n, x.d, divisor, state.mean, state.cov, 0)
    checkFitted(state.mean, state.cov, 0, x.d, x.n)
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
    checkFitted(mean, cov, 0, x.d, positiveCount(weights))
    return { d: x.d, mean, cov }
  },

  sample(state, n, ctx) {
    const out = new Float64Array(n * state.d)
    sampleInto(state.mean, state.cov, 0, state.d, n, ctx.rng, ctx.temperature, out, 0)
    return vectors(n, state.d, out)
  },

  logLikelihood(state, data) {
    const x = asDimension(data, state.d)
    const out = new Float64Array(x.n)
    logLikelihoodInto(state.mean, state.cov, 0, state.d, x, out)
    return out
  },

  summary(state) {
    // Copies: metrics may move these buffers to another thread.
    return { mean: state.mean.slice(), covariance: state.cov.slice() }
  },

  blocks: {
    exact: true,
    fit(data, params) {
      const { chains, n, d } = data
      const divisor = divisorOf(params, n)
      const block: GaussianBlock = { chains, d, mean: new Float64Array(chains * d), cov: new Float64Array(chains * d * d) }
      if (d === 1) {
        // Every chain's sums at once (the same sums, several chains overlapped).
        meansAndSquaredDeviations(data.data, 0, n, chains, block.mean, block.cov)
        for (let c = 0; c < chains; c++) block.cov[c]! /= divisor
      } else {
        for (let c = 0; c < chains; c++) fitInto(data.data, c * n * d, n, d, divisor, block.mean, block.cov, c)
      }
      for (let c = 0; c < chains; c++) checkFitted(block.mean, block.cov, c, d, n)
      return block
    },
    sample(block, n, ctx) {
      const { chains, d } = block
      const out = new Float64Array(chains * n * d)
      for (let c = 0; c < chains; c++) sampleInto(block.mean, block.cov, c, d, n, ctx.rng(c), ctx.temperature, out, c * n * d)
      return { chains, n, d, data: out }
    },
    state(block, c) {
      const { d } = block
      return { d, mean: block.mean.slice(c * d, (c + 1) * d), cov: block.cov.slice(c * d * d, (c + 1) * d * d) }
    },
    summary(block) {
      return { mean: block.mean, covariance: block.cov }
    },
    logLikelihood(block, c, data, out) {
      logLikelihoodInto(block.mean, block.cov, c, block.d, asDimension(data, block.d), out)
    },
  } satisfies ModelBlocks<GaussianParams, GaussianState, GaussianBlock>,
})

export default model

/** The fitted Gaussians of a block of chains: chain c's mean at [c·d, (c+1)·d), its covariance at [c·d², (c+1)·d²). */
export interface GaussianBlock {
  readonly chains: number
  readonly d: number
  readonly mean: Float64Array
  readonly cov: Float64Array
}

function divisorOf(params: GaussianParams, n: number): number {
  const ddof = params.estimator === 'unbiased' ? 1 : 0
  if (n < ddof + 1) {
    throw inputError(`the ${params.estimator} Gaussian needs at least ${ddof + 1} training points, got ${n}`, MORE_POINTS_HINT)
  }
  return n - ddof
}

/**
 * The Gaussian of the n x d rows at data[at] into slot k of `mean` (d values a slot) and `cov`
 * (d² a slot): one chain's state, or chain k's of a block, by the same arithmetic.
 */
function fitInto(data: Float64Array, at: number, n: number, d: number, divisor: number, mean: Float64Array, cov: Float64Array, k: number): void {
  if (d === 1) {
    // Two passes (mean, then squared deviations) keep the variance accurate when it is tiny next to the mean.
    meansAndSquaredDeviations(data, at, n, 1, mean.subarray(k, k + 1), cov.subarray(k, k + 1))
    cov[k]! /= divisor
    return
  }
  const m = mean.subarray(k * d, (k + 1) * d)
  const c = cov.subarray(k * d * d, (k + 1) * d * d)
  meanAndCovarianceInto(data, at, n, d, n, m, c, new Float64Array(d))
  // meanAndCovarianceInto divides by n; the unbiased estimator wants n - 1.
  const scale = n / divisor
  if (scale !== 1) for (let i = 0; i < c.length; i++) c[i]! *= scale
}

function checkFitted(mean: Float64Array, cov: Float64Array, k: number, d: number, n: number): void {
  for (let j = k * d; j < (k + 1) * d; j++) if (!Number.isFinite(mean[j]!)) throw divergedError('the fitted Gaussian mean is not finite: the training data hold NaN or infinite values')
  for (let j = k * d * d; j < (k + 1) * d * d; j++) if (!Number.isFinite(cov[j]!)) throw divergedError('the fitted Gaussian covariance is not finite: the training data hold NaN or infinite values')
  const positiveDefinite = d === 1 ? cov[k]! > 0 : choleskyInPlace(cov.slice(k * d * d, (k + 1) * d * d), d)
  if (!positiveDefinite) {
    throw inputError(
      `the covariance of the ${n} training points is singular: they are all equal or lie in a subspace of dimension < ${d}`,
      d > 1 && n <= d
        ? `a ${d}-dimensional Gaussian needs at least ${d + 1} points; ${MORE_POINTS_HINT}`
        : SUBSPACE_HINT,
    )
  }
}

/** n draws from the Gaussian in slot k (see fitInto) into out[at ..]. */
function sampleInto(mean: Float64Array, cov: Float64Array, k: number, d: number, n: number, rng: Rng, temperature: number, out: Float64Array, at: number): void {
  // Temperature T scales the covariance by T, so the spread scales by sqrt(T).
  const scale = Math.sqrt(temperature)
  if (d === 1) {
    rng.fillNormal(out, mean[k]!, scale * Math.sqrt(cov[k]!), at, at + n)
    return
  }
  const l = choleskyOf(cov, k, d)
  const z = new Float64Array(d)
  for (let i = 0; i < n; i++) {
    rng.fillNormal(z)
    const off = at + i * d
    for (let a = 0; a < d; a++) {
      let v = 0
      for (let b = 0; b <= a; b++) v += l[a * d + b]! * z[b]!
      out[off + a] = mean[k * d + a]! + scale * v
    }
  }
}

/** Per-row log-density of x under the Gaussian in slot k (see fitInto), into out. */
function logLikelihoodInto(mean: Float64Array, cov: Float64Array, k: number, d: number, x: VectorSamples, out: Float64Array): void {
  if (d === 1) {
    const m = mean[k]!
    const v = cov[k]!
    const c = -0.5 * (LOG_2PI + Math.log(v))
    for (let i = 0; i < x.n; i++) {
      const r = x.data[i]! - m
      out[i] = c - (0.5 * r * r) / v
    }
    return
  }
  const l = choleskyOf(cov, k, d)
  let logDet = 0
  for (let a = 0; a < d; a++) logDet += 2 * Math.log(l[a * d + a]!)
  const c = -0.5 * (d * LOG_2PI + logDet)
  const z = new Float64Array(d)
  for (let i = 0; i < x.n; i++) {
    // Forward substitution L z = x - mean gives the Mahalanobis distance as |z|^2.
    let q = 0
    for (let a = 0; a < d; a++) {
      let v = x.data[i * d + a]! - mean[k * d + a]!
      for (let b = 0; b < a; b++) v -= l[a * d + b]! * z[b]!
      const za = v / l[a * d + a]!
      z[a] = za
      q += za * za
    }
    out[i] = c - 0.5 * q
  }
}

/** Lower Cholesky factor of the covariance in slot k; fit guarantees it exists. */
function choleskyOf(cov: Float64Array, k: number, d: number): Float64Array {
  const l = cov.slice(k * d * d, (k + 1) * d * d)
  if (!choleskyInPlace(l, d)) throw inputError('the Gaussian state has a covariance that is not positive definite', 'refit the model')
  return l
}

function positiveCount(weights: Float64Array): number {
  let n = 0
  for (const w of weights) if (w > 0) n++
  return n
}

function asDimension(data: Samples, d: number): VectorSamples {
  const x = asVectors(data, 'evaluation data')
  if (x.d !== d) throw inputError(`evaluation data have ${x.d} dimension${x.d === 1 ? '' : 's'}, the Gaussian has ${d}`)
  return x
}
