import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import { loadTf } from '@ouroboros/tf'
import { attention, attentionBackward, gelu, geluBackward, layerNorm, layerNormBackward } from './kernels.js'
import { Layout } from './layout.js'
import { Bound } from './network.js'

// Analytic gradients against central finite differences of the same functions. Values are stored
// as float32, so the checks use directional derivatives along random unit directions (a large
// signal against the rounding) with tolerances a few times the float32 noise of the difference.
process.env['OUROBOROS_BACKEND'] = 'cpu'

const randoms = (n: number, rng: Rng, scale = 1): Float32Array => Float32Array.from({ length: n }, () => scale * rng.normal())
const unit = (n: number, rng: Rng): Float64Array => {
  const u = Float64Array.from({ length: n }, () => rng.normal())
  const norm = Math.sqrt(u.reduce((a, b) => a + b * b, 0))
  return u.map((v) => v / norm)
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!
  return s
}

/** (f(x + εu) − f(x − εu)) / 2ε for x in float32. */
function directional(f: (x: Float32Array) => number, x: Float32Array, u: Float64Array, eps: number): number {
  const plus = x.map((v, i) => v + eps * u[i]!)
  const minus = x.map((v, i) => v - eps * u[i]!)
  return (f(plus) - f(minus)) / (2 * eps)
}

describe('gradients against finite differences', () => {
  it('causal multi-head attention: dL/d(queries, keys, values)', () => {
    const rng = Rng.from(1)
    const [rows, T, H, C] = [2, 5, 2, 6]
    const qkv = randoms(rows * T * 3 * C, rng)
    const weights = randoms(rows * T * C, rng)
    // L = Σ weights ⊙ attention(qkv): its gradient with respect to the output is `weights`.
    const loss = (x: Float32Array): number => {
      const y = new Float32Array(rows * T * C)
      attention(x, rows, T, H, C, y)
      return dot(y, weights)
    }
    const y = new Float32Array(rows * T * C)
    const probs = new Float32Array(rows * H * T * T)
    attention(qkv, rows, T, H, C, y, probs)
    const grad = new Float32Array(qkv.length)
    attentionBackward(qkv, weights, probs, rows, T, H, C, grad)
    for (let k = 0; k < 8; k++) {
      const u = unit(qkv.length, rng)
      expect(Math.abs(directional(loss, qkv, u, 1e-2) - dot(grad, u))).toBeLessThan(2e-4)
    }
    // Causality: a key or value at position j changes no output before j.
    const late = qkv.slice()
    for (let c = C; c < 3 * C; c++) late[(T - 1) * 3 * C + c]! += 1
    const y2 = new Float32Array(rows * T * C)
    attention(late, rows, T, H, C, y2)
    expect(Array.from(y2.subarray(0, (T - 1) * C))).toEqual(Array.from(y.subarray(0, (T - 1) * C)))
  })

  it('LayerNorm and GELU (tanh form)', () => {
    const rng = Rng.from(2)
    const [rows, C] = [3, 7]
    const x = randoms(rows * C, rng, 2)
    const gain = randoms(C, rng)
    const bias = randoms(C, rng)
    const w = randoms(rows * C, rng)
    const ln = (v: Float32Array): number => {
      const y = new Float32Array(rows * C)
      layerNorm(v, rows, C, gain, bias, y)
      return dot(y, w)
    }
    const xhat = new Float32Array(rows * C)
    const rstd = new Float32Array(rows)
    layerNorm(x, rows, C, gain, bias, new Float32Array(rows * C), xhat, rstd)
    const dx = new Float32Array(rows * C)
    const dGain = new Float32Array(C)
    const dBias = new Float32Array(C)
    layerNormBackward(w, xhat, rstd, rows, C, gain, dx, dGain, dBias)
    for (let k = 0; k < 4; k++) {
      const u = unit(x.length, rng)
      expect(Math.abs(directional(ln, x, u, 1e-2) - dot(dx, u))).toBeLessThan(2e-4)
    }
    // dL/dgain: L is linear in the gain, so the difference is exact up to rounding.
    const lnOfGain = (g: Float32Array): number => {
      const y = new Float32Array(rows * C)
      layerNorm(x, rows, C, g, bias, y)
      return dot(y, w)
    }
    const ug = unit(C, rng)
    expect(Math.abs(directional(lnOfGain, gain, ug, 1e-2) - dot(dGain, ug))).toBeLessThan(2e-4)

    const pre = randoms(40, rng, 2)
    const wg = randoms(40, rng)
    const gl = (v: Float32Array): number => {
      const y = new Float32Array(v.length)
      gelu(v, y)
      return dot(y, wg)
    }
    // GELU's tanh form at a few points, from its definition.
    const at = Float32Array.from([-3, -0.5, 0, 1, 2.5])
    const out = new Float32Array(5)
    gelu(at, out)
    at.forEach((v, i) => expect(out[i]).toBeCloseTo(0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))), 6))
    const sig = new Float32Array(40)
    gelu(pre, new Float32Array(40), sig)
    const d = Float32Array.from(wg)
    geluBackward(d, pre, sig)
    for (let k = 0; k < 4; k++) {
      const u = unit(40, rng)
      expect(Math.abs(directional(gl, pre, u, 1e-2) - dot(d, u))).toBeLessThan(2e-4)
    }
  })

  it('the whole network: dL/dθ of the weighted cross-entropy for each parameter tensor', async () => {
    const { tf } = await loadTf()
    const rng = Rng.from(3)
    const layout = new Layout({ vocab: 11, context: 6, layers: 2, heads: 2, dModel: 8, ffn: 12 })
    const theta = new Float32Array(layout.size)
    // Larger than GPT-2's 0.02, so that every path carries a gradient well above the rounding.
    layout.init(theta, rng)
    for (let i = 0; i < theta.length; i++) theta[i]! += 0.3 * rng.normal()
    const [rows, T] = [2, 6]
    const inputs = Int32Array.from({ length: rows * T }, () => rng.int(11))
    const targets = Int32Array.from({ length: rows * T }, () => rng.int(11))
    const coef = Float32Array.from({ length: rows * T }, () => rng.uniform())
    const loss = (p: Float32Array): number => {
      const net = new Bound(tf, layout, p)
      const pass = net.forward(inputs, rows, T, false)
      const { logp } = net.output(pass.xf, rows * T, targets)
      net.dispose()
      return -dot(logp, coef)
    }
    const grads = new Float32Array(layout.size)
    const net = new Bound(tf, layout, theta)
    const pass = net.forward(inputs, rows, T, true)
    const out = net.output(pass.xf, rows * T, targets, coef, grads)
    net.backward(pass, out.dxf!, grads)
    net.dispose()
    expect(-dot(out.logp, coef)).toBeCloseTo(loss(theta), 10)
    for (const s of layout.slots) {
      const u = new Float64Array(layout.size)
      u.set(unit(s.size, rng), s.offset)
      const fd = directional(loss, theta, u, 1e-2)
      const analytic = dot(grads, u)
      expect(Math.abs(fd - analytic), s.name).toBeLessThan(5e-4 + 2e-3 * Math.abs(analytic))
    }
  })
})
