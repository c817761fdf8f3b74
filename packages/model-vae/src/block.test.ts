import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import { ringDataset, ringSamples } from '@ouroboros/testkit'
import { model } from './index.js'

// The cpu backend, whose kernels are plain JavaScript loops (the conformance suite runs the same comparison on the default backend).
process.env['OUROBOROS_BACKEND'] = 'cpu'

const blocks = model.blocks!

/** Three chains' training sets of n ring points, one after another. */
function block(n: number) {
  const sets = [0, 1, 2].map((c) => ringSamples(n, Rng.from(40 + c)))
  const data = new Float64Array(3 * n * 2)
  sets.forEach((s, c) => data.set(s.data, c * n * 2))
  return { sets, data: { chains: 3, n, d: 2, data } }
}

describe('vae blocks', () => {
  for (const params of [
    { epochs: 3, hidden: [8, 8], batch: 32 },
    { epochs: 2, hidden: [6], latent: 3, batch: 25, likelihood: 'bernoulli' },
  ]) {
    it(`train each chain of a block of 3 as it trains alone, bit for bit (${JSON.stringify(params)})`, async () => {
      const p = model.params.parse(params)
      // 0 < x < 1 for the Bernoulli likelihood; 90 items: the last minibatch is smaller.
      const { sets, data } = block(90)
      if (p.likelihood === 'bernoulli') for (const x of [data.data, ...sets.map((s) => s.data)]) x.forEach((v, i) => (x[i] = 0.5 + v / 8))
      const fitted = await blocks.fit(data, p, { rng: (c) => Rng.from(7, 'fit', c), generation: () => 0, dataset: ringDataset })
      const drawn = await blocks.sample(fitted, 50, { rng: (c) => Rng.from(7, 'sample', c), temperature: 0.8, dataset: ringDataset })
      const summary = blocks.summary!(fitted)
      for (let c = 0; c < 3; c++) {
        const alone = await model.fit(sets[c]!, p, { rng: Rng.from(7, 'fit', c), generation: 0, dataset: ringDataset })
        expect(blocks.state(fitted, c)).toEqual(alone)
        const samples = await model.sample(alone, 50, { rng: Rng.from(7, 'sample', c), temperature: 0.8, dataset: ringDataset })
        expect(Array.from(drawn.data.subarray(c * 100, (c + 1) * 100))).toEqual(Array.from((samples as { data: Float64Array }).data))
        expect(summary['neg_elbo']![c]).toBe(alone.negElbo)
        expect(summary['steps']![c]).toBe(alone.steps)
      }
    })
  }

  it('leave training curves to chain-by-chain fits, and reject an empty training set', async () => {
    const ctx = { rng: (c: number) => Rng.from(c), generation: () => 0, dataset: ringDataset }
    await expect(blocks.fit(block(20).data, model.params.parse({ evalEvery: 5 }), ctx)).rejects.toThrow(/training steps/)
    await expect(blocks.fit({ chains: 2, n: 0, d: 2, data: new Float64Array(0) }, model.params.parse({}), ctx)).rejects.toThrow(/empty/)
  })
})
