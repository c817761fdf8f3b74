import type { Rng } from '@ouroboros/core'

/**
 * n standard normal draws (times `scale`) from the run's seeded stream, as float32 for tensors.
 * Noise comes from ctx.rng rather than tf.random* so that a seed fixes every draw on every backend.
 */
export function normals(rng: Rng, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = scale * rng.normal()
  return out
}
