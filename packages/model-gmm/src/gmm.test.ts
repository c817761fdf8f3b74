import { describe, expect, it } from 'vitest'
import { Rng, vectors } from '@ouroboros/core'
import type { DatasetInfo, OuroborosError, VectorSamples } from '@ouroboros/core'
import { initialiseFromLabels, newMixture, newWork, runEm } from './em.js'
import { model } from './index.js'
import type { GmmParams, GmmState } from './index.js'
import { kmeansPlusPlus, nearestCenters } from './kmeans.js'

const dataset: DatasetInfo = { kind: 'ring', modality: 'vectors', d: 2 }
const RING_STD = 0.02

/** METRICS.md's ring: 8 modes at radius 2, angles 2πk/8, std 0.02, modes picked uniformly. */
function ring(n: number, rng: Rng, std = RING_STD): VectorSamples {
  const out = new Float64Array(n * 2)
  for (let i = 0; i < n; i++) {
    const angle = (2 * Math.PI * rng.int(8)) / 8
    out[2 * i] = 2 * Math.cos(angle) + std * rng.normal()
    out[2 * i + 1] = 2 * Math.sin(angle) + std * rng.normal()
  }
  return vectors(n, 2, out)
}

const params = (raw: Partial<GmmParams> = {}): GmmParams => model.params.parse(raw)

async function fit(data: VectorSamples, p: GmmParams, seed = 0, init?: GmmState): Promise<GmmState> {
  return model.fit(data, p, { rng: Rng.from(seed, 'fit'), generation: 0, dataset, ...(init === undefined ? {} : { init }) })
}

describe('gmm on the ring', () => {
  it('has scikit-learn defaults', () => {
    expect(params()).toEqual({ components: 8, covarianceType: 'full', tol: 1e-3, maxIter: 100, regCovar: 1e-6, init: 'kmeans', nInit: 1 })
  })

  it('recovers the 8 centres, equal weights and the mode covariance from 10,000 points', async () => {
    const state = await fit(ring(10_000, Rng.from(1, 'data')), params())
    expect(state.converged).toBe(true)
    const matched = new Set<number>()
    for (let m = 0; m < 8; m++) {
      const cx = 2 * Math.cos((2 * Math.PI * m) / 8)
      const cy = 2 * Math.sin((2 * Math.PI * m) / 8)
      let best = -1
      let bestDist = Infinity
      for (let c = 0; c < 8; c++) {
        const dist = Math.hypot(state.means[2 * c]! - cx, state.means[2 * c + 1]! - cy)
        if (dist < bestDist) {
          bestDist = dist
          best = c
        }
      }
      expect(bestDist).toBeLessThan(0.05)
      matched.add(best)
      // A mode's share of 10,000 uniform picks has standard deviation sqrt(1/8 · 7/8 / 10^4) = 0.0033.
      expect(Math.abs(state.weights[best]! - 1 / 8)).toBeLessThan(0.015)
      // Each mode has ~1250 points: the variance estimate is within a few times sqrt(2/1250) = 4 % of std².
      const cov = state.covariances.subarray(4 * best, 4 * best + 4)
      expect(cov[0]! / RING_STD ** 2).toBeCloseTo(1, 0)
      expect(cov[3]! / RING_STD ** 2).toBeCloseTo(1, 0)
      expect(Math.abs(cov[1]!)).toBeLessThan(0.2 * RING_STD ** 2)
    }
    expect(matched.size).toBe(8)
  })

  it('never lowers the bound from one EM iteration to the next', async () => {
    // Overlapping modes and tol 0 keep EM going for all maxIter iterations.
    const data = ring(5000, Rng.from(2, 'data'), 0.6)
    const rng = Rng.from(0, 'fit')
    const mix = newMixture(8, 2)
    mix.means.set(kmeansPlusPlus(data.data, data.n, 2, 8, rng))
    const work = newWork(8, 2)
    initialiseFromLabels(data.data, data.n, mix, nearestCenters(data.data, data.n, 2, mix.means, 8), work, 1e-6, rng)
    const bounds: number[] = []
    const result = runEm(data.data, data.n, mix, { tol: 0, maxIter: 60, regCovar: 1e-6 }, work, rng, (_iteration, lb) => bounds.push(lb))
    expect(bounds.length).toBe(60)
    expect(result.converged).toBe(false)
    for (let i = 1; i < bounds.length; i++) expect(bounds[i]!).toBeGreaterThanOrEqual(bounds[i - 1]! - 1e-12)
    expect(bounds[bounds.length - 1]! - bounds[0]!).toBeGreaterThan(0)
  })

  it('reports as lower bound the training log-likelihood of the parameters before the last M-step', async () => {
    const data = ring(3000, Rng.from(3, 'data'), 0.3)
    const state = await fit(data, params({ tol: 0, maxIter: 7 }))
    const before = await fit(data, params({ tol: 0, maxIter: 6 }))
    const ll = (await model.logLikelihood!(before, data)) as Float64Array
    expect(state.lowerBound).toBeCloseTo(ll.reduce((a, b) => a + b, 0) / data.n, 10)
    expect(state.iterations).toBe(7)
  })

  it('keeps the best of nInit initialisations', async () => {
    const data = ring(2000, Rng.from(4, 'data'), 0.3)
    const one = await fit(data, params({ init: 'random', nInit: 1 }))
    const three = await fit(data, params({ init: 'random', nInit: 3 }))
    // The first initialisation of both fits is the same, so the best of three is at least as good.
    expect(three.lowerBound).toBeGreaterThanOrEqual(one.lowerBound)
  })

  it('fits from k-means++ seeds and from random responsibilities without NaN', async () => {
    const data = ring(2000, Rng.from(5, 'data'))
    for (const init of ['kmeans++', 'random'] as const) {
      const state = await fit(data, params({ init }))
      for (const v of [...state.weights, ...state.means, ...state.covariances, state.lowerBound]) expect(Number.isFinite(v)).toBe(true)
    }
  })

  it("tells the run's progress display its EM iterations, out of the most that nInit fits may take", async () => {
    const data = ring(2000, Rng.from(9, 'data'), 0.3)
    for (const nInit of [1, 3]) {
      const steps: [number, number][] = []
      const p = params({ init: 'random', nInit })
      const state = await model.fit(data, p, { rng: Rng.from(0, 'fit'), generation: 0, dataset, onStep: (step, total) => steps.push([step, total]) })
      expect(steps.every(([, total]) => total === nInit * 100)).toBe(true)
      // Every iteration of every initialisation once, in order; the last fit's count is the state's.
      const byInit = Array.from({ length: nInit }, (_, i) => steps.filter(([step]) => step > i * 100 && step <= (i + 1) * 100).map(([step]) => step - i * 100))
      for (const iterations of byInit) expect(iterations).toEqual(Array.from({ length: iterations.length }, (_, j) => j + 1))
      if (nInit === 1) expect(byInit[0]!.length).toBe(state.iterations)
      expect(steps.length).toBe(byInit.reduce((a, b) => a + b.length, 0))
    }
  })

  it('continues EM from the previous state on a warm start', async () => {
    const first = await fit(ring(10_000, Rng.from(6, 'data')), params())
    const next = await fit(ring(10_000, Rng.from(7, 'data')), params(), 1, first)
    // Starting at the optimum of a sample of the same law, EM meets tol within a couple of steps.
    expect(next.iterations).toBeLessThanOrEqual(3)
    for (let c = 0; c < 8; c++) {
      expect(Math.hypot(next.means[2 * c]! - first.means[2 * c]!, next.means[2 * c + 1]! - first.means[2 * c + 1]!)).toBeLessThan(0.01)
    }
    await expect(fit(ring(100, Rng.from(8, 'data')), params({ components: 4 }), 0, first)).rejects.toThrow(/warm-start state has 8 components/)
  })
})

describe('gmm degenerate data', () => {
  it('refuses fewer points than components, saying what to do', async () => {
    try {
      await fit(ring(5, Rng.from(1, 'data')), params())
      expect.unreachable()
    } catch (err) {
      expect((err as OuroborosError).code).toBe('OUROBOROS_INPUT')
      expect((err as OuroborosError).hint).toMatch(/model.components/)
    }
  })

  it('stays finite when there are fewer distinct points than components', async () => {
    const pts: number[] = []
    for (let i = 0; i < 30; i++) pts.push(i % 3, 0)
    const state = await fit(vectors(30, 2, Float64Array.from(pts)), params())
    for (const v of [...state.weights, ...state.means, ...state.covariances, state.lowerBound]) expect(Number.isFinite(v)).toBe(true)
    expect(state.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    const out = (await model.sample(state, 100, { rng: Rng.from(1, 's'), temperature: 1, dataset })) as VectorSamples
    for (const v of out.data) expect(Number.isFinite(v)).toBe(true)
  })

  it('re-seeds a warm-start component whose mode is gone instead of letting it die', async () => {
    const first = await fit(ring(4000, Rng.from(9, 'data')), params())
    // Drop every point of the mode at angle 0: the component sitting there gets no responsibility.
    const all = ring(4000, Rng.from(10, 'data'))
    const kept: number[] = []
    for (let i = 0; i < all.n; i++) if (!(all.data[2 * i]! > 1.9 && Math.abs(all.data[2 * i + 1]!) < 0.2)) kept.push(all.data[2 * i]!, all.data[2 * i + 1]!)
    const next = await fit(vectors(kept.length / 2, 2, Float64Array.from(kept)), params(), 1, first)
    for (let c = 0; c < 8; c++) {
      expect(next.weights[c]!).toBeGreaterThan(0.01)
      expect(next.means[2 * c]! > 1.9 && Math.abs(next.means[2 * c + 1]!) < 0.2).toBe(false)
    }
  })

  it('reports NaN training data as a diverged fit', async () => {
    const data = ring(100, Rng.from(1, 'data'))
    data.data[7] = NaN
    await expect(fit(data, params({ components: 2 }))).rejects.toThrow(/NaN/)
  })
})

/** Two components in 2-D with hand-picked parameters. */
const handPicked: GmmState = {
  d: 2,
  k: 2,
  covarianceType: 'full',
  weights: Float64Array.of(0.3, 0.7),
  means: Float64Array.of(-1, 0, 2, 1),
  covariances: Float64Array.of(0.5, 0.1, 0.1, 0.4, 1, -0.3, -0.3, 2),
  converged: true,
  iterations: 1,
  lowerBound: 0,
}

describe('gmm density and sampling', () => {
  const state = handPicked

  it('gives the log of the weighted sum of normal densities', async () => {
    const normal2 = (x: number, y: number, mx: number, my: number, a: number, b: number, c: number): number => {
      const det = a * c - b * b
      const dx = x - mx
      const dy = y - my
      return Math.exp(-0.5 * ((c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det)) / (2 * Math.PI * Math.sqrt(det))
    }
    const pts = [-1, 0, 0.5, 0.5, 3, -2, 40, 40]
    const ll = (await model.logLikelihood!(state, vectors(4, 2, Float64Array.from(pts)))) as Float64Array
    for (let i = 0; i < 3; i++) {
      const [x, y] = [pts[2 * i]!, pts[2 * i + 1]!]
      const p = 0.3 * normal2(x, y, -1, 0, 0.5, 0.1, 0.4) + 0.7 * normal2(x, y, 2, 1, 1, -0.3, 2)
      expect(ll[i]).toBeCloseTo(Math.log(p), 12)
    }
    // Far away the density underflows, but its logarithm must not.
    expect(Number.isFinite(ll[3])).toBe(true)
    expect(ll[3]!).toBeLessThan(-300)
  })

  it('samples components by weight with covariance T·Σ_k', async () => {
    const n = 100_000
    const t = 0.5
    const out = (await model.sample(state, n, { rng: Rng.from(3, 's'), temperature: t, dataset })) as VectorSamples
    // Mixture moments: E x = Σ w μ_k; Cov x = Σ w (T Σ_k + μ_k μ_kᵀ) - E x E xᵀ.
    const mean = [0.3 * -1 + 0.7 * 2, 0.3 * 0 + 0.7 * 1]
    const second = (a: number, b: number): number =>
      0.3 * (t * state.covariances[a * 2 + b]! + state.means[a]! * state.means[b]!) +
      0.7 * (t * state.covariances[4 + a * 2 + b]! + state.means[2 + a]! * state.means[2 + b]!)
    const cov = [0, 1].flatMap((a) => [0, 1].map((b) => second(a, b) - mean[a]! * mean[b]!))
    const got = [0, 0]
    for (let i = 0; i < n; i++) for (let a = 0; a < 2; a++) got[a]! += out.data[2 * i + a]! / n
    const gotCov = [0, 0, 0, 0]
    for (let i = 0; i < n; i++) {
      for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) gotCov[a * 2 + b]! += ((out.data[2 * i + a]! - got[a]!) * (out.data[2 * i + b]! - got[b]!)) / n
    }
    // Standard errors: means about 0.005, covariance entries about 0.01.
    for (let a = 0; a < 2; a++) expect(Math.abs(got[a]! - mean[a]!)).toBeLessThan(0.03)
    for (let j = 0; j < 4; j++) expect(Math.abs(gotCov[j]! - cov[j]!)).toBeLessThan(0.05)
  })
})

describe('gmm with diagonal covariances', () => {
  /** Three axis-aligned blobs in 3-D, overlapping enough to keep EM moving for many iterations. */
  function blobs(n: number, rng: Rng): VectorSamples {
    const centres = [0, 0, 0, 2, 0, 1, 0, 2, -1]
    const spread = [1, 0.5, 0.8, 0.4, 1.2, 0.6, 0.7, 0.7, 1.5]
    const out = new Float64Array(n * 3)
    for (let i = 0; i < n; i++) {
      const c = rng.int(3)
      for (let a = 0; a < 3; a++) out[3 * i + a] = centres[3 * c + a]! + spread[3 * c + a]! * rng.normal()
    }
    return vectors(n, 3, out)
  }

  it('follows textbook EM: responsibilities from products of 1-D normals, weighted means and variances', async () => {
    // The reference below is written from the textbook's formulas, two passes per M-step and no
    // shifted statistics; the fit is checked against it after every one of 8 iterations.
    const data = blobs(500, Rng.from(11, 'data'))
    const { n, d } = data
    const k = 3
    const reg = 1e-6
    for (let iterations = 1; iterations <= 8; iterations++) {
      const state = await fit(data, params({ components: k, covarianceType: 'diag', init: 'kmeans++', tol: 0, maxIter: iterations }))
      expect(state.covarianceType).toBe('diag')
      expect(state.covariances.length).toBe(k * d)
      // The same start: the fit with no EM iteration after its initialisation is not exposed, so
      // the reference starts from the fit of one iteration fewer.
      if (iterations === 1) continue
      const start = await fit(data, params({ components: k, covarianceType: 'diag', init: 'kmeans++', tol: 0, maxIter: iterations - 1 }))
      let w = Array.from(start.weights)
      let mu = Array.from(start.means)
      let v = Array.from(start.covariances)
      const r = Array.from({ length: n }, () => new Array<number>(k).fill(0))
      let ll = 0
      for (let i = 0; i < n; i++) {
        let total = 0
        for (let c = 0; c < k; c++) {
          let p = w[c]!
          for (let a = 0; a < d; a++) {
            const z = data.data[i * d + a]! - mu[c * d + a]!
            p *= Math.exp((-0.5 * z * z) / v[c * d + a]!) / Math.sqrt(2 * Math.PI * v[c * d + a]!)
          }
          r[i]![c] = p
          total += p
        }
        for (let c = 0; c < k; c++) r[i]![c]! /= total
        ll += Math.log(total) / n
      }
      const nk = Array.from({ length: k }, (_, c) => r.reduce((s, ri) => s + ri[c]!, 0))
      w = nk.map((m) => m / n)
      mu = Array.from({ length: k * d }, (_, j) => r.reduce((s, ri, i) => s + ri[Math.floor(j / d)]! * data.data[i * d + (j % d)]!, 0) / nk[Math.floor(j / d)]!)
      v = Array.from({ length: k * d }, (_, j) => {
        const c = Math.floor(j / d)
        return r.reduce((s, ri, i) => s + ri[c]! * (data.data[i * d + (j % d)]! - mu[j]!) ** 2, 0) / nk[c]! + reg
      })
      expect(Math.abs(state.lowerBound - ll)).toBeLessThan(1e-10)
      w.forEach((x, j) => expect(Math.abs(state.weights[j]! - x)).toBeLessThan(1e-10))
      mu.forEach((x, j) => expect(Math.abs(state.means[j]! - x)).toBeLessThan(1e-10))
      v.forEach((x, j) => expect(Math.abs(state.covariances[j]! - x) / x).toBeLessThan(1e-9))
    }
  })

  it('scores and samples as the full mixture whose covariances are those diagonals', async () => {
    // The hand-picked mixture with its covariances' off-diagonal entries left out.
    const diag: GmmState = { ...handPicked, covarianceType: 'diag', covariances: Float64Array.of(0.5, 0.4, 1, 2) }
    const full: GmmState = { ...handPicked, covariances: Float64Array.of(0.5, 0, 0, 0.4, 1, 0, 0, 2) }
    const pts = vectors(4, 2, Float64Array.of(-1, 0, 0.5, 0.5, 3, -2, 40, 40))
    const a = (await model.logLikelihood!(diag, pts)) as Float64Array
    const b = (await model.logLikelihood!(full, pts)) as Float64Array
    a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, 12))
    // The full sampler multiplies z by its Cholesky factor's rows, here (σ₁, 0) and (0, σ₂): the same draws.
    const ctx = () => ({ rng: Rng.from(4, 's'), temperature: 0.7, dataset })
    const sa = (await model.sample(diag, 1000, ctx())) as VectorSamples
    const sb = (await model.sample(full, 1000, ctx())) as VectorSamples
    sa.data.forEach((x, i) => expect(x).toBeCloseTo(sb.data[i]!, 12))
  })

  it('is, in one dimension, the full mixture bit for bit: fit, warm start, weighted fit and anchored finetuning', async () => {
    const rng = Rng.from(12, 'data')
    const x = vectors(800, 1, Float64Array.from({ length: 800 }, () => rng.int(3) * 1.5 + 0.6 * rng.normal()))
    const both = async (f: (p: GmmParams) => Promise<GmmState>) => [await f(params({ components: 3, covarianceType: 'full' })), await f(params({ components: 3, covarianceType: 'diag' }))] as const
    const same = (a: GmmState, b: GmmState) => {
      for (const key of ['weights', 'means', 'covariances'] as const) expect(Array.from(b[key])).toEqual(Array.from(a[key]))
      expect(b.lowerBound).toBe(a.lowerBound)
      expect(b.iterations).toBe(a.iterations)
    }
    const [full, diag] = await both((p) => fit(x, p))
    same(full, diag)
    const [warmFull, warmDiag] = [await fit(x, params({ components: 3, covarianceType: 'full' }), 2, full), await fit(x, params({ components: 3, covarianceType: 'diag' }), 2, diag)]
    same(warmFull, warmDiag)
    const weights = Float64Array.from({ length: 800 }, (_, i) => (i % 5) + 0.5)
    const [wFull, wDiag] = await both((p) => model.fitWeighted!(x, weights, p, { rng: Rng.from(3, 'fit'), generation: 0, dataset }) as Promise<GmmState>)
    same(wFull, wDiag)
    const task = vectors(200, 1, Float64Array.from({ length: 200 }, () => 3 + 0.6 * rng.normal()))
    const tune = async (state: GmmState, p: GmmParams) => {
      const trainer = await model.trainer!(state, p, { reference: state, anchor: 0.5, rng: Rng.from(5, 't'), dataset })
      for (let s = 0; s < 4; s++) await trainer.step(task, new Float64Array(200).fill(1))
      return trainer.state()
    }
    same(await tune(full, params({ components: 3, covarianceType: 'full' })), await tune(diag, params({ components: 3, covarianceType: 'diag' })))
    const s = (st: GmmState) => model.sample(st, 50, { rng: Rng.from(6, 's'), temperature: 1, dataset }) as Promise<VectorSamples>
    expect(Array.from((await s(diag)).data)).toEqual(Array.from((await s(full)).data))
  })

  it('refuses to warm-start from a state of the other covariance type, naming both', async () => {
    const data = blobs(300, Rng.from(13, 'data'))
    const full = await fit(data, params({ components: 3 }))
    await expect(fit(data, params({ components: 3, covarianceType: 'diag' }), 1, full)).rejects.toThrow(
      /warm-start state has 3 components in 3 dimensions \(full covariances\), but the fit asks for 3 components in 3 dimensions \(diag covariances\)/,
    )
  })
})
