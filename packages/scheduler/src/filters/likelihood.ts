import { z } from 'zod'
import { concatSamples, configError, defineFilter, inputError, takeSamples } from '@ouroboros/core'

/**
 * Self-curation: the model draws n / keep samples and keeps the n it finds most likely (per token
 * for sequences, whose log-likelihood otherwise favours short ones), in the order they were drawn.
 */
export const likelihood = defineFilter({
  id: 'likelihood',
  description: 'draw samplesPerGeneration / keep samples and keep the most likely ones under the generating model',
  params: z.strictObject({ keep: z.number().gt(0).max(1) }),
  check(_params, { model }, where) {
    if (model.logLikelihood === undefined) throw configError(`${where}.kind: 'likelihood' ranks samples by the model's log-likelihood, which model '${model.id}' does not give`)
  },
  async apply(params, inputs) {
    if (inputs.logLikelihood === undefined) throw inputError("filter 'likelihood' needs a model with a log-likelihood")
    const total = Math.ceil(inputs.n / params.keep)
    const pool = total > inputs.n ? concatSamples([inputs.first, await inputs.draw(total - inputs.n, 1)]) : inputs.first
    const ll = await inputs.logLikelihood(pool)
    // Per token for sequences; NaN ranks last.
    const score = Float64Array.from(ll, (v, i) => {
      const perItem = pool.modality === 'tokens' ? v / (pool.offsets[i + 1]! - pool.offsets[i]! + 1) : v
      return Number.isNaN(perItem) ? -Infinity : perItem
    })
    // Most likely first, ties by draw order, so the choice is deterministic.
    const order = Array.from({ length: pool.n }, (_, i) => i).sort((a, b) => score[b]! - score[a]! || a - b)
    const chosen = order.slice(0, inputs.n).sort((a, b) => a - b)
    return { kept: takeSamples(pool, chosen), draws: pool.n }
  },
})
