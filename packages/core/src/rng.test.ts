import { describe, expect, it } from 'vitest'
import { Rng } from './rng.js'

describe('Rng.fillNormal', () => {
  it('gives the values normal() gives, in order, across fills of any length and calls in between', () => {
    const scalar = Rng.from(9, 'fill')
    const bulk = Rng.from(9, 'fill')
    const buf = new Float64Array(41)
    for (let k = 0; k < 400; k++) {
      const start = k % 3
      const end = start + ((k * 7) % 38)
      bulk.fillNormal(buf, 0.5, 2, start, end)
      for (let i = start; i < end; i++) expect(buf[i]).toBe(0.5 + 2 * scalar.normal())
      // An odd fill leaves a spare behind, which the next normal() must return.
      if (k % 5 === 0) expect(bulk.normal()).toBe(scalar.normal())
      if (k % 11 === 0) expect(bulk.uniform()).toBe(scalar.uniform())
    }
  })

  it('gives the same values over fills longer than its chunk of pairs, odd and even', () => {
    const scalar = Rng.from(4, 'long')
    const bulk = Rng.from(4, 'long')
    for (const n of [511, 512, 513, 1024, 3001]) {
      const buf = new Float64Array(n + 2)
      bulk.fillNormal(buf, -1, 0.25, 1, n + 1)
      expect(buf[0]).toBe(0)
      expect(buf[n + 1]).toBe(0)
      for (let i = 1; i <= n; i++) expect(buf[i]).toBe(-1 + 0.25 * scalar.normal())
      expect(bulk.uniform()).toBe(scalar.uniform())
    }
  })
})
