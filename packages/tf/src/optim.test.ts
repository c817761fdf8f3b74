import { describe, expect, it } from 'vitest'
import { ErrorCode, Rng } from '@ouroboros/core'
import { Adam, Rmsprop, type Optimizer } from './optim.js'
import { WeightedDraws, positiveItems } from './weights.js'

describe('L2-SP anchor', () => {
  // With a constant data gradient c, the anchored objective c·θ + (w/2)(θ − r)² is minimised at
  // θ* = r − c/w: the optimiser must settle there, not at r and not drift with c.
  const reference = Float32Array.from([0.5, -1, 2, 0])
  const c = [0.3, -0.2, 0, 1]
  const weight = 2
  const makers: Record<string, () => Optimizer> = {
    adam: () => new Adam(4, { lr: 1e-2, beta1: 0.9, beta2: 0.999, anchor: { weight, reference } }),
    rmsprop: () => new Rmsprop(4, { lr: 1e-3, anchor: { weight, reference } }),
  }
  for (const [name, make] of Object.entries(makers)) {
    it(`${name} settles at the minimiser r − c/w of the anchored objective`, () => {
      const opt = make()
      const params = new Float32Array(4)
      for (let t = 0; t < 5000; t++) opt.step(params, c, name)
      params.forEach((p, i) => expect(Math.abs(p - (reference[i]! - c[i]! / weight))).toBeLessThan(0.01))
    })
  }

  it('adds nothing without an anchor', () => {
    const a = new Adam(2, { lr: 0.1, beta1: 0.9, beta2: 0.999 })
    const b = new Adam(2, { lr: 0.1, beta1: 0.9, beta2: 0.999, anchor: { weight: 0, reference: Float32Array.from([5, 5]) } })
    const pa = Float32Array.from([1, 2])
    const pb = pa.slice()
    for (let t = 0; t < 10; t++) {
      a.step(pa, [0.5, -1], 'a')
      b.step(pb, [0.5, -1], 'b')
    }
    expect(pb).toEqual(pa)
  })
})

describe('item weights', () => {
  it('draws items in proportion to their weights and never a zero-weight one', () => {
    const weights = Float64Array.from([1, 0, 3, 4])
    const draws = new WeightedDraws(weights).next(Rng.from(1), 80_000)
    const counts = [0, 0, 0, 0]
    for (const i of draws) counts[i]!++
    expect(counts[1]).toBe(0)
    // Binomial standard deviations: √(80000·p(1−p)) ≤ 142; allow 5 of them.
    for (const [i, p] of [[0, 1 / 8], [2, 3 / 8], [3, 4 / 8]] as const) expect(Math.abs(counts[i]! - 80_000 * p)).toBeLessThan(5 * 142)
  })

  it('draws the same items when every weight is scaled by a power of two', () => {
    const w = Float64Array.from([0.1, 0.7, 0, 2.5])
    expect(new WeightedDraws(w.map((x) => 8 * x)).next(Rng.from(2), 500)).toEqual(new WeightedDraws(w).next(Rng.from(2), 500))
  })

  it('keeps the items of positive weight, says whether their weights are equal, and refuses all-zero weights', () => {
    expect(positiveItems([0, 2, 0, 2], 'vae weighted fit')).toEqual({ index: Int32Array.from([1, 3]), weights: Float64Array.from([2, 2]), equal: true })
    expect(positiveItems([1, 0, 3], 'vae weighted fit').equal).toBe(false)
    expect(() => positiveItems([0, 0], 'vae weighted fit')).toThrow(/^vae weighted fit: every weight is 0, so there is nothing to train on$/)
    const thrown = (() => {
      try {
        positiveItems([0], 'x')
      } catch (err) {
        return err
      }
    })()
    expect(thrown).toMatchObject({ code: ErrorCode.INPUT })
  })
})
