import { describe, expect, it } from 'vitest'
import { Rng, vectors, type Samples, type VectorSamples } from '@ouroboros/core'
import { reward } from './reward.js'

/** Ring-like data: n points, each on one of 8 modes (the point k·(1, 0) scaled onto a line). */
const modes8 = { centers: Float64Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? Math.floor(i / 2) : 0)), k: 8, std: 0.01, weights: new Float64Array(8).fill(1 / 8) }
const dataset = { kind: 'ring', modality: 'vectors' as const, d: 2, modes: modes8 }
const draw = (n: number, rng: Rng): VectorSamples => vectors(n, 2, Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? rng.int(8) : 0)))

function shares(s: Samples): number[] {
  const out = new Array<number>(8).fill(0)
  const x = s as VectorSamples
  for (let i = 0; i < x.n; i++) out[Math.round(x.data[2 * i]!)]! += 1 / x.n
  return out
}

describe('reward filter', () => {
  const values = [2, 1, 0.5, 0, 0, 0, 0, -1]
  const n = 40_000
  const inputs = (seed: number) => ({
    n,
    first: draw(n, Rng.from(seed, 'first')),
    draw: async (m: number, batch: number) => draw(m, Rng.from(seed, 'batch', batch)),
    dataset,
    rng: Rng.from(seed, 'filter'),
  })

  it('keeps one of two draws with the Bradley–Terry probability σ(r_a − r_b)', async () => {
    const { kept, draws } = await reward.apply({ reward: { kind: 'modes', values }, choices: 2, choice: 'luce', temperature: 1 }, inputs(1))
    expect(draws).toBe(2 * n)
    // A kept sample is at mode k with probability 2·w_k·Σ_j w_j·σ(v_k − v_j), w uniform.
    const expected = values.map((vk) => (2 / 8) * values.reduce((a, vj) => a + (1 / 8) / (1 + Math.exp(vj - vk)), 0))
    const got = shares(kept)
    for (let k = 0; k < 8; k++) expect(Math.abs(got[k]! - expected[k]!), `mode ${k}`).toBeLessThan(4 * Math.sqrt((expected[k]! * (1 - expected[k]!)) / n))
  })

  it("with choice 'best', keeps the best of `choices` draws", async () => {
    const { kept, draws } = await reward.apply({ reward: { kind: 'modes', values }, choices: 3, choice: 'best', temperature: 1 }, inputs(2))
    expect(draws).toBe(3 * n)
    // Mode 0 (the best) wins unless all three draws miss it: 1 − (7/8)³.
    const got = shares(kept)
    const p0 = 1 - (7 / 8) ** 3
    expect(Math.abs(got[0]! - p0)).toBeLessThan(4 * Math.sqrt((p0 * (1 - p0)) / n))
    // Mode 7 (the worst) is kept only when all three draws are there.
    expect(Math.abs(got[7]! - (1 / 8) ** 3)).toBeLessThan(0.002)
  })
})
