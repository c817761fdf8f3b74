import { describe, expect, it } from 'vitest'
import { Rng, vectors } from '@ouroboros/core'
import type { DatasetInfo, VectorSamples } from '@ouroboros/core'
import { model } from './index.js'
import type { KdeState } from './index.js'

const dataset: DatasetInfo = { kind: 'gaussian', modality: 'vectors' }
const fitCtx = { rng: Rng.from(0, 'fit'), generation: 0, dataset }
const fit = (data: VectorSamples, bandwidth: unknown = 'scott'): KdeState => model.fit(data, model.params.parse({ bandwidth }), fitCtx) as KdeState

/** Sample covariance with ddof 1, written out as numpy.cov computes it. */
function covarianceDdof1(x: VectorSamples): number[] {
  const { n, d, data } = x
  const mean = Array.from({ length: d }, (_, a) => Array.from({ length: n }, (_, i) => data[i * d + a]!).reduce((s, v) => s + v, 0) / n)
  const cov: number[] = []
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < d; b++) {
      let s = 0
      for (let i = 0; i < n; i++) s += (data[i * d + a]! - mean[a]!) * (data[i * d + b]! - mean[b]!)
      cov.push(s / (n - 1))
    }
  }
  return cov
}

describe('kde bandwidth (scipy gaussian_kde rules)', () => {
  const rng = Rng.from(1, 'data')
  const oneD = vectors(50, 1, rng.fillNormal(new Float64Array(50)))
  const threeD = vectors(40, 3, rng.fillNormal(new Float64Array(120)))

  it("uses Scott's factor n^(-1/(d+4)) by default", () => {
    expect(model.params.parse({})).toEqual({ bandwidth: 'scott' })
    expect(fit(oneD).factor).toBeCloseTo(50 ** (-1 / 5), 14)
    expect(fit(threeD).factor).toBeCloseTo(40 ** (-1 / 7), 14)
  })

  it("uses Silverman's factor (n(d+2)/4)^(-1/(d+4))", () => {
    expect(fit(oneD, 'silverman').factor).toBeCloseTo(((50 * 3) / 4) ** (-1 / 5), 14)
    expect(fit(threeD, 'silverman').factor).toBeCloseTo(((40 * 5) / 4) ** (-1 / 7), 14)
  })

  it('takes a number as the factor itself', () => {
    expect(fit(oneD, 0.3).factor).toBe(0.3)
  })

  it('sets the kernel covariance to factor² times the ddof-1 data covariance', () => {
    const state = fit(threeD, 'silverman')
    const expected = covarianceDdof1(threeD).map((v) => v * state.factor ** 2)
    state.kernelCov.forEach((v, j) => expect(v).toBeCloseTo(expected[j]!, 13))
  })
})

describe('kde log-likelihood', () => {
  it('matches the mean of 2-D normal kernel densities written out with the explicit inverse', () => {
    const train = vectors(5, 2, Float64Array.of(0, 0, 1, 0.5, -1, 2, 0.3, -0.7, 2, 2))
    const state = fit(train, 0.8)
    const [a, b, , c] = Array.from(state.kernelCov)
    const det = a! * c! - b! * b!
    const evalPts = [0, 0, 1.5, 1, -3, 4]
    const ll = model.logLikelihood!(state, vectors(3, 2, Float64Array.from(evalPts))) as Float64Array
    for (let e = 0; e < 3; e++) {
      let p = 0
      for (let i = 0; i < 5; i++) {
        const dx = evalPts[2 * e]! - train.data[2 * i]!
        const dy = evalPts[2 * e + 1]! - train.data[2 * i + 1]!
        const q = (c! * dx * dx - 2 * b! * dx * dy + a! * dy * dy) / det
        p += Math.exp(-0.5 * q) / (2 * Math.PI * Math.sqrt(det)) / 5
      }
      expect(ll[e]).toBeCloseTo(Math.log(p), 12)
    }
  })

  it('carries the log-sum-exp across tiles of evaluation rows and training points', () => {
    // Sorted training points put the nearest kernel of a far-right evaluation point in the last
    // tile, so the running maximum must grow across tiles.
    const n = 5000
    const train = new Float64Array(n)
    for (let i = 0; i < n; i++) train[i] = -10 + (20 * i) / n + 0.001 * Math.sin(i)
    const state = fit(vectors(n, 1, train), 0.01)
    const m = 150
    const evalPts = Float64Array.from({ length: m }, (_, e) => -12 + (25 * e) / m)
    const ll = model.logLikelihood!(state, vectors(m, 1, evalPts)) as Float64Array
    const h2 = state.kernelCov[0]!
    for (let e = 0; e < m; e++) {
      const terms = Array.from(train, (t) => (-0.5 * (evalPts[e]! - t) ** 2) / h2)
      const max = Math.max(...terms)
      const sum = terms.reduce((s, t) => s + Math.exp(t - max), 0)
      const expected = max + Math.log(sum) - Math.log(n) - 0.5 * Math.log(2 * Math.PI * h2)
      expect(ll[e]).toBeCloseTo(expected, 9)
    }
  })

  it('stays finite far from every training point', () => {
    const state = fit(vectors(4, 1, Float64Array.of(0, 1, 2, 3)))
    const ll = model.logLikelihood!(state, vectors(1, 1, Float64Array.of(1e4))) as Float64Array
    expect(Number.isFinite(ll[0])).toBe(true)
  })
})

describe('kde sampling', () => {
  it('adds kernel noise of variance T·h² to uniformly chosen training points', () => {
    const rng = Rng.from(2, 'data')
    const train = vectors(1000, 1, rng.fillNormal(new Float64Array(1000), 5, 2))
    const state = fit(train)
    const h2 = state.kernelCov[0]!
    let mean = 0
    for (const v of train.data) mean += v / 1000
    let varTrain = 0
    for (const v of train.data) varTrain += (v - mean) ** 2 / 1000
    for (const t of [1, 0.25]) {
      const n = 200_000
      const out = model.sample(state, n, { rng: Rng.from(3, 's'), temperature: t, dataset }) as VectorSamples
      let m = 0
      for (const v of out.data) m += v / n
      let v2 = 0
      for (const v of out.data) v2 += (v - m) ** 2 / n
      // Variance of a uniform pick plus independent noise; its standard error here is about 0.03.
      expect(Math.abs(m - mean)).toBeLessThan(0.03)
      expect(Math.abs(v2 - (varTrain + t * h2))).toBeLessThan(0.1)
    }
  })
})

describe('kde input checks', () => {
  it('refuses too few points and singular data, saying what to do', () => {
    expect(() => fit(vectors(2, 2, Float64Array.of(0, 0, 1, 1)))).toThrow(/at least 3 training points/)
    expect(() => fit(vectors(4, 2, Float64Array.of(0, 0, 1, 1, 2, 2, 3, 3)))).toThrow(/singular/)
    expect(() => fit(vectors(3, 1, Float64Array.of(1, NaN, 2)))).toThrow(/NaN/)
  })

  it('copies the training points instead of keeping the caller’s buffer', () => {
    const data = vectors(3, 1, Float64Array.of(1, 2, 4))
    const state = fit(data)
    data.data[0] = 100
    expect(state.points[0]).toBe(1)
  })
})

describe('kde fitWeighted (scipy gaussian_kde with weights)', () => {
  const fitWeighted = (data: VectorSamples, weights: number[], bandwidth: unknown = 'scott'): KdeState =>
    model.fitWeighted!(data, Float64Array.from(weights), model.params.parse({ bandwidth }), fitCtx) as KdeState
  const train = vectors(6, 2, Float64Array.of(0, 0, 1, 0.5, -1, 2, 0.3, -0.7, 2, 2, 1.5, -1))
  const w = [1, 2, 0.5, 3, 1, 0.25]

  it('matches scipy.stats.gaussian_kde(weights=w): Kish n_eff in the factor, the reliability-weighted covariance, weighted kernels', () => {
    // scipy 1.17.1: gaussian_kde(x.T, bw_method='scott', weights=w) gives neff 3.922448979591837,
    // factor 0.79629462232381, covariance [[0.48213494978698, 0.21725385893564], [., 0.86409153448836]]
    // and logpdf at (0, 0), (1.5, 1), (-3, 4) of -2.1475763521217597, -2.5205599825228413, -13.721769345134657.
    const state = fitWeighted(train, w)
    expect(state.factor).toBeCloseTo(0.79629462232381, 13)
    const cov = [0.4821349497869794, 0.21725385893564117, 0.2172538589356412, 0.8640915344883575]
    state.kernelCov.forEach((v, j) => expect(v).toBeCloseTo(cov[j]!, 13))
    const ll = model.logLikelihood!(state, vectors(3, 2, Float64Array.of(0, 0, 1.5, 1, -3, 4))) as Float64Array
    const expected = [-2.1475763521217597, -2.5205599825228413, -13.721769345134657]
    ll.forEach((v, e) => expect(v).toBeCloseTo(expected[e]!, 12))
  })

  it("uses n_eff = (Σw)²/Σw² in Silverman's rule too", () => {
    const x = vectors(5, 1, Float64Array.of(0, 1, 3, 4, 7))
    const weights = [1, 4, 2, 0.5, 3]
    const nEff = 10.5 ** 2 / (1 + 16 + 4 + 0.25 + 9)
    expect(fitWeighted(x, weights, 'silverman').factor).toBeCloseTo(((nEff * 3) / 4) ** (-1 / 5), 14)
  })

  it('gives the log of the weighted sum of normal kernels', () => {
    const state = fitWeighted(train, w, 0.8)
    const [a, b, , c] = Array.from(state.kernelCov)
    const det = a! * c! - b! * b!
    const W = w.reduce((s, v) => s + v, 0)
    const evalPts = [0, 0, 1.5, 1, -3, 4]
    const ll = model.logLikelihood!(state, vectors(3, 2, Float64Array.from(evalPts))) as Float64Array
    for (let e = 0; e < 3; e++) {
      let p = 0
      for (let i = 0; i < 6; i++) {
        const dx = evalPts[2 * e]! - train.data[2 * i]!
        const dy = evalPts[2 * e + 1]! - train.data[2 * i + 1]!
        const q = (c! * dx * dx - 2 * b! * dx * dy + a! * dy * dy) / det
        p += ((w[i]! / W) * Math.exp(-0.5 * q)) / (2 * Math.PI * Math.sqrt(det))
      }
      expect(ll[e]).toBeCloseTo(Math.log(p), 12)
    }
  })

  it('draws kernel j with probability w_j / Σw and leaves out items of weight 0', () => {
    const x = vectors(4, 1, Float64Array.of(0, 10, 20, 30))
    const state = fitWeighted(x, [1, 2, 0, 7], 0.001)
    expect(state.n).toBe(3)
    const n = 100_000
    const out = model.sample(state, n, { rng: Rng.from(4, 's'), temperature: 1, dataset }) as VectorSamples
    const counts = [0, 0, 0, 0]
    for (const v of out.data) counts[Math.round(v / 10)]!++
    const p = [0.1, 0.2, 0, 0.7]
    // Kernels are 0.01 wide and 10 apart: each draw lands next to its kernel's point.
    p.forEach((pj, j) => expect(Math.abs(counts[j]! / n - pj)).toBeLessThanOrEqual(5 * Math.sqrt((pj * (1 - pj)) / n)))
  })

  it('refuses fewer than d + 1 items of positive weight', () => {
    expect(() => fitWeighted(train, [1, 1, 0, 0, 0, 0])).toThrow(/at least 3 training points/)
  })
})
