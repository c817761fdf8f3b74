import { describe, expect, it } from 'vitest'
import { Rng, vectors, type VectorSamples } from '@ouroboros/core'
import { describeBackend } from '@ouroboros/tf'
import { kthNeighbourSq, nearest } from './distance.js'
import { ballCounts } from './prdc.js'

// tfjs reads the variable on its first load, which is in this file's own process (vitest forks one
// per test file): the float32 products come from the pure-JS cpu backend, summed in another order
// than XNNPACK's, and the float64 checks must still give the same results.
process.env['OUROBOROS_BACKEND'] = 'cpu'

/** Coordinates in {0, 1, 2} plus noise below float32 resolution: ties and near-ties everywhere. */
function nearlyTied(n: number, d: number, rng: Rng): VectorSamples {
  return vectors(n, d, Float64Array.from({ length: n * d }, () => rng.int(3) + 1e-7 * rng.normal()))
}

describe('float32 blocks on the tfjs cpu backend', () => {
  it('give the float64 results bit for bit', async () => {
    const rng = Rng.from(8)
    const x = nearlyTied(300, 40, rng)
    const y = nearlyTied(280, 40, rng)
    const rx = await kthNeighbourSq(x, 5, 'float32')
    const ry = await kthNeighbourSq(y, 5, 'float32')
    expect((await describeBackend()).name).toBe('cpu')
    expect(Array.from(rx)).toEqual(Array.from(await kthNeighbourSq(x, 5, 'float64')))
    expect(Array.from(ry)).toEqual(Array.from(await kthNeighbourSq(y, 5, 'float64')))
    const got = await nearest(y, x, 'float32')
    const want = await nearest(y, x, 'float64')
    expect(Array.from(got.index)).toEqual(Array.from(want.index))
    expect(Array.from(got.d2)).toEqual(Array.from(want.d2))
    expect(await ballCounts(x, y, rx, ry, false, 'float32')).toEqual(await ballCounts(x, y, rx, ry, false, 'float64'))
  })
})
