import { choleskyInPlace, divergedError } from '@ouroboros/core'
import type { Rng } from '@ouroboros/core'

/**
 * Expectation-maximisation for a Gaussian mixture with full or diagonal covariances, following
 * scikit-learn's GaussianMixture (covariance_type 'full' or 'diag'). Our own code on typed arrays rather than ml-matrix: the fit
 * budget (10,000 2-D points in well under 50 ms) leaves no room for a matrix object per point.
 *
 * Each iteration makes one pass over the data: the E-step responsibilities of a point are
 * folded straight into the M-step's sufficient statistics, so no n x K responsibility matrix
 * is kept. The statistics are taken about the component means of the previous iteration,
 * which keeps the covariance E[(x-c)(x-c)ᵀ] - (m-c)(m-c)ᵀ accurate when a component is
 * narrow and far from the origin.
 *
 * A diagonal mixture keeps d variances per component where a full one keeps d x d entries, and
 * each of its steps costs n·K·d instead of n·K·d²: in MNIST's 784 dimensions an iteration takes a
 * fraction of a second, where a full one takes a minute. Its arithmetic is the full mixture's with
 * the off-diagonal terms left out, so in one dimension the two give the same numbers.
 *
 * Item weights (fitWeighted, trainer steps) multiply each item's responsibilities in every
 * sufficient statistic, so an integer weight counts as that many copies of the item. Callers scale
 * them to a mean of 1 per item, so that the masses below keep their meaning in points.
 */

const LOG_2PI = Math.log(2 * Math.PI)
/** scikit-learn adds 10 machine epsilons to each component's responsibility mass. */
const MASS_FLOOR = 10 * Number.EPSILON
/**
 * A component with less responsibility mass than this (in points) holds no data: it is moved
 * to a random training point with the pooled covariance of the others, so that K components
 * keep describing the data instead of one lingering with no weight (or a NaN mean).
 */
const EMPTY_MASS = 1e-6

export type CovarianceType = 'full' | 'diag'

/** Mixture parameters during a fit, updated in place. */
export interface Mixture {
  readonly k: number
  readonly d: number
  readonly covarianceType: CovarianceType
  readonly weights: Float64Array
  readonly means: Float64Array
  /** 'full': k blocks of d x d, row-major; 'diag': k rows of d variances. */
  readonly covariances: Float64Array
}

export interface EmOptions {
  readonly tol: number
  readonly maxIter: number
  readonly regCovar: number
}

export interface EmResult {
  readonly converged: boolean
  readonly iterations: number
  /** Mean per-point log-likelihood under the parameters of the last E-step. */
  readonly lowerBound: number
}

/** Per-component factors of the log density. */
export interface Factors {
  /** k blocks of L⁻¹ (lower triangular), L the Cholesky factor of the covariance; diagonal: k rows of 1/σ. */
  readonly inverseCholesky: Float64Array
  /** log w_k - log det L_k - (d/2) log 2π. */
  readonly logNorm: Float64Array
  readonly scratch: Float64Array
}

/** Buffers reused by every iteration of a fit. */
export interface Work {
  readonly factors: Factors
  readonly sumR: Float64Array
  /** Σ r (x - c) per component, c the mean before the step. */
  readonly sumX: Float64Array
  /** Σ r (x - c)(x - c)ᵀ per component, lower triangle; diagonal: its diagonal alone. */
  readonly sumXX: Float64Array
  readonly logProb: Float64Array
  /** x - mean_k for the current point, k blocks of d. */
  readonly diff: Float64Array
  readonly pooled: Float64Array
  readonly empty: Uint8Array
}

/** Entries of one component's covariance: d x d, or d on the diagonal. */
export function covarianceSize(d: number, type: CovarianceType): number {
  return type === 'diag' ? d : d * d
}

export function newMixture(k: number, d: number, covarianceType: CovarianceType = 'full'): Mixture {
  const size = covarianceSize(d, covarianceType)
  return { k, d, covarianceType, weights: new Float64Array(k), means: new Float64Array(k * d), covariances: new Float64Array(k * size) }
}

export function newFactors(k: number, d: number, covarianceType: CovarianceType = 'full'): Factors {
  const size = covarianceSize(d, covarianceType)
  return { inverseCholesky: new Float64Array(k * size), logNorm: new Float64Array(k), scratch: new Float64Array(size) }
}

export function newWork(k: number, d: number, covarianceType: CovarianceType = 'full'): Work {
  const size = covarianceSize(d, covarianceType)
  return {
    factors: newFactors(k, d, covarianceType),
    sumR: new Float64Array(k),
    sumX: new Float64Array(k * d),
    sumXX: new Float64Array(k * size),
    logProb: new Float64Array(k),
    diff: new Float64Array(k * d),
    pooled: new Float64Array(size),
    empty: new Uint8Array(k),
  }
}

function notPositiveDefinite(c: number): Error {
  return divergedError(
    `GMM component ${c} has a covariance that is not positive definite (a component collapsed onto too few points); ` +
      'increase model.regCovar or lower model.components',
  )
}

/** Fills `f` from the mixture's weights and covariances. */
export function factorise(mix: Mixture, f: Factors): void {
  const { k, d } = mix
  if (mix.covarianceType === 'diag') {
    for (let c = 0; c < k; c++) {
      let logDet = 0
      for (let a = 0; a < d; a++) {
        const v = mix.covariances[c * d + a]!
        if (!(v > 0 && v < Infinity)) throw notPositiveDefinite(c)
        // The square root first, as the 1 x 1 Cholesky factor: a 1-D mixture gives the full one's bits.
        const l = Math.sqrt(v)
        logDet += Math.log(l)
        f.inverseCholesky[c * d + a] = 1 / l
      }
      f.logNorm[c] = Math.log(mix.weights[c]!) - logDet - 0.5 * d * LOG_2PI
    }
    return
  }
  const dd = d * d
  const l = f.scratch
  for (let c = 0; c < k; c++) {
    l.set(mix.covariances.subarray(c * dd, (c + 1) * dd))
    if (!choleskyInPlace(l, d)) throw notPositiveDefinite(c)
    const base = c * dd
    let logDet = 0
    // Invert the lower-triangular factor column by column.
    for (let j = 0; j < d; j++) {
      const ljj = l[j * d + j]!
      logDet += Math.log(ljj)
      for (let i = 0; i < j; i++) f.inverseCholesky[base + i * d + j] = 0
      f.inverseCholesky[base + j * d + j] = 1 / ljj
      for (let i = j + 1; i < d; i++) {
        let s = 0
        for (let m = j; m < i; m++) s += l[i * d + m]! * f.inverseCholesky[base + m * d + j]!
        f.inverseCholesky[base + i * d + j] = -s / l[i * d + i]!
      }
    }
    f.logNorm[c] = Math.log(mix.weights[c]!) - logDet - 0.5 * d * LOG_2PI
  }
}

/**
 * log(w_k N(x | k)) for every component into `logProb`, and x - mean_k into `diff`, for the
 * point at offset `off`. Returns the largest of them.
 */
export function componentLogProbs(x: Float64Array, off: number, mix: Mixture, f: Factors, logProb: Float64Array, diff: Float64Array): number {
  const { k, d, means } = mix
  const inv = f.inverseCholesky
  const diagonal = mix.covarianceType === 'diag'
  let max = -Infinity
  for (let c = 0; c < k; c++) {
    const mo = c * d
    const lo = c * d * d
    for (let a = 0; a < d; a++) diff[mo + a] = x[off + a]! - means[mo + a]!
    let q = 0
    if (diagonal) {
      for (let a = 0; a < d; a++) {
        const z = inv[mo + a]! * diff[mo + a]!
        q += z * z
      }
    } else {
      for (let a = 0; a < d; a++) {
        let z = 0
        for (let b = 0; b <= a; b++) z += inv[lo + a * d + b]! * diff[mo + b]!
        q += z * z
      }
    }
    const lp = f.logNorm[c]! - 0.5 * q
    logProb[c] = lp
    if (lp > max) max = lp
  }
  return max
}

/**
 * Runs EM from the mixture's current parameters, updating them in place. `onIteration` sees the
 * lower bound of every iteration; `weights` (one per point, mean 1) weigh the points.
 */
export function runEm(
  x: Float64Array,
  n: number,
  mix: Mixture,
  options: EmOptions,
  work: Work,
  rng: Rng,
  onIteration?: (iteration: number, lowerBound: number) => void,
  weights?: Float64Array,
): EmResult {
  let lowerBound = -Infinity
  for (let iter = 1; iter <= options.maxIter; iter++) {
    const previous = lowerBound
    const step = emStep(x, n, mix, work, options.regCovar, rng, weights)
    lowerBound = step.lowerBound
    if (!Number.isFinite(lowerBound)) throw divergedError(`GMM log-likelihood became ${lowerBound} at EM iteration ${iter}`)
    onIteration?.(iter, lowerBound)
    // A re-seeded component makes the change in the bound meaningless for this step.
    if (!step.reseeded && Math.abs(lowerBound - previous) < options.tol) return { converged: true, iterations: iter, lowerBound }
  }
  return { converged: false, iterations: options.maxIter, lowerBound }
}

/**
 * The reference model as a prior (MAP-EM, the trainer's anchor): the M-step sees, besides the
 * data, `mass` pseudo-points drawn from `reference`, each attributed to the component that drew it.
 */
export interface Prior {
  readonly reference: Mixture
  /** Total pseudo-count M, in the units of the (mean-1) point weights. */
  readonly mass: number
}

/**
 * One EM iteration: the E-step at the current parameters, then the M-step (with the prior's
 * pseudo-statistics when given). Returns the (weighted) mean log-likelihood of the points under
 * the parameters before the step, and whether an empty component was re-seeded.
 */
export function emStep(
  x: Float64Array,
  n: number,
  mix: Mixture,
  work: Work,
  regCovar: number,
  rng: Rng,
  weights?: Float64Array,
  prior?: Prior,
): { lowerBound: number; reseeded: boolean } {
  factorise(mix, work.factors)
  const lowerBound = expectation(x, n, mix, work, weights)
  if (prior !== undefined) addPrior(work, mix, prior, regCovar)
  return { lowerBound, reseeded: maximisation(x, n, mix, work, regCovar, rng, weights) }
}

/**
 * MAP-EM with the reference model as a prior. The M-step maximises, over θ = (π, μ, Σ),
 *
 *   Σ_i w_i Σ_k r_ik log(π_k N(x_i | μ_k, Σ_k)) + M · E_{(x,z) ~ ref}[log(π_z N(x | μ_z, Σ_z))]
 *
 * with M = anchor · Σ_i w_i: the expected complete-data log-likelihood of M points of the
 * reference, a pull toward it (M·KL between the reference's and θ's joint laws of (x, z), up to a
 * constant) that weighs `anchor` times as much as the data. Its expected sufficient statistics
 * per component, m_k = M·π_ref,k points with mean μ_ref,k and scatter Σ_ref,k, add to the data's:
 *
 *   N_k = S_k + m_k,   π_k = N_k / (Σ_i w_i + M),
 *   μ_k = (S_k x̄_k + m_k μ_ref,k) / N_k,
 *   Σ_k = (S_k [C_k + (x̄_k − μ_k)(x̄_k − μ_k)ᵀ] + m_k [Σ_ref,k + (μ_ref,k − μ_k)(μ_ref,k − μ_k)ᵀ]) / N_k
 *
 * (S_k = Σ_i w_i r_ik, x̄_k and C_k the weighted mean and covariance of the points under r_ik): the
 * MAP estimate under a Dirichlet(1 + m) prior on π and normal-inverse-Wishart priors with
 * κ_k = m_k, mean μ_ref,k, scale m_k Σ_ref,k and ν_k + d + 2 = m_k. A component no point reaches
 * keeps exactly the reference's mean and covariance, and weight anchor/(1 + anchor) · π_ref,k.
 *
 * The statistics here are taken about the current means c: Σ m (x − c) = m (μ_ref − c) and
 * Σ m (x − c)(x − c)ᵀ = m (Σ_ref + (μ_ref − c)(μ_ref − c)ᵀ). The reference's covariance already
 * holds the regCovar that the M-step adds, so its scatter enters without it: under a huge anchor
 * the fit is the reference itself.
 */
function addPrior(work: Work, mix: Mixture, prior: Prior, regCovar: number): void {
  const { k, d, means } = mix
  const ref = prior.reference
  const dd = d * d
  for (let c = 0; c < k; c++) {
    const m = prior.mass * ref.weights[c]!
    if (m === 0) continue
    const mo = c * d
    for (let a = 0; a < d; a++) work.diff[mo + a] = ref.means[mo + a]! - means[mo + a]!
    accumulate(work, mix, c, m)
    if (mix.covarianceType === 'diag') {
      for (let a = 0; a < d; a++) work.sumXX[mo + a]! += m * (ref.covariances[mo + a]! - regCovar)
      continue
    }
    for (let a = 0; a < d; a++) {
      for (let b = 0; b <= a; b++) {
        const scatter = ref.covariances[c * dd + a * d + b]! - (a === b ? regCovar : 0)
        work.sumXX[c * dd + a * d + b]! += m * scatter
      }
    }
  }
}

/** Sets the parameters from hard labels (one component per point), about the given means. */
export function initialiseFromLabels(
  x: Float64Array,
  n: number,
  mix: Mixture,
  labels: Int32Array,
  work: Work,
  regCovar: number,
  rng: Rng,
  weights?: Float64Array,
): void {
  const { d, means } = mix
  resetStatistics(work)
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!
    if (w === 0) continue
    const c = labels[i]!
    for (let a = 0; a < d; a++) work.diff[c * d + a] = x[i * d + a]! - means[c * d + a]!
    accumulate(work, mix, c, w)
  }
  maximisation(x, n, mix, work, regCovar, rng, weights)
}

/**
 * scikit-learn's init_params='random': uniform random responsibilities, normalised per point
 * (then times the point's weight), about the (weighted) mean of the points.
 */
export function initialiseRandom(x: Float64Array, n: number, mix: Mixture, work: Work, regCovar: number, rng: Rng, weights?: Float64Array): void {
  const { k, d, means } = mix
  const center = new Float64Array(d)
  if (weights === undefined) {
    for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) center[a]! += x[i * d + a]! / n
  } else {
    let total = 0
    for (let i = 0; i < n; i++) {
      total += weights[i]!
      for (let a = 0; a < d; a++) center[a]! += weights[i]! * x[i * d + a]!
    }
    for (let a = 0; a < d; a++) center[a]! /= total
  }
  for (let c = 0; c < k; c++) means.set(center, c * d)
  resetStatistics(work)
  const r = work.logProb
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!
    if (w === 0) continue
    let s = 0
    for (let c = 0; c < k; c++) {
      r[c] = rng.uniform()
      s += r[c]!
    }
    for (let c = 0; c < k; c++) {
      for (let a = 0; a < d; a++) work.diff[c * d + a] = x[i * d + a]! - center[a]!
      accumulate(work, mix, c, (w * r[c]!) / s)
    }
  }
  maximisation(x, n, mix, work, regCovar, rng, weights)
}

/** E-step folded into the statistics; returns the (weighted) mean log-likelihood. */
function expectation(x: Float64Array, n: number, mix: Mixture, work: Work, weights: Float64Array | undefined): number {
  const { k, d } = mix
  const { logProb, diff, factors } = work
  resetStatistics(work)
  let total = 0
  let mass = 0
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!
    if (w === 0) continue
    const max = componentLogProbs(x, i * d, mix, factors, logProb, diff)
    let s = 0
    for (let c = 0; c < k; c++) {
      const e = expOrZero(logProb[c]! - max)
      logProb[c] = e
      s += e
    }
    total += w * (max + Math.log(s))
    mass += w
    const inv = w / s
    for (let c = 0; c < k; c++) {
      const r = logProb[c]! * inv
      // Far components get exactly zero (exp underflow); skipping them changes nothing.
      if (r !== 0) accumulate(work, mix, c, r)
    }
  }
  return total / mass
}

/**
 * exp(t) for t ≤ 0, skipping the call where it underflows to 0 anyway: with well-separated
 * components most points are that far from all but one.
 */
export function expOrZero(t: number): number {
  return t < -750 ? 0 : Math.exp(t)
}

function resetStatistics(work: Work): void {
  work.sumR.fill(0)
  work.sumX.fill(0)
  work.sumXX.fill(0)
}

/** Adds responsibility r of component c for the point whose x - mean_c is in work.diff. */
function accumulate(work: Work, mix: Mixture, c: number, r: number): void {
  const { sumX, sumXX, diff } = work
  const d = mix.d
  work.sumR[c]! += r
  const mo = c * d
  if (mix.covarianceType === 'diag') {
    for (let a = 0; a < d; a++) {
      const ra = r * diff[mo + a]!
      sumX[mo + a]! += ra
      sumXX[mo + a]! += ra * diff[mo + a]!
    }
    return
  }
  const lo = c * d * d
  for (let a = 0; a < d; a++) {
    const ra = r * diff[mo + a]!
    sumX[mo + a]! += ra
    for (let b = 0; b <= a; b++) sumXX[lo + a * d + b]! += ra * diff[mo + b]!
  }
}

/**
 * M-step from the statistics; returns whether an empty component was re-seeded (at a point drawn
 * by weight).
 */
function maximisation(x: Float64Array, n: number, mix: Mixture, work: Work, regCovar: number, rng: Rng, pointWeights?: Float64Array): boolean {
  const { k, d, weights, means, covariances } = mix
  const { sumR, sumX, sumXX, pooled, empty } = work
  const diagonal = mix.covarianceType === 'diag'
  const dd = covarianceSize(d, mix.covarianceType)
  pooled.fill(0)
  let mass = 0
  let empties = 0
  for (let c = 0; c < k; c++) {
    empty[c] = sumR[c]! < EMPTY_MASS ? 1 : 0
    if (empty[c] === 1) {
      empties++
      continue
    }
    const nk = sumR[c]! + MASS_FLOOR
    const mo = c * d
    const base = c * dd
    for (let a = 0; a < d; a++) {
      const da = sumX[mo + a]! / nk
      if (diagonal) {
        // The full covariance's diagonal entry, computed as it is there.
        covariances[base + a] = sumXX[base + a]! / nk - da * da + regCovar
        continue
      }
      for (let b = 0; b <= a; b++) {
        const db = sumX[mo + b]! / nk
        let v = sumXX[base + a * d + b]! / nk - da * db
        if (a === b) v += regCovar
        covariances[base + a * d + b] = v
        covariances[base + b * d + a] = v
      }
    }
    for (let a = 0; a < d; a++) means[mo + a]! += sumX[mo + a]! / nk
    for (let j = 0; j < dd; j++) pooled[j]! += nk * covariances[base + j]!
    weights[c] = nk
    mass += nk
  }
  if (empties > 0) {
    for (let j = 0; j < dd; j++) pooled[j]! /= mass
    // An average weight lets the new component take a fair share of the points around it, so
    // that EM splits that cluster rather than leaving the component nearly empty again.
    const average = mass / (k - empties)
    for (let c = 0; c < k; c++) {
      if (empty[c] === 0) continue
      const i = pointWeights === undefined ? rng.int(n) : rng.categorical(pointWeights)
      means.set(x.subarray(i * d, (i + 1) * d), c * d)
      covariances.set(pooled, c * dd)
      weights[c] = average
      mass += average
    }
  }
  for (let c = 0; c < k; c++) weights[c]! /= mass
  return empties > 0
}
