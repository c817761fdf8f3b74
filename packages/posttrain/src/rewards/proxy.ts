import { choleskyInPlace, inputError, type Rng, type Samples, type TokenSamples, type VectorSamples } from '@ouroboros/core'
import { preferencesOf, sigmoid } from './preferences.js'
import type { Reward } from './reward.js'

export interface ProxyOptions {
  /** Sd of the Gaussian noise added to the gold reward of each label. */
  noise: number
  /** Bradley–Terry preferences between pairs instead of noisy scores. */
  preferences: boolean
  ridge: number
  /** Reward models in the ensemble (1, the default: one model on every label). */
  members?: number
  /** How the members' rewards are combined (default 'mean'). */
  combine?: 'mean' | 'min' | 'uwo'
  /** λ of 'uwo': the mean less λ times the members' variance (default 1). */
  variancePenalty?: number
}

export interface ProxyReward extends Reward {
  /**
   * The labels each member was fit to, as indices into the labelled samples, one per draw (under
   * preferences, pair after pair: 2p and 2p + 1). One member: every label once, in order.
   */
  readonly rows: readonly Int32Array[]
}

/**
 * A reward model fit to labelled samples of the reference model (Gao et al.'s proxy): kernel ridge
 * regression on noisy gold scores, or kernel logistic regression on Bradley–Terry preferences
 * between pairs. The kernel is an RBF on vectors (bandwidth: the labelled points' median pairwise
 * distance) and the linear kernel on word counts for token sequences (a linear model over word
 * counts, in its dual form, so that every word seen in a label counts). Small and exact: its
 * errors away from the labelled samples are what optimisation against it exploits.
 *
 * An ensemble (Coste et al. 2023, "Reward model ensembles help mitigate overoptimization") fits
 * each member to a bootstrap resample of the same annotations (bagging: the noisy score of a
 * sample, or the preference of a pair, is made once and shared), so that it costs the labels of
 * one model; the members share the kernel, as fine-tuned copies of one pretrained network share
 * their features, and differ by the labels they saw.
 */
export function fitProxy(labelled: Samples, gold: Float64Array, opts: ProxyOptions, rng: Rng): ProxyReward {
  const n = labelled.n
  if (n < 2) throw inputError('a reward model needs at least 2 labelled samples')
  const kernel = labelled.modality === 'vectors' ? rbfKernel(labelled) : wordCountKernel(labelled)
  const gram = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    const row = kernel.against(labelled, i)
    gram.set(row, i * n)
  }
  const noisy = Float64Array.from(gold, (g) => g + opts.noise * rng.normal())
  const prefers = opts.preferences ? preferencesOf(noisy, rng) : undefined
  const members = opts.members ?? 1
  const rows =
    members === 1
      ? [Int32Array.from({ length: n }, (_, i) => i)]
      : Array.from({ length: members }, (_, m) => bootstrap(n, prefers !== undefined, rng.derive('member', m)))
  const duals = rows.map((r) => fitMember(gram, n, r, noisy, prefers, opts.ridge))
  const combine = opts.combine ?? 'mean'
  const penalty = opts.variancePenalty ?? 1
  const model = `${opts.preferences ? 'preference' : 'regression'} reward model`
  const values = new Float64Array(members)
  return {
    description:
      members === 1
        ? `${model} on ${n} labels (${kernel.name})`
        : `${members} ${model}s on bootstrap resamples of ${n} labels, combined by ${combine === 'uwo' ? `mean − ${penalty} · variance` : combine} (${kernel.name})`,
    rows,
    score(s) {
      const out = new Float64Array(s.n)
      for (let i = 0; i < s.n; i++) {
        const k = kernel.against(s, i)
        for (let m = 0; m < members; m++) {
          const alpha = duals[m]!
          let v = alpha.bias
          for (let j = 0; j < n; j++) v += alpha.weights[j]! * k[j]!
          values[m] = v
        }
        out[i] = combined(values, combine, penalty)
      }
      return out
    },
  }
}

/** The members' rewards of one sample made one: with one member, its reward exactly. */
function combined(values: Float64Array, combine: 'mean' | 'min' | 'uwo', penalty: number): number {
  if (values.length === 1) return values[0]!
  if (combine === 'min') return Math.min(...values)
  let mean = 0
  for (const v of values) mean += v
  mean /= values.length
  if (combine === 'mean') return mean
  let variance = 0
  for (const v of values) variance += (v - mean) ** 2
  return mean - (penalty * variance) / values.length
}

/** A bootstrap resample of the labels: n draws with replacement, or as many pairs as there are. */
function bootstrap(n: number, pairs: boolean, rng: Rng): Int32Array {
  if (!pairs) return Int32Array.from({ length: n }, () => rng.int(n))
  const count = Math.floor(n / 2)
  const rows = new Int32Array(2 * count)
  for (let q = 0; q < count; q++) {
    const p = rng.int(count)
    rows[2 * q] = 2 * p
    rows[2 * q + 1] = 2 * p + 1
  }
  return rows
}

/** One model fit to the labels at `rows`; its dual weights over all the labels (a label drawn twice adds up). */
function fitMember(gram: Float64Array, n: number, rows: Int32Array, noisy: Float64Array, prefers: Uint8Array | undefined, ridge: number): DualWeights {
  const m = rows.length
  // One model on every label fits the Gram matrix itself, without a copy of its labels² numbers.
  const whole = m === n && rows.every((r, i) => r === i)
  const sub = whole ? gram : new Float64Array(m * m)
  if (!whole) for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) sub[i * m + j] = gram[rows[i]! * n + rows[j]!]!
  const fit =
    prefers === undefined
      ? fitScores(sub, m, Float64Array.from(rows, (i) => noisy[i]!), ridge)
      : fitPreferences(sub, m, Uint8Array.from({ length: Math.floor(m / 2) }, (_, q) => prefers[rows[2 * q]! >> 1]!), ridge)
  const weights = new Float64Array(n)
  for (let i = 0; i < m; i++) weights[rows[i]!]! += fit.weights[i]!
  return { weights, bias: fit.bias }
}

interface Kernel {
  readonly name: string
  /** k(item i of s, each labelled item). */
  against(s: Samples, i: number): Float64Array
}

function rbfKernel(x: VectorSamples): Kernel {
  const { n, d, data } = x
  // A typed array: a plain one of 10,000 labels' 5·10⁷ distances would outgrow V8's array limit.
  const dists = new Float64Array((n * (n - 1)) / 2)
  let at = 0
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) dists[at++] = Math.sqrt(squaredDistance(data, i, data, j, d))
  dists.sort()
  const h = Math.max(dists[dists.length >> 1] ?? 1, 1e-12)
  const gamma = 1 / (2 * h * h)
  const row = new Float64Array(n)
  return {
    name: 'RBF kernel, bandwidth the median distance between the labelled samples',
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
function fitPreferences(gram: Float64Array, n: number, prefers: Uint8Array, ridge: number): DualWeights {
  const pairs = Math.floor(n / 2)
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
