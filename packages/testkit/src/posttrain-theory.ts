/**
 * The KL-regularised optimum for a categorical reference (METRICS.md, Post-training), and the
 * Monte Carlo error of estimating it by reward-weighted refitting, for tests of the models'
 * post-training hooks. Written from the formulas, independently of any model code.
 */

export interface CategoricalOptimum {
  /** π*(k) ∝ π_ref(k)·exp(r_k/β). */
  readonly p: Float64Array
  /** E_π*[r]. */
  readonly reward: number
  /** KL(π*‖π_ref) in nats. */
  readonly kl: number
  /** −Σ π* ln π*. */
  readonly entropy: number
}

/** The maximiser of E_π[r] − β·KL(π‖π_ref) over categorical π, in closed form. */
export function klRegularisedOptimum(reference: ArrayLike<number>, rewards: ArrayLike<number>, beta: number): CategoricalOptimum {
  const K = reference.length
  const logA = Float64Array.from({ length: K }, (_, k) => Math.log(reference[k]!) + rewards[k]! / beta)
  let max = -Infinity
  for (const v of logA) if (v > max) max = v
  let z = 0
  for (const v of logA) z += Math.exp(v - max)
  const p = logA.map((v) => Math.exp(v - max) / z)
  let reward = 0
  let kl = 0
  let entropy = 0
  for (let k = 0; k < K; k++) {
    if (p[k] === 0) continue
    reward += p[k]! * rewards[k]!
    kl += p[k]! * Math.log(p[k]! / reference[k]!)
    entropy -= p[k]! * Math.log(p[k]!)
  }
  return { p, reward, kl, entropy }
}

export interface RefitErrors {
  /** Standard error of each refit probability p̂_k. */
  readonly p: Float64Array
  /** Standard error of E_p̂[r]. */
  readonly reward: number
  /** First-order standard error of KL(p̂‖π_ref). */
  readonly kl: number
  /**
   * The second-order bias of KL(p̂‖π_ref), ½·Σ_k Var(p̂_k)/π*_k: the first-order error vanishes where
   * π* = π_ref (β → ∞), and KL(p̂‖π_ref) is then (K − 1)/(2n) on average, a χ² with K − 1 degrees
   * of freedom over 2n.
   */
  readonly klBias: number
}

/**
 * Standard errors of reward-weighted refitting from n draws of π_ref: p̂_k = n_k·a_k / Σ_j n_j·a_j
 * with a = exp(r/β) and n_k the draws of category k, a self-normalised importance-sampling
 * estimate of π*. By the delta method on the multinomial counts, a smooth function g(p̂) has
 * variance (1/n)·Σ_j (π*_j²/π_ref,j)·(∂g/∂p_j − Σ_k π*_k ∂g/∂p_k)².
 */
export function refitStandardErrors(reference: ArrayLike<number>, rewards: ArrayLike<number>, beta: number, n: number): RefitErrors {
  const { p: pi, reward, kl } = klRegularisedOptimum(reference, rewards, beta)
  const K = pi.length
  const variance = (grad: (j: number) => number): number => {
    let mean = 0
    for (let k = 0; k < K; k++) mean += pi[k]! * grad(k)
    let v = 0
    for (let j = 0; j < K; j++) v += ((pi[j]! * pi[j]!) / reference[j]!) * (grad(j) - mean) ** 2
    return v / n
  }
  const p = Float64Array.from({ length: K }, (_, k) => Math.sqrt(variance((j) => (j === k ? 1 : 0))))
  let klBias = 0
  for (let k = 0; k < K; k++) if (pi[k]! > 0) klBias += (0.5 * p[k]! * p[k]!) / pi[k]!
  return {
    p,
    reward: Math.sqrt(variance((j) => rewards[j]! - reward)),
    kl: Math.sqrt(variance((j) => (pi[j]! > 0 ? Math.log(pi[j]! / reference[j]!) - kl : 0))),
    klBias,
  }
}
