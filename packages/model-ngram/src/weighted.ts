import { takeSequences, type Rng, type TokenSamples } from '@ouroboros/core'
import { chenGoodman, fitKneserNey, type Discount, type NgramState } from './kneser-ney.js'

/**
 * The n-gram model of weighted sentences (fitWeighted, the trainer's step fits), for weights ≥ 0
 * with a positive sum. Weights are scaled so that they sum to m, the number of sentences of
 * positive weight, so that counts keep the size the unweighted fit of those sentences gives them
 * (the discount is subtracted from counts, so their scale matters; with equal weights the counts
 * are the fit's).
 *
 * Order 1: exact weighted counts, c(w) = Σ_i w_i · count_i(w) and c(END) = Σ_i w_i, the maximiser
 * of Σ_i w_i log p(x_i) before smoothing. A fixed discount applies as it is; 'auto' takes Chen &
 * Goodman's n1 / (n1 + 2 n2) from the raw counts of the sentences of positive weight (0.75 where
 * none is 1, as in fitKneserNey): it estimates, from how many outcomes the sample holds once or
 * twice, the mass of the outcomes it missed, a property of the sample that weights tilt but do
 * not enlarge.
 *
 * Order ≥ 2: Kneser-Ney's continuation counts (how many distinct words precede a gram) and its
 * count-of-counts discounts have no weighted form, so the sentences are resampled by weight and
 * the resample is fit as it is. The resample is systematic (Kitagawa 1996): m draws at the points
 * (u + j)/m of the cumulative normalised weights, u ~ U[0, 1), so sentence i gets ⌊m·w_i⌋ or
 * ⌈m·w_i⌉ copies, m·w_i in expectation (the counts are the weighted counts in expectation), with
 * less noise than a multinomial resample; equal weights give every sentence once, and so the fit.
 */
export function fitWeightedKneserNey(data: TokenSamples, weights: Float64Array, order: number, discount: Discount, rng: Rng): NgramState {
  if (order >= 2) return fitKneserNey(takeSequences(data, systematicResample(weights, rng)), order, discount)
  const V = data.vocabSize
  const END = V
  let m = 0
  let total = 0
  for (const w of weights) {
    if (w > 0) m++
    total += w
  }
  const scale = m / total
  const unigram = new Float64Array(V + 1)
  const raw = new Int32Array(V + 1)
  for (let s = 0; s < data.n; s++) {
    const w = weights[s]! * scale
    if (w === 0) continue
    for (let t = data.offsets[s]!; t < data.offsets[s + 1]!; t++) {
      const token = data.tokens[t]!
      if (token < 0 || token >= V) throw new RangeError(`token ${token} at position ${t} is outside the vocabulary of ${V}`)
      unigram[token]! += w
      raw[token]!++
    }
    unigram[END]! += w
    raw[END]!++
  }
  const discounts = Float64Array.of(discount === 'auto' ? chenGoodman(raw) : discount)
  return { order: 1, vocabSize: V, discounts, unigram, levels: [] }
}

/**
 * Indices of a systematic resample of m items, m the number of positive weights: item i appears
 * ⌊m·C_i/T + u⌋ − ⌊m·C_{i−1}/T + u⌋ times (C the cumulative weights, T their sum), in item order.
 * An item of weight 0 leaves C unchanged and never appears.
 */
export function systematicResample(weights: Float64Array, rng: Rng): Int32Array {
  let m = 0
  let total = 0
  let last = -1
  for (let i = 0; i < weights.length; i++) {
    if (weights[i]! > 0) {
      m++
      last = i
    }
    total += weights[i]!
  }
  const u = rng.uniform()
  const out = new Int32Array(m)
  let at = 0
  let cumulative = 0
  let before = 0
  for (let i = 0; i <= last; i++) {
    if (weights[i] === 0) continue
    cumulative += weights[i]!
    // The last item reaches C = T, where ⌊m + u⌋ = m; rounding in m·C/T must not move that.
    const upTo = i === last ? m : Math.min(m, Math.floor((m * cumulative) / total + u))
    for (let c = before; c < upTo; c++) out[at++] = i
    before = Math.max(before, upTo)
  }
  return out
}
