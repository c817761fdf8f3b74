import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import type { RecordBlock, RecordSource } from '@ouroboros/store'
import { exactQuantile, RunAggregator } from './aggregate.js'

/** The standard normal quantile at 0.05 and 0.95 (tables: ±1.6448536). */
const Z95 = 1.6448536269514722

/** One cell, one generation, one metric: `values[r]` is replicate r's value. */
function bandOf(values: readonly number[]): { lower: number; upper: number } {
  const chains = values.map((_, r) => ({ id: `c0-r${r}`, cell: 0, replicate: r, seed: r, params: {} }))
  const source = { chains, metrics: ['m'], paramKeys: [] } as unknown as RecordSource
  const n = values.length
  const agg = new RunAggregator()
  agg.write(source, {
    length: n,
    chain: Int32Array.from(values, (_, r) => r),
    generation: new Int32Array(n),
    fitMs: new Float64Array(n),
    sampleMs: new Float64Array(n),
    evalMs: new Float64Array(n),
    metrics: [Float64Array.from(values)],
  })
  const curve = agg.result().curves.get(0)!.get('m')!
  return { lower: curve.lower[0]!, upper: curve.upper[0]! }
}

describe('band quantiles', () => {
  it('are exact (numpy type 7) up to 512 replicates', () => {
    const values = Array.from({ length: 500 }, (_, i) => ((i * 7919) % 500) / 10)
    const { lower, upper } = bandOf(values)
    // Sorted values are 0, 0.1, ..., 49.9: the 5th percentile sits at rank 24.95, the 95th at 474.05.
    expect(lower).toBeCloseTo(2.495, 10)
    expect(upper).toBeCloseTo(47.405, 10)
    expect(exactQuantile([1, 2, 3, 4, 5], 0.05)).toBeCloseTo(1.2, 12)
    expect(exactQuantile([7], 0.95)).toBe(7)
  })

  it('past that, follow the exact 5th and 95th percentiles of 20,000 normal, uniform and log-normal draws', () => {
    const rng = Rng.from(3, 'band')
    const draws = { normal: () => rng.normal(), uniform: () => rng.uniform(), lognormal: () => Math.exp(2 * rng.normal()) }
    for (const [name, draw] of Object.entries(draws)) {
      const values = Array.from({ length: 20_000 }, draw)
      const { lower, upper } = bandOf(values)
      const sorted = [...values].sort((a, b) => a - b)
      const rank = (v: number): number => sorted.findIndex((x) => x >= v) / sorted.length
      // t-digests of compression 200 are within a few tenths of a percent in rank in the tails.
      expect(Math.abs(rank(lower) - 0.05), name).toBeLessThan(0.002)
      expect(Math.abs(rank(upper) - 0.95), name).toBeLessThan(0.002)
      if (name === 'normal') {
        expect(lower).toBeCloseTo(-Z95, 0)
        expect(upper).toBeCloseTo(Z95, 0)
      }
    }
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
    // The band of 0..499 (+ g), exact below 1,024 replicates: 5th percentile 24.95, 95th 474.05.
    expect(curve.lower[0]).toBeCloseTo(24.95, 10)
    expect(curve.upper[0]).toBeCloseTo(474.05, 10)
    expect(result.reference.get(0)!.get('m')).toBeCloseTo(248.5, 10)
    expect(result.replicates.get(0)).toBe(R)
    expect(firstRecords).toHaveLength(2 * R)
    expect(timings.get(0)!.fit).toBe(4 * R)
  })

  it('leaves gold_reward out of the metrics shown where it is reward in every record (a reward that is no proxy)', () => {
    const chains = [0, 1].map((r) => ({ id: `c0-r${r}`, cell: 0, replicate: r, seed: r, params: {} }))
    const source = { chains, metrics: ['modes_covered', 'reward', 'gold_reward', 'kl'], paramKeys: [] } as unknown as RecordSource
    // Two blocks of one chain each, generations -1 (no reward: null) to 1.
    const block = (chain: number, reward: number[], gold: number[]): RecordBlock => ({
      length: 3,
      chain: new Int32Array(3).fill(chain),
      generation: Int32Array.from([-1, 0, 1]),
      fitMs: new Float64Array(3),
      sampleMs: new Float64Array(3),
      evalMs: new Float64Array(3),
      metrics: [Float64Array.from([8, 8, 7]), Float64Array.from(reward), Float64Array.from(gold), Float64Array.from([NaN, 0.2, 0.3])],
    })
    const shown = (secondGold: number[]): string[] => {
      const agg = new RunAggregator()
      agg.write(source, block(0, [NaN, 0.5, 0.75], [NaN, 0.5, 0.75]))
      agg.write(source, block(1, [NaN, 0.25, 1], secondGold))
      return agg.result().metrics
    }
    expect(shown([NaN, 0.25, 1])).toEqual(['modes_covered', 'reward', 'kl'])
    // A proxy: the gold reward of one record differs, or is missing where the reward is not.
    expect(shown([NaN, 0.25, 0.9])).toEqual(['modes_covered', 'reward', 'gold_reward', 'kl'])
    expect(shown([NaN, NaN, 1])).toEqual(['modes_covered', 'reward', 'gold_reward', 'kl'])
    // Its curve stays for whoever asks for it by name.
    const agg = new RunAggregator()
    agg.write(source, block(0, [NaN, 0.5, 0.75], [NaN, 0.5, 0.75]))
    expect(agg.result().curves.get(0)!.get('gold_reward')!.mean).toEqual([0.5, 0.75])
  })
})

describe('the aggregation thread', () => {
  it('answers what summarizeRecords answers on the main thread, in a process that has nothing else to wait for', () => {
    // A process of its own: a thread that let the event loop run dry would end it with code 13
    // before the summary came, which a test runner's own event loop would hide.
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-aggregate-'))
    const script = `
      import { AggregatorThread, summarizeRecords } from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)}
      import { appendRecordBatch, recordBatch } from ${JSON.stringify(new URL('../../store/dist/index.js', import.meta.url).href)}
      const dir = ${JSON.stringify(dir)}
      const chains = Array.from({ length: 40 }, (_, r) => ({ id: 'r' + r, cell: r % 2, replicate: r >> 1, seed: r, params: {} }))
      let x = 1
      for (const c of chains) {
        const records = Array.from({ length: 2000 }, (_, i) => ({ chain: c.id, cell: c.cell, replicate: c.replicate, seed: c.seed, params: {}, generation: i - 1,
          metrics: { a: (x = (x * 48271) % 2147483647) / 2147483647, b: i }, timings: { fitMs: 1, sampleMs: 0, evalMs: 0 } }))
        appendRecordBatch(dir, recordBatch(records))
      }
      const thread = new AggregatorThread()
      thread.start(dir, chains)
      const s = await thread.summary()
      const local = summarizeRecords(dir, chains)
      const upper = (summary) => JSON.stringify([...summary.agg.curves.get(1).get('a').upper])
      process.stdout.write(JSON.stringify({ same: upper(s) === upper(local), records: s.firstRecords.length, fit: s.timings.get(0).fit }))
    `
    const file = join(dir, 'thread.mjs')
    writeFileSync(file, script)
    const res = spawnSync(process.execPath, [file], { encoding: 'utf8' })
    rmSync(dir, { recursive: true, force: true })
    expect(res.status, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout)).toEqual({ same: true, records: 80, fit: 20 * 2000 })
  })
})
