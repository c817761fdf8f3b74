import { z } from 'zod'
import { MORE_POINTS_HINT, asVectors, choleskyInPlace, defineModel, divergedError, inputError, samplesAreFinite, vectors } from '@ouroboros/core'
import type { VectorSamples } from '@ouroboros/core'

/**
 * The fixed-design setting of Gerstgrasser et al. and Dohmatob et al.: rows are x (d columns)
 * then y; each generation refits OLS without intercept and labels the same design anew with
 * y = x·ŵ + σ z. It has no hyperparameters.
 */
const paramsSchema = z.strictObject({})
export type LinregParams = z.output<typeof paramsSchema>

export interface LinregState {
  /** Number of features (columns of x). */
  readonly d: number
  /** OLS weights ŵ. */
  readonly weights: Float64Array
  /** Label noise of the samples: the dataset's σ, else the residual std (ddof d). */
  readonly sigma: number
  /** Rows of the fixed design. */
  readonly rows: number
  /** The fixed design X, rows x d row-major. */
  readonly design: Float64Array
}

const LOG_2PI = Math.log(2 * Math.PI)

export const model = defineModel<LinregParams, LinregState>({
  id: 'linreg',
  modality: 'vectors',
  description: 'Linear regression (OLS, no intercept) on a fixed design; samples relabel the design with Gaussian noise',
  params: paramsSchema,
  acceptsTemperature: true,
  // A draw of more rows than the design has repeats its rows, which adds no rank.
  checkData(_params, dataset) {
    const d = (dataset.d ?? 2) - 1
    if (dataset.regression !== undefined && dataset.regression.T < d) {
      throw inputError(`OLS with ${d} feature${d === 1 ? '' : 's'} needs a design of at least ${d} row${d === 1 ? '' : 's'}, but data.T is ${dataset.regression.T}`, 'raise data.T or lower data.d')
    }
  },
  minimumRows: (_params, dataset) => {
    const d = (dataset.d ?? 2) - 1
    return { rows: dataset.regression !== undefined ? d : d + 1, what: `OLS with ${d} feature${d === 1 ? '' : 's'}` }
  },

  fit(data, _params, ctx) {
    const x = asVectors(data, 'training data')
    const d = x.d - 1
    if (d < 1) throw inputError(`regression data need feature columns then a label column; got ${x.d} column`, 'use a regression dataset')
    if (!samplesAreFinite(x)) throw divergedError('the regression training data hold NaN or infinite values')
    const regression = ctx.dataset.regression
    const sigmaKnown = regression !== undefined
    // The residual std needs n - d > 0 degrees of freedom; OLS alone needs n ≥ d.
    const needed = sigmaKnown ? d : d + 1
    if (x.n < needed) {
      throw inputError(`OLS with ${d} feature${d === 1 ? '' : 's'} needs at least ${needed} row${needed === 1 ? '' : 's'}, got ${x.n}`, MORE_POINTS_HINT)
    }
    const weights = ols(x, d)
    // In accumulate the training set stacks label sets over one design: its first T rows are X.
    const rows = Math.min(regression?.T ?? x.n, x.n)
    const design = new Float64Array(rows * d)
    for (let i = 0; i < rows; i++) design.set(x.data.subarray(i * x.d, i * x.d + d), i * d)
    const sigma = sigmaKnown ? regression.sigma : Math.sqrt(residualSumOfSquares(x, weights) / (x.n - d))
    return { d, weights, sigma, rows, design }
  },

  sample(state, n, ctx) {
    const { d, weights, design, rows } = state
    // Temperature T scales the label noise variance by T.
    const noise = state.sigma * Math.sqrt(ctx.temperature)
    const out = new Float64Array(n * (d + 1))
    for (let i = 0; i < n; i++) {
      const r = (i % rows) * d
      const o = i * (d + 1)
      let y = 0
      for (let a = 0; a < d; a++) {
        const v = design[r + a]!
        out[o + a] = v
        y += v * weights[a]!
      }
      out[o + d] = y + noise * ctx.rng.normal()
    }
    return vectors(n, d + 1, out)
  },

  logLikelihood(state, data) {
    const x = asVectors(data, 'evaluation data')
    const { d, weights, sigma } = state
    if (x.d !== d + 1) throw inputError(`evaluation data have ${x.d} column${x.d === 1 ? '' : 's'}, the regression expects ${d} feature${d === 1 ? '' : 's'} and a label`)
    const variance = sigma * sigma
    const c = -0.5 * (LOG_2PI + Math.log(variance))
    const out = new Float64Array(x.n)
    for (let i = 0; i < x.n; i++) {
      const o = i * (d + 1)
      let r = x.data[o + d]!
      for (let a = 0; a < d; a++) r -= x.data[o + a]! * weights[a]!
      out[i] = c - (0.5 * r * r) / variance
    }
    return out
  },

  summary(state) {
    // A copy: metrics may move it to another thread.
    return { weights: state.weights.slice() }
  },
})

export default model

/** ŵ from the normal equations XᵀX w = Xᵀy, solved by Cholesky. */
function ols(x: VectorSamples, d: number): Float64Array {
  const stride = x.d
  const xtx = new Float64Array(d * d)
  const xty = new Float64Array(d)
  for (let i = 0; i < x.n; i++) {
    const o = i * stride
    const y = x.data[o + d]!
    for (let a = 0; a < d; a++) {
      const xa = x.data[o + a]!
      xty[a]! += xa * y
      for (let b = 0; b <= a; b++) xtx[a * d + b]! += xa * x.data[o + b]!
    }
  }
  if (!choleskyInPlace(xtx, d)) {
    throw inputError(`XᵀX of the ${x.n} training rows is singular: the ${d} feature columns are linearly dependent`, 'use a design with independent columns and at least as many rows as features')
  }
  // Forward then back substitution: L z = Xᵀy, Lᵀ w = z.
  const w = new Float64Array(d)
  for (let a = 0; a < d; a++) {
    let v = xty[a]!
    for (let b = 0; b < a; b++) v -= xtx[a * d + b]! * w[b]!
    w[a] = v / xtx[a * d + a]!
  }
  for (let a = d - 1; a >= 0; a--) {
    let v = w[a]!
    for (let b = a + 1; b < d; b++) v -= xtx[b * d + a]! * w[b]!
    w[a] = v / xtx[a * d + a]!
  }
  return w
}

function residualSumOfSquares(x: VectorSamples, w: Float64Array): number {
  const d = w.length
  let rss = 0
  for (let i = 0; i < x.n; i++) {
    const o = i * x.d
    let r = x.data[o + d]!
    for (let a = 0; a < d; a++) r -= x.data[o + a]! * w[a]!
    rss += r * r
  }
  return rss
}
