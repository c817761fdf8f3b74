import { describe, expect, it } from 'vitest'
import { Rng } from './rng.js'
import { meanAndCovarianceInto, meansAndSquaredDeviations } from './stats.js'

describe('meansAndSquaredDeviations', () => {
  it('gives each run the bits of a plain two-pass loop over it, for any number of runs', () => {
    const n = 37
    for (let k = 1; k <= 9; k++) {
      const at = 3
      const data = Rng.from(k, 'runs').fillNormal(new Float64Array(at + k * n), 5, 1e-3)
      const mean = new Float64Array(k)
      const ss = new Float64Array(k)
      meansAndSquaredDeviations(data, at, n, k, mean, ss)
      for (let c = 0; c < k; c++) {
        let s = 0
        for (let i = 0; i < n; i++) s += data[at + c * n + i]!
        const m = s / n
        let q = 0
        for (let i = 0; i < n; i++) q += (data[at + c * n + i]! - m) ** 2
        expect([mean[c], ss[c]]).toEqual([m, q])
      }
    }
  })

  it('gives meanAndCovarianceInto in one dimension the numbers of its d-dimensional loops', () => {
    // The first coordinate of 2-D rows goes through the general path; alone, through the 1-D one.
    const rows = Rng.from(2, 'two').fillNormal(new Float64Array(80), -1, 3)
    const first = Float64Array.from({ length: 40 }, (_, i) => rows[2 * i]!)
    const mean2 = new Float64Array(2)
    const cov2 = new Float64Array(4)
    meanAndCovarianceInto(rows, 0, 40, 2, 39, mean2, cov2, new Float64Array(2))
    const mean1 = new Float64Array(1)
    const cov1 = new Float64Array(1)
    meanAndCovarianceInto(first, 0, 40, 1, 39, mean1, cov1, new Float64Array(1))
    expect([mean1[0], cov1[0]]).toEqual([mean2[0], cov2[0]])
  })
})
