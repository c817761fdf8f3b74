import { describe, expect, it } from 'vitest'
import { Rng, digamma, trigamma, vectors } from '@ouroboros/core'
import type { DatasetInfo, OuroborosError } from '@ouroboros/core'
import { model } from './index.js'
import type { GaussianState } from './index.js'

const dataset: DatasetInfo = { kind: 'gaussian', modality: 'vectors', d: 1, gaussian: { mean: 0, std: 1 } }
const fitCtx = (seed = 0) => ({ rng: Rng.from(seed, 'fit'), generation: 0, dataset })
const sampleCtx = (seed: number, temperature = 1) => ({ rng: Rng.from(seed, 'sample'), temperature, dataset })
const mle = model.params.parse({})
const unbiased = model.params.parse({ estimator: 'unbiased' })

describe('gaussian fit', () => {
  it('defaults to the MLE', () => {
    expect(mle).toEqual({ estimator: 'mle' })
  })

  it('gives the sample mean and the ddof 0 / ddof 1 variance in 1-D', () => {
    const data = vectors(5, 1, Float64Array.of(1, 2, 3, 4, 5))
    const a = model.fit(data, mle, fitCtx()) as GaussianState
    expect(a.mean[0]).toBe(3)
    expect(a.cov[0]).toBeCloseTo(2, 14) // sum of squares 10 over 5
    const b = model.fit(data, unbiased, fitCtx()) as GaussianState
    expect(b.cov[0]).toBeCloseTo(2.5, 14) // over 4
  })

  it('gives the full covariance in 2-D', () => {
    // Deviations from the mean (1,1) are (±1,±1) and (0,0) twice: var_x = var_y = 4/6, cov_xy = 0.
    const pts = [0, 0, 2, 0, 0, 2, 2, 2, 1, 1, 1, 1]
    // The shear y += x makes cov_xy = var_x and var_y = var_x + var_y.
    for (let i = 0; i < pts.length; i += 2) pts[i + 1]! += pts[i]!
    const s = model.fit(vectors(6, 2, Float64Array.from(pts)), mle, fitCtx()) as GaussianState
    expect(Array.from(s.mean)).toEqual([1, 2])
    const vx = 4 / 6
    const expected = [vx, vx, vx, 2 * vx]
    s.cov.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 14))
  })

  it('does not lose the variance of a narrow distribution far from the origin', () => {
    const data = vectors(4, 1, Float64Array.of(1e8 + 1, 1e8 - 1, 1e8 + 1, 1e8 - 1))
    const s = model.fit(data, mle, fitCtx()) as GaussianState
    expect(s.cov[0]).toBe(1)
  })

  it('rejects too few points and a collapsed sample with a hint', () => {
    expect(() => model.fit(vectors(1, 1, Float64Array.of(3)), unbiased, fitCtx())).toThrow(/at least 2/)
    try {
      model.fit(vectors(3, 1, Float64Array.of(2, 2, 2)), mle, fitCtx())
      expect.unreachable()
    } catch (err) {
      expect((err as OuroborosError).code).toBe('OUROBOROS_INPUT')
      expect((err as OuroborosError).hint).toMatch(/collapsed/)
    }
    expect(() => model.fit(vectors(2, 2, Float64Array.of(0, 1, 2, 3)), mle, fitCtx())).toThrow(/singular/)
  })

  it('reports NaN data as a diverged fit', () => {
    expect(() => model.fit(vectors(2, 1, Float64Array.of(0, NaN)), mle, fitCtx())).toThrow(/not finite/)
  })
})

describe('gaussian sample', () => {
  const state: GaussianState = { d: 2, mean: Float64Array.of(1, -2), cov: Float64Array.of(4, 1.2, 1.2, 1) }

  it('draws the fitted mean and covariance, scaled by the temperature', () => {
    const n = 200_000
    for (const t of [1, 0.25]) {
      const out = model.sample(state, n, sampleCtx(5, t)) as { data: Float64Array }
      const back = model.fit(vectors(n, 2, out.data), mle, fitCtx()) as GaussianState
      // Standard error of a mean is sqrt(var/n) <= 0.0045; of a covariance entry about 4·sqrt(2/n) = 0.013.
      expect(back.mean[0]).toBeCloseTo(1, 1)
      expect(back.mean[1]).toBeCloseTo(-2, 1)
      state.cov.forEach((v, i) => expect(Math.abs(back.cov[i]! - t * v)).toBeLessThan(0.05 * t + 0.01))
    }
  })

  it('draws 1-D samples with variance T·σ²', () => {
    const s: GaussianState = { d: 1, mean: Float64Array.of(3), cov: Float64Array.of(9) }
    const out = model.sample(s, 100_000, sampleCtx(1, 0.5)) as { data: Float64Array }
    const back = model.fit(vectors(100_000, 1, out.data), mle, fitCtx()) as GaussianState
    expect(back.mean[0]).toBeCloseTo(3, 1)
    expect(back.cov[0]! / 4.5).toBeCloseTo(1, 1)
  })
})

describe('gaussian logLikelihood', () => {
  it('matches the 1-D normal density', () => {
    const s: GaussianState = { d: 1, mean: Float64Array.of(1), cov: Float64Array.of(4) }
    const ll = model.logLikelihood!(s, vectors(3, 1, Float64Array.of(1, 3, -5))) as Float64Array
    const expected = [0, 2, -6].map((r) => -0.5 * Math.log(2 * Math.PI * 4) - (r * r) / 8)
    ll.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12))
  })

  it('matches the 2-D normal density written with the explicit inverse', () => {
    const [a, b, c] = [4, 1.2, 1]
    const s: GaussianState = { d: 2, mean: Float64Array.of(1, -2), cov: Float64Array.of(a, b, b, c) }
    const det = a * c - b * b
    const pts = [
      [1, -2],
      [3, 0.5],
      [-4, 7],
    ]
    const ll = model.logLikelihood!(s, vectors(3, 2, Float64Array.from(pts.flat()))) as Float64Array
    pts.forEach(([x, y], i) => {
      const dx = x! - 1
      const dy = y! + 2
      const q = (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det
      expect(ll[i]).toBeCloseTo(-Math.log(2 * Math.PI) - 0.5 * Math.log(det) - 0.5 * q, 12)
    })
  })
})

describe('gaussian summary', () => {
  it('returns copies of the mean and covariance', () => {
    const s: GaussianState = { d: 1, mean: Float64Array.of(1), cov: Float64Array.of(4) }
    const summary = model.summary!(s)
    expect(summary).toEqual({ mean: Float64Array.of(1), covariance: Float64Array.of(4) })
    expect(summary.mean).not.toBe(s.mean)
  })
})

describe('gaussian collapse chain', () => {
  // Shumailov et al.: refitting an MLE Gaussian k times on M samples of the previous fit gives
  // log σ²_k as a sum of k independent log(χ²_{M-1}/M) terms, so
  // E[log σ²_k] = k(ψ((M-1)/2) + ln 2 - ln M) and Var = k ψ'((M-1)/2).
  it('matches the theoretical mean of log σ² after k generations', () => {
    const M = 20
    const k = 10
    const chains = 400
    let sum = 0
    for (let c = 0; c < chains; c++) {
      let state: GaussianState = { d: 1, mean: Float64Array.of(0), cov: Float64Array.of(1) }
      for (let g = 0; g < k; g++) {
        const data = model.sample(state, M, sampleCtx(c * 1000 + g)) as ReturnType<typeof vectors>
        state = model.fit(data, mle, fitCtx()) as GaussianState
      }
      sum += Math.log(state.cov[0]!)
    }
    const expected = k * (digamma((M - 1) / 2) + Math.log(2) - Math.log(M))
    const se = Math.sqrt((k * trigamma((M - 1) / 2)) / chains)
    expect(Math.abs(sum / chains - expected)).toBeLessThan(4 * se)
  })
})

describe('gaussian fitWeighted', () => {
  const fitWeighted = (data: ReturnType<typeof vectors>, weights: number[] | Float64Array, params = mle): GaussianState =>
    model.fitWeighted!(data, Float64Array.from(weights), params, fitCtx()) as GaussianState

  it('gives the weighted mean, Σw(x − m)²/Σw, and the reliability-weights correction for the unbiased estimator', () => {
    const x = [1, 2, 4, 7]
    const w = [1, 3, 0.5, 2]
    const W = w.reduce((a, b) => a + b, 0)
    const W2 = w.reduce((a, b) => a + b * b, 0)
    const mean = x.reduce((s, v, i) => s + w[i]! * v, 0) / W
    const scatter = x.reduce((s, v, i) => s + w[i]! * (v - mean) ** 2, 0)
    const data = vectors(4, 1, Float64Array.from(x))
    const a = fitWeighted(data, w)
    expect(a.mean[0]).toBeCloseTo(23 / 6.5, 14)
    expect(a.cov[0]).toBeCloseTo(scatter / W, 13)
    const b = fitWeighted(data, w, unbiased)
    expect(b.mean[0]).toBeCloseTo(23 / 6.5, 14)
    expect(b.cov[0]).toBeCloseTo(scatter / (W - W2 / W), 13)
  })

  it('gives the weighted full covariance in 2-D', () => {
    const pts = [0, 0, 2, 1, -1, 3, 4, -2, 1, 1]
    const w = [2, 1, 0.5, 1.5, 3]
    const W = w.reduce((a, b) => a + b, 0)
    const m = [0, 1].map((a) => w.reduce((s, wi, i) => s + wi * pts[2 * i + a]!, 0) / W)
    const s = fitWeighted(vectors(5, 2, Float64Array.from(pts)), w)
    for (let a = 0; a < 2; a++) {
      expect(s.mean[a]).toBeCloseTo(m[a]!, 14)
      for (let b = 0; b < 2; b++) {
        const c = w.reduce((acc, wi, i) => acc + wi * (pts[2 * i + a]! - m[a]!) * (pts[2 * i + b]! - m[b]!), 0) / W
        expect(s.cov[a * 2 + b]).toBeCloseTo(c, 13)
      }
    }
  })

  it('gives the MLE of the items repeated as often as their integer weights say', () => {
    const rng = Rng.from(4, 'data')
    const x = rng.fillNormal(new Float64Array(60), 1, 2)
    const counts = Array.from({ length: 30 }, () => rng.int(4))
    const repeated: number[] = []
    counts.forEach((c, i) => {
      for (let r = 0; r < c; r++) repeated.push(x[2 * i]!, x[2 * i + 1]!)
    })
    const a = fitWeighted(vectors(30, 2, x), counts)
    const b = model.fit(vectors(repeated.length / 2, 2, Float64Array.from(repeated)), mle, fitCtx()) as GaussianState
    a.mean.forEach((v, j) => expect(v).toBeCloseTo(b.mean[j]!, 12))
    a.cov.forEach((v, j) => expect(v).toBeCloseTo(b.cov[j]!, 12))
  })

  it('is unbiased for fixed weights under the unbiased estimator; the MLE falls short by 1 − Σw²/(Σw)²', () => {
    // E[Σ w (x − m_w)²] = σ²·(Σw − Σw²/Σw) for i.i.d. x of variance σ².
    const w = Float64Array.of(1, 2, 3, 4, 10)
    const shortfall = 1 - (1 + 4 + 9 + 16 + 100) / 400
    const reps = 20_000
    const rng = Rng.from(5, 'data')
    let sumU = 0
    let sumU2 = 0
    let sumM = 0
    for (let r = 0; r < reps; r++) {
      const data = vectors(5, 1, rng.fillNormal(new Float64Array(5), 3, 2))
      const u = fitWeighted(data, w, unbiased).cov[0]!
      sumU += u
      sumU2 += u * u
      sumM += fitWeighted(data, w).cov[0]!
    }
    const meanU = sumU / reps
    const se = Math.sqrt((sumU2 / reps - meanU * meanU) / reps)
    expect(Math.abs(meanU - 4)).toBeLessThan(4 * se)
    expect(Math.abs(sumM / reps - 4 * shortfall)).toBeLessThan(4 * se)
  })

  it('refit with weights exp(r/β) on draws of N(0, 1) approaches π* ∝ N(0, 1)·exp(r/β) for r(x) = −(x − 2)²', () => {
    // π* is Gaussian: precision 1 + 2/β, mean (2·2/β)/(1 + 2/β). At β = 0.5: N(1.6, 0.2).
    const beta = 0.5
    const n = 20_000
    const draws = model.sample({ d: 1, mean: Float64Array.of(0), cov: Float64Array.of(1) }, n, sampleCtx(6)) as ReturnType<typeof vectors>
    const w = draws.data.map((x) => Math.exp(-((x - 2) ** 2) / beta))
    const s = fitWeighted(draws, w)
    // Standard errors of self-normalised importance sampling, from the draws: Σ w̃²(g − ĝ)².
    const W = w.reduce((a, b) => a + b, 0)
    let seMean = 0
    let seVar = 0
    draws.data.forEach((x, i) => {
      const wt = w[i]! / W
      seMean += wt * wt * (x - s.mean[0]!) ** 2
      seVar += wt * wt * ((x - s.mean[0]!) ** 2 - s.cov[0]!) ** 2
    })
    expect(Math.abs(s.mean[0]! - 1.6)).toBeLessThan(4 * Math.sqrt(seMean))
    expect(Math.abs(s.cov[0]! - 0.2)).toBeLessThan(4 * Math.sqrt(seVar))
    expect(Math.sqrt(seMean)).toBeLessThan(0.01)
  })

  it('refuses one item of positive weight for the unbiased estimator', () => {
    expect(() => fitWeighted(vectors(3, 1, Float64Array.of(1, 2, 3)), [0, 1, 0], unbiased)).toThrow(/at least 2 items of positive weight/)
  })
})
