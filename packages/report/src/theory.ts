import { digamma, trigamma } from '@ouroboros/core'
import type { CellInfo, RunInfo } from '@ouroboros/store'
import { cellDataset } from './cell-data.js'
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

/** Sampled at temperature 1, with no filter and no post-training stage: the chains the theories are of. */
function plainChain(config: unknown): boolean {
  const posttrain = field(config, 'posttrain')
  return (numberField(config, 'sampling', 'temperature') ?? 1) === 1 && (field(config, 'filter') ?? null) === null && (posttrain === undefined || (Array.isArray(posttrain) && posttrain.length === 0))
}

/** The theory curves that apply to `metric` of `cell`; empty where METRICS.md gives none. */
export function theoryCurves(info: RunInfo, cell: CellInfo, metric: string): TheoryCurve[] {
  const config = cell.config
  const total = numberField(config, 'generations')
  if (total === undefined || total < 1) return []
  const generations = evenSpread([...Array(total).keys()], MAX_THEORY_POINTS)
  const policy = stringField(config, 'policy', 'kind') ?? 'replace'
  const modelKind = stringField(config, 'model', 'kind')
  const dataset = cellDataset(info, cell)
  if (dataset === undefined) return []

  if (metric === 'log_variance' && dataset.kind === 'gaussian' && numberField(dataset, 'd') === 1 && modelKind === 'gaussian' && policy === 'replace') {
    const sigma0 = numberField(dataset, 'gaussian', 'std')
    const nReal = numberField(config, 'data', 'n')
    const m = numberField(config, 'samplesPerGeneration') ?? nReal
    const estimator = stringField(config, 'model', 'estimator') ?? 'mle'
    // Another temperature rescales every generation's variance, and a filter or a stage reshapes it: not this chain.
    if (sigma0 === undefined || nReal === undefined || m === undefined || nReal < 2 || m < 2 || !plainChain(config)) return []
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
    // The theory's every generation labels the T design points once: other sizes, temperatures,
    // filters and stages are other chains (M = 50 of T = 100 loses twice as fast).
    const n = numberField(config, 'data', 'n') ?? T
    if (n !== T || (numberField(config, 'samplesPerGeneration') ?? n) !== T || !plainChain(config)) return []
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
  if (metric === 'vocab_size' && dataset.kind === 'zipf') {
    const data = cellDataParams(info, cell)
    const V = numberField(data, 'vocabSize')
    const exponent = numberField(data, 'exponent')
    const length = numberField(data, 'length')
    const n = numberField(config, 'data', 'n')
    const perGeneration = numberField(config, 'samplesPerGeneration') ?? n
    if (V === undefined || exponent === undefined || length === undefined || n === undefined || perGeneration === undefined) return []
    if (!isMaximumLikelihoodUnigram(config) || policy !== 'replace' || total > MAX_ZIPF_GENERATIONS || V > MAX_ZIPF_TYPES) return []
    // Sampling 1 is the real data the chain fits first; generation g's samples are sampling g + 2.
    const tokens = [n * length, ...Array<number>(total).fill(perGeneration * length)]
    const expected = expectedTypesChain(zipfProbabilities(V, exponent), tokens)
    return [{ name: `theory: E[vocab_size], a unigram refit on its own ${(perGeneration * length).toLocaleString('en-US')} tokens`, generations, values: generations.map((g) => expected[g + 1]!) }]
  }
  return []
}

/** Longer chains would make the exact propagation slow (its cost grows as generations^2.5). */
const MAX_ZIPF_GENERATIONS = 100
const MAX_ZIPF_TYPES = 1_000_000

/**
 * A chain that is pure resampling, so that expectedTypesChain is its exact expectation: an n-gram
 * model of order 1 without discounting gives each word its count / the tokens (and ends a
 * sequence at its training data's rate, so a generation's sample holds samplesPerGeneration ×
 * length tokens in expectation: the curve takes that count as exact), sampled at temperature 1
 * with no top-k, top-p, filter or post-training. Both parameters must be given: the model's
 * defaults are order 3 and a discount fit to the data.
 */
function isMaximumLikelihoodUnigram(config: Record<string, unknown>): boolean {
  const model = field(config, 'model')
  return (
    stringField(model, 'kind') === 'ngram' &&
    numberField(model, 'order') === 1 &&
    numberField(model, 'discount') === 0 &&
    field(model, 'topK') === undefined &&
    field(model, 'topP') === undefined &&
    plainChain(config)
  )
}

/**
 * The data parameters of a cell, defaults filled in: run.json records the resolved parameters of
 * the first cell's data only (`dataset.params`), which hold for every cell whose data config is the
 * same but for n. Another cell has only what its config states.
 */
function cellDataParams(info: RunInfo, cell: CellInfo): Record<string, unknown> {
  const own = field(cell.config, 'data')
  const ownData = typeof own === 'object' && own !== null ? (own as Record<string, unknown>) : {}
  const first = field(info.cells[0]?.config, 'data')
  const withoutN = (d: unknown): string => {
    if (typeof d !== 'object' || d === null) return JSON.stringify(d)
    const { n: _n, ...rest } = d as Record<string, unknown>
    return JSON.stringify(rest)
  }
  const recorded = field(info.dataset, 'params')
  if (withoutN(own) !== withoutN(first) || typeof recorded !== 'object' || recorded === null) return ownData
  return { ...(recorded as Record<string, unknown>), ...ownData }
}

/** ln n! for integers n ≥ 0: exact sums below 20, Stirling's series with three corrections above (error < 1e-13). */
function logFactorial(n: number): number {
  if (n < 20) {
    let s = 0
    for (let i = 2; i <= n; i++) s += Math.log(i)
    return s
  }
  const inv = 1 / n
  const inv2 = inv * inv
  return n * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI * n) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260))
}

/** Binomial probabilities below this are left out: they cannot move an expected count of types. */
const NEGLIGIBLE = 1e-18

/**
 * Adds weight·P(Binomial(m, q) = c) to into[c] for 1 ≤ c ≤ cap (c = 0 is a lost type) and returns
 * the weight above cap. Walks from the mode both ways with the ratio of neighbouring terms.
 */
function spreadBinomial(m: number, q: number, weight: number, into: Float64Array, cap: number): number {
  if (!(q > 0)) return 0
  if (q >= 1) {
    if (m > cap) return weight
    into[m]! += weight
    return 0
  }
  const mode = Math.min(m, Math.floor((m + 1) * q))
  const atMode = Math.exp(logFactorial(m) - logFactorial(mode) - logFactorial(m - mode) + mode * Math.log(q) + (m - mode) * Math.log1p(-q))
  const odds = q / (1 - q)
  let below = 0
  let pmf = atMode
  for (let c = mode; c >= 1; c--) {
    if (c < mode) pmf *= (c + 1) / (m - c) / odds
    if (pmf < NEGLIGIBLE && c < mode) break
    if (c <= cap) {
      into[c]! += weight * pmf
      below += pmf
    }
  }
  pmf = atMode
  for (let c = mode + 1; c <= Math.min(m, cap); c++) {
    pmf *= ((m - c + 1) / c) * odds
    if (pmf < NEGLIGIBLE) break
    into[c]! += weight * pmf
    below += pmf
  }
  // Everything not at 1..cap and not at 0 lies above cap.
  const lost = mode === 0 ? atMode : Math.exp(m * Math.log1p(-q))
  return Math.max(0, weight * (1 - below - lost))
}

/**
 * Expected number of distinct types after each of a chain of samplings: the first draws
 * tokens[0] tokens from `p`, each later one tokens[k] tokens from the shares of the one before (a
 * maximum-likelihood unigram model refit on its own samples). A type's count is Binomial(tokens[0], p)
 * and then Binomial(tokens[k], previous count / tokens[k − 1]): the marginal of a multinomial is
 * binomial, so the expected number of types at each count propagates exactly, whatever the other
 * types do. Types whose count exceeds a cap are counted as surviving: their expected count stays
 * above 25 × the steps left, and a type of expected count c is lost within s resamplings with a
 * probability of about e^(−2c/s) (below e^(−50)).
 */
export function expectedTypesChain(p: ArrayLike<number>, tokens: readonly number[]): number[] {
  const steps = tokens.length
  const out: number[] = []
  const caps = tokens.map((m, k) => {
    const fewest = Math.min(...tokens.slice(k))
    return Math.min(m, Math.ceil((25 * (steps - k) * m) / fewest))
  })
  let byCount = new Float64Array(caps[0]! + 1)
  let above = 0
  for (let k = 0; k < p.length; k++) above += spreadBinomial(tokens[0]!, p[k]!, 1, byCount, caps[0]!)
  for (let step = 0; step < steps; step++) {
    if (step > 0) {
      const next = new Float64Array(caps[step]! + 1)
      for (let c = 1; c < byCount.length; c++) {
        if (byCount[c]! > 0) above += spreadBinomial(tokens[step]!, c / tokens[step - 1]!, byCount[c]!, next, caps[step]!)
      }
      byCount = next
    }
    let alive = above
    for (let c = 1; c < byCount.length; c++) alive += byCount[c]!
    out.push(alive)
  }
  return out
}

/** p_k ∝ k^(−exponent), k = 1..V: the Zipf dataset's token probabilities. */
export function zipfProbabilities(vocabSize: number, exponent: number): Float64Array {
  const p = new Float64Array(vocabSize)
  let total = 0
  for (let k = 0; k < vocabSize; k++) total += p[k] = (k + 1) ** -exponent
  for (let k = 0; k < vocabSize; k++) p[k]! /= total
  return p
}
