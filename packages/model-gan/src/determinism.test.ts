import { expect, it } from 'vitest'
import { Rng, vectors } from '@ouroboros/core'
import { model } from './index.js'

// The pure-JS cpu backend: the same seed must give the same samples there too.
process.env['OUROBOROS_BACKEND'] = 'cpu'

it('gives identical samples for the same seed on the cpu backend, and different ones for another seed', async () => {
  const rng = Rng.from(1)
  const data = vectors(200, 2, Float64Array.from({ length: 400 }, () => rng.normal()))
  // Every source of randomness at once: the penalty's interpolation, spectral norm's u, packing.
  const params = model.params.parse({ loss: 'wgan-gp', spectralNorm: true, pack: 2, steps: 5, batch: 16, generator: [8], discriminator: [8] })
  const dataset = { kind: 'gaussian', modality: 'vectors' as const, d: 2 }
  const run = async (seed: number) => {
    const state = await model.fit(data, params, { rng: Rng.from(seed, 'fit'), generation: 0, dataset })
    return (await model.sample(state, 100, { rng: Rng.from(seed, 'sample'), temperature: 1, dataset })).data
  }
  const a = await run(1)
  expect(await run(1)).toEqual(a)
  expect(await run(2)).not.toEqual(a)
})
