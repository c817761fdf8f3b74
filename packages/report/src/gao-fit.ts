/**
 * Gao et al.'s (2023, "Scaling laws for reward model overoptimization") functional forms of the
 * gold reward gained against d = √KL to the policy the stage starts from:
 *
 *   best-of-n   R(d) = d·(α − β·d)
 *   RL          R(d) = d·(α − β·ln d)
 *
 * fitted by least squares with no intercept (R(0) = 0 by definition), as the paper does; Rafailov
 * et al. (2024) fit the RL form to direct alignment (DPO) as well. A positive β puts a peak on the
 * fitted curve: the √KL past which more optimisation loses gold reward.
 */

export type GaoForm = 'best-of-n' | 'rl'

export interface GaoFit {
  form: GaoForm
  alpha: number
  beta: number
  /** 1 − SS_res / SS_tot over the points, SS_tot about their mean. */
  r2: number
  /** The fitted curve's maximum, where β > 0. */
  peak?: { d: number; gain: number }
  /** Points the fit used. */
  points: number
}

/** The second regressor of a form: R(d) = α·d − β·shape(d). */
function shape(form: GaoForm, d: number): number {
  if (form === 'best-of-n') return d * d
  return d > 0 ? d * Math.log(d) : 0
}

/** The fitted curve at d. */
export function gaoCurve(fit: Pick<GaoFit, 'form' | 'alpha' | 'beta'>, d: number): number {
  return fit.alpha * d - fit.beta * shape(fit.form, d)
}

/**
 * The least-squares fit of gains `gain[i]` at `d[i]` (√KL, ≥ 0). Undefined where the points do not
 * determine both coefficients: fewer than two points with d > 0, or all on one curve shape
 * (d values all equal).
 */
export function fitGao(form: GaoForm, d: readonly number[], gain: readonly number[]): GaoFit | undefined {
  let s11 = 0
  let s12 = 0
  let s22 = 0
  let s1y = 0
  let s2y = 0
  let positive = 0
  for (let i = 0; i < d.length; i++) {
    const x1 = d[i]!
    const x2 = -shape(form, x1)
    const y = gain[i]!
    if (x1 > 0) positive++
    s11 += x1 * x1
    s12 += x1 * x2
    s22 += x2 * x2
    s1y += x1 * y
    s2y += x2 * y
  }
  const det = s11 * s22 - s12 * s12
  // Two distinct d > 0 make the regressors independent; a determinant at rounding level means they are not.
  if (positive < 2 || !(det > 1e-12 * s11 * s22)) return undefined
  const alpha = (s1y * s22 - s2y * s12) / det
  const beta = (s11 * s2y - s12 * s1y) / det
  const mean = gain.reduce((a, b) => a + b, 0) / gain.length
  let res = 0
  let tot = 0
  for (let i = 0; i < d.length; i++) {
    const r = gain[i]! - (alpha * d[i]! - beta * shape(form, d[i]!))
    res += r * r
    tot += (gain[i]! - mean) ** 2
  }
  const fit: GaoFit = { form, alpha, beta, r2: tot > 0 ? 1 - res / tot : res === 0 ? 1 : 0, points: d.length }
  if (beta > 0) {
    // d(α − βd) peaks at α/2β; d(α − β ln d) where α − β ln d − β = 0, at e^(α/β − 1), with gain β·d.
    const at = form === 'best-of-n' ? alpha / (2 * beta) : Math.exp(alpha / beta - 1)
    if (at > 0 && Number.isFinite(at)) fit.peak = { d: at, gain: gaoCurve(fit, at) }
  }
  return fit
}
