import { choleskyInPlace, inputError, type Rng, type Samples, type TokenSamples, type VectorSamples } from '@ouroboros/core'
import type { Reward } from './reward.js'

export interface ProxyOptions {
  /** Sd of the Gaussian noise added to the gold reward of each label. */
  noise: number
  /** Bradley–Terry preferences between pairs instead of noisy scores. */
  preferences: boolean
  ridge: number
}

/**
 * A reward model fit to labelled samples of the reference model (Gao et al.'s proxy): kernel ridge
 * regression on noisy gold scores, or kernel logistic regression on Bradley–Terry preferences
 * between pairs. The kernel is an RBF on vectors (bandwidth: the labelled points' median pairwise
 * distance) and the linear kernel on word counts for token sequences (a linear model over word
 * counts, in its dual form, so that every word seen in a label counts). Small and exact: its
 * errors away from the labelled samples are what optimisation against it exploits.
 */
export function fitProxy(labelled: Samples, gold: Float64Array, opts: ProxyOptions, rng: Rng): Reward {
  const n = labelled.n
  if (n < 2) throw inputError('a reward model needs at least 2 labelled samples')
  const kernel = labelled.modality === 'vectors' ? rbfKernel(labelled) : wordCountKernel(labelled)
  const gram = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    const row = kernel.against(labelled, i)
    gram.set(row, i * n)
  }
  const noisy = Float64Array.from(gold, (g) => g + opts.noise * rng.normal())
  const alpha = opts.preferences ? fitPreferences(gram, n, noisy, opts.ridge, rng) : fitScores(gram, n, noisy, opts.ridge)
  return {
    description: `${opts.preferences ? 'preference' : 'regression'} reward model on ${n} labels (${kernel.name})`,
    score(s) {
      const out = new Float64Array(s.n)
      for (let i = 0; i < s.n; i++) {
        const k = kernel.against(s, i)
        let v = alpha.bias
        for (let j = 0; j < n; j++) v += alpha.weights[j]! * k[j]!
        out[i] = v
      }
      return out
    },
  }
}

interface Kernel {
  readonly name: string
  /** k(item i of s, each labelled item). */
  against(s: Samples, i: number): Float64Array
}

function rbfKernel(x: VectorSamples): Kernel {
  const { n, d, data } = x
  const dists: number[] = []
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) dists.push(Math.sqrt(squaredDistance(data, i, data, j, d)))
  dists.sort((a, b) => a - b)
  const h = Math.max(dists[dists.length >> 1] ?? 1, 1e-12)
  const gamma = 1 / (2 * h * h)
  const row = new Float64Array(n)
  return {
    name: `RBF kernel, bandwidth ${h.toPrecision(3)}`,
    against(s, i) {
      const y = s as VectorSamples
      for (let j = 0; j < n; j++) row[j] = Math.exp(-gamma * squaredDistance(y.data, i, data, j, d))
      return row
    },
  }
}

function squaredDistance(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0
  for (let k = 0; k < d; k++) s += (a[i * d + k]! - b[j * d + k]!) ** 2
  return s
}

function wordCountKernel(x: TokenSamples): Kernel {
  const counts = Array.from({ length: x.n }, (_, i) => countWords(x, i))
  const row = new Float64Array(x.n)
  return {
    name: 'linear kernel on word counts',
    against(s, i) {
      const own = countWords(s as TokenSamples, i)
      for (let j = 0; j < x.n; j++) {
        let dot = 0
        for (const [w, c] of own) dot += c * (counts[j]!.get(w) ?? 0)
        row[j] = dot
      }
      return row
    },
  }
}

function countWords(s: TokenSamples, i: number): Map<number, number> {
  const m = new Map<number, number>()
  for (let k = s.offsets[i]!; k < s.offsets[i + 1]!; k++) m.set(s.tokens[k]!, (m.get(s.tokens[k]!) ?? 0) + 1)
  return m
}

interface DualWeights {
  readonly weights: Float64Array
  readonly bias: number
}

/** Kernel ridge regression on centred scores: α = (K + λ·n·I)⁻¹(y − ȳ), bias ȳ. */
function fitScores(gram: Float64Array, n: number, y: Float64Array, ridge: number): DualWeights {
  let mean = 0
  for (let i = 0; i < n; i++) mean += y[i]! / n
  const a = Float64Array.from(gram)
  for (let i = 0; i < n; i++) a[i * n + i]! += ridge * n
  const weights = Float64Array.from(y, (v) => v - mean)
  solveSpd(a, n, weights)
  return { weights, bias: mean }
}

/**
 * Kernel logistic regression on preferences: f = Kα, pair p (a, b) preferred as labelled, with
 * P(a ≻ b) = σ(f(a) − f(b)); minimises the pairs' negative log-likelihood + (λ·n/2)·αᵀKα by
 * Newton's method in f = Kα (whose Hessian Dᵀ W D + λ·n·K⁻¹ is solved as K-weighted system).
 */
function fitPreferences(gram: Float64Array, n: number, scores: Float64Array, ridge: number, rng: Rng): DualWeights {
  const pairs = Math.floor(n / 2)
  const prefers = new Uint8Array(pairs)
  for (let p = 0; p < pairs; p++) prefers[p] = rng.uniform() < sigmoid(scores[2 * p]! - scores[2 * p + 1]!) ? 1 : 0
  // Newton on α: gradient Kᵀ(Dᵀ(σ − y)) + λn·Kα; Hessian K(DᵀWD)K + λn·K. Dividing by K (on the
  // left, K ≻ 0 with the ridge) gives the system (DᵀWD·K + λn·I)Δα = −(Dᵀ(σ − y) + λn·α).
  const alpha = new Float64Array(n)
  const f = new Float64Array(n)
  for (let iter = 0; iter < 50; iter++) {
    for (let i = 0; i < n; i++) {
      let v = 0
      for (let j = 0; j < n; j++) v += gram[i * n + j]! * alpha[j]!
      f[i] = v
    }
    const g = Float64Array.from(alpha, (a) => ridge * n * a)
    const w = new Float64Array(pairs)
    for (let p = 0; p < pairs; p++) {
      const s = sigmoid(f[2 * p]! - f[2 * p + 1]!)
      const r = s - prefers[p]!
      g[2 * p]! += r
      g[2 * p + 1]! -= r
      w[p] = s * (1 - s)
    }
    // M = DᵀWD·K + λn·I, with DᵀWD the sum over pairs of w·(e_a − e_b)(e_a − e_b)ᵀ.
    const m = new Float64Array(n * n)
    for (let p = 0; p < pairs; p++) {
      const a = 2 * p
      const b = a + 1
      for (let j = 0; j < n; j++) {
        const diff = w[p]! * (gram[a * n + j]! - gram[b * n + j]!)
        m[a * n + j]! += diff
        m[b * n + j]! -= diff
      }
    }
    for (let i = 0; i < n; i++) m[i * n + i]! += ridge * n
    const step = Float64Array.from(g, (v) => -v)
    solveGeneral(m, n, step)
    let change = 0
    for (let i = 0; i < n; i++) {
      alpha[i]! += step[i]!
      change = Math.max(change, Math.abs(step[i]!))
    }
    if (change < 1e-10) break
  }
  return { weights: alpha, bias: 0 }
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))
}

/** Solves A x = b in place (b becomes x) for symmetric positive-definite A (overwritten). */
function solveSpd(a: Float64Array, n: number, b: Float64Array): void {
  if (!choleskyInPlace(a, n)) throw inputError('the reward model\'s kernel system is not positive definite; raise its ridge')
  for (let i = 0; i < n; i++) {
    let s = b[i]!
    for (let k = 0; k < i; k++) s -= a[i * n + k]! * b[k]!
    b[i] = s / a[i * n + i]!
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!
    for (let k = i + 1; k < n; k++) s -= a[k * n + i]! * b[k]!
    b[i] = s / a[i * n + i]!
  }
}

/** Solves A x = b in place by Gaussian elimination with partial pivoting (A overwritten). */
function solveGeneral(a: Float64Array, n: number, b: Float64Array): void {
  for (let c = 0; c < n; c++) {
    let pivot = c
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]!) > Math.abs(a[pivot * n + c]!)) pivot = r
    if (pivot !== c) {
      for (let k = 0; k < n; k++) {
        const t = a[c * n + k]!
        a[c * n + k] = a[pivot * n + k]!
        a[pivot * n + k] = t
      }
      const t = b[c]!
      b[c] = b[pivot]!
      b[pivot] = t
    }
    const p = a[c * n + c]!
    if (p === 0) continue
    for (let r = c + 1; r < n; r++) {
      const f = a[r * n + c]! / p
      if (f === 0) continue
      for (let k = c; k < n; k++) a[r * n + k]! -= f * a[c * n + k]!
      b[r]! -= f * b[c]!
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = b[r]!
    for (let k = r + 1; k < n; k++) s -= a[r * n + k]! * b[k]!
    const p = a[r * n + r]!
    b[r] = p === 0 ? 0 : s / p
  }
}
