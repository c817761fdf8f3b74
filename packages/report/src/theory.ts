import { digamma, trigamma } from '@ouroboros/core'
import type { CellInfo, RunInfo } from '@ouroboros/store'
import { evenSpread } from './even-spread.js'
import { field, numberField, stringField } from './fields.js'

/** More points than a plot has pixels for would only grow the page, even over a million generations. */
const MAX_THEORY_POINTS = 2000

/** A closed-form expectation for one cell's metric (METRICS.md, "Theory curves the report overlays"). */
export interface TheoryCurve {
  name: string
  generations: number[]
  values: number[]
  band?: { name: string; lower: number[]; upper: number[] }
  bound?: { name: string; value: number }
}

export type GaussianEstimator = 'mle' | 'unbiased'

/**
 * A 1-D Gaussian chain under `replace`: generation g is the (g+1)-th fit. A fit on n samples
 * multiplies σ² by χ²_{n−1}/dd (dd = n for the MLE, n − 1 unbiased), so log σ² gains
 * ψ((n−1)/2) + ln 2 − ln dd in expectation with variance ψ′((n−1)/2), independently per fit.
 * Generation 0 fits the nReal real samples and every later fit m samples; with nReal = m this is
 * METRICS.md's k·(ψ((M−1)/2) + ln 2 − ln d).
 */
export function gaussianLogVariance(p: {
  sigma0: number
  nReal: number
  m: number
  estimator: GaussianEstimator
  generations: readonly number[]
}): { mean: number[]; sd: number[] } {
  const step = (n: number): { drift: number; variance: number } => ({
    drift: digamma((n - 1) / 2) + Math.LN2 - Math.log(p.estimator === 'mle' ? n : n - 1),
    variance: trigamma((n - 1) / 2),
  })
  const first = step(p.nReal)
  const later = step(p.m)
  const logVar0 = 2 * Math.log(p.sigma0)
  return {
    mean: p.generations.map((g) => logVar0 + first.drift + g * later.drift),
    sd: p.generations.map((g) => Math.sqrt(first.variance + g * later.variance)),
  }
}

/**
 * Expected ‖ŵ − w*‖² of OLS refit on its own labels (Gerstgrasser et al.): one fit adds
 * σ²d/(T−d−1); replacing the labels adds it every generation, accumulating them shrinks the
 * i-th term by 1/i², bounded by π²/6 of one fit.
 */
export function regressionExcessError(p: {
  sigma: number
  T: number
  d: number
  policy: 'replace' | 'accumulate'
  /** Ascending. */
  generations: readonly number[]
}): number[] {
  const one = (p.sigma * p.sigma * p.d) / (p.T - p.d - 1)
  if (p.policy === 'replace') return p.generations.map((g) => (g + 1) * one)
  // One running sum over generations in ascending order.
  let i = 0
  let sum = 0
  return p.generations.map((g) => {
    for (; i < g + 1; i++) sum += 1 / ((i + 1) * (i + 1))
    return one * sum
  })
}

/** The theory curves that apply to `metric` of `cell`; empty where METRICS.md gives none. */
export function theoryCurves(info: RunInfo, cell: CellInfo, metric: string): TheoryCurve[] {
  const config = cell.config
  const total = numberField(config, 'generations')
  if (total === undefined || total < 1) return []
  const generations = evenSpread([...Array(total).keys()], MAX_THEORY_POINTS)
  const policy = stringField(config, 'policy', 'kind') ?? 'replace'
  const modelKind = stringField(config, 'model', 'kind')
  const dataset = info.dataset

  if (metric === 'log_variance' && dataset.kind === 'gaussian' && numberField(dataset, 'd') === 1 && modelKind === 'gaussian' && policy === 'replace') {
    const sigma0 = numberField(dataset, 'gaussian', 'std')
    const nReal = numberField(config, 'data', 'n')
    const m = numberField(config, 'samplesPerGeneration') ?? nReal
    const estimator = stringField(config, 'model', 'estimator') ?? 'mle'
    // Sampling at another temperature rescales every generation's variance: not this chain.
    const temperature = numberField(config, 'sampling', 'temperature') ?? 1
    if (sigma0 === undefined || nReal === undefined || m === undefined || nReal < 2 || m < 2 || temperature !== 1) return []
    if (estimator !== 'mle' && estimator !== 'unbiased') return []
    const { mean, sd } = gaussianLogVariance({ sigma0, nReal, m, estimator, generations })
    return [
      {
        name: `theory: E[log σ²], ${estimator === 'mle' ? 'MLE' : 'unbiased'} fits of M=${m}`,
        generations,
        values: mean,
        band: { name: 'theory: ±1 SD of log σ²', lower: mean.map((v, i) => v - sd[i]!), upper: mean.map((v, i) => v + sd[i]!) },
      },
    ]
  }

  const regression = field(dataset, 'regression')
  if (metric === 'excess_test_error' && (dataset.kind === 'regression' || regression !== undefined) && modelKind === 'linreg') {
    const sigma = numberField(regression, 'sigma')
    const T = numberField(regression, 'T')
    const d = numberField(regression, 'd') ?? numberField(dataset, 'd')
    if (sigma === undefined || T === undefined || d === undefined || T - d - 1 <= 0) return []
    if (policy !== 'replace' && policy !== 'accumulate') return []
    const values = regressionExcessError({ sigma, T, d, policy, generations })
    const one = (sigma * sigma * d) / (T - d - 1)
    return [
      policy === 'replace'
        ? { name: 'theory (replace): (g+1)·σ²d/(T−d−1)', generations, values }
        : {
            name: 'theory (accumulate): σ²d/(T−d−1)·Σ 1/i²',
            generations,
            values,
            bound: { name: 'theory bound (accumulate): π²/6·σ²d/(T−d−1)', value: ((Math.PI * Math.PI) / 6) * one },
          },
    ]
  }
  return []
}
