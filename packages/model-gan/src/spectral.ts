import type { Rng } from '@ouroboros/core'
import type { Critic } from './critic.js'

/**
 * Spectral normalisation (Miyato et al. 2018): every critic weight matrix W is used as W/σ(W),
 * σ estimated by one power iteration per update from a persistent vector u, as PyTorch's
 * spectral_norm does in training mode. The gradient flows through σ with u and v held constant.
 * Runs in JavaScript on the flat parameter arrays: the matrices are small and the optimiser is
 * there too.
 */
export class SpectralNorm {
  /** Left singular vector estimate per layer (length = the layer's input width). */
  readonly u: Float32Array[]
  private readonly v: Float32Array[]
  private readonly sigma: Float64Array

  constructor(
    private readonly critic: Critic,
    init: { rng: Rng } | { u: readonly Float32Array[] },
  ) {
    const layers = critic.layers
    this.u = layers.map(({ net, k }, i) => {
      if ('u' in init) return Float32Array.from(init.u[i]!)
      const u = Float32Array.from({ length: net.layers[k]!.in }, () => init.rng.normal())
      return normalise(u)
    })
    this.v = layers.map(({ net, k }) => new Float32Array(net.layers[k]!.out))
    this.sigma = new Float64Array(layers.length)
  }

  /** Writes the normalised weights (and the biases unchanged) of params into eff; advances u. */
  apply(params: Float32Array, eff: Float32Array): void {
    eff.set(params)
    this.critic.layers.forEach(({ net, k }, i) => {
      const { in: rows, out: cols } = net.layers[k]!
      const W = net.weights(params, k)
      const u = this.u[i]!
      const v = this.v[i]!
      // v = Wᵀu/‖Wᵀu‖, u = Wv/‖Wv‖, σ = uᵀWv = ‖Wv‖.
      v.fill(0)
      for (let r = 0; r < rows; r++) {
        const ur = u[r]!
        for (let c = 0; c < cols; c++) v[c]! += W[r * cols + c]! * ur
      }
      normalise(v)
      let norm = 0
      for (let r = 0; r < rows; r++) {
        let s = 0
        for (let c = 0; c < cols; c++) s += W[r * cols + c]! * v[c]!
        u[r] = s
        norm += s * s
      }
      const sigma = Math.sqrt(norm) || 1
      for (let r = 0; r < rows; r++) u[r]! /= sigma
      this.sigma[i] = sigma
      const target = net.weights(eff, k)
      for (let j = 0; j < W.length; j++) target[j] = W[j]! / sigma
    })
  }

  /** Turns a gradient with respect to the normalised weights (in eff) into one with respect to the raw weights, in place. */
  backward(grads: Float32Array, eff: Float32Array): void {
    this.critic.layers.forEach(({ net, k }, i) => {
      const { out: cols } = net.layers[k]!
      const g = net.weights(grads, k)
      const Wn = net.weights(eff, k)
      const u = this.u[i]!
      const v = this.v[i]!
      const sigma = this.sigma[i]!
      // d/dW of L(W/σ(W)) = (G − ⟨G, W/σ⟩ u vᵀ)/σ
      let inner = 0
      for (let j = 0; j < g.length; j++) inner += g[j]! * Wn[j]!
      for (let j = 0; j < g.length; j++) g[j] = (g[j]! - inner * u[Math.floor(j / cols)]! * v[j % cols]!) / sigma
    })
  }
}

function normalise(x: Float32Array): Float32Array {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!
  const norm = Math.sqrt(s) || 1
  for (let i = 0; i < x.length; i++) x[i]! /= norm
  return x
}
