import { describe, expect, it } from 'vitest'
import { allFinite, samplesAreFinite, vectors } from './samples.js'

describe('allFinite', () => {
  it('finds a non-finite value at every position, in the unrolled part and the tail', () => {
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 13]) {
      for (let at = 0; at < n; at++) {
        for (const bad of [Infinity, -Infinity, NaN]) {
          const x = Float64Array.from({ length: n }, (_, i) => i - 3.5)
          x[at] = bad
          expect(allFinite(x)).toBe(false)
        }
      }
      expect(allFinite(Float64Array.from({ length: n }, (_, i) => i - 3.5))).toBe(true)
    }
  })

  it('takes huge values whose sum would overflow, negative zeros and no values at all as finite', () => {
    expect(allFinite(new Float64Array(9).fill(Number.MAX_VALUE))).toBe(true)
    expect(allFinite(new Float64Array(9).fill(-Number.MAX_VALUE))).toBe(true)
    expect(allFinite(new Float64Array(5).fill(-0))).toBe(true)
    expect(allFinite(new Float64Array(0))).toBe(true)
  })

  it('is what samplesAreFinite says of vectors', () => {
    expect(samplesAreFinite(vectors(2, 2, Float64Array.of(1, 2, 3, 4)))).toBe(true)
    expect(samplesAreFinite(vectors(2, 2, Float64Array.of(1, 2, NaN, 4)))).toBe(false)
  })
})
