import { asVectors, type ModelPlugin, type Samples } from '@ouroboros/core'

/** How a KL divergence was obtained (recorded next to it). */
export type KlEstimator = 'exact' | 'monte-carlo' | 'nearest-neighbour' | 'best-of-n ranks' | 'best-of-n ranks + monte-carlo'

export interface KlEstimate {
  readonly value: number | null
  readonly estimator: KlEstimator | null
}

export const NO_KL: KlEstimate = { value: null, estimator: null }

/**
 * KL(p_state ‖ p_reference) from samples of p_state, by the best means the model offers (METRICS.md
 * "Post-training"): exact for small categorical models (`klDivergence`), Monte Carlo
 * E_x[log p(x) − log p_ref(x)] over the samples where the model gives log-likelihoods, else for
 * vectors the nearest-neighbour estimator of Wang, Kulkarni & Verdú (2009) between the samples and
 * as many drawn from the reference (`drawReference`).
 */
export async function estimateKl<S>(
  model: ModelPlugin<any, S>,
  state: S,
  reference: S,
  samples: Samples,
  drawReference: (n: number) => Promise<Samples>,
): Promise<KlEstimate> {
  const exact = model.klDivergence?.(state, reference)
  if (exact !== undefined) return { value: exact, estimator: 'exact' }
  if (hasSampleLikelihood(model, state) && hasSampleLikelihood(model, reference)) return { value: await monteCarloKl(model, state, reference, samples), estimator: 'monte-carlo' }
  if (samples.modality === 'vectors' && samples.n >= 2) {
    return { value: nearestNeighbourKl(asVectors(samples), asVectors(await drawReference(samples.n))), estimator: 'nearest-neighbour' }
  }
  return NO_KL
}

/** Whether estimateKl gives a value for this model's state and samples of it (or may: an exact KL that some states lack). */
export function hasKl<S>(model: ModelPlugin<any, S>, state: S, samples: Samples): boolean {
  return model.klDivergence !== undefined || hasSampleLikelihood(model, state) || (samples.modality === 'vectors' && samples.n >= 2)
}

/** Whether Monte Carlo over the model's log-likelihoods estimates a KL: this state scores its samples as it drew them. */
export function hasSampleLikelihood<S>(model: ModelPlugin<any, S>, state: S): boolean {
  if (model.logLikelihood === undefined) return false
  const scores = model.scoresItsSamples
  return typeof scores === 'function' ? scores(state) : scores !== false
}

export async function monteCarloKl<S>(model: ModelPlugin<any, S>, state: S, reference: S, samples: Samples): Promise<number | null> {
  if (samples.n === 0) return null
  const own = await model.logLikelihood!(state, samples)
  const ref = await model.logLikelihood!(reference, samples)
  let sum = 0
  for (let i = 0; i < samples.n; i++) sum += own[i]! - ref[i]!
  const value = sum / samples.n
  return Number.isFinite(value) ? value : null
}

/**
 * D̂(P‖Q) = (d/n)·Σ_i ln(ν(i)/ρ(i)) + ln(m/(n − 1)), ρ(i) the distance from x_i to its nearest
 * other x, ν(i) to its nearest y (Wang, Kulkarni & Verdú 2009, k = 1). Consistent, not unbiased;
 * points at distance 0 from their own set (duplicates) are skipped, since ln(ν/0) is unbounded.
 */
export function nearestNeighbourKl(x: { n: number; d: number; data: Float64Array }, y: { n: number; d: number; data: Float64Array }): number | null {
  const { n, d } = x
  const m = y.n
  if (n < 2 || m < 1) return null
  let sum = 0
  let used = 0
  for (let i = 0; i < n; i++) {
    let rho = Infinity
    for (let j = 0; j < n; j++) if (j !== i) rho = Math.min(rho, distance2(x.data, i, x.data, j, d))
    let nu = Infinity
    for (let j = 0; j < m; j++) nu = Math.min(nu, distance2(x.data, i, y.data, j, d))
    if (!(rho > 0) || !(nu > 0)) continue
    sum += 0.5 * Math.log(nu / rho)
    used++
  }
  if (used === 0) return null
  return (d * sum) / used + Math.log(m / (n - 1))
}

function distance2(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0
  for (let k = 0; k < d; k++) s += (a[i * d + k]! - b[j * d + k]!) ** 2
  return s
}

/**
 * KL(best-of-n of p ‖ p) from the rewards of all N draws and those kept. With F the distribution
 * function of the reward under p, the best of n has probability (F(v)ⁿ − F(v⁻)ⁿ) where p has
 * F(v) − F(v⁻) at reward v, so the density ratio at a kept sample is their quotient; it is
 * n·F(v)ⁿ⁻¹ without ties, whose mean is ln n − (n − 1)/n (Stiennon et al. 2020). F is the empirical
 * distribution of the N draws, which also handles ties (a reward that takes few values).
 */
export function bestOfNKl(all: Float64Array, kept: Float64Array, n: number): number | null {
  if (kept.length === 0) return null
  if (n === 1) return 0
  const sorted = Float64Array.from(all).sort()
  const N = sorted.length
  let sum = 0
  for (const v of kept) {
    const below = lowerBound(sorted, v)
    const atOrBelow = upperBound(sorted, v)
    const f = atOrBelow / N
    const fMinus = below / N
    sum += logPowerDifferenceQuotient(f, fMinus, n)
  }
  return sum / kept.length
}

/** ln((fⁿ − gⁿ)/(f − g)) for 0 ≤ g < f ≤ 1, in logs against underflow at large n. */
function logPowerDifferenceQuotient(f: number, g: number, n: number): number {
  if (g === 0) return (n - 1) * Math.log(f)
  // fⁿ − gⁿ = fⁿ·(1 − (g/f)ⁿ).
  return n * Math.log(f) + Math.log(-Math.expm1(n * Math.log(g / f))) - Math.log(f - g)
}

function lowerBound(a: Float64Array, v: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! < v) lo = mid + 1
    else hi = mid
  }
  return lo
}

function upperBound(a: Float64Array, v: number): number {
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid]! <= v) lo = mid + 1
    else hi = mid
  }
  return lo
}
