import { z } from 'zod'
import { SUBSPACE_HINT, MORE_POINTS_HINT, asVectors, checkWeights, choleskyInPlace, defineModel, divergedError, effectiveSampleSize, inputError, meanAndCovariance, samplesAreFinite, searchCumulative, takeRows, vectors, weightedMeanAndCovariance } from '@ouroboros/core'
import type { VectorSamples } from '@ouroboros/core'

/**
 * Bandwidth as in scipy.stats.gaussian_kde: the kernel covariance is factor² times the data
 * covariance (ddof 1), with factor n^(-1/(d+4)) for Scott's rule, (n(d+2)/4)^(-1/(d+4)) for
 * Silverman's, or the given number itself. With item weights (fitWeighted) it is
 * gaussian_kde(weights=...): kernel weights ∝ item weights, the weighted covariance with the
 * reliability-weights correction 1 − Σw² (w normalised to sum 1; the ddof 1 covariance when the
 * weights are equal), and Kish's effective sample size n_eff = (Σw)²/Σw² in place of n in
 * Scott's and Silverman's rules.
 */
const paramsSchema = z.strictObject({
  bandwidth: z.union([z.enum(['scott', 'silverman']), z.number().gt(0)], { error: "expected 'scott', 'silverman' or a factor > 0" }).default('scott'),
})
export type KdeParams = z.output<typeof paramsSchema>

export interface KdeState {
  readonly d: number
  /** Number of training points. */
  readonly n: number
  /** The training points, n x d row-major (a copy). */
  readonly points: Float64Array
  /** Bandwidth factor: kernel covariance / data covariance. */
  readonly factor: number
  /** Kernel covariance, d x d row-major. */
  readonly kernelCov: Float64Array
  /** Kernel weights, summing to 1, all positive (fitWeighted); absent: every kernel weighs 1/n. */
  readonly weights?: Float64Array
}

const LOG_2PI = Math.log(2 * Math.PI)
/** Evaluation rows and training points per tile of the log-likelihood loop (a tile of points stays in cache). */
const EVAL_BLOCK = 64
const TRAIN_BLOCK = 2048

export const model = defineModel<KdeParams, KdeState>({
  id: 'kde',
  modality: 'vectors',
  description: 'Gaussian kernel density estimate (bandwidth as scipy gaussian_kde: Scott, Silverman or a factor)',
  params: paramsSchema,
  acceptsTemperature: true,
  // The bandwidth scales the data's covariance, which d + 1 points make nonsingular.
  minimumRows: (_params, dataset) => ({ rows: (dataset.d ?? 1) + 1, what: `a ${dataset.d ?? 1}-dimensional KDE` }),

  fit(data, params) {
    const x = asVectors(data, 'training data')
    const { n, d } = x
    checkPoints(x)
    const factor = bandwidthFactor(params.bandwidth, n, d)
    const { cov } = meanAndCovariance(x.data, n, d)
    const kernelCov = new Float64Array(d * d)
    for (let j = 0; j < d * d; j++) kernelCov[j] = ((cov[j]! * n) / (n - 1)) * factor * factor
    checkKernel(kernelCov, n, d)
    return { d, n, points: x.data.slice(), factor, kernelCov }
  },

  /** Items of weight 0 are left out of the state: they carry no kernel. */
  fitWeighted(data, weights, params) {
    const all = asVectors(data, 'training data')
    const total = checkWeights(weights, all.n, 'kde fitWeighted')
    if (total === 0) throw inputError('kde fitWeighted: every weight is 0', 'give at least one item a positive weight')
    const kept: number[] = []
    for (let i = 0; i < all.n; i++) if (weights[i]! > 0) kept.push(i)
    const x = takeRows(all, kept)
    const { n, d } = x
    checkPoints(x)
    const w = Float64Array.from(kept, (i) => weights[i]! / total)
    const nEff = effectiveSampleSize(w)
    const factor = bandwidthFactor(params.bandwidth, nEff, d)
    const { cov } = weightedMeanAndCovariance(x.data, n, d, w)
    const kernelCov = new Float64Array(d * d)
    for (let j = 0; j < d * d; j++) kernelCov[j] = (cov[j]! / (1 - 1 / nEff)) * factor * factor
    checkKernel(kernelCov, n, d)
    return { d, n, points: x.data, factor, kernelCov, weights: w }
  },

  sample(state, n, ctx) {
    const { d, points } = state
    const l = choleskyOf(state)
    // Temperature T scales the kernel covariance by T; the centres stay the training points.
    const scale = Math.sqrt(ctx.temperature)
    const cumulative = state.weights === undefined ? undefined : cumulativeOf(state.weights)
    const out = new Float64Array(n * d)
    const z = new Float64Array(d)
    for (let i = 0; i < n; i++) {
      const j = cumulative === undefined ? ctx.rng.int(state.n) : searchCumulative(cumulative, ctx.rng.uniform())
      for (let a = 0; a < d; a++) z[a] = ctx.rng.normal()
      for (let a = 0; a < d; a++) {
        let v = 0
        for (let b = 0; b <= a; b++) v += l[a * d + b]! * z[b]!
        out[i * d + a] = points[j * d + a]! + scale * v
      }
    }
    return vectors(n, d, out)
  },

  logLikelihood(state, data) {
    const x = asVectors(data, 'evaluation data')
    const { d, n } = state
    if (x.d !== d) throw inputError(`evaluation data have ${x.d} dimension${x.d === 1 ? '' : 's'}, the KDE has ${d}`)
    const l = choleskyOf(state)
    let logDet = 0
    for (let a = 0; a < d; a++) logDet += Math.log(l[a * d + a]!)
    // In whitened coordinates (L⁻¹x) every kernel is a standard normal.
    const train = whiten(state.points, n, d, l)
    const evalPts = whiten(x.data, x.n, d, l)
    // With kernel weights, log w_j joins each kernel's exponent in place of the common −log n.
    const logW = state.weights?.map((w) => Math.log(w))
    const constant = (logW === undefined ? -Math.log(n) : 0) - 0.5 * d * LOG_2PI - logDet
    const out = new Float64Array(x.n)
    const rowMax = new Float64Array(EVAL_BLOCK)
    const rowSum = new Float64Array(EVAL_BLOCK)
    const tile = new Float64Array(TRAIN_BLOCK)
    for (let e0 = 0; e0 < x.n; e0 += EVAL_BLOCK) {
      const e1 = Math.min(x.n, e0 + EVAL_BLOCK)
      rowMax.fill(-Infinity)
      rowSum.fill(0)
      for (let t0 = 0; t0 < n; t0 += TRAIN_BLOCK) {
        const t1 = Math.min(n, t0 + TRAIN_BLOCK)
        for (let e = e0; e < e1; e++) {
          // log-sum-exp carried across tiles: rescale the running sum when the maximum grows.
          let tileMax = -Infinity
          for (let j = t0; j < t1; j++) {
            let q = 0
            for (let a = 0; a < d; a++) {
              const t = evalPts[e * d + a]! - train[j * d + a]!
              q += t * t
            }
            let v = -0.5 * q
            if (logW !== undefined) v += logW[j]!
            tile[j - t0] = v
            if (v > tileMax) tileMax = v
          }
          let max = rowMax[e - e0]!
          if (tileMax > max) {
            rowSum[e - e0]! *= Math.exp(max - tileMax)
            rowMax[e - e0] = tileMax
            max = tileMax
          }
          let s = 0
          for (let j = 0; j < t1 - t0; j++) s += Math.exp(tile[j]! - max)
          rowSum[e - e0]! += s
        }
      }
      for (let e = e0; e < e1; e++) out[e] = rowMax[e - e0]! + Math.log(rowSum[e - e0]!) + constant
    }
    return out
  },
})

export default model

function checkPoints(x: VectorSamples): void {
  const { n, d } = x
  if (n < d + 1) {
    throw inputError(`a ${d}-dimensional KDE needs at least ${d + 1} training points to estimate a covariance, got ${n}`, MORE_POINTS_HINT)
  }
  if (!samplesAreFinite(x)) throw divergedError('the KDE training data hold NaN or infinite values')
}

function checkKernel(kernelCov: Float64Array, n: number, d: number): void {
  if (!choleskyInPlace(kernelCov.slice(), d)) {
    throw inputError(
      `the covariance of the ${n} KDE training points is singular: they are all equal or lie in a subspace of dimension < ${d}`,
      SUBSPACE_HINT,
    )
  }
}

/** Normalised cumulative sums, for drawing kernels by weight. */
function cumulativeOf(weights: Float64Array): Float64Array {
  const out = new Float64Array(weights.length)
  let acc = 0
  for (let j = 0; j < weights.length; j++) out[j] = acc += weights[j]!
  for (let j = 0; j < out.length; j++) out[j]! /= acc
  return out
}

/** n: the number of training points, or Kish's effective sample size under weights. */
function bandwidthFactor(bandwidth: KdeParams['bandwidth'], n: number, d: number): number {
  if (bandwidth === 'scott') return n ** (-1 / (d + 4))
  if (bandwidth === 'silverman') return ((n * (d + 2)) / 4) ** (-1 / (d + 4))
  return bandwidth
}

/** Lower Cholesky factor of the kernel covariance; fit guarantees it exists. */
function choleskyOf(state: KdeState): Float64Array {
  const l = state.kernelCov.slice()
  if (!choleskyInPlace(l, state.d)) throw inputError('the KDE state has a kernel covariance that is not positive definite', 'refit the model')
  return l
}

/** L⁻¹ x for every row, by forward substitution. */
function whiten(x: Float64Array, n: number, d: number, l: Float64Array): Float64Array {
  const out = new Float64Array(n * d)
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      let v = x[i * d + a]!
      for (let b = 0; b < a; b++) v -= l[a * d + b]! * out[i * d + b]!
      out[i * d + a] = v / l[a * d + a]!
    }
  }
  return out
}
