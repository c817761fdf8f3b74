import { describe, expect, it } from 'vitest'
import { Rng, type TokenSamples } from '@ouroboros/core'
import { perplexity } from './perplexity.js'

describe('perplexity', () => {
  // Sentences [1, 2] and [3, 1, 2].
  const heldout: TokenSamples = { modality: 'tokens', n: 2, vocabSize: 4, tokens: Int32Array.from([1, 2, 3, 1, 2]), offsets: Uint32Array.from([0, 2, 5]) }
  const compute = (logLikelihood?: (d: unknown) => Promise<Float64Array>) =>
    perplexity.compute({
      real: heldout,
      generated: heldout,
      heldout,
      options: {},
      dataset: { kind: 'toy', modality: 'tokens' },
      prepared: undefined,
      rng: Rng.from(0),
      ...(logLikelihood === undefined ? {} : { model: { logLikelihood } }),
    })

  it('is exp of the mean NLL per word and end of sentence', async () => {
    // 2 + 1 and 3 + 1 tokens; total log-likelihood -7 over 7 tokens.
    const m = await compute(async () => Float64Array.from([-3, -4]))
    expect(m['perplexity_real']).toBeCloseTo(Math.E, 14)
  })

  it('is V + 1 under the uniform model over V words and the end of sentence', async () => {
    const V = 4
    const m = await compute(async () => Float64Array.from([-3 * Math.log(V + 1), -4 * Math.log(V + 1)]))
    expect(m['perplexity_real']).toBeCloseTo(V + 1, 12)
  })

  it('is null without a model likelihood', async () => {
    expect((await compute())['perplexity_real']).toBeNull()
  })
})
