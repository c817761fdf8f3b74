import { describe, expect, it } from 'vitest'
import { Rng } from './rng.js'
import { allRows, concatRows, memoryRows, pickRows, readRange, rowChunks } from './rows.js'
import { concatVectors, takeRows, vectors, type VectorSamples } from './samples.js'

function random(n: number, d: number, seed: number): VectorSamples {
  const rng = Rng.from(seed, 'rows-test')
  return vectors(n, d, Float64Array.from({ length: n * d }, () => rng.normal()))
}

describe('row sources', () => {
  const parts = [random(7, 3, 1), random(1, 3, 2), random(12, 3, 3)]
  const whole = concatVectors(parts)

  it('read the rows of a concatenation in any order, as concatenating the arrays does', () => {
    const src = concatRows(parts.map(memoryRows))
    expect(src.n).toBe(20)
    const idx = Rng.from(5, 'idx').permutation(20)
    const out = new Float64Array(20 * 3)
    src.read(idx, out)
    expect(out).toEqual(takeRows(whole, idx).data)
    expect(allRows(src).data).toEqual(whole.data)
  })

  it('pick rows of a pick of a concatenation, into float32 when asked', () => {
    const picked = Uint32Array.of(19, 0, 7, 7, 12)
    const src = pickRows(concatRows(parts.map(memoryRows)), picked)
    const out = new Float32Array(2 * 3)
    src.read([4, 0], out)
    expect(out).toEqual(Float32Array.from(takeRows(whole, [12, 19]).data))
    expect(readRange(src, 1, 3, new Float64Array(9))).toEqual(takeRows(whole, [0, 7, 7]).data)
  })

  it('pass over every row in chunks of the size asked for', () => {
    const chunks = [...rowChunks(concatRows(parts.map(memoryRows)), 6)]
    expect(chunks.map((c) => c.n)).toEqual([6, 6, 6, 2])
    expect(concatVectors(chunks).data).toEqual(whole.data)
  })

  it('refuse rows outside the source', () => {
    expect(() => memoryRows(parts[0]!).read([7], new Float64Array(3))).toThrow(/outside 0..6/)
    expect(() => concatRows(parts.map(memoryRows)).read([-1], new Float64Array(3))).toThrow(/outside 0..19/)
    expect(() => pickRows(memoryRows(parts[0]!), [1, 2]).read([2], new Float64Array(3))).toThrow(/outside 0..1/)
    expect(() => concatRows([memoryRows(parts[0]!), memoryRows(random(2, 4, 9))])).toThrow(/dimension 4 differs from 3/)
  })
})
