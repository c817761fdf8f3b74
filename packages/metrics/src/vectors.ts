import { asVectors, inputError, OuroborosError, ErrorCode, takeRows, type Rng, type Samples, type TokenSamples, type VectorSamples } from '@ouroboros/core'

/** `real` and `generated` as vectors of one dimension, or a usage error naming the metric. */
export function vectorPair(metric: string, real: Samples, generated: Samples): { real: VectorSamples; generated: VectorSamples } {
  const r = asVectors(real, `${metric}: real samples`)
  const g = asVectors(generated, `${metric}: generated samples`)
  if (r.d !== g.d) throw inputError(`${metric}: generated samples have dimension ${g.d} but real samples have ${r.d}`)
  return { real: r, generated: g }
}

/** s as token sequences, or a usage error naming what needed them. */
export function asTokens(s: Samples, what: string): TokenSamples {
  if (s.modality !== 'tokens') throw inputError(`${what} need token sequences, got ${s.modality}`)
  return s
}

/** At most `m` rows of s, drawn without replacement from `rng`; s itself when it is small enough. */
export function subsampleRows(s: VectorSamples, m: number, rng: Rng): VectorSamples {
  if (s.n <= m) return s
  return takeRows(s, rng.permutation(s.n).subarray(0, m))
}

/**
 * A cheap content hash (two FNV-1a streams over the raw bits). Metrics that cache work on the real
 * data in `prepare` store it, so that compute() with other real data fails loudly instead of
 * mixing the two.
 */
export function fingerprint(s: VectorSamples): string {
  const words = new Uint32Array(s.data.buffer, s.data.byteOffset, s.data.length * 2)
  let a = 0x811c9dc5
  let b = 0x01000193
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!
    a = Math.imul(a ^ w, 0x01000193)
    b = Math.imul(b ^ w, 0x5bd1e995) ^ (b >>> 13)
  }
  return `${s.n}x${s.d}:${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}`
}

export function checkPrepared(metric: string, prepared: { readonly realFingerprint: string }, real: VectorSamples): void {
  if (prepared.realFingerprint !== fingerprint(real)) {
    throw new OuroborosError(
      ErrorCode.INTERNAL,
      `${metric}: compute() got other real data than prepare() saw; prepare once per real data set and pass its result`,
    )
  }
}

/** Natural-log entropy of a histogram of non-negative counts (0 · ln 0 = 0). */
export function entropyOfCounts(counts: ArrayLike<number>, total: number): number {
  let h = 0
  for (let i = 0; i < counts.length; i++) {
    const p = counts[i]! / total
    if (p > 0) h -= p * Math.log(p)
  }
  return h
}

/** KL(generated ‖ real) of two histograms over the same classes with ½ added to every count. */
export function smoothedKl(generated: ArrayLike<number>, real: ArrayLike<number>): number {
  const k = generated.length
  let totalG = 0
  let totalR = 0
  for (let i = 0; i < k; i++) {
    totalG += generated[i]!
    totalR += real[i]!
  }
  totalG += k / 2
  totalR += k / 2
  let kl = 0
  for (let i = 0; i < k; i++) {
    const p = (generated[i]! + 0.5) / totalG
    const q = (real[i]! + 0.5) / totalR
    kl += p * Math.log(p / q)
  }
  return kl
}
