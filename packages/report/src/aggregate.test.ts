import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import type { RecordBlock, RecordSource } from '@ouroboros/store'
import { exactQuantile, P2Quantiles, RunAggregator } from './aggregate.js'

/** The standard normal quantile at 0.05 and 0.95 (tables: ±1.6448536). */
const Z95 = 1.6448536269514722

describe('streaming quantiles (P²)', () => {
  it('follow the exact 5th and 95th percentiles of 20,000 normal, uniform and log-normal draws', () => {
    const rng = Rng.from(3, 'p2')
    const draws = {
      normal: () => rng.normal(),
      uniform: () => rng.uniform(),
      lognormal: () => Math.exp(2 * rng.normal()),
    }
    for (const [name, draw] of Object.entries(draws)) {
      const lo = new P2Quantiles(0.05)
      const hi = new P2Quantiles(0.95)
      lo.grow(1)
      hi.grow(1)
      const values: number[] = []
      for (let n = 1; n <= 20_000; n++) {
        const v = draw()
        values.push(v)
        lo.add(0, n, v)
        hi.add(0, n, v)
      }
      values.sort((a, b) => a - b)
      // Within 0.5 % in rank of the exact quantiles of the same values.
      const rank = (v: number): number => values.findIndex((x) => x >= v) / values.length
      expect(Math.abs(rank(lo.estimate(0)) - 0.05), name).toBeLessThan(0.005)
      expect(Math.abs(rank(hi.estimate(0)) - 0.95), name).toBeLessThan(0.005)
      if (name === 'normal') {
        expect(lo.estimate(0)).toBeCloseTo(-Z95, 1)
        expect(hi.estimate(0)).toBeCloseTo(Z95, 1)
        expect(exactQuantile(values, 0.95)).toBeCloseTo(Z95, 1)
      }
    }
  })

  it('are exact interpolated order statistics for a few values', () => {
    expect(exactQuantile([1, 2, 3, 4, 5], 0.05)).toBeCloseTo(1.2, 12)
    expect(exactQuantile([1, 2, 3, 4, 5], 0.95)).toBeCloseTo(4.8, 12)
    expect(exactQuantile([7], 0.95)).toBe(7)
  })
})

describe('RunAggregator', () => {
  it('gives each generation the mean, sd, extremes and band of its replicates, from blocks of whole chains', () => {
    // 500 chains of one cell, 3 generations; replicate r has the value r at generation g, plus g.
    const R = 500
    const chains = Array.from({ length: R }, (_, r) => ({ id: `c0-r${r}`, cell: 0, replicate: r, seed: r, params: {} }))
    const source = { chains, metrics: ['m'], paramKeys: [] } as unknown as RecordSource
    const agg = new RunAggregator()
    for (let first = 0; first < R; first += 100) {
      const rows = 100 * 4
      const block: RecordBlock = {
        length: rows,
        chain: new Int32Array(rows),
        generation: new Int32Array(rows),
        fitMs: new Float64Array(rows).fill(1),
        sampleMs: new Float64Array(rows),
        evalMs: new Float64Array(rows),
        metrics: [new Float64Array(rows)],
      }
      for (let k = 0; k < 100; k++) {
        for (let g = -1; g < 3; g++) {
          const i = k * 4 + g + 1
          block.chain[i] = first + k
          block.generation[i] = g
          block.metrics[0]![i] = g === 1 && first + k === 7 ? NaN : first + k + g
        }
      }
      agg.write(source, block)
    }
    const { agg: result, firstRecords, timings } = agg.summary()
    const curve = result.curves.get(0)!.get('m')!
    expect(curve.generations).toEqual([0, 1, 2])
    // Replicates 0..499: mean 249.5, sd sqrt(R(R+1)/12) = 144.48; generation 1 lacks replicate 7 (a null).
    expect(curve.mean[0]).toBeCloseTo(249.5, 10)
    expect(curve.sd[0]).toBeCloseTo(Math.sqrt((R * (R + 1)) / 12), 8)
    expect(curve.count).toEqual([R, R - 1, R])
    // Generation 1: r + 1 for every r but 7.
    expect(curve.mean[1]).toBeCloseTo(((R * (R + 1)) / 2 - 8) / (R - 1), 8)
    expect([curve.min[2], curve.max[2]]).toEqual([2, R + 1])
    // The band of 0..499 (+ g): 5th percentile 24.95, 95th 474.05, within a rank or two.
    expect(Math.abs(curve.lower[0]! - 24.95)).toBeLessThan(2)
    expect(Math.abs(curve.upper[0]! - 474.05)).toBeLessThan(2)
    expect(result.reference.get(0)!.get('m')).toBeCloseTo(248.5, 10)
    expect(result.replicates.get(0)).toBe(R)
    expect(firstRecords).toHaveLength(2 * R)
    expect(timings.get(0)!.fit).toBe(4 * R)
  })
})
