import { z } from 'zod'
import { ErrorCode, OuroborosError, defineMetric } from '@ouroboros/core'
import { DOUBLES } from './outputs.js'

/**
 * perplexity_real (METRICS.md "Text"): exp of the mean negative log-likelihood per token of the
 * held-out real sentences under the model, where a sentence of k words counts k + 1 tokens (its
 * words and its end, which every language model here predicts). A model's `logLikelihood` gives
 * each sentence's natural-log probability; null when the model has none or nothing is held out.
 */
export const perplexity = defineMetric({
  id: 'perplexity',
  modality: 'tokens',
  description: 'Perplexity of held-out real sentences under the model, per word and end of sentence (perplexity_real)',
  outputs: ['perplexity_real'],
  outputInfo: {
    perplexity_real: { title: 'perplexity of held-out real text', unit: 'per token', threshold: DOUBLES, diversity: 16 },
  },
  needs: ['model.logLikelihood', 'heldout'],
  nullWhen: { perplexity_real: 'the model gives some held-out sentence probability 0, an infinite perplexity (an n-gram model whose discount is 0 does)' },
  options: z.strictObject({}),
  async compute({ heldout, model }) {
    if (heldout?.modality !== 'tokens' || heldout.n === 0 || model?.logLikelihood === undefined) return { perplexity_real: null }
    const ll = await model.logLikelihood(heldout)
    if (ll.length !== heldout.n) {
      throw new OuroborosError(ErrorCode.MODEL, `perplexity: logLikelihood returned ${ll.length} values for ${heldout.n} held-out sentences`)
    }
    let sum = 0
    for (let i = 0; i < ll.length; i++) sum += ll[i]!
    return { perplexity_real: Math.exp(-sum / (heldout.tokens.length + heldout.n)) }
  },
})
