import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { vectors, type DatasetInstance, type VectorSamples } from '@ouroboros/core'
import { buildTraining, remember, type PlanSources } from './training.js'

const dir = mkdtempSync(join(tmpdir(), 'ouroboros-training-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const real = vectors(2, 1, Float64Array.of(-1, 1))
const sources = (chainId: string): PlanSources => ({ runDir: dir, chainId, seed: 0, generation: 9, real, dataset: {} as DatasetInstance })
/** Samples of `mib` MiB whose every value is `value`. */
const filled = (mib: number, value: number): VectorSamples => {
  const n = (mib * 1024 ** 2) / 8
  return vectors(n, 1, new Float64Array(n).fill(value))
}

describe('training sets from the samples a thread keeps', () => {
  it('concatenate the real data and kept generations, as a copy', () => {
    const g0 = vectors(3, 1, Float64Array.of(10, 11, 12))
    const g1 = vectors(2, 1, Float64Array.of(20, 21))
    remember(dir, 'small', 0, g0)
    remember(dir, 'small', 1, g1)
    const set = buildTraining({ parts: [{ from: 'real' }, { from: 'generation', generation: 0 }, { from: 'generation', generation: 1, head: 1 }] }, sources('small'))
    expect(set.modality === 'vectors' && Array.from(set.data)).toEqual([-1, 1, 10, 11, 12, 20])
    const alone = buildTraining({ parts: [{ from: 'real' }] }, sources('small'))
    expect(alone.modality === 'vectors' && alone.data).not.toBe(real.data)
    const picked = buildTraining({ parts: [{ from: 'real' }, { from: 'generation', generation: 0 }], pick: Uint32Array.of(4, 0) }, sources('small'))
    expect(picked.modality === 'vectors' && Array.from(picked.data)).toEqual([12, -1])
  })

  it('forget the least recently used generations past 128 MiB, and read those from their files', () => {
    // 4 × 40 MiB: the fourth goes over the bound, which forgets down to 96 MiB, oldest use first.
    remember(dir, 'big', 0, filled(40, 0))
    remember(dir, 'big', 1, filled(40, 1))
    remember(dir, 'big', 2, filled(40, 2))
    const first = (g: number): number => {
      const s = buildTraining({ parts: [{ from: 'generation', generation: g }] }, sources('big'))
      return s.modality === 'vectors' ? s.data[0]! : NaN
    }
    expect(first(0)).toBe(0) // generation 0 is now the most recently used of the three
    remember(dir, 'big', 3, filled(40, 3))
    expect(first(0)).toBe(0)
    expect(first(3)).toBe(3)
    // Forgotten: the chain directory has no files, so reading them fails naming the file.
    expect(() => first(1)).toThrow(/gen-000001\.samples\.npy/)
    expect(() => first(2)).toThrow(/gen-000002\.samples\.npy/)
  })
})
