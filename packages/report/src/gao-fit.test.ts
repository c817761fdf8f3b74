import { describe, expect, it } from 'vitest'
import { fitGao, gaoCurve } from './gao-fit.js'

const ds = [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.5, 3]

describe("Gao et al.'s forms fitted by least squares", () => {
  it('recover the coefficients of points on the best-of-n form, and its peak at α/2β with gain α²/4β', () => {
    const fit = fitGao('best-of-n', ds, ds.map((d) => d * (1.3 - 0.4 * d)))!
    expect(fit.alpha).toBeCloseTo(1.3, 12)
    expect(fit.beta).toBeCloseTo(0.4, 12)
    expect(fit.r2).toBeCloseTo(1, 12)
    expect(fit.peak!.d).toBeCloseTo(1.3 / 0.8, 12)
    expect(fit.peak!.gain).toBeCloseTo((1.3 * 1.3) / 1.6, 12)
    expect(fit.points).toBe(ds.length)
  })

  it('recover the coefficients of points on the RL form, and its peak at e^(α/β − 1) with gain β·d*', () => {
    const fit = fitGao('rl', ds, ds.map((d) => (d === 0 ? 0 : d * (0.8 - 0.5 * Math.log(d)))))!
    expect(fit.alpha).toBeCloseTo(0.8, 12)
    expect(fit.beta).toBeCloseTo(0.5, 12)
    expect(fit.peak!.d).toBeCloseTo(Math.exp(0.8 / 0.5 - 1), 12)
    expect(fit.peak!.gain).toBeCloseTo(0.5 * Math.exp(0.6), 12)
  })

  it('leave residuals orthogonal to both regressors on noisy points (the normal equations), with R² below 1', () => {
    const gain = ds.map((d, i) => d * (1 - 0.2 * d) + 0.05 * Math.sin(7 * i + 1))
    for (const form of ['best-of-n', 'rl'] as const) {
      const fit = fitGao(form, ds, gain)!
      const r = ds.map((d, i) => gain[i]! - gaoCurve(fit, d))
      const second = (d: number) => (form === 'best-of-n' ? d * d : d > 0 ? d * Math.log(d) : 0)
      expect(Math.abs(r.reduce((s, v, i) => s + v * ds[i]!, 0))).toBeLessThan(1e-12)
      expect(Math.abs(r.reduce((s, v, i) => s + v * second(ds[i]!), 0))).toBeLessThan(1e-12)
      expect(fit.r2).toBeLessThan(1)
      expect(fit.r2).toBeGreaterThan(0.9)
    }
  })

  it('gives no peak where β ≤ 0 (the fitted curve has no maximum), and no fit where the points cannot fix two coefficients', () => {
    const rising = fitGao('best-of-n', ds, ds.map((d) => d * (0.5 + 0.1 * d)))!
    expect(rising.beta).toBeCloseTo(-0.1, 12)
    expect(rising.peak).toBeUndefined()
    expect(fitGao('rl', [0, 1.2], [0, 0.3])).toBeUndefined()
    expect(fitGao('rl', [0, 1.2, 1.2, 1.2], [0, 0.3, 0.31, 0.29])).toBeUndefined()
    expect(fitGao('best-of-n', [0, 0, 0], [0, 0.1, -0.1])).toBeUndefined()
  })
})
