import { z } from 'zod'
import { ErrorCode, OuroborosError, asVectors, assignToModes, concatSamples, configError, defineFilter, inputError, takeSamples, type Samples } from '@ouroboros/core'

/** Draws of n samples tried before the filter gives up on a generation. */
const MAX_BATCHES = 100

/**
 * A verifier that knows the modes: a sample passes when it lies within qualityStds·std of its
 * nearest mode centre (the high-quality rule of METRICS.md). The model draws batch after batch
 * until n samples have passed.
 */
export const modes = defineFilter({
  id: 'modes',
  description: 'keep samples within qualityStds·std of their nearest mode centre (ring, grid)',
  params: z.strictObject({ qualityStds: z.number().positive().default(3) }),
  check(_params, { dataset }, where) {
    if (dataset.modes === undefined) throw configError(`${where}.kind: 'modes' keeps samples near mode centres, which data.kind '${dataset.kind}' does not have; use ring or grid data`)
  },
  async apply(params, inputs) {
    const modes = inputs.dataset.modes
    if (modes === undefined) throw inputError(`filter 'modes': dataset '${inputs.dataset.kind}' has no mode centres`)
    // Indices of the high-quality samples, in draw order.
    const passing = (s: Samples): number[] => {
      const { highQuality } = assignToModes(asVectors(s, "filter 'modes': samples"), modes, params.qualityStds, "filter 'modes': samples")
      const out: number[] = []
      for (let i = 0; i < s.n; i++) if (highQuality[i] === 1) out.push(i)
      return out
    }
    const parts: Samples[] = []
    let kept = 0
    let draws = 0
    for (let batch = 0; kept < inputs.n; batch++) {
      if (batch === MAX_BATCHES) {
        throw new OuroborosError(
          ErrorCode.MODEL,
          `filter 'modes' kept ${kept} of ${draws} samples, fewer than the ${inputs.n} a generation needs`,
          { hint: `fewer than 1 in ${MAX_BATCHES} of the model's samples lie within ${params.qualityStds} std of a mode; loosen filter.qualityStds, or use a model that fits the modes more tightly (or stop the chain before it leaves them)` },
        )
      }
      const s = batch === 0 ? inputs.first : await inputs.draw(inputs.n, batch)
      const pass = passing(s)
      const need = inputs.n - kept
      // Draws count up to the last sample kept, so that n / draws estimates the pass rate.
      draws += pass.length >= need ? pass[need - 1]! + 1 : s.n
      const idx = pass.slice(0, need)
      kept += idx.length
      if (idx.length > 0) parts.push(takeSamples(s, idx))
    }
    return { kept: parts.length === 1 ? parts[0]! : concatSamples(parts), draws }
  },
})
