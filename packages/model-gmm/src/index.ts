import { z } from 'zod'
import { MORE_POINTS_HINT, asVectors, checkWeights, choleskyInPlace, defineModel, divergedError, inputError, samplesAreFinite, vectors } from '@ouroboros/core'
import type { FitContext, Rng, VectorSamples } from '@ouroboros/core'
import { componentLogProbs, emStep, expOrZero, factorise, initialiseFromLabels, initialiseRandom, newFactors, newMixture, newWork, runEm } from './em.js'
import type { CovarianceType, EmResult, Mixture, Work } from './em.js'
import { kmeansPlusPlus, lloyd, nearestCenters } from './kmeans.js'

/** The options of scikit-learn's GaussianMixture, camel-cased. */
const paramsSchema = z.strictObject({
  components: z.int().min(1).max(10_000).default(8),
  /**
   * 'full': a d x d covariance per component; 'diag': d variances per component, axis-aligned
   * components at a cost linear in d (an EM iteration on 10,000 MNIST digits takes a minute full
   * and well under a second diagonal).
   */
  covarianceType: z.enum(['full', 'diag']).default('full'),
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
  /** 'full' when absent (states saved before diagonal mixtures). */
  readonly covarianceType: CovarianceType
  readonly weights: Float64Array
  /** k x d, row-major. */
  readonly means: Float64Array
  /** 'full': k blocks of d x d, row-major; 'diag': k rows of d variances. */
  readonly covariances: Float64Array
  /** Whether EM met tol (false after trainer steps, which do not test it). */
  readonly converged: boolean
  /** EM iterations of the fit, or trainer steps taken. */
  readonly iterations: number
  /** Mean per-point log-likelihood of the training data at the last E-step (weighted, under item weights). */
  readonly lowerBound: number
}

export const model = defineModel<GmmParams, GmmState>({
  id: 'gmm',
  modality: 'vectors',
  description: 'Gaussian mixture with full or diagonal covariances fit by EM (options as scikit-learn GaussianMixture)',
  params: paramsSchema,
  acceptsTemperature: true,
  minimumRows: (params) => ({ rows: params.components, what: `a GMM of ${params.components} component${params.components === 1 ? '' : 's'}`, param: 'components' }),

  fit(data, params, ctx) {
    return fitMixture(asVectors(data, 'training data'), undefined, params, ctx)
  },

  /**
   * Weighted EM: every sufficient statistic weighs each point's responsibilities by its weight.
   * With ctx.init (reward-weighted refitting passes the reference) EM continues from it; otherwise
   * the fit's own initialisation runs on the weighted points (k-means++ seeds drawn ∝ weight ·
   * squared distance, weighted Lloyd iterations, nInit as for fit), in distribution the
   * initialisation of the points repeated as their weights say.
   */
  fitWeighted(data, weights, params, ctx) {
    const x = asVectors(data, 'training data')
    const total = checkWeights(weights, x.n, 'gmm fitWeighted')
    if (total === 0) throw inputError('gmm fitWeighted: every weight is 0', 'give at least one item a positive weight')
    return fitMixture(x, meanOne(weights, total), params, ctx)
  },

  trainerStep: 'a whole EM iteration',
  /**
   * Post-training by EM: a step is one weighted EM iteration from the current state, on all the
   * items (batch 'all'); finetuning runs EM from the pretrained state. With an anchor a > 0 the
   * step is MAP-EM with the reference as a prior of mass a · Σ weights (see em.ts, addPrior): a
   * component the items do not reach stays at the reference with weight a/(1 + a) · π_ref. A
   * component that neither the items nor the prior reach is re-seeded as in fit. A step whose
   * weights are all 0 changes nothing.
   */
  trainer(state, params, options) {
    const { k, d } = state
    const reference = options.reference
    if (reference.k !== k || reference.d !== d || typeOf(reference) !== typeOf(state)) {
      throw inputError(`the trainer's reference has ${describe(reference)}, its state ${describe(state)}`)
    }
    if (!(options.anchor >= 0 && options.anchor < Infinity)) throw inputError(`anchor must be a finite number ≥ 0, got ${options.anchor}`)
    const mix = copyMixture(state)
    const prior = { reference: copyMixture(reference), anchor: options.anchor }
    const work = newWork(k, d, typeOf(state))
    let steps = 0
    let lowerBound = state.lowerBound
    return {
      batch: 'all',
      signedWeights: false,
      step(items, weights) {
        const x = asVectors(items, 'trainer items')
        if (x.d !== d) throw inputError(`trainer items have ${x.d} dimension${x.d === 1 ? '' : 's'}, the GMM has ${d}`)
        const total = checkWeights(weights, x.n, 'gmm trainer step')
        if (total === 0) return {}
        if (!samplesAreFinite(x)) throw divergedError('the GMM trainer items hold NaN or infinite values')
        // Weights of mean 1 make Σ w = n, so the prior's mass a · Σ w is a · n.
        const w = meanOne(weights, total)
        const map = prior.anchor > 0 ? { reference: prior.reference, mass: prior.anchor * x.n } : undefined
        const result = emStep(x.data, x.n, mix, work, params.regCovar, options.rng, w, map)
        if (!Number.isFinite(result.lowerBound)) throw divergedError(`GMM log-likelihood became ${result.lowerBound} at trainer step ${steps + 1}`)
        steps++
        lowerBound = result.lowerBound
        return { losses: { loss: -result.lowerBound } }
      },
      state() {
        return toState(copyMixture(mix), { converged: false, iterations: steps, lowerBound })
      },
    }
  },

  sample(state, n, ctx) {
    const { k, d, weights, means } = state
    let total = 0
    for (let c = 0; c < k; c++) total += weights[c]!
    // Temperature T scales every component covariance by T.
    const scale = Math.sqrt(ctx.temperature)
    const out = new Float64Array(n * d)
    if (typeOf(state) === 'diag') {
      const sd = state.covariances.map((v, j) => {
        if (!(v > 0)) throw inputError(`GMM state component ${Math.floor(j / d)} has a variance that is not positive`, 'refit the model')
        return Math.sqrt(v)
      })
      for (let i = 0; i < n; i++) {
        const c = ctx.rng.categorical(weights, total)
        // One draw per coordinate, as the full sampler's z: in one dimension both give the same samples.
        for (let a = 0; a < d; a++) out[i * d + a] = means[c * d + a]! + scale * (sd[c * d + a]! * ctx.rng.normal())
      }
      return vectors(n, d, out)
    }
    const chol = state.covariances.slice()
    for (let c = 0; c < k; c++) {
      if (!choleskyInPlace(chol.subarray(c * d * d, (c + 1) * d * d), d)) {
        throw inputError(`GMM state component ${c} has a covariance that is not positive definite`, 'refit the model')
      }
    }
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
    if (x.d !== state.d) throw inputError(`evaluation data have ${x.d} dimension${x.d === 1 ? '' : 's'}, the GMM has ${state.d}`)
    const { k, d } = state
    const f = newFactors(k, d, typeOf(state))
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

/** EM on the points, weighted when `weights` (mean 1) are given. */
function fitMixture(x: VectorSamples, weights: Float64Array | undefined, params: GmmParams, ctx: FitContext<GmmState>): GmmState {
  const { n, d } = x
  const k = params.components
  let points = n
  if (weights !== undefined) {
    points = 0
    for (const w of weights) if (w > 0) points++
  }
  if (points < k) {
    const what = `training point${k === 1 ? '' : 's'}${weights === undefined ? '' : ' of positive weight'}`
    throw inputError(`a GMM of ${k} component${k === 1 ? '' : 's'} needs at least ${k} ${what}, got ${points}`, `lower model.components, or ${MORE_POINTS_HINT}`)
  }
  if (!samplesAreFinite(x)) throw divergedError('the GMM training data hold NaN or infinite values')
  const options = { tol: params.tol, maxIter: params.maxIter, regCovar: params.regCovar }
  const type = params.covarianceType
  const work = newWork(k, d, type)
  // EM iterations are not reported through ctx.onTrainingStep: the scheduler writes a curve
  // file per generation for them, which would cost more than the fit itself. They do go to
  // ctx.onStep, the run's progress display: in hundreds of dimensions (MNIST's 784) an iteration
  // takes a minute. Its step count is the most EM may take; it stops earlier once it converges.
  // A warm start runs EM once from the previous state; nInit applies to cold starts only, as
  // with scikit-learn's warm_start.
  if (ctx.init !== undefined) {
    const mix = warmStart(ctx.init, k, d, type)
    const onIteration = ctx.onStep && ((iteration: number) => ctx.onStep!(iteration, params.maxIter))
    return toState(mix, runEm(x.data, n, mix, options, work, ctx.rng.derive('warm-start'), onIteration, weights))
  }
  let best: { mix: Mixture; result: EmResult } | undefined
  for (let i = 0; i < params.nInit; i++) {
    const rng = ctx.rng.derive('init', i)
    const mix = newMixture(k, d, type)
    initialise(x, weights, mix, params.init, work, params.regCovar, rng)
    const onIteration = ctx.onStep && ((iteration: number) => ctx.onStep!(i * params.maxIter + iteration, params.nInit * params.maxIter))
    const result = runEm(x.data, n, mix, options, work, rng, onIteration, weights)
    if (best === undefined || result.lowerBound > best.result.lowerBound) best = { mix, result }
  }
  return toState(best!.mix, best!.result)
}

function initialise(x: VectorSamples, weights: Float64Array | undefined, mix: Mixture, init: GmmParams['init'], work: Work, regCovar: number, rng: Rng): void {
  const { n, d, data } = x
  if (init === 'random') {
    initialiseRandom(data, n, mix, work, regCovar, rng, weights)
    return
  }
  const centers = kmeansPlusPlus(data, n, d, mix.k, rng, weights)
  const labels = init === 'kmeans' ? lloyd(data, n, d, centers, mix.k, weights) : nearestCenters(data, n, d, centers, mix.k)
  mix.means.set(centers)
  initialiseFromLabels(data, n, mix, labels, work, regCovar, rng, weights)
}

/** Weights scaled to a mean of 1 per item: EM's masses (the empty-component threshold) are in points. */
function meanOne(weights: Float64Array, total: number): Float64Array {
  const scale = weights.length / total
  return weights.map((w) => w * scale)
}

/** A state's covariance type: states saved before diagonal mixtures have full ones. */
function typeOf(s: { readonly covarianceType?: CovarianceType }): CovarianceType {
  return s.covarianceType ?? 'full'
}

function describe(s: Mixture): string {
  return `${s.k} component${s.k === 1 ? '' : 's'} in ${s.d} dimension${s.d === 1 ? '' : 's'} (${typeOf(s)} covariances)`
}

function copyMixture(s: Mixture): Mixture {
  return { k: s.k, d: s.d, covarianceType: typeOf(s), weights: s.weights.slice(), means: s.means.slice(), covariances: s.covariances.slice() }
}

/** A copy of the previous generation's parameters to continue EM from. */
function warmStart(init: GmmState, k: number, d: number, type: CovarianceType): Mixture {
  if (init.k !== k || init.d !== d || typeOf(init) !== type) {
    throw inputError(
      `the warm-start state has ${describe(init)}, but the fit asks for ${describe({ ...init, k, d, covarianceType: type })}`,
      'turn warmStart off when sweeping model.components, model.covarianceType or the data dimension',
    )
  }
  return copyMixture(init)
}

function toState(mix: Mixture, result: EmResult): GmmState {
  return {
    d: mix.d,
    k: mix.k,
    covarianceType: mix.covarianceType,
    weights: mix.weights,
    means: mix.means,
    covariances: mix.covariances,
    converged: result.converged,
    iterations: result.iterations,
    lowerBound: result.lowerBound,
  }
}
