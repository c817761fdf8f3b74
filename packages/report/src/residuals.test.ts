import { describe, expect, it } from 'vitest'
import { leastSquares, residualPoint } from './residuals.js'

describe('least squares for the regression sample view', () => {
  it('recovers weights that fit the labels exactly, and gives the residual of a row', () => {
    // Rows (x1, x2, x3, y) with y = 2 x1 − x2 + 0.5 x3 on 5 independent rows.
    const xs = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 1, 1],
      [2, -1, 3],
    ]
    const rows = Float64Array.from(xs.flatMap((x) => [...x, 2 * x[0]! - x[1]! + 0.5 * x[2]!]))
    const w = leastSquares(rows, 5, 3)!
    expect([...w].map((v) => Number(v.toFixed(12)))).toEqual([2, -1, 0.5])
    // Row 4 with its label moved by 0.25: fit 2·2 + 1 + 1.5 = 6.5, residual 0.25.
    rows[4 * 4 + 3]! += 0.25
    const [fit, residual] = residualPoint(rows, 4, Float64Array.from([2, -1, 0.5]))
    expect(fit).toBeCloseTo(6.5, 12)
    expect(residual).toBeCloseTo(0.25, 12)
  })

  it('gives no fit when the rows do not determine the weights', () => {
    // The second feature is twice the first on every row.
    const rows = Float64Array.from([1, 2, 3, 2, 4, 5, 3, 6, 7])
    expect(leastSquares(rows, 3, 2)).toBeUndefined()
  })
})
