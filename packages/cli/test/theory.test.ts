import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, mean, records, standardError, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

// ψ(n/2) for integer n from its closed forms, written independently of the code under test:
// ψ(m) = −γ + Σ_{i<m} 1/i for integers, ψ(m+½) = −γ − 2 ln 2 + Σ_{i=1}^{m} 2/(2i−1).
const EULER_GAMMA = 0.5772156649015329
function psiHalf(n: number): number {
  if (n % 2 === 0) {
    let s = -EULER_GAMMA
    for (let i = 1; i < n / 2; i++) s += 1 / i
    return s
  }
  let s = -EULER_GAMMA - 2 * Math.log(2)
  for (let i = 1; i <= (n - 1) / 2; i++) s += 2 / (2 * i - 1)
  return s
}

describe('the 1-D Gaussian chain against its closed form (Shumailov et al.)', () => {
  it('mean log-variance follows k·(ψ((M−1)/2) + ln 2 − ln d) for both estimators', () => {
    const dir = tempDir()
    const M = 12
    const config = writeConfig(dir, {
      name: 'gaussian-theory',
      data: { kind: 'gaussian', d: 1, n: M },
      model: { kind: 'gaussian' },
      generations: 25,
      samplesPerGeneration: M,
      replicates: 400,
      seed: 7,
      metrics: ['moments'],
      sweep: { 'model.estimator': ['mle', 'unbiased'] },
    })
    const res = cli(['run', config, '--out', `${dir}/run`, '--workers', '2'])
    expect(res.status, res.stderr).toBe(0)
    const recs = records(`${dir}/run`)
    for (const [cell, d] of [[0, M], [1, M - 1]] as const) {
      for (const g of [0, 4, 12, 24]) {
        const k = g + 1
        const values = recs.filter((r) => r.cell === cell && r.generation === g).map((r) => r.metrics['log_variance']!)
        expect(values).toHaveLength(400)
        const expected = k * (psiHalf(M - 1) + Math.log(2) - Math.log(d))
        const z = (mean(values) - expected) / standardError(values)
        expect(Math.abs(z), `estimator ${cell === 0 ? 'mle' : 'unbiased'} generation ${g}: mean ${mean(values)} vs ${expected}`).toBeLessThan(4)
      }
    }
  })
})

describe('linear regression (Gerstgrasser et al., Dohmatob et al.)', () => {
  it('replace grows linearly in σ²d/(T−d−1); accumulate stays under π²/6 of it', () => {
    const dir = tempDir()
    const T = 40
    const d = 5
    const sigma = 0.5
    const config = writeConfig(dir, {
      name: 'regression-theory',
      data: { kind: 'regression', T, d, sigma },
      model: { kind: 'linreg' },
      generations: 12,
      replicates: 300,
      seed: 3,
      metrics: ['regression'],
      sweep: { 'policy.kind': ['replace', 'accumulate'] },
    })
    const res = cli(['run', config, '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const recs = records(`${dir}/run`)
    // E tr((XᵀX)⁻¹) = d/(T−d−1) for a Gaussian design (the mean of an inverse Wishart).
    const unit = (sigma ** 2 * d) / (T - d - 1)
    const at = (cell: number, g: number) => recs.filter((r) => r.cell === cell && r.generation === g).map((r) => r.metrics['excess_test_error']!)
    for (const g of [0, 5, 11]) {
      const replace = at(0, g)
      expect(Math.abs(mean(replace) - (g + 1) * unit) / standardError(replace)).toBeLessThan(4)
      const accumulate = at(1, g)
      let partial = 0
      for (let i = 1; i <= g + 1; i++) partial += 1 / i ** 2
      expect(Math.abs(mean(accumulate) - partial * unit) / standardError(accumulate)).toBeLessThan(4)
      expect(mean(accumulate)).toBeLessThan((Math.PI ** 2 / 6) * unit * 1.1)
    }
    expect(mean(at(0, 11))).toBeGreaterThan(5 * mean(at(1, 11)))
  })
})
