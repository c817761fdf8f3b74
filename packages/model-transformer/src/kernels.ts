/**
 * The network's element-wise and attention arithmetic, on row-major Float32Arrays in plain
 * JavaScript (each value computed in double, stored as float32). The matrix products run on
 * tfjs (network.ts); these pieces are cheap next to them, and the causal attention of each head is
 * a 64 × 64 block that tfjs's wasm backend would run through its unvectorised batched product.
 */

/** LayerNorm's ε, PyTorch's default (tfjs's layers use 1e-3). */
export const LN_EPS = 1e-5

/**
 * y = (x − mean)/√(var + ε)·g + b per row of C, the biased variance as PyTorch's. Keeps the
 * normalised rows (xhat) and 1/√(var + ε) per row for the backward pass when given arrays.
 */
export function layerNorm(x: Float32Array, rows: number, C: number, gain: Float32Array, bias: Float32Array, y: Float32Array, xhat?: Float32Array, rstd?: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const at = r * C
    let mean = 0
    for (let c = 0; c < C; c++) mean += x[at + c]!
    mean /= C
    let v = 0
    for (let c = 0; c < C; c++) {
      const d = x[at + c]! - mean
      v += d * d
    }
    const s = 1 / Math.sqrt(v / C + LN_EPS)
    if (rstd !== undefined) rstd[r] = s
    for (let c = 0; c < C; c++) {
      const h = (x[at + c]! - mean) * s
      if (xhat !== undefined) xhat[at + c] = h
      y[at + c] = h * gain[c]! + bias[c]!
    }
  }
}

/**
 * LayerNorm's backward pass: adds dL/dg and dL/db into dGain and dBias and writes dL/dx into dx
 * (which may be dy itself).
 */
export function layerNormBackward(dy: Float32Array, xhat: Float32Array, rstd: Float32Array, rows: number, C: number, gain: Float32Array, dx: Float32Array, dGain: Float32Array, dBias: Float32Array): void {
  const g = new Float64Array(C)
  const b = new Float64Array(C)
  for (let r = 0; r < rows; r++) {
    const at = r * C
    let m1 = 0
    let m2 = 0
    for (let c = 0; c < C; c++) {
      const d = dy[at + c]!
      const h = xhat[at + c]!
      g[c]! += d * h
      b[c]! += d
      const dh = d * gain[c]!
      m1 += dh
      m2 += dh * h
    }
    m1 /= C
    m2 /= C
    const s = rstd[r]!
    for (let c = 0; c < C; c++) dx[at + c] = s * (dy[at + c]! * gain[c]! - m1 - xhat[at + c]! * m2)
  }
  for (let c = 0; c < C; c++) {
    dGain[c]! += g[c]!
    dBias[c]! += b[c]!
  }
}

const GELU_A = Math.sqrt(2 / Math.PI)
const GELU_B = 0.044715

/**
 * GELU in its tanh form, 0.5·x·(1 + tanh(u)) with u = √(2/π)(x + 0.044715x³), written as
 * x·σ(2u) (0.5(1 + tanh u) = σ(2u)), into out (which may be x); keeps σ(2u) for the backward
 * pass when given an array.
 */
export function gelu(x: Float32Array, out: Float32Array, sig?: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    const s = 1 / (1 + Math.exp(-2 * GELU_A * (v + GELU_B * v * v * v)))
    if (sig !== undefined) sig[i] = s
    out[i] = v * s
  }
}

/** dL/d(pre-activation) from dL/d(output), in place in dy: d/dx x·σ(2u) = σ + x·2σ(1 − σ)·u'. */
export function geluBackward(dy: Float32Array, pre: Float32Array, sig: Float32Array): void {
  for (let i = 0; i < dy.length; i++) {
    const v = pre[i]!
    const s = sig[i]!
    dy[i] = dy[i]! * (s + v * 2 * s * (1 - s) * GELU_A * (1 + 3 * GELU_B * v * v))
  }
}

/**
 * Σ_d a[ai + d]·b[bi + d] over n terms, in four running sums: a single sum waits on each addition
 * before the next, and these dot products are most of the attention's time.
 */
function dot(a: Float32Array, ai: number, b: Float32Array, bi: number, n: number): number {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let d = 0
  for (; d + 3 < n; d += 4) {
    s0 += a[ai + d]! * b[bi + d]!
    s1 += a[ai + d + 1]! * b[bi + d + 1]!
    s2 += a[ai + d + 2]! * b[bi + d + 2]!
    s3 += a[ai + d + 3]! * b[bi + d + 3]!
  }
  for (; d < n; d++) s0 += a[ai + d]! * b[bi + d]!
  return s0 + s1 + (s2 + s3)
}

/**
 * Causal multi-head self-attention over rows of T positions. qkv: [rows·T, 3C], each position's
 * queries, keys and values side by side, head h at columns h·dh.. of each; y: [rows·T, C], the
 * heads side by side. probs (rows·H·T·T) keeps the attention weights for the backward pass.
 */
export function attention(qkv: Float32Array, rows: number, T: number, H: number, C: number, y: Float32Array, probs?: Float32Array): void {
  const dh = C / H
  const scale = 1 / Math.sqrt(dh)
  const stride = 3 * C
  const s = new Float64Array(T)
  const acc = new Float64Array(dh)
  for (let b = 0; b < rows; b++) {
    for (let h = 0; h < H; h++) {
      const q0 = b * T * stride + h * dh
      const k0 = q0 + C
      const v0 = q0 + 2 * C
      for (let i = 0; i < T; i++) {
        const qi = q0 + i * stride
        let max = -Infinity
        for (let j = 0; j <= i; j++) {
          const v = dot(qkv, qi, qkv, k0 + j * stride, dh) * scale
          s[j] = v
          if (v > max) max = v
        }
        let total = 0
        for (let j = 0; j <= i; j++) total += s[j] = Math.exp(s[j]! - max)
        acc.fill(0)
        const p0 = ((b * H + h) * T + i) * T
        for (let j = 0; j <= i; j++) {
          const p = s[j]! / total
          if (probs !== undefined) probs[p0 + j] = p
          const vj = v0 + j * stride
          for (let d = 0; d < dh; d++) acc[d]! += p * qkv[vj + d]!
        }
        for (let d = 0; d < dh; d++) y[(b * T + i) * C + h * dh + d] = acc[d]!
      }
    }
  }
}

/** attention's backward pass: dL/d(qkv) from dL/dy, into dqkv (overwritten). */
export function attentionBackward(qkv: Float32Array, dy: Float32Array, probs: Float32Array, rows: number, T: number, H: number, C: number, dqkv: Float32Array): void {
  const dh = C / H
  const scale = 1 / Math.sqrt(dh)
  const stride = 3 * C
  const dp = new Float64Array(T)
  const dq = new Float64Array(dh)
  const dk = new Float64Array(T * dh)
  const dv = new Float64Array(T * dh)
  for (let b = 0; b < rows; b++) {
    for (let h = 0; h < H; h++) {
      const q0 = b * T * stride + h * dh
      const k0 = q0 + C
      const v0 = q0 + 2 * C
      dk.fill(0)
      dv.fill(0)
      for (let i = 0; i < T; i++) {
        const yi = (b * T + i) * C + h * dh
        const p0 = ((b * H + h) * T + i) * T
        // dp_j = dy_i·v_j; ds_j = p_j (dp_j − Σ_k p_k dp_k).
        let mean = 0
        for (let j = 0; j <= i; j++) {
          const v = dot(dy, yi, qkv, v0 + j * stride, dh)
          dp[j] = v
          mean += probs[p0 + j]! * v
        }
        const qi = q0 + i * stride
        dq.fill(0)
        for (let j = 0; j <= i; j++) {
          const p = probs[p0 + j]!
          const ds = p * (dp[j]! - mean) * scale
          const kj = k0 + j * stride
          const at = j * dh
          for (let d = 0; d < dh; d++) {
            dq[d]! += ds * qkv[kj + d]!
            dk[at + d]! += ds * qkv[qi + d]!
            dv[at + d]! += p * dy[yi + d]!
          }
        }
        dqkv.set(dq, qi)
      }
      for (let j = 0; j < T; j++) {
        dqkv.set(dk.subarray(j * dh, (j + 1) * dh), k0 + j * stride)
        dqkv.set(dv.subarray(j * dh, (j + 1) * dh), v0 + j * stride)
      }
    }
  }
}

/**
 * Attention of one new position per sequence over its cached keys and values (sampling). Row i's
 * queries are in qkv (rows of 3C, as for attention); its keys and values, positions 0..last[i]
 * (the new one included), are rows of C in keys and values from base[i]. Output y: [n, C].
 */
export function cachedAttention(qkv: Float32Array, n: number, H: number, C: number, keys: Float32Array, values: Float32Array, base: Int32Array, last: Int32Array, y: Float32Array): void {
  const dh = C / H
  const scale = 1 / Math.sqrt(dh)
  const s = new Float64Array(last.reduce((a, b) => Math.max(a, b), 0) + 1)
  const acc = new Float64Array(dh)
  for (let i = 0; i < n; i++) {
    const b = base[i]!
    const L = last[i]!
    for (let h = 0; h < H; h++) {
      const q = i * 3 * C + h * dh
      let max = -Infinity
      for (let j = 0; j <= L; j++) {
        const v = dot(qkv, q, keys, b + j * C + h * dh, dh) * scale
        s[j] = v
        if (v > max) max = v
      }
      let total = 0
      for (let j = 0; j <= L; j++) total += s[j] = Math.exp(s[j]! - max)
      acc.fill(0)
      for (let j = 0; j <= L; j++) {
        const p = s[j]! / total
        const v = b + j * C + h * dh
        for (let d = 0; d < dh; d++) acc[d]! += p * values[v + d]!
      }
      for (let d = 0; d < dh; d++) y[i * C + h * dh + d] = acc[d]!
    }
  }
}

/** aᵀ of a row-major [m, n] matrix, in blocks that keep both sides in cache. */
export function transpose(a: Float32Array, m: number, n: number, out = new Float32Array(m * n)): Float32Array {
  const B = 32
  for (let i0 = 0; i0 < m; i0 += B) {
    const i1 = Math.min(m, i0 + B)
    for (let j0 = 0; j0 < n; j0 += B) {
      const j1 = Math.min(n, j0 + B)
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * m + i] = a[i * n + j]!
    }
  }
  return out
}

/** Adds the column sums of a row-major [rows, n] matrix into out. */
export function addColumnSums(a: Float32Array, rows: number, n: number, out: Float32Array): void {
  const s = new Float64Array(n)
  for (let r = 0; r < rows; r++) for (let c = 0; c < n; c++) s[c]! += a[r * n + c]!
  for (let c = 0; c < n; c++) out[c]! += s[c]!
}

/** out += a, element-wise. */
export function addInto(out: Float32Array, a: ArrayLike<number>): void {
  for (let i = 0; i < out.length; i++) out[i]! += a[i]!
}
