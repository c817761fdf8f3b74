import { divergedError } from '@ouroboros/core'

/**
 * First-order optimisers on flat Float32Array parameters, in JavaScript: the gradient comes back
 * from the backend in one read, and one loop updates every parameter. tfjs's own optimisers run
 * about ten kernels per parameter tensor per step, which costs more than the network itself at
 * these sizes. Both check the gradient as they go and throw a diverged error on NaN or ∞, so a
 * run that blows up stops at the step it happened instead of training on garbage.
 */
export interface Optimizer {
  /** Applies one update from grads (same length as params). `what` names the network in errors. */
  step(params: Float32Array, grads: ArrayLike<number>, what: string): void
  /** A copy of the optimiser's state (unrolled GAN steps roll it back). */
  snapshot(): OptimizerSnapshot
  restore(s: OptimizerSnapshot): void
}

export interface OptimizerSnapshot {
  readonly t: number
  readonly m: Float32Array
  readonly v: Float32Array
}

/**
 * L2-SP (Li et al. 2018, "Explicit inductive bias for transfer learning"): each update also
 * descends (weight/2)·‖θ − reference‖², whose gradient weight·(θ − reference) the optimiser adds
 * to the one it is given, so it passes through Adam's moments like the data's gradient does.
 */
export interface Anchor {
  readonly weight: number
  /** The pretrained parameters, in the optimised array's layout. */
  readonly reference: Float32Array
}

export interface AdamOptions {
  readonly lr: number
  readonly beta1: number
  readonly beta2: number
  readonly eps?: number
  readonly anchor?: Anchor | undefined
}

/** Adam as in PyTorch (eps added to the bias-corrected √v). */
export class Adam implements Optimizer {
  private t = 0
  private m: Float32Array
  private v: Float32Array

  constructor(
    size: number,
    private readonly o: AdamOptions,
  ) {
    this.m = new Float32Array(size)
    this.v = new Float32Array(size)
  }

  step(params: Float32Array, grads: ArrayLike<number>, what: string): void {
    const { lr, beta1, beta2 } = this.o
    const eps = this.o.eps ?? 1e-8
    this.t++
    const c1 = 1 - beta1 ** this.t
    const c2 = 1 - beta2 ** this.t
    // lr·m̂/(√v̂ + eps) = (lr·√c2/c1)·m/(√v + eps·√c2)
    const a = (lr * Math.sqrt(c2)) / c1
    const e = eps * Math.sqrt(c2)
    const { m, v } = this
    const anchor = this.o.anchor
    // g·0 is 0 for finite g and NaN otherwise: one accumulator checks the whole gradient.
    let check = 0
    for (let i = 0; i < params.length; i++) {
      const g = anchor === undefined ? grads[i]! : grads[i]! + anchor.weight * (params[i]! - anchor.reference[i]!)
      check += g * 0
      // Moments of parameters whose gradient stays 0 (dead ReLU units) decay geometrically into
      // float32's subnormal range, where every load costs the CPU a microcode assist (this loop
      // ran 6x slower in a GAN with β1 = 0.5); below TINY they are flushed to 0, which changes no
      // float32 parameter: their update is under 1e-20.
      let mi = beta1 * m[i]! + (1 - beta1) * g
      let vi = beta2 * v[i]! + (1 - beta2) * g * g
      if (Math.abs(mi) < TINY) mi = 0
      if (vi < TINY) vi = 0
      m[i] = mi
      v[i] = vi
      params[i]! -= (a * mi) / (Math.sqrt(vi) + e)
    }
    if (check !== 0) throw nonFinite(what, this.t)
  }

  snapshot(): OptimizerSnapshot {
    return { t: this.t, m: this.m.slice(), v: this.v.slice() }
  }

  restore(s: OptimizerSnapshot): void {
    this.t = s.t
    this.m.set(s.m)
    this.v.set(s.v)
  }
}

export interface RmspropOptions {
  readonly lr: number
  /** Decay of the squared-gradient average (PyTorch's alpha). */
  readonly alpha?: number
  readonly eps?: number
  readonly anchor?: Anchor | undefined
}

/** RMSprop as in PyTorch without momentum: the optimiser of the original WGAN. */
export class Rmsprop implements Optimizer {
  private t = 0
  private v: Float32Array

  constructor(
    size: number,
    private readonly o: RmspropOptions,
  ) {
    this.v = new Float32Array(size)
  }

  step(params: Float32Array, grads: ArrayLike<number>, what: string): void {
    const { lr } = this.o
    const alpha = this.o.alpha ?? 0.99
    const eps = this.o.eps ?? 1e-8
    this.t++
    const { v } = this
    const anchor = this.o.anchor
    let check = 0
    for (let i = 0; i < params.length; i++) {
      const g = anchor === undefined ? grads[i]! : grads[i]! + anchor.weight * (params[i]! - anchor.reference[i]!)
      check += g * 0
      let vi = alpha * v[i]! + (1 - alpha) * g * g
      if (vi < TINY) vi = 0
      v[i] = vi
      params[i]! -= (lr * g) / (Math.sqrt(vi) + eps)
    }
    if (check !== 0) throw nonFinite(what, this.t)
  }

  snapshot(): OptimizerSnapshot {
    return { t: this.t, m: new Float32Array(0), v: this.v.slice() }
  }

  restore(s: OptimizerSnapshot): void {
    this.t = s.t
    this.v.set(s.v)
  }
}

/** Moment values below this are stored as 0 (see Adam.step). */
const TINY = 1e-30

function nonFinite(what: string, step: number): Error {
  return divergedError(`${what}: the gradient became NaN or infinite at step ${step} (the training diverged; a lower learning rate may help)`)
}
