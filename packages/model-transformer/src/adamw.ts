import { divergedError } from '@ouroboros/core'

/**
 * AdamW as PyTorch's torch.optim.AdamW computes it (Loshchilov & Hutter 2019): decoupled weight
 * decay θ ← θ·(1 − lr·λ) on the parameters of `decay`, then Adam's step with ε added to the
 * bias-corrected √v. The step size is given per step (the schedule), which @ouroboros/tf's Adam
 * does not take.
 */
export class AdamW {
  private t = 0
  private readonly m: Float32Array
  private readonly v: Float32Array

  constructor(
    size: number,
    private readonly decay: Uint8Array,
    private readonly o: { readonly beta1: number; readonly beta2: number; readonly eps: number; readonly weightDecay: number },
  ) {
    this.m = new Float32Array(size)
    this.v = new Float32Array(size)
  }

  step(params: Float32Array, grads: Float32Array, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.o
    this.t++
    const c1 = 1 - beta1 ** this.t
    const c2 = Math.sqrt(1 - beta2 ** this.t)
    const shrink = 1 - lr * weightDecay
    const { m, v, decay } = this
    for (let i = 0; i < params.length; i++) {
      const g = grads[i]!
      const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * g)
      const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * g * g)
      const p = decay[i] === 1 ? params[i]! * shrink : params[i]!
      params[i] = p - ((lr / c1) * mi) / (Math.sqrt(vi) / c2 + eps)
    }
  }
}

/**
 * Scales grads so that their global L2 norm is at most maxNorm, as torch.nn.utils.clip_grad_norm_
 * (factor maxNorm/(norm + 1e-6) when below 1). Returns the norm before clipping; a NaN or infinite
 * gradient is a diverged training.
 */
export function clipGradients(grads: Float32Array, maxNorm: number, what: string): number {
  let sq = 0
  for (let i = 0; i < grads.length; i++) sq += grads[i]! * grads[i]!
  const norm = Math.sqrt(sq)
  if (!Number.isFinite(norm)) throw divergedError(`${what}: the gradient became ${norm} (the training diverged; a lower lr may help)`)
  const factor = maxNorm / (norm + 1e-6)
  if (factor < 1) for (let i = 0; i < grads.length; i++) grads[i]! *= factor
  return norm
}

/**
 * The rate of step s (1-based) of S: linear warm-up to lr over the first `warmup` steps, then
 * cosine decay to floor·lr at step S. A run of S ≤ warmup steps ends inside the warm-up.
 */
export function scheduledRate(s: number, S: number, lr: number, warmup: number, floor: number): number {
  if (s <= warmup) return (lr * s) / warmup
  const progress = (s - warmup) / (S - warmup)
  return floor * lr + (1 - floor) * lr * 0.5 * (1 + Math.cos(Math.PI * progress))
}
