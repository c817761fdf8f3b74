import { z } from 'zod'
import { asVectors, choleskyInPlace, defineModel, divergedError, inputError, samplesAreFinite, vectors } from '@ouroboros/core'
import type { Rng, VectorSamples } from '@ouroboros/core'
import { componentLogProbs, expOrZero, factorise, initialiseFromLabels, initialiseRandom, newFactors, newMixture, newWork, runEm } from './em.js'
import type { EmResult, Mixture, Work } from './em.js'
import { kmeansPlusPlus, lloyd, nearestCenters } from './kmeans.js'

/** The options of scikit-learn's GaussianMixture(covariance_type='full'), camel-cased. */
const paramsSchema = z.strictObject({
  components: z.int().min(1).max(10_000).default(8),
  /** Convergence threshold on the change of the mean per-point log-likelihood. */
  tol: z.number().min(0).default(1e-3),
  maxIter: z.int().min(1).max(1_000_000).default(100),
  /** Added to every covariance diagonal, so that no component becomes singular. */
  regCovar: z.number().min(0).default(1e-6),
  /**
   * 'kmeans': k-means++ seeding then Lloyd iterations (scikit-learn's default); 'kmeans++': the
   * seeding alone, each point starting in its nearest seed's component; 'random': uniform random
   * responsibilities.
   */
  init: z.enum(['kmeans', 'kmeans++', 'random']).default('kmeans'),
  /** Independent initialisations; the one with the best lower bound wins. */
  nInit: z.int().min(1).max(1000).default(1),
})
export type GmmParams = z.output<typeof paramsSchema>

export interface GmmState {
  readonly d: number
  /** Number of components. */
  readonly k: number
  readonly weights: Float64Array
  /** k x d, row-major. */
  readonly means: Float64Array
  /** k blocks of d x d, row-major. */
  readonly covariances: Float64Array
  readonly converged: boolean
  readonly iterations: number
  /** Mean per-point log-likelihood of the training data at the last E-step. */
  readonly lowerBound: number
}

export const model = defineModel<GmmParams, GmmState>({
  id: 'gmm',
  modality: 'vectors',
  description: 'Gaussian mixture with full covariances fit by EM (options as scikit-learn GaussianMixture)',
  params: paramsSchema,
  acceptsTemperature: true,

  fit(data, params, ctx) {
    const x = asVectors(data, 'training data')
    const { n, d } = x
    const k = params.components
    if (n < k) {
      throw inputError(`a ${k}-component GMM needs at least ${k} training points, got ${n}`, 'lower model.components or generate more samples per generation')
    }
    if (!samplesAreFinite(x)) throw divergedError('the GMM training data hold NaN or infinite values')
    const options = { tol: params.tol, maxIter: params.maxIter, regCovar: params.regCovar }
    const work = newWork(k, d)
    // EM iterations are not reported through ctx.onTrainingStep: the scheduler writes a curve
    // file per generation for them, which would cost more than the fit itself.
    // A warm start runs EM once from the previous state; nInit applies to cold starts only, as
    // with scikit-learn's warm_start.
    if (ctx.init !== undefined) {
      const mix = warmStart(ctx.init, k, d)
      return toState(mix, runEm(x.data, n, mix, options, work, ctx.rng.derive('warm-start')))
    }
    let best: { mix: Mixture; result: EmResult } | undefined
    for (let i = 0; i < params.nInit; i++) {
      const rng = ctx.rng.derive('init', i)
      const mix = newMixture(k, d)
      initialise(x, mix, params.init, work, params.regCovar, rng)
      const result = runEm(x.data, n, mix, options, work, rng)
      if (best === undefined || result.lowerBound > best.result.lowerBound) best = { mix, result }
    }
    return toState(best!.mix, best!.result)
  },

  sample(state, n, ctx) {
    const { k, d, weights, means } = state
    const chol = state.covariances.slice()
    for (let c = 0; c < k; c++) {
      if (!choleskyInPlace(chol.subarray(c * d * d, (c + 1) * d * d), d)) {
        throw inputError(`GMM state component ${c} has a covariance that is not positive definite`, 'refit the model')
      }
    }
    let total = 0
    for (let c = 0; c < k; c++) total += weights[c]!
    // Temperature T scales every component covariance by T.
    const scale = Math.sqrt(ctx.temperature)
    const out = new Float64Array(n * d)
    const z = new Float64Array(d)
    for (let i = 0; i < n; i++) {
      const c = ctx.rng.categorical(weights, total)
      for (let a = 0; a < d; a++) z[a] = ctx.rng.normal()
      const lo = c * d * d
      for (let a = 0; a < d; a++) {
        let v = 0
        for (let b = 0; b <= a; b++) v += chol[lo + a * d + b]! * z[b]!
        out[i * d + a] = means[c * d + a]! + scale * v
      }
    }
    return vectors(n, d, out)
  },

  logLikelihood(state, data) {
    const x = asVectors(data, 'evaluation data')
    if (x.d !== state.d) throw inputError(`evaluation data have ${x.d} dimensions, the GMM has ${state.d}`)
    const { k, d } = state
    const f = newFactors(k, d)
    factorise(state, f)
    const logProb = new Float64Array(k)
    const diff = new Float64Array(k * d)
    const out = new Float64Array(x.n)
    for (let i = 0; i < x.n; i++) {
      const max = componentLogProbs(x.data, i * d, state, f, logProb, diff)
      let s = 0
      for (let c = 0; c < k; c++) s += expOrZero(logProb[c]! - max)
      out[i] = max + Math.log(s)
    }
    return out
  },
})

export default model

function initialise(x: VectorSamples, mix: Mixture, init: GmmParams['init'], work: Work, regCovar: number, rng: Rng): void {
  const { n, d, data } = x
  if (init === 'random') {
    initialiseRandom(data, n, mix, work, regCovar, rng)
    return
  }
  const centers = kmeansPlusPlus(data, n, d, mix.k, rng)
  const labels = init === 'kmeans' ? lloyd(data, n, d, centers, mix.k) : nearestCenters(data, n, d, centers, mix.k)
  mix.means.set(centers)
  initialiseFromLabels(data, n, mix, labels, work, regCovar, rng)
}

/** A copy of the previous generation's parameters to continue EM from. */
function warmStart(init: GmmState, k: number, d: number): Mixture {
  if (init.k !== k || init.d !== d) {
    throw inputError(
      `the warm-start state has ${init.k} components in ${init.d} dimensions, but the fit asks for ${k} in ${d}`,
      'turn warmStart off when sweeping model.components or the data dimension',
    )
  }
  return { k, d, weights: init.weights.slice(), means: init.means.slice(), covariances: init.covariances.slice() }
}

function toState(mix: Mixture, result: EmResult): GmmState {
  return {
    d: mix.d,
    k: mix.k,
    weights: mix.weights,
    means: mix.means,
    covariances: mix.covariances,
    converged: result.converged,
    iterations: result.iterations,
    lowerBound: result.lowerBound,
  }
}
