import { z } from 'zod'
import { checkWeights, defineModel, inputError, type Samples, type TokenSamples } from '@ouroboros/core'
import { fitKneserNey, type NgramState } from './kneser-ney.js'
import { interpolatedLogProbs, sampleInterpolated, unigramOutcomes, unigramSentenceKl } from './interpolation.js'
import { fitWeightedKneserNey } from './weighted.js'

export type { NgramState, TrieLevel } from './kneser-ney.js'

const paramsSchema = z.strictObject({
  /** n: the longest n-gram; 1 is a unigram model. */
  order: z.int().min(1).max(5).default(3),
  /**
   * Absolute discount D. 'auto': Chen & Goodman's D_l = n1 / (n1 + 2 n2) per order l, from the
   * counts of count 1 and 2 of the data being fit. It is the default because the count statistics
   * move as a chain collapses (synthetic corpora lose their singletons), and a fixed D (0.75 is
   * the textbook value) would be right for generation 0 only. A level with no count of 1 has the
   * estimate 0, which would give held-out text probability 0; it gets 0.75 instead
   * (kneser-ney.ts, FALLBACK_DISCOUNT). A number applies to every order.
   */
  discount: z.union([z.literal('auto'), z.number().min(0).max(1)], { error: "expected 'auto' or a number from 0 to 1" }).default('auto'),
  /** Sample only from the k most probable next words. */
  topK: z.int().min(1).optional(),
  /** Sample only from the fewest most probable next words holding this share of probability (nucleus sampling). */
  topP: z.number().gt(0).max(1).optional(),
  /** Sampled sentences end after this many words (Brown's longest sentence has 180). */
  maxLength: z.int().min(1).max(100_000).default(256),
})
export type NgramParams = z.output<typeof paramsSchema>

/** The counts, plus the sampling options (sample() sees only the state). */
export interface NgramModelState {
  /**
   * Models of one order and vocabulary whose next-word distributions are interpolated,
   * p(w | h) = Σ_j weights[j]·p_j(w | h) (interpolation.ts): one model for a fit, more after
   * post-training (the trainer).
   */
  readonly models: readonly NgramState[]
  /** λ_j, positive, summing to 1. */
  readonly weights: Float64Array
  readonly topK: number | undefined
  readonly topP: number | undefined
  readonly maxLength: number
}

/** Distinct models an interpolation may hold; each trainer step on new items adds one. */
const MAX_MODELS = 32
/** The trainer's step share when the stage gives no lr. */
const DEFAULT_LR = 0.1

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
    return withOptions([fitKneserNey(tokens, params.order, params.discount)], Float64Array.of(1), params)
  },

  /**
   * Order 1: exact weighted counts; order ≥ 2: Kneser-Ney on a systematic resample of the
   * sentences by weight (see weighted.ts for both and for the discount).
   */
  fitWeighted(data, weights, params, ctx) {
    const tokens = asTokens(data, 'training data')
    const total = checkWeights(weights, tokens.n, 'ngram fitWeighted')
    if (total === 0) throw inputError('ngram fitWeighted: every weight is 0', 'give at least one sentence a positive weight')
    return withOptions([fitWeightedKneserNey(tokens, weights, params.order, params.discount, ctx.rng.derive('resample'))], Float64Array.of(1), params)
  },

  /**
   * Post-training by interpolation: each step moves the model a share lr (options.lr, default 0.1)
   * of the way from its distribution p to a target,
   *
   *   p ← (1 − lr)·p + lr·(f + a·p_ref)/(1 + a),
   *
   * f the model fit to the step's weighted items (as fitWeighted fits them), p_ref the reference,
   * a the anchor: next-word distributions mixed (interpolation.ts), so after t steps on the same
   * items the model is p_ref interpolated with f at weight (1 − (1 − lr)^t)/(1 + a). Steps whose fit
   * equals an earlier one (the same items and weights: batch 'all' on a fixed task) add to that
   * model's weight; each new fit adds a model, up to 32. A step whose weights are all 0 has no
   * fit to move toward and changes nothing.
   */
  trainer(state, params, options) {
    const lr = options.lr ?? DEFAULT_LR
    if (!(lr > 0 && lr <= 1)) throw inputError(`the n-gram trainer's lr is the share of the way to the step's fit, in (0, 1]; got ${lr}`)
    const a = options.anchor
    if (!(a >= 0 && a < Infinity)) throw inputError(`anchor must be a finite number ≥ 0, got ${a}`)
    const reference = options.reference
    const { order, vocabSize: V } = state.models[0]!
    for (const m of [...state.models, ...reference.models]) {
      if (m.order !== order || m.vocabSize !== V) {
        throw inputError(`the n-gram trainer's state and reference must share order and vocabulary: order ${m.order} with ${m.vocabSize} words against order ${order} with ${V}`)
      }
    }
    const models = [...state.models]
    const weights = Array.from(state.weights)
    const add = (m: NgramState, weight: number): void => {
      const i = models.findIndex((other) => other === m || statesEqual(other, m))
      if (i >= 0) {
        weights[i]! += weight
        return
      }
      if (models.length === MAX_MODELS) {
        throw inputError(
          `the n-gram trainer interpolates one model per distinct step fit, and ${MAX_MODELS} are reached`,
          "give the n-gram trainer the same items every step (its batch is 'all')",
        )
      }
      models.push(m)
      weights.push(weight)
    }
    return {
      batch: 'all',
      signedWeights: false,
      step(items, stepWeights) {
        const tokens = asTokens(items, 'trainer items')
        if (tokens.vocabSize > V) throw inputError(`trainer items have a vocabulary of ${tokens.vocabSize} words, the model ${V}`)
        const total = checkWeights(stepWeights, tokens.n, 'ngram trainer step')
        if (total === 0) return {}
        const data = { ...tokens, vocabSize: V }
        const ll = interpolatedLogProbs(models, Float64Array.from(weights), data, state.maxLength)
        let loss = 0
        for (let i = 0; i < tokens.n; i++) if (stepWeights[i]! > 0) loss -= (stepWeights[i]! * ll[i]!) / total
        const fit = fitWeightedKneserNey(data, stepWeights, order, params.discount, options.rng)
        for (let j = 0; j < weights.length; j++) weights[j]! *= 1 - lr
        add(fit, lr / (1 + a))
        if (a > 0) reference.models.forEach((m, j) => add(m, ((lr * a) / (1 + a)) * reference.weights[j]!))
        return { losses: { loss } }
      },
      state() {
        return withOptions([...models], Float64Array.from(weights), params)
      },
    }
  },

  sample(state, n, ctx) {
    return sampleInterpolated(state.models, state.weights, n, ctx.rng, {
      temperature: ctx.temperature,
      maxLength: state.maxLength,
      ...(state.topK === undefined ? {} : { topK: state.topK }),
      ...(state.topP === undefined ? {} : { topP: state.topP }),
    })
  },

  /**
   * Per sentence, the natural-log probability of its words and its end (see kneser-ney.ts for
   * unseen words); a sentence of maxLength words has no end scored, as sampling cuts it there.
   */
  logLikelihood(state, data) {
    const tokens = asTokens(data, 'evaluation data')
    const V = state.models[0]!.vocabSize
    if (tokens.vocabSize > V) throw inputError(`evaluation data have a vocabulary of ${tokens.vocabSize} words, the model ${V}`)
    return interpolatedLogProbs(state.models, state.weights, tokens, state.maxLength)
  },

  /**
   * Its log-likelihood scores a sentence as sampling drew it at discount 0 only: a discount gives
   * the uniform floor a share of the mass, which sampling leaves out, so a Monte Carlo KL from it
   * is biased, by tens of nats for a model refit on a few sentences (its own words get a small part
   * of the probability they are drawn with). With a discount, post-training records no KL.
   */
  scoresItsSamples: (state) => undiscounted(state),

  /**
   * Exact KL(p_state‖p_reference) per sentence (per item, as logLikelihood scores), for unigram
   * models (order 1, interpolated or not) at discount 0, where the distributions logLikelihood
   * scores are the ones sampling draws from (a discount adds the uniform floor, which sampling
   * leaves out: no KL then, as for the Monte Carlo estimate). It is the per-outcome KL over the V words and END divided by p_state(END), and
   * splits into the KL of the sentence-length distributions plus the expected words per sentence
   * times the KL of the vocabulary distributions (interpolation.ts, unigramSentenceKl), times the
   * chance 1 − (1 − e)^maxLength that a sentence ends before the cut. Infinite where the reference
   * gives probability 0 to an outcome the state does not (discount 0). Higher orders, and models
   * cut at different lengths, have no exact KL here: estimate it by Monte Carlo from logLikelihood.
   */
  klDivergence(state, reference) {
    const models = [...state.models, ...reference.models]
    // Exact for unigram models only; higher orders are estimated by Monte Carlo from logLikelihood.
    if (models.some((m) => m.order !== 1)) return undefined
    if (!undiscounted(state) || !undiscounted(reference)) return undefined
    const V = state.models[0]!.vocabSize
    if (models.some((m) => m.vocabSize !== V)) throw inputError('the n-gram KL needs two models over one vocabulary')
    // Cut at different lengths, the two score a sentence of the shorter cap differently: Monte Carlo.
    if (state.maxLength !== reference.maxLength) return undefined
    return unigramSentenceKl(unigramOutcomes(state.models, state.weights), unigramOutcomes(reference.models, reference.weights), state.maxLength)
  },
})

/** Every level of every interpolated model at discount 0: no uniform floor, so logLikelihood scores the distribution sampling draws from. */
function undiscounted(state: NgramModelState): boolean {
  return state.models.every((m) => m.discounts.every((d) => d === 0))
}

function withOptions(models: NgramState[], weights: Float64Array, params: NgramParams): NgramModelState {
  return { models, weights, topK: params.topK, topP: params.topP, maxLength: params.maxLength }
}

/** Same order, vocabulary, discounts and counts: the same model. */
function statesEqual(a: NgramState, b: NgramState): boolean {
  if (a.order !== b.order || a.vocabSize !== b.vocabSize || a.levels.length !== b.levels.length) return false
  if (!arraysEqual(a.discounts, b.discounts) || !arraysEqual(a.unigram, b.unigram)) return false
  return a.levels.every((l, i) => {
    const m = b.levels[i]!
    return arraysEqual(l.start, m.start) && arraysEqual(l.word, m.word) && arraysEqual(l.count, m.count)
  })
}

function arraysEqual(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return a.constructor === b.constructor && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

function asTokens(data: Samples, what: string): TokenSamples {
  if (data.modality !== 'tokens') throw inputError(`${what} are ${data.modality}, but the n-gram model needs token sequences`)
  return data
}

export default model
