import { describe, expect, it } from 'vitest'
import { ErrorCode, Rng, vectors, type VectorSamples } from '@ouroboros/core'
import { modes } from './modes.js'

/** 8 modes on a line at x = 0..7, std 0.01. */
const dataset = { kind: 'ring', modality: 'vectors' as const, d: 2, modes: { centers: Float64Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? i / 2 : 0)), k: 8, std: 0.01, weights: new Float64Array(8).fill(1 / 8) } }

/** Batch `batch` of n points: of the draws counted from the first batch's, one in `every` on a mode centre, the rest halfway between two modes. */
const draw = (n: number, every: number, batch: number, rng: Rng): VectorSamples =>
  vectors(n, 2, Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 === 1 ? 0 : rng.int(7) + ((batch * n + i / 2) % every === 0 ? 0 : 0.5))))

describe('modes filter', () => {
  const inputs = (n: number, every: number) => ({ n, first: draw(n, every, 0, Rng.from(1)), draw: async (m: number, batch: number) => draw(m, every, batch, Rng.from(1, batch)), dataset, rng: Rng.from(2) })

  it('keeps the samples within qualityStds of a mode, in draw order, counting draws up to the last kept', async () => {
    // Draws 0, 4, 8, …: the 10th kept is draw 36, the 37th drawn.
    const { kept, draws } = await modes.apply({ qualityStds: 3 }, inputs(10, 4))
    expect(kept.n).toBe(10)
    expect(draws).toBe(37)
    for (const x of (kept as VectorSamples).data.filter((_, i) => i % 2 === 0)) expect(Number.isInteger(x)).toBe(true)
  })

  it('stops with a model error saying how few samples pass, and what to loosen, when under 1 in 100 do', async () => {
    await expect(modes.apply({ qualityStds: 3 }, inputs(10, 112))).rejects.toMatchObject({
      code: ErrorCode.MODEL,
      // Draws 0, 112, …, 896 of the 1,000 pass.
      message: "filter 'modes' kept 9 of 1000 samples, fewer than the 10 a generation needs",
      hint: expect.stringContaining("fewer than 1 in 100 of the model's samples lie within 3 std of a mode; loosen filter.qualityStds"),
    })
  })
})
