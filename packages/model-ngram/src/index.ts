import { z } from 'zod'
import { defineModel, inputError, type Samples, type TokenSamples } from '@ouroboros/core'
import { fitKneserNey, sentenceLogProbs, type NgramState } from './kneser-ney.js'
import { sampleSentences } from './sampler.js'

export type { TrieLevel } from './kneser-ney.js'

const paramsSchema = z.strictObject({
  /** n: the longest n-gram; 1 is a unigram model. */
  order: z.int().min(1).max(5).default(3),
  /**
   * Absolute discount D. 'auto': Chen & Goodman's D_l = n1 / (n1 + 2 n2) per order l, from the
   * counts of count 1 and 2 of the data being fit. It is the default because the count statistics
   * move as a chain collapses (synthetic corpora lose their singletons), and a fixed D (0.75 is
   * the textbook value) would be right for generation 0 only. A number applies to every order.
   */
  discount: z.union([z.literal('auto'), z.number().min(0).max(1)]).default('auto'),
  /** Sample only from the k most probable next words. */
  topK: z.int().min(1).optional(),
  /** Sample only from the fewest most probable next words holding this share of probability (nucleus sampling). */
  topP: z.number().gt(0).max(1).optional(),
  /** Sampled sentences end after this many words (Brown's longest sentence has 180). */
  maxLength: z.int().min(1).max(100_000).default(256),
})
export type NgramParams = z.output<typeof paramsSchema>

/** The counts, plus the sampling options (sample() sees only the state). */
export interface NgramModelState extends NgramState {
  readonly topK: number | undefined
  readonly topP: number | undefined
  readonly maxLength: number
}

export const model = defineModel<NgramParams, NgramModelState>({
  id: 'ngram',
  modality: 'tokens',
  description: 'Interpolated Kneser-Ney n-gram language model (order 1-5), sampled with temperature, top-k and top-p',
  params: paramsSchema,
  acceptsTemperature: true,

  // Counting has no iterations to continue, so a warm start (ctx.init) has nothing to offer.
  fit(data, params) {
    const tokens = asTokens(data, 'training data')
    if (tokens.n === 0) throw inputError('an n-gram model needs at least one training sentence')
    return { ...fitKneserNey(tokens, params.order, params.discount), topK: params.topK, topP: params.topP, maxLength: params.maxLength }
  },

  sample(state, n, ctx) {
    return sampleSentences(state, n, ctx.rng, {
      temperature: ctx.temperature,
      maxLength: state.maxLength,
      ...(state.topK === undefined ? {} : { topK: state.topK }),
      ...(state.topP === undefined ? {} : { topP: state.topP }),
    })
  },

  /** Per sentence, the natural-log probability of its words and its end (see kneser-ney.ts for unseen words). */
  logLikelihood(state, data) {
    const tokens = asTokens(data, 'evaluation data')
    if (tokens.vocabSize > state.vocabSize) {
      throw inputError(`evaluation data have a vocabulary of ${tokens.vocabSize} words, the model ${state.vocabSize}`)
    }
    return sentenceLogProbs(state, tokens)
  },
})

function asTokens(data: Samples, what: string): TokenSamples {
  if (data.modality !== 'tokens') throw inputError(`${what} are ${data.modality}, but the n-gram model needs token sequences`)
  return data
}

export default model
