import { z } from 'zod'
import { asVectors, assignToModes, defineMetric, inputError, type DatasetInfo, type Samples } from '@ouroboros/core'
import { HALVES, KL_RISES, SHARE } from './outputs.js'

/**
 * The mode benchmark of the PacGAN / VEEGAN code (METRICS.md "Mode benchmark"), the same rules as
 * the Python peer's modes.py: each generated sample goes to its nearest mode centre; it is high
 * quality (HQ) within `qualityStds` · std of that centre.
 *
 * `reverse_kl` = Σ p̂_k ln(p̂_k / w_k) is the KL from the share of samples nearest to each mode to
 * the data's own mode weights w; `reverse_kl_uniform` is the KL to uniform weights (the peer code's
 * value), recorded when the data's weights are not uniform (it would repeat reverse_kl). Where samples fall nearest to a
 * mode of weight 0 the KL is infinite: reverse_kl is then null, and `off_support_share`, the share
 * of such samples, says how far off the data's support the model is (recorded only for data with a
 * mode of weight 0: elsewhere it is 0 by definition).
 */
export const modes = defineMetric({
  id: 'modes',
  modality: 'vectors',
  description: 'Mode benchmark (ring, grid): modes covered by high-quality samples, share of them, reverse KL over modes',
  outputs: ['modes_covered', 'modes_covered_1pct', 'pct_high_quality', 'reverse_kl', 'reverse_kl_uniform', 'off_support_share'],
  outputInfo: {
    modes_covered: { title: 'modes covered', unit: 'modes', threshold: HALVES, diversity: 1 },
    modes_covered_1pct: { title: 'modes covered (≥ 1 % of samples)', unit: 'modes', threshold: HALVES, diversity: 0 },
    pct_high_quality: { title: 'high-quality samples', unit: '%', bounds: [0, 100], better: 'higher' },
    reverse_kl: { title: 'reverse KL over modes', unit: 'nats', threshold: KL_RISES, diversity: 2 },
    reverse_kl_uniform: { title: 'reverse KL to uniform mode weights', unit: 'nats', threshold: KL_RISES, diversity: 24 },
    off_support_share: { title: 'share of samples at modes of weight 0', unit: 'fraction', bounds: SHARE },
  },
  needs: ['dataset.modes'],
  nullWhen: {
    reverse_kl: 'samples fall nearest to a mode of weight 0, where the KL is infinite; off_support_share is their share',
    reverse_kl_uniform: "the data's mode weights are uniform, where it would equal reverse_kl",
    off_support_share: 'no mode of the data has weight 0 (data.weights), so no sample can be off its support',
  },
  options: z.strictObject({
    /** HQ radius in mode standard deviations. */
    qualityStds: z.number().positive().default(3),
    /** modes_covered_1pct counts modes with at least this share of all samples as HQ samples. */
    coveredShare: z.number().min(0).max(1).default(0.01),
  }),
  async compute({ generated, dataset, options }) {
    const a = assign('modes', generated, dataset, options.qualityStds)
    const { K, n, assigned, hq, weights } = a
    if (n === 0) return { modes_covered: null, modes_covered_1pct: null, pct_high_quality: null, reverse_kl: null, reverse_kl_uniform: null, off_support_share: null }
    let covered = 0
    let covered1pct = 0
    let reverseKl = 0
    let reverseKlUniform = 0
    let offSupport = 0
    const uniform = weights.every((w) => w === weights[0])
    const hasEmptyMode = weights.some((w) => w === 0)
    for (let m = 0; m < K; m++) {
      if (hq[m]! >= 1) covered++
      if (hq[m]! >= options.coveredShare * n) covered1pct++
      const p = assigned[m]! / n
      if (p === 0) continue
      reverseKlUniform += p * Math.log(K * p)
      if (weights[m]! > 0) reverseKl += p * Math.log(p / weights[m]!)
      else offSupport += p
    }
    return {
      modes_covered: covered,
      modes_covered_1pct: covered1pct,
      pct_high_quality: 100 * (a.hqTotal / n),
      reverse_kl: offSupport > 0 ? null : reverseKl,
      // With uniform mode weights this repeats reverse_kl; without a mode of weight 0 the share is 0.
      reverse_kl_uniform: uniform ? null : reverseKlUniform,
      off_support_share: hasEmptyMode ? offSupport : null,
    }
  },
  /** `hq_share[k]`: the share of all samples that are high-quality samples of mode k. */
  async profile({ generated, dataset, options }) {
    const { n, hq } = assign('modes', generated, dataset, options.qualityStds)
    return { hq_share: Array.from(hq, (c) => (n === 0 ? 0 : c / n)) }
  },
})

/** Per mode: the samples nearest to it, and the high-quality ones among them. */
function assign(what: string, generated: Samples, dataset: DatasetInfo, qualityStds: number) {
  const info = dataset.modes
  if (info === undefined) throw inputError(`${what}: dataset '${dataset.kind}' has no mode centres; the modes group needs ring or grid data`)
  const g = asVectors(generated, `${what}: generated samples`)
  const { nearest, highQuality } = assignToModes(g, info, qualityStds, `${what}: generated samples`)
  const K = info.k
  const assigned = new Float64Array(K)
  const hq = new Float64Array(K)
  let hqTotal = 0
  for (let i = 0; i < g.n; i++) {
    assigned[nearest[i]!]!++
    if (highQuality[i] === 1) {
      hq[nearest[i]!]!++
      hqTotal++
    }
  }
  // Normalised here too: a dataset plug-in may give weights of any scale.
  let total = 0
  for (const w of info.weights) total += w
  return { K, n: g.n, assigned, hq, hqTotal, weights: info.weights.map((w) => w / total) }
}
