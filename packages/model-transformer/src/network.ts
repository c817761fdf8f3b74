import type { Tensor1D, Tensor2D, Tf } from '@ouroboros/tf'
import { addColumnSums, addInto, attention, attentionBackward, cachedAttention, gelu, geluBackward, layerNorm, layerNormBackward, transpose } from './kernels.js'
import type { BlockSlots, Layout, Slot } from './layout.js'

/**
 * A GPT-2 style decoder (Radford et al. 2019; the shape of nanoGPT's model.py): token and learned
 * positional embeddings, pre-LayerNorm blocks of causal multi-head self-attention and a GELU MLP
 * with residual connections, a final LayerNorm, and logits from the token embedding (tied).
 *
 * Forward and backward passes are written out by hand: the matrix products run on tfjs (XNNPACK
 * on the wasm backend), everything else in JavaScript on Float32Arrays (kernels.ts). tfjs's tape
 * would record a few hundred small kernels per step, and the causal attention of a head is a 64 ×
 * 64 block that the wasm backend's batched product runs as a plain loop. The wasm backend also
 * runs a product with a transpose flag as a plain loop, so every transposed operand is made
 * explicitly.
 */

/** What the forward pass of one block keeps for the backward pass. */
interface BlockCache {
  readonly xhat1: Float32Array
  readonly rstd1: Float32Array
  readonly a1: Float32Array
  readonly qkv: Float32Array
  readonly probs: Float32Array
  readonly y: Float32Array
  readonly xhat2: Float32Array
  readonly rstd2: Float32Array
  readonly a2: Float32Array
  readonly pre: Float32Array
  readonly sig: Float32Array
  readonly h: Float32Array
}

export interface ForwardPass {
  readonly rows: number
  readonly length: number
  /** Model ids of the inputs, rows × length. */
  readonly inputs: Int32Array
  /** The final LayerNorm's output [rows·length, C]. */
  readonly xf: Float32Array
  readonly blocks: readonly BlockCache[]
  readonly xhatF: Float32Array
  readonly rstdF: Float32Array
}

/** Log-probabilities of the targets and, when asked, the gradient. */
export interface OutputPass {
  /** log p(target) of each position (natural log). */
  readonly logp: Float64Array
}

/** Below this a target's float32 softmax probability has lost precision; its row is redone in double. */
const SMALLEST_PROBABILITY = 1e-30

/** Parameter tensors uploaded for a step or for sampling; dispose() frees them. */
class Uploaded {
  readonly tensors: (Tensor1D | Tensor2D)[] = []
  private readonly transposed = new Map<Slot, Tensor2D>()
  constructor(
    private readonly tf: Tf,
    private readonly params: Float32Array,
  ) {}

  private readonly cache = new Map<Slot, Tensor1D | Tensor2D>()

  matrix(s: Slot): Tensor2D {
    let t = this.cache.get(s) as Tensor2D | undefined
    if (t === undefined) {
      t = this.tf.tensor2d(this.params.subarray(s.offset, s.offset + s.size), [s.shape[0]!, s.shape[1]!])
      this.cache.set(s, t)
      this.tensors.push(t)
    }
    return t
  }

  vector(s: Slot): Tensor1D {
    let t = this.cache.get(s) as Tensor1D | undefined
    if (t === undefined) {
      t = this.tf.tensor1d(this.params.subarray(s.offset, s.offset + s.size))
      this.cache.set(s, t)
      this.tensors.push(t)
    }
    return t
  }

  /** Wᵀ, made once. */
  transposed2d(s: Slot): Tensor2D {
    let t = this.transposed.get(s)
    if (t === undefined) {
      t = this.tf.tensor2d(transpose(this.params.subarray(s.offset, s.offset + s.size), s.shape[0]!, s.shape[1]!), [s.shape[1]!, s.shape[0]!])
      this.transposed.set(s, t)
      this.tensors.push(t)
    }
    return t
  }

  dispose(): void {
    for (const t of this.tensors) t.dispose()
    this.tensors.length = 0
    this.cache.clear()
    this.transposed.clear()
  }
}

/** The network with one set of parameters uploaded. */
export class Bound {
  private readonly up: Uploaded
  readonly C: number
  readonly V: number

  constructor(
    private readonly tf: Tf,
    readonly layout: Layout,
    readonly params: Float32Array,
  ) {
    this.up = new Uploaded(tf, params)
    this.C = layout.dims.dModel
    this.V = layout.dims.vocab
  }

  dispose(): void {
    this.up.dispose()
  }

  private view(s: Slot): Float32Array {
    return this.layout.view(this.params, s)
  }

  /** x·W + b for x [m, in] held in JavaScript; the result comes back as a Float32Array [m, out]. */
  private linear(x: Float32Array, m: number, w: Slot, b: Slot): Float32Array {
    const { tf } = this
    const a = tf.tensor2d(x, [m, w.shape[0]!])
    const out = tf.fused.matMul({ a, b: this.up.matrix(w), bias: this.up.vector(b) })
    const data = out.dataSync() as Float32Array
    a.dispose()
    out.dispose()
    return data
  }

  /** d·Wᵀ: the gradient of a linear layer's input. */
  private linearInputGrad(d: Float32Array, m: number, w: Slot): Float32Array {
    const { tf } = this
    const a = tf.tensor2d(d, [m, w.shape[1]!])
    const out = tf.matMul(a, this.up.transposed2d(w))
    const data = out.dataSync() as Float32Array
    a.dispose()
    out.dispose()
    return data
  }

  /** Adds xᵀ·d into the weight gradient and the column sums of d into the bias gradient. */
  private linearParamGrad(x: Float32Array, d: Float32Array, m: number, w: Slot, b: Slot, grads: Float32Array): void {
    const { tf } = this
    const [n, k] = [w.shape[0]!, w.shape[1]!]
    const xt = tf.tensor2d(transpose(x, m, n), [n, m])
    const dt = tf.tensor2d(d, [m, k])
    const out = tf.matMul(xt, dt)
    addInto(this.layout.view(grads, w), out.dataSync())
    xt.dispose()
    dt.dispose()
    out.dispose()
    addColumnSums(d, m, k, this.layout.view(grads, b))
  }

  /**
   * The blocks over `rows` rows of `length` ≤ T positions (model ids, position 0 first), up to the
   * final LayerNorm's output. With `keep`, the intermediate values the backward pass needs.
   */
  forward(inputs: Int32Array, rows: number, length: number, keep: boolean): ForwardPass {
    const { layout } = this
    const { dModel: C, ffn: F, heads: H } = layout.dims
    const N = rows * length
    const wte = this.view(layout.wte)
    const wpe = this.view(layout.wpe)
    let x = new Float32Array(N * C)
    for (let r = 0; r < N; r++) {
      const t = inputs[r]! * C
      const p = (r % length) * C
      for (let c = 0; c < C; c++) x[r * C + c] = wte[t + c]! + wpe[p + c]!
    }
    const blocks: BlockCache[] = []
    for (const s of layout.blocks) {
      const xhat1 = keep ? new Float32Array(N * C) : undefined
      const rstd1 = keep ? new Float32Array(N) : undefined
      const a1 = new Float32Array(N * C)
      layerNorm(x, N, C, this.view(s.ln1Gain), this.view(s.ln1Bias), a1, xhat1, rstd1)
      const qkv = this.linear(a1, N, s.qkvWeight, s.qkvBias)
      const probs = keep ? new Float32Array(rows * H * length * length) : undefined
      const y = new Float32Array(N * C)
      attention(qkv, rows, length, H, C, y, probs)
      const o = this.linear(y, N, s.projWeight, s.projBias)
      const mid = keep ? new Float32Array(x) : x
      addInto(mid, o)
      const xhat2 = keep ? new Float32Array(N * C) : undefined
      const rstd2 = keep ? new Float32Array(N) : undefined
      const a2 = new Float32Array(N * C)
      layerNorm(mid, N, C, this.view(s.ln2Gain), this.view(s.ln2Bias), a2, xhat2, rstd2)
      const pre = this.linear(a2, N, s.fcWeight, s.fcBias)
      const sig = keep ? new Float32Array(N * F) : undefined
      const h = keep ? new Float32Array(N * F) : pre
      gelu(pre, h, sig)
      const m = this.linear(h, N, s.outWeight, s.outBias)
      addInto(mid, m)
      x = mid
      if (keep) blocks.push({ xhat1: xhat1!, rstd1: rstd1!, a1, qkv, probs: probs!, y, xhat2: xhat2!, rstd2: rstd2!, a2, pre, sig: sig!, h })
    }
    const xf = new Float32Array(N * C)
    const xhatF = new Float32Array(keep ? N * C : 0)
    const rstdF = new Float32Array(keep ? N : 0)
    layerNorm(x, N, C, this.view(layout.lnfGain), this.view(layout.lnfBias), xf, keep ? xhatF : undefined, keep ? rstdF : undefined)
    return { rows, length, inputs, xf, blocks, xhatF, rstdF }
  }

  /**
   * log p(target) at each of the N positions of xf (the final LayerNorm's output), where
   * p = softmax(xf·wteᵀ). With `coef` (one per position) it also adds the gradient of
   * −Σ_r coef_r·log p(target_r) into grads (the output layer's share: wte) and returns dL/dxf.
   *
   * The softmax and the products stay on tfjs: with G = softmax(logits) − onehot(targets),
   * dL/dxf = coef ⊙ (P·wte − wte[targets]) and dL/dwte = Pᵀ·(coef ⊙ xf) − Σ_r coef_r·xf_r at the
   * target rows, so the [N, V] gradient of the logits is never formed; P is transposed once.
   */
  output(xf: Float32Array, N: number, targets: Int32Array, coef?: Float32Array, grads?: Float32Array): { logp: Float64Array; dxf?: Float32Array } {
    const { tf, layout, C, V } = this
    // The wasm backend transposes [N, V] several times faster for odd N: one zero row pads an even N.
    const rows = coef !== undefined && N % 2 === 0 ? N + 1 : N
    const xfRows = rows === N ? xf : padRows(xf, N, C, rows)
    const wte = this.view(layout.wte)
    const a = tf.tensor2d(xfRows, [rows, C])
    const logits = tf.matMul(a, this.up.transposed2d(layout.wte))
    const P = tf.softmax(logits)
    const flat = new Int32Array(N)
    for (let r = 0; r < N; r++) flat[r] = r * V + targets[r]!
    const picked = tf.tidy(() => tf.gather(tf.reshape(P, [-1]), tf.tensor1d(flat, 'int32')))
    const pt = picked.dataSync()
    picked.dispose()
    const logp = new Float64Array(N)
    for (let r = 0; r < N; r++) {
      if (pt[r]! >= SMALLEST_PROBABILITY) {
        logp[r] = Math.log(pt[r]!)
      } else {
        const row = tf.tidy(() => tf.slice(logits, [r, 0], [1, V]))
        logp[r] = logSoftmaxAt(row.dataSync(), targets[r]!)
        row.dispose()
      }
    }
    let dxf: Float32Array | undefined
    if (coef !== undefined && grads !== undefined) {
      const pw = tf.matMul(P, this.up.matrix(layout.wte))
      const g1 = pw.dataSync()
      pw.dispose()
      dxf = new Float32Array(N * C)
      for (let r = 0; r < N; r++) {
        const t = targets[r]! * C
        for (let c = 0; c < C; c++) dxf[r * C + c] = coef[r]! * (g1[r * C + c]! - wte[t + c]!)
      }
      const weighted = new Float32Array(rows * C)
      for (let r = 0; r < N; r++) for (let c = 0; c < C; c++) weighted[r * C + c] = coef[r]! * xf[r * C + c]!
      const pT = tf.transpose(P)
      const cx = tf.tensor2d(weighted, [rows, C])
      const dw = tf.matMul(pT, cx)
      const gw = layout.view(grads, layout.wte)
      addInto(gw, dw.dataSync())
      for (let r = 0; r < N; r++) {
        const t = targets[r]! * C
        for (let c = 0; c < C; c++) gw[t + c]! -= weighted[r * C + c]!
      }
      pT.dispose()
      cx.dispose()
      dw.dispose()
    }
    a.dispose()
    logits.dispose()
    P.dispose()
    return dxf === undefined ? { logp } : { logp, dxf }
  }

  /**
   * One position more of n sequences (sampling): sequence i sits in cache slot slots[i], has
   * positions[i] positions cached and feeds tokens[i] at the next one. Stores its keys and values
   * and returns the final LayerNorm's output [n, C].
   */
  decode(tokens: Int32Array, positions: Int32Array, slots: Int32Array, n: number, cache: KvCache): Float32Array {
    const { layout } = this
    const { dModel: C, heads: H } = layout.dims
    const T = cache.T
    const wte = this.view(layout.wte)
    const wpe = this.view(layout.wpe)
    const x = new Float32Array(n * C)
    for (let i = 0; i < n; i++) {
      const t = tokens[i]! * C
      const p = positions[i]! * C
      for (let c = 0; c < C; c++) x[i * C + c] = wte[t + c]! + wpe[p + c]!
    }
    const a = new Float32Array(n * C)
    const y = new Float32Array(n * C)
    const base = Int32Array.from(slots, (slot) => slot * T * C)
    layout.blocks.forEach((b, l) => {
      layerNorm(x, n, C, this.view(b.ln1Gain), this.view(b.ln1Bias), a)
      const qkv = this.linear(a, n, b.qkvWeight, b.qkvBias)
      const keys = cache.keys[l]!
      const values = cache.values[l]!
      for (let i = 0; i < n; i++) {
        const at = (slots[i]! * T + positions[i]!) * C
        keys.set(qkv.subarray(i * 3 * C + C, i * 3 * C + 2 * C), at)
        values.set(qkv.subarray(i * 3 * C + 2 * C, i * 3 * C + 3 * C), at)
      }
      cachedAttention(qkv, n, H, C, keys, values, base, positions, y)
      addInto(x, this.linear(y, n, b.projWeight, b.projBias))
      layerNorm(x, n, C, this.view(b.ln2Gain), this.view(b.ln2Bias), a)
      const h = this.linear(a, n, b.fcWeight, b.fcBias)
      gelu(h, h)
      addInto(x, this.linear(h, n, b.outWeight, b.outBias))
    })
    const xf = new Float32Array(n * C)
    layerNorm(x, n, C, this.view(layout.lnfGain), this.view(layout.lnfBias), xf)
    return xf
  }

  /** softmax(xf·wteᵀ / temperature) of n rows: [n, V]. */
  probabilities(xf: Float32Array, n: number, temperature: number): Float32Array {
    const { tf, layout, C } = this
    const scaled = temperature === 1 ? xf : xf.map((v) => v / temperature)
    const a = tf.tensor2d(scaled, [n, C])
    const logits = tf.matMul(a, this.up.transposed2d(layout.wte))
    const P = tf.softmax(logits)
    const data = P.dataSync() as Float32Array
    a.dispose()
    logits.dispose()
    P.dispose()
    return data
  }

  /** Backpropagates dL/dxf through the blocks and the embeddings, adding into grads. */
  backward(pass: ForwardPass, dxf: Float32Array, grads: Float32Array): void {
    const { layout } = this
    const { dModel: C, heads: H } = layout.dims
    const { rows, length } = pass
    const N = rows * length
    const dx = new Float32Array(N * C)
    layerNormBackward(dxf, pass.xhatF, pass.rstdF, N, C, this.view(layout.lnfGain), dx, layout.view(grads, layout.lnfGain), layout.view(grads, layout.lnfBias))
    for (let l = layout.blocks.length - 1; l >= 0; l--) {
      const s = layout.blocks[l]!
      const c = pass.blocks[l]!
      this.blockBackward(s, c, dx, N, rows, length, H, C, grads)
    }
    const gwte = layout.view(grads, layout.wte)
    const gwpe = layout.view(grads, layout.wpe)
    for (let r = 0; r < N; r++) {
      const t = pass.inputs[r]! * C
      const p = (r % length) * C
      for (let k = 0; k < C; k++) {
        gwte[t + k]! += dx[r * C + k]!
        gwpe[p + k]! += dx[r * C + k]!
      }
    }
  }

  /** One block backward; dx holds dL/d(block output) on entry and dL/d(block input) on return. */
  private blockBackward(s: BlockSlots, c: BlockCache, dx: Float32Array, N: number, rows: number, length: number, H: number, C: number, grads: Float32Array): void {
    const { layout } = this
    // x_out = mid + h·W_out + b_out, h = gelu(a2·W_fc + b_fc), a2 = LN2(mid).
    this.linearParamGrad(c.h, dx, N, s.outWeight, s.outBias, grads)
    const dh = this.linearInputGrad(dx, N, s.outWeight)
    geluBackward(dh, c.pre, c.sig)
    this.linearParamGrad(c.a2, dh, N, s.fcWeight, s.fcBias, grads)
    const da2 = this.linearInputGrad(dh, N, s.fcWeight)
    layerNormBackward(da2, c.xhat2, c.rstd2, N, C, this.view(s.ln2Gain), da2, layout.view(grads, s.ln2Gain), layout.view(grads, s.ln2Bias))
    addInto(dx, da2)
    // mid = x_in + attention(qkv)·W_proj + b_proj, qkv = a1·W_qkv + b_qkv, a1 = LN1(x_in).
    this.linearParamGrad(c.y, dx, N, s.projWeight, s.projBias, grads)
    const dy = this.linearInputGrad(dx, N, s.projWeight)
    const dqkv = new Float32Array(N * 3 * C)
    attentionBackward(c.qkv, dy, c.probs, rows, length, H, C, dqkv)
    this.linearParamGrad(c.a1, dqkv, N, s.qkvWeight, s.qkvBias, grads)
    const da1 = this.linearInputGrad(dqkv, N, s.qkvWeight)
    layerNormBackward(da1, c.xhat1, c.rstd1, N, C, this.view(s.ln1Gain), da1, layout.view(grads, s.ln1Gain), layout.view(grads, s.ln1Bias))
    addInto(dx, da1)
  }
}

/** Keys and values of every position so far, per layer: [slots, T, C] each. */
export class KvCache {
  readonly keys: Float32Array[]
  readonly values: Float32Array[]
  constructor(
    layers: number,
    readonly slots: number,
    readonly T: number,
    readonly C: number,
  ) {
    this.keys = Array.from({ length: layers }, () => new Float32Array(slots * T * C))
    this.values = Array.from({ length: layers }, () => new Float32Array(slots * T * C))
  }
}

/** x [n, C] with zero rows appended up to `rows`. */
function padRows(x: Float32Array, n: number, C: number, rows: number): Float32Array {
  const out = new Float32Array(rows * C)
  out.set(x.subarray(0, n * C))
  return out
}

/** log softmax(row)[t], in double. */
function logSoftmaxAt(row: ArrayLike<number>, t: number): number {
  let max = -Infinity
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!)
  let s = 0
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i]! - max)
  return row[t]! - max - Math.log(s)
}
