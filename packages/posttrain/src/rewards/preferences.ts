import type { Rng } from '@ouroboros/core'

/**
 * Bradley–Terry preferences, how a proxy's preference labels and a DPO stage's pairs are made: one
 * preference per pair (sample 2p against 2p + 1), a preferred with probability σ(r(a) − r(b)).
 */
export function preferencesOf(scores: Float64Array, rng: Rng): Uint8Array {
  const pairs = Math.floor(scores.length / 2)
  const prefers = new Uint8Array(pairs)
  for (let p = 0; p < pairs; p++) prefers[p] = rng.uniform() < sigmoid(scores[2 * p]! - scores[2 * p + 1]!) ? 1 : 0
  return prefers
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))
}
