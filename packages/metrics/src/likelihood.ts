import { z } from 'zod'
import { defineMetric, ErrorCode, OuroborosError } from '@ouroboros/core'

/**
 * nll_real (METRICS.md "Memorization vs collapse"): mean negative log-likelihood of held-out real
 * data under the model; null when the model has no likelihood or there is no held-out set.
 */
export const likelihood = defineMetric({
  id: 'likelihood',
  modality: 'vectors',
  description: 'Mean negative log-likelihood of held-out real data under the model (nll_real)',
  outputs: ['nll_real'],
  outputInfo: {
    // One nat per sample: the held-out data became e times less likely each.
    nll_real: { title: 'NLL of held-out real data', unit: 'nats per sample', threshold: { direction: 'rises', kind: 'offset', value: 1 } },
  },
  needs: ['model.logLikelihood', 'heldout'],
  options: z.strictObject({}),
  async compute({ heldout, model }) {
    if (heldout === undefined || heldout.n === 0 || model?.logLikelihood === undefined) return { nll_real: null }
    const ll = await model.logLikelihood(heldout)
    if (ll.length !== heldout.n) {
      throw new OuroborosError(ErrorCode.MODEL, `likelihood: logLikelihood returned ${ll.length} values for ${heldout.n} held-out samples`)
    }
    return { nll_real: meanNegative(ll, ll.length) }
  },
  async computeBlock({ chains, heldout, model }) {
    const nll = new Float64Array(chains).fill(NaN)
    if (heldout === undefined || model?.logLikelihood === undefined) return { nll_real: nll }
    let ll = new Float64Array(0)
    for (let c = 0; c < chains; c++) {
      const data = heldout[c]!
      if (data.n === 0) continue
      if (ll.length < data.n) ll = new Float64Array(data.n)
      // Awaited only when it is asynchronous: an await per chain costs more than a cheap model's likelihood.
      const pending = model.logLikelihood(c, data, ll)
      if (pending !== undefined) await pending
      nll[c] = meanNegative(ll, data.n)
    }
    return { nll_real: nll }
  },
})

function meanNegative(ll: Float64Array, n: number): number {
  let sum = 0
  for (let i = 0; i < n; i++) sum += ll[i]!
  return -sum / n
}
