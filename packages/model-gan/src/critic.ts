import { Mlp, transposedProduct, type BoundMlp, type Tensor1D, type Tensor2D, type Tensor3D, type Tf, type Trace } from '@ouroboros/tf'

/**
 * The discriminator (critic): an MLP body with leaky ReLUs on packed inputs, then one linear
 * output unit. Optionally the minibatch-stddev feature (Karras et al. 2018) is appended to the
 * body's output before the output unit: the mean over features of the per-feature standard
 * deviation across the batch, which lets the critic see a collapsed batch. Its backward passes
 * (parameter gradient, input gradient, and the gradient of the WGAN-GP penalty, a gradient of a
 * gradient) are written out as tensor ops.
 */
export class Critic {
  readonly body: Mlp
  readonly head: Mlp
  readonly size: number

  constructor(
    /** Width of one packed input: data dimension × pack. */
    readonly inputs: number,
    hidden: readonly number[],
    readonly minibatchStddev: boolean,
    leak: number,
  ) {
    this.body = new Mlp([inputs, ...hidden], 'leaky_relu', 'leaky_relu', { leak })
    const last = hidden[hidden.length - 1]!
    this.head = new Mlp([last + (minibatchStddev ? 1 : 0), 1], 'linear', 'linear', { base: this.body.size })
    this.size = this.body.size + this.head.size
  }

  /** Dense layers in parameter order (body, then head), with their network and index. */
  get layers(): { net: Mlp; k: number }[] {
    return [...this.body.layers.map((_, k) => ({ net: this.body, k })), ...this.head.layers.map((_, k) => ({ net: this.head, k }))]
  }

  bind(tf: Tf, params: Float32Array): BoundCritic {
    return new BoundCritic(tf, this, this.body.bind(tf, params), this.head.bind(tf, params))
  }
}

export interface CriticTrace {
  readonly body: Trace
  readonly head: Trace
  /** Minibatch-stddev: per group the centred features and their per-feature std. */
  readonly stddev?: { readonly centred: Tensor3D; readonly std: Tensor3D; readonly groups: number }
  readonly out: Tensor2D
}

const STD_EPS = 1e-8

export class BoundCritic {
  constructor(
    private readonly tf: Tf,
    readonly critic: Critic,
    readonly body: BoundMlp,
    readonly head: BoundMlp,
  ) {}

  /** Scores of x ([n, inputs]); the minibatch-stddev statistic is taken within each of `groups` equal row blocks. */
  forward(x: Tensor2D, groups: number): CriticTrace {
    const { tf } = this
    const body = this.body.forward(x)
    let features = body.outputs[body.outputs.length - 1]!
    let stddev: CriticTrace['stddev']
    if (this.critic.minibatchStddev) {
      const [n, H] = features.shape
      const h3 = tf.reshape(features, [groups, n / groups, H]) as Tensor3D
      const centred = tf.sub(h3, tf.mean(h3, 1, true)) as Tensor3D
      const std = tf.sqrt(tf.add(tf.mean(tf.square(centred), 1, true), STD_EPS)) as Tensor3D
      const s = tf.mean(std, 2, true)
      // [h, s]: s goes into the padded last column through a one-hot row; the wasm backend
      // concatenates along axis 1 row by row in JavaScript.
      const column = tf.reshape(tf.tile(s, [1, n / groups, 1]), [n, 1])
      const last = tf.tensor2d(Float32Array.from({ length: H + 1 }, (_, j) => (j === H ? 1 : 0)), [1, H + 1])
      features = tf.add(
        tf.pad(features, [
          [0, 0],
          [0, 1],
        ]),
        tf.mul(column, last),
      ) as Tensor2D
      stddev = { centred, std, groups }
    }
    const head = this.head.forward(features)
    return { body, head, ...(stddev === undefined ? {} : { stddev }), out: head.outputs[0]! }
  }

  /** Backpropagates dL/d(score): the flat parameter gradient (body, then head) and/or dL/dx. */
  backward(trace: CriticTrace, dOut: Tensor2D, want: { grads: boolean; dx: boolean }): { grads?: Tensor1D; dx?: Tensor2D } {
    const { tf } = this
    const head = this.head.backward(trace.head, dOut, { grads: want.grads, dx: true })
    let dh = head.dx!
    if (trace.stddev !== undefined) {
      const { centred, std, groups } = trace.stddev
      const [, m, H] = centred.shape
      const [dFeatures, dColumn] = tf.split(dh, [H, 1], 1) as [Tensor2D, Tensor2D]
      // s = mean_j std_j; ∂std_j/∂h_ij = (h_ij − mean_j)/(m·std_j) (the mean's own term sums to 0).
      const ds = tf.sum(tf.reshape(dColumn, [groups, m, 1]), 1, true)
      const dh3 = tf.mul(tf.div(centred, std), tf.div(ds, m * H))
      dh = tf.add(dFeatures, tf.reshape(dh3, [groups * m, H])) as Tensor2D
    }
    const body = this.body.backward(trace.body, dh, want)
    return {
      ...(want.grads ? { grads: tf.concat([body.grads!, head.grads!]) as Tensor1D } : {}),
      ...(body.dx === undefined ? {} : { dx: body.dx }),
    }
  }

  /**
   * The WGAN-GP penalty λ·mean_i (‖∇ₓD(x̂_i)‖ − 1)² at the rows of xHat and its gradient with
   * respect to the critic's parameters (Gulrajani et al. 2017). tfjs cannot differentiate its own
   * gradients, so both passes are written out: with leaky ReLUs the input gradient is the linear
   * chain r = ((w_out ⊙ m_L) W_Lᵀ ⊙ m_{L−1}) … W_1ᵀ of the layer masks m (constant almost
   * everywhere), and the penalty's gradient is backpropagated through that chain. The biases do
   * not enter r, so their gradient is zero. Not defined with the minibatch-stddev feature.
   */
  penalty(xHat: Tensor2D, weight: number): { value: Tensor1D; grads: Tensor1D } {
    const { tf, body, head } = this
    const trace = body.forward(xHat)
    const L = body.mlp.layers.length
    const n = xHat.shape[0]
    const leak = body.mlp.leak
    const masks = trace.outputs.map((h) => tf.step(h, leak))
    // Forward chain: delta[k] = dD/d(pre-activation of body layer k), per row.
    const delta: Tensor2D[] = new Array(L)
    const wOut = tf.reshape(head.w[0]!, [1, -1])
    delta[L - 1] = tf.mul(masks[L - 1]!, wOut) as Tensor2D
    for (let k = L - 1; k > 0; k--) delta[k - 1] = tf.mul(tf.matMul(delta[k]!, body.wt(k)), masks[k - 1]!) as Tensor2D
    const r = tf.matMul(delta[0]!, body.wt(0))
    const norm = tf.sqrt(tf.add(tf.sum(tf.square(r), 1, true), 1e-12))
    const gap = tf.sub(norm, 1)
    const value = tf.reshape(tf.mul(tf.mean(tf.square(gap)), weight), [1]) as Tensor1D
    // Backward through the chain.
    const dR = tf.mul(tf.mul(r, tf.div(gap, norm)), (2 * weight) / n) as Tensor2D
    const blocks: Tensor1D[] = new Array(L)
    // r = delta_0 W_0ᵀ: dW_0 = dRᵀ delta_0, d delta_0 = dR W_0.
    let dDelta = tf.matMul(dR, body.w[0]!)
    blocks[0] = this.weightOnly(transposedProduct(tf, dR, delta[0]!))
    for (let k = 1; k < L; k++) {
      // delta_{k−1} = (delta_k W_kᵀ) ⊙ m_{k−1}
      const u = tf.mul(dDelta, masks[k - 1]!) as Tensor2D
      blocks[k] = this.weightOnly(transposedProduct(tf, u, delta[k]!))
      dDelta = tf.matMul(u, body.w[k]!)
    }
    // delta_{L−1} = m_{L−1} ⊙ w_outᵀ: the output weights get Σ_rows dDelta ⊙ m, the output bias nothing.
    const dWOut = tf.reshape(tf.sum(tf.mul(dDelta, masks[L - 1]!), 0), [-1, 1]) as Tensor2D
    return { value, grads: tf.concat([...blocks, this.weightOnly(dWOut)]) as Tensor1D }
  }

  /** A layer's [dW; db] block with db = 0, flattened. */
  private weightOnly(dW: Tensor2D): Tensor1D {
    const { tf } = this
    return tf.reshape(tf.concat([dW, tf.zeros([1, dW.shape[1]])], 0), [-1]) as Tensor1D
  }
}
