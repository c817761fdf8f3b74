import { describe, expect, it } from 'vitest'
import { Rng, vectors } from '@ouroboros/core'
import type { DatasetInfo, VectorSamples } from '@ouroboros/core'
import { model } from './index.js'
import type { LinregState } from './index.js'

const params = model.params.parse({})
const wStar = Float64Array.of(1, -2, 0.5)
const d = 3

function design(T: number, rng: Rng): Float64Array {
  return rng.fillNormal(new Float64Array(T * d))
}

/** Rows [x, y] with y = x·w + sigma·z. */
function labelled(x: Float64Array, w: Float64Array, sigma: number, rng: Rng): VectorSamples {
  const T = x.length / d
  const out = new Float64Array(T * (d + 1))
  for (let i = 0; i < T; i++) {
    let y = 0
    for (let a = 0; a < d; a++) {
      out[i * (d + 1) + a] = x[i * d + a]!
      y += x[i * d + a]! * w[a]!
    }
    out[i * (d + 1) + d] = y + sigma * rng.normal()
  }
  return vectors(T, d + 1, out)
}

const info = (sigma: number, T: number): DatasetInfo => ({ kind: 'regression', modality: 'vectors', d: d + 1, regression: { weights: wStar, sigma, T } })
const fit = (data: VectorSamples, dataset: DatasetInfo): LinregState => model.fit(data, params, { rng: Rng.from(0, 'fit'), generation: 0, dataset }) as LinregState

/** (XᵀX)⁻¹ by Gauss-Jordan elimination with partial pivoting, as a check independent of the model's Cholesky. */
function inverseGram(x: Float64Array): number[][] {
  const T = x.length / d
  const m = Array.from({ length: d }, (_, a) => [
    ...Array.from({ length: d }, (_, b) => {
      let s = 0
      for (let i = 0; i < T; i++) s += x[i * d + a]! * x[i * d + b]!
      return s
    }),
    ...Array.from({ length: d }, (_, b) => (a === b ? 1 : 0)),
  ])
  for (let col = 0; col < d; col++) {
    let pivot = col
    for (let r = col + 1; r < d; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r
    ;[m[col], m[pivot]] = [m[pivot]!, m[col]!]
    const p = m[col]![col]!
    for (let c = 0; c < 2 * d; c++) m[col]![c]! /= p
    for (let r = 0; r < d; r++) {
      if (r === col) continue
      const f = m[r]![col]!
      for (let c = 0; c < 2 * d; c++) m[r]![c]! -= f * m[col]![c]!
    }
  }
  return m.map((row) => row.slice(d))
}

const squaredError = (w: Float64Array): number => w.reduce((s, v, a) => s + (v - wStar[a]!) ** 2, 0)

describe('linreg fit', () => {
  it('recovers w* exactly from noise-free labels', () => {
    const x = design(20, Rng.from(1, 'x'))
    const state = fit(labelled(x, wStar, 0, Rng.from(1, 'y')), info(0.1, 20))
    state.weights.forEach((v, a) => expect(v).toBeCloseTo(wStar[a]!, 12))
  })

  it('has E‖ŵ − w*‖² = σ² tr((XᵀX)⁻¹) over label draws on a fixed design', () => {
    const T = 30
    const sigma = 0.7
    const x = design(T, Rng.from(2, 'x'))
    const trace = inverseGram(x).reduce((s, row, a) => s + row[a]!, 0)
    const reps = 3000
    let sum = 0
    const rng = Rng.from(2, 'y')
    for (let r = 0; r < reps; r++) sum += squaredError(fit(labelled(x, wStar, sigma, rng), info(sigma, T)).weights)
    // ŵ - w* is Gaussian with covariance A = σ²(XᵀX)⁻¹, so ‖ŵ - w*‖² has relative standard
    // deviation sqrt(2 tr A²)/tr A, about sqrt(2/d) = 0.8 here: 1.5 % standard error over 3000 draws.
    expect(Math.abs(sum / reps / (sigma * sigma * trace) - 1)).toBeLessThan(0.05)
  })

  it('grows the error by σ² tr((XᵀX)⁻¹) per generation under replace', () => {
    // ŵ_g = w* + Σ_{j≤g} (XᵀX)⁻¹Xᵀε_j with independent noise, so E‖ŵ_g − w*‖² = (g+1) σ² tr((XᵀX)⁻¹).
    const T = 20
    const sigma = 1
    const x = design(T, Rng.from(3, 'x'))
    const trace = inverseGram(x).reduce((s, row, a) => s + row[a]!, 0)
    const dataset = info(sigma, T)
    const generations = 5
    const chains = 4000
    let sum = 0
    for (let c = 0; c < chains; c++) {
      let state = fit(labelled(x, wStar, sigma, Rng.from(c, 'real')), dataset)
      for (let g = 1; g < generations; g++) {
        const generated = model.sample(state, T, { rng: Rng.from(c, 'gen', g), temperature: 1, dataset }) as VectorSamples
        state = fit(generated, dataset)
      }
      sum += squaredError(state.weights)
    }
    // Standard error about 0.8 / sqrt(4000) = 1.3 %, as above.
    expect(Math.abs(sum / chains / (generations * sigma * sigma * trace) - 1)).toBeLessThan(0.05)
  })

  it('estimates σ as the residual std with ddof d when the dataset does not give it', () => {
    const x = design(25, Rng.from(4, 'x'))
    const data = labelled(x, wStar, 0.3, Rng.from(4, 'y'))
    const state = fit(data, { kind: 'table', modality: 'vectors' })
    // Residuals of the least-squares solution from the independent inverse: ŵ = (XᵀX)⁻¹Xᵀy.
    const inv = inverseGram(x)
    const xty = Array.from({ length: d }, (_, a) => {
      let s = 0
      for (let i = 0; i < 25; i++) s += x[i * d + a]! * data.data[i * (d + 1) + d]!
      return s
    })
    const w = inv.map((row) => row.reduce((s, v, b) => s + v * xty[b]!, 0))
    let rss = 0
    for (let i = 0; i < 25; i++) rss += (data.data[i * (d + 1) + d]! - w.reduce((s, v, a) => s + v * x[i * d + a]!, 0)) ** 2
    expect(state.sigma).toBeCloseTo(Math.sqrt(rss / (25 - d)), 12)
    expect(state.rows).toBe(25)
  })

  it('keeps the first T rows as the design when the training set stacks label sets', () => {
    const T = 10
    const x = design(T, Rng.from(5, 'x'))
    const stacked = [labelled(x, wStar, 0.1, Rng.from(5, 'a')), labelled(x, wStar, 0.1, Rng.from(5, 'b')), labelled(x, wStar, 0.1, Rng.from(5, 'c'))]
    const data = vectors(3 * T, d + 1, Float64Array.from(stacked.flatMap((s) => Array.from(s.data))))
    const state = fit(data, info(0.1, T))
    expect(state.rows).toBe(T)
    expect(Array.from(state.design)).toEqual(Array.from(x))
    expect(state.sigma).toBe(0.1)
  })

  it('refuses unusable data, saying what to do', () => {
    expect(() => fit(vectors(3, 1, Float64Array.of(1, 2, 3)), info(1, 3))).toThrow(/label column/)
    expect(() => fit(vectors(2, 4, new Float64Array(8).fill(1)), info(1, 2))).toThrow(/at least 3 rows/)
    // Two identical feature columns.
    const x = design(10, Rng.from(6, 'x'))
    for (let i = 0; i < 10; i++) x[i * d + 1] = x[i * d]!
    expect(() => fit(labelled(x, wStar, 0.1, Rng.from(6, 'y')), info(0.1, 10))).toThrow(/linearly dependent/)
  })
})

describe('linreg sample and density', () => {
  const state: LinregState = { d: 2, weights: Float64Array.of(2, -1), sigma: 0.5, rows: 3, design: Float64Array.of(1, 0, 0, 1, 1, 1) }

  it('relabels the design rows x_(i mod T) with y = x·ŵ + σ√T z', () => {
    const n = 30_000
    for (const t of [1, 0.25]) {
      const out = model.sample(state, n, { rng: Rng.from(7, 's'), temperature: t, dataset: info(0.5, 3) }) as VectorSamples
      expect(out.d).toBe(3)
      let ss = 0
      let wrongRows = 0
      for (let i = 0; i < n; i++) {
        const r = i % 3
        if (out.data[i * 3] !== state.design[r * 2] || out.data[i * 3 + 1] !== state.design[r * 2 + 1]) wrongRows++
        ss += (out.data[i * 3 + 2]! - (2 * out.data[i * 3]! - out.data[i * 3 + 1]!)) ** 2
      }
      expect(wrongRows).toBe(0)
      // Residual variance T·σ² with relative standard error sqrt(2/n) = 0.8 %.
      expect(Math.abs(ss / n / (t * 0.25) - 1)).toBeLessThan(0.04)
    }
  })

  it('gives the Gaussian log density of y given x', () => {
    const ll = model.logLikelihood!(state, vectors(2, 3, Float64Array.of(1, 1, 1, 3, 0, 7))) as Float64Array
    const logN = (r: number) => -0.5 * Math.log(2 * Math.PI * 0.25) - (r * r) / (2 * 0.25)
    expect(ll[0]).toBeCloseTo(logN(0), 12)
    expect(ll[1]).toBeCloseTo(logN(1), 12)
  })

  it('summarises the weights as a copy', () => {
    const summary = model.summary!(state)
    expect(summary).toEqual({ weights: Float64Array.of(2, -1) })
    expect(summary.weights).not.toBe(state.weights)
  })
})
