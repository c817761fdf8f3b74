import { inputError } from './errors.js'
import type { DatasetInfo } from './plugin.js'
import type { VectorSamples } from './samples.js'

/** The mode centres of a mode benchmark (ring, grid). */
export type Modes = NonNullable<DatasetInfo['modes']>

/**
 * The mode benchmark's rule (METRICS.md): each sample goes to its nearest mode centre (the first
 * on ties), and is high quality within qualityStds · std of it. The modes metrics count these;
 * the modes filter keeps the high-quality samples.
 */
/** `what` names the samples in errors, e.g. "modes: generated samples". */
export function assignToModes(s: VectorSamples, modes: Modes, qualityStds: number, what: string): { nearest: Int32Array; highQuality: Uint8Array } {
  const { k, centers } = modes
  const d = centers.length / k
  if (s.d !== d) throw inputError(`${what} have dimension ${s.d} but the mode centres have ${d}`)
  const radius = qualityStds * modes.std
  const radiusSq = radius * radius
  const nearest = new Int32Array(s.n)
  const highQuality = new Uint8Array(s.n)
  for (let i = 0; i < s.n; i++) {
    let best = Infinity
    let bestAt = 0
    for (let m = 0; m < k; m++) {
      let d2 = 0
      for (let j = 0; j < d; j++) {
        const diff = s.data[i * d + j]! - centers[m * d + j]!
        d2 += diff * diff
      }
      if (d2 < best) {
        best = d2
        bestAt = m
      }
    }
    nearest[i] = bestAt
    highQuality[i] = best <= radiusSq ? 1 : 0
  }
  return { nearest, highQuality }
}
