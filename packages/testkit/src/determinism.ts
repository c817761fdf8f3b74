import { expect, it } from 'vitest'
import { Rng, asVectors, vectors, type ModelPlugin } from '@ouroboros/core'

/**
 * Registers the check that one seed gives one result on tfjs's pure-JS cpu backend, for models
 * that train on tfjs. Call it at the top level of a test file of its own: it sets
 * OUROBOROS_BACKEND=cpu for that file, before tfjs loads.
 */
export function runCpuDeterminism<P, S>(model: ModelPlugin<P, S>, params: unknown, what = ''): void {
  process.env['OUROBOROS_BACKEND'] = 'cpu'
  it(`gives identical samples for the same seed on the cpu backend, and different ones for another seed${what === '' ? '' : ` (${what})`}`, async () => {
    const rng = Rng.from(1)
    const data = vectors(200, 2, Float64Array.from({ length: 400 }, () => rng.normal()))
    const parsed = model.params.parse(params)
    const dataset = { kind: 'gaussian', modality: 'vectors' as const, d: 2 }
    const run = async (seed: number) => {
      const state = await model.fit(data, parsed, { rng: Rng.from(seed, 'fit'), generation: 0, dataset })
      return asVectors(await model.sample(state, 100, { rng: Rng.from(seed, 'sample'), temperature: 1, dataset })).data
    }
    const a = await run(1)
    expect(await run(1)).toEqual(a)
    expect(await run(2)).not.toEqual(a)
  })
}
