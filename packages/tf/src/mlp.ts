import type { Tensor1D, Tensor2D } from '@tensorflow/tfjs'
import { inputError, type Rng } from '@ouroboros/core'
import type { Tf } from './backend.js'

export type Activation = 'relu' | 'leaky_relu' | 'linear'

export interface DenseLayer {
  readonly in: number
  readonly out: number
  readonly activation: Activation
}

/**
 * A multilayer perceptron whose parameters live in a Float32Array owned by the caller, at
 * `base`: per layer the weights W (in × out, row-major) and then the bias b (out). That block is
 * laid out exactly as the row-major [in + 1, out] matrix [W; b], which is what `backward`
 * computes as the layer's gradient, so a network's gradient is one flat tensor in parameter order
 * and comes back from the backend in one read.
 *
 * Training runs forward and backward as explicit tensor ops rather than through tfjs's tape: it
 * needs about half the kernels (the tape unfuses matMul + bias + activation and records every op),
 * and the optimiser runs in JavaScript on the flat arrays (see optim.ts).
 */
export class Mlp {
  readonly layers: readonly DenseLayer[]
  /** Start of each layer's [W; b] block, relative to `base`. */
  readonly offsets: readonly number[]
  /** Number of parameters. */
  readonly size: number
  readonly base: number
  /** Negative slope of leaky_relu. */
  readonly leak: number

  /** widths = [input, hidden..., output]; `hidden` applies after every layer but the last. */
  constructor(widths: readonly number[], hidden: Activation, output: Activation, options: { base?: number; leak?: number } = {}) {
    if (widths.length < 2) throw new RangeError('Mlp: needs an input and an output width')
    const layers: DenseLayer[] = []
    const offsets: number[] = []
    let size = 0
    for (let k = 0; k + 1 < widths.length; k++) {
      const layer = { in: widths[k]!, out: widths[k + 1]!, activation: k + 2 === widths.length ? output : hidden }
      layers.push(layer)
      offsets.push(size)
      size += (layer.in + 1) * layer.out
    }
    this.layers = layers
    this.offsets = offsets
    this.size = size
    this.base = options.base ?? 0
    this.leak = options.leak ?? 0.2
  }

  get inputs(): number {
    return this.layers[0]!.in
  }

  get outputs(): number {
    return this.layers[this.layers.length - 1]!.out
  }

  /** PyTorch's nn.Linear default: W and b uniform in ±1/√in. */
  init(params: Float32Array, rng: Rng): void {
    this.layers.forEach((layer, k) => {
      const bound = 1 / Math.sqrt(layer.in)
      const at = this.base + this.offsets[k]!
      for (let i = 0; i < (layer.in + 1) * layer.out; i++) params[at + i] = bound * (2 * rng.uniform() - 1)
    })
  }

  /** A view of layer k's weights (in × out, row-major) in params. */
  weights(params: Float32Array, k: number): Float32Array {
    const layer = this.layers[k]!
    const at = this.base + this.offsets[k]!
    return params.subarray(at, at + layer.in * layer.out)
  }

  /** A view of layer k's bias in params. */
  bias(params: Float32Array, k: number): Float32Array {
    const layer = this.layers[k]!
    const at = this.base + this.offsets[k]! + layer.in * layer.out
    return params.subarray(at, at + layer.out)
  }

  /** Uploads the parameters for this step's ops. Dispose the tensors (tf.tidy) before changing params. */
  bind(tf: Tf, params: Float32Array): BoundMlp {
    return new BoundMlp(
      tf,
      this,
      this.layers.map((l, k) => tf.tensor2d(this.weights(params, k), [l.in, l.out])),
      this.layers.map((l, k) => tf.tensor1d(this.bias(params, k))),
    )
  }

  /** Named copies of the parameters, for a model's state: `${prefix}.${k}.weight` (in × out) and `.bias`. */
  exportWeights(params: Float32Array, prefix: string): NamedWeights[] {
    return this.layers.flatMap((l, k) => [
      { name: `${prefix}.${k}.weight`, shape: [l.in, l.out], data: this.weights(params, k).slice() },
      { name: `${prefix}.${k}.bias`, shape: [l.out], data: this.bias(params, k).slice() },
    ])
  }

  /** Copies weights exported by an identically shaped network into params (a warm start). */
  importWeights(params: Float32Array, weights: readonly NamedWeights[], prefix: string): void {
    const byName = new Map(weights.map((w) => [w.name, w]))
    this.layers.forEach((l, k) => {
      for (const [suffix, shape, target] of [
        ['weight', [l.in, l.out], this.weights(params, k)],
        ['bias', [l.out], this.bias(params, k)],
      ] as const) {
        const name = `${prefix}.${k}.${suffix}`
        const w = byName.get(name)
        if (w === undefined || w.shape.join('x') !== shape.join('x')) {
          throw inputError(
            `warm start: the previous state has ${w === undefined ? `no ${name}` : `${name} of shape ${w.shape.join('x')}`}, expected ${shape.join('x')}`,
            'a warm start needs the same network sizes in every generation',
          )
        }
        target.set(w.data)
      }
    })
  }
}

/** One named parameter tensor of a model's state (structured-cloneable, v8-serialisable). */
export interface NamedWeights {
  readonly name: string
  readonly shape: readonly number[]
  readonly data: Float32Array
}

/** What `forward` keeps for `backward`: the input and the output (after activation) of each layer. */
export interface Trace {
  readonly inputs: readonly Tensor2D[]
  readonly outputs: readonly Tensor2D[]
}

/** An Mlp with its parameters uploaded for one step. */
export class BoundMlp {
  private readonly transposed: (Tensor2D | undefined)[]

  constructor(
    private readonly tf: Tf,
    readonly mlp: Mlp,
    readonly w: readonly Tensor2D[],
    readonly b: readonly Tensor1D[],
  ) {
    this.transposed = w.map(() => undefined)
  }

  /**
   * Wᵀ of layer k, computed once per bind. The wasm backend runs matMul with a transpose flag as a
   * plain loop, about 8x slower than the XNNPACK kernel it uses for untransposed operands, so every
   * transpose here is explicit.
   */
  wt(k: number): Tensor2D {
    return (this.transposed[k] ??= this.tf.transpose(this.w[k]!))
  }

  forward(x: Tensor2D): Trace {
    const { tf, mlp } = this
    const inputs: Tensor2D[] = []
    const outputs: Tensor2D[] = []
    let h = x
    mlp.layers.forEach((layer, k) => {
      inputs.push(h)
      // matMul, bias and activation in one kernel.
      h = tf.fused.matMul({
        a: h,
        b: this.w[k]!,
        bias: this.b[k]!,
        activation: layer.activation === 'leaky_relu' ? 'leakyrelu' : layer.activation,
        leakyreluAlpha: mlp.leak,
      }) as Tensor2D
      outputs.push(h)
    })
    return { inputs, outputs }
  }

  /** The output alone (sampling, evaluation). */
  apply(x: Tensor2D): Tensor2D {
    const { outputs } = this.forward(x)
    return outputs[outputs.length - 1]!
  }

  /** dL/d(pre-activation) of layer k from dL/d(output) and the layer's output. */
  preActivationGrad(k: number, y: Tensor2D, dy: Tensor2D): Tensor2D {
    const { tf, mlp } = this
    const activation = mlp.layers[k]!.activation
    if (activation === 'linear') return dy
    // y > 0 exactly where the pre-activation is, for relu and leaky relu alike; step(y, α) is 1 there, α elsewhere.
    return tf.mul(dy, tf.step(y, activation === 'relu' ? 0 : mlp.leak))
  }

  /**
   * Backpropagates dL/d(output) through the network. `grads`: the flat parameter gradient in the
   * Mlp's layout (omitted when only the input gradient is wanted); `dx`: dL/d(input).
   */
  backward(trace: Trace, dOut: Tensor2D, want: { grads: boolean; dx: boolean }): { grads?: Tensor1D; dx?: Tensor2D } {
    const { tf, mlp } = this
    const blocks: Tensor1D[] = []
    let dy = dOut
    let dx: Tensor2D | undefined
    for (let k = mlp.layers.length - 1; k >= 0; k--) {
      const x = trace.inputs[k]!
      const d = this.preActivationGrad(k, trace.outputs[k]!, dy)
      if (want.grads) blocks.push(tf.reshape(weightGradient(tf, x, d), [-1]))
      if (k > 0 || want.dx) {
        dy = tf.matMul(d, this.wt(k))
        if (k === 0) dx = dy
      }
    }
    return {
      ...(want.grads ? { grads: tf.concat(blocks.reverse()) } : {}),
      ...(dx === undefined ? {} : { dx }),
    }
  }
}

/**
 * The wasm backend's transpose is up to 15x slower when the row count is even (a multiple of 128
 * worst: 512x128 takes 0.3 ms, 513x128 0.02 ms; its output rows then alias in the cache), so
 * products over the batch transpose an odd number of rows: an even batch gets one zero row
 * appended to both factors, which adds nothing to the product.
 */
function extraRow(n: number): number {
  return n % 2 === 0 ? 1 : 0
}

/** aᵀ·b for a [n, p] and b [n, q]. */
export function transposedProduct(tf: Tf, a: Tensor2D, b: Tensor2D): Tensor2D {
  return tf.matMul(tf.transpose(withExtraRow(tf, a)), withExtraRow(tf, b))
}

/** t with one zero row appended when its row count is even. */
function withExtraRow(tf: Tf, t: Tensor2D): Tensor2D {
  return extraRow(t.shape[0]) === 0
    ? t
    : tf.pad(t, [
        [0, 1],
        [0, 0],
      ])
}

/**
 * [x, 1]ᵀ · d = [dW; db] for a layer with input x [n, in] and pre-activation gradient d [n, out]:
 * the bias gradient (a column sum) rides along in the same matMul. The column of ones is added by
 * one pad (constant 1) rather than a concat, which the wasm backend runs row by row in JavaScript
 * along axis 1; the padded extra row of x meets a zero row of d.
 */
function weightGradient(tf: Tf, x: Tensor2D, d: Tensor2D): Tensor2D {
  const extra = extraRow(x.shape[0])
  const x1 = tf.pad(
    x,
    [
      [0, extra],
      [0, 1],
    ],
    1,
  )
  return tf.matMul(tf.transpose(x1), withExtraRow(tf, d))
}
