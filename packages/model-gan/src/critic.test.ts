import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import { loadTf, type Tensor1D, type Tensor2D, type Tf } from '@ouroboros/tf'
import { Critic } from './critic.js'
import { SpectralNorm } from './spectral.js'

// Hand-written backward passes checked against independent computations (tfjs autodiff, finite
// differences) on the deterministic cpu backend.
process.env['OUROBOROS_BACKEND'] = 'cpu'

/** The critic written with plain tfjs ops (the minibatch-stddev feature via tf.moments), for tf.grads. */
function reference(tf: Tf, critic: Critic, x: Tensor2D, w: Tensor2D[], b: Tensor1D[], groups: number): Tensor2D {
  let h = x
  critic.body.layers.forEach((_, k) => {
    h = tf.leakyRelu(tf.add(tf.matMul(h, w[k]!), b[k]!), critic.body.leak) as Tensor2D
  })
  if (critic.minibatchStddev) {
    const [n, H] = h.shape
    const { variance } = tf.moments(tf.reshape(h, [groups, n / groups, H]), 1, true)
    const s = tf.mean(tf.sqrt(tf.add(variance, 1e-8)), 2, true)
    h = tf.concat([h, tf.reshape(tf.tile(s, [1, n / groups, 1]), [n, 1])], 1) as Tensor2D
  }
  const L = critic.body.layers.length
  return tf.add(tf.matMul(h, w[L]!), b[L]!) as Tensor2D
}

function setup(tf: Tf, minibatchStddev: boolean, seed: number) {
  const rng = Rng.from(seed, 'critic-test')
  const critic = new Critic(4, [6, 5], minibatchStddev, 0.2)
  const params = new Float32Array(critic.size)
  critic.body.init(params, rng)
  critic.head.init(params, rng)
  const x = tf.tensor2d(Float32Array.from({ length: 8 * 4 }, () => rng.normal()), [8, 4])
  const upstream = tf.tensor2d(Float32Array.from({ length: 8 }, () => rng.normal()), [8, 1])
  return { critic, params, x, upstream }
}

/** Parameter tensors in the critic's layer order, as tf.grads inputs, and the flat layout of their gradients. */
function paramTensors(tf: Tf, critic: Critic, params: Float32Array) {
  const w = critic.layers.map(({ net, k }) => tf.tensor2d(net.weights(params, k), [net.layers[k]!.in, net.layers[k]!.out]))
  const b = critic.layers.map(({ net, k }) => tf.tensor1d(net.bias(params, k)))
  const flatten = (gw: Tensor2D[], gb: Tensor1D[]) => critic.layers.flatMap((_, i) => [...gw[i]!.dataSync(), ...gb[i]!.dataSync()])
  return { w, b, flatten }
}

describe('critic backward', () => {
  for (const minibatchStddev of [false, true]) {
    it(`matches tf.grads for parameters and input${minibatchStddev ? ' with the minibatch-stddev feature' : ''}`, async () => {
      const { tf } = await loadTf()
      tf.tidy(() => {
        const { critic, params, x, upstream } = setup(tf, minibatchStddev, 1)
        const D = critic.bind(tf, params)
        const trace = D.forward(x, 2)
        const { grads, dx } = D.backward(trace, upstream, { grads: true, dx: true })
        const { w, b, flatten } = paramTensors(tf, critic, params)
        const L = w.length
        const f = (...args: Tensor2D[]) => {
          const [xi, ...rest] = args
          return tf.sum(tf.mul(reference(tf, critic, xi!, rest.slice(0, L), rest.slice(L).map((t) => tf.reshape(t, [-1]) as Tensor1D), 2), upstream))
        }
        const expected = tf.grads(f)([x, ...w, ...b.map((t) => tf.reshape(t, [1, -1]) as Tensor2D)])
        const expectedFlat = flatten(expected.slice(1, 1 + L) as Tensor2D[], expected.slice(1 + L).map((t) => tf.reshape(t, [-1]) as Tensor1D))
        const got = grads!.dataSync()
        expectedFlat.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4))
        const gotDx = dx!.dataSync()
        expected[0]!.dataSync().forEach((v, i) => expect(gotDx[i]).toBeCloseTo(v, 4))
        const scores = trace.out.dataSync()
        reference(tf, critic, x, w, b, 2)
          .dataSync()
          .forEach((v, i) => expect(scores[i]).toBeCloseTo(v, 5))
      })
    })
  }
})

describe('gradient penalty', () => {
  it('is λ·mean(‖∇ₓD‖ − 1)² with ∇ₓD from tf.grad, and its parameter gradient matches finite differences', async () => {
    const { tf } = await loadTf()
    const { critic, params, x } = setup(tf, false, 2)
    const weight = 10
    const penaltyAt = (p: Float32Array) => tf.tidy(() => critic.bind(tf, p).penalty(x, weight).value.dataSync()[0]!)
    tf.tidy(() => {
      const D = critic.bind(tf, params)
      const inputGrad = tf.grad((xi: Tensor2D) => tf.sum(D.forward(xi, 1).out))(x)
      const norms = tf.sqrt(tf.sum(tf.square(inputGrad), 1)).dataSync()
      const expected = (weight * Array.from(norms).reduce((s, v) => s + (v - 1) ** 2, 0)) / norms.length
      expect(penaltyAt(params)).toBeCloseTo(expected, 4)
    })
    const grads = tf.tidy(() => critic.bind(tf, params).penalty(x, weight).grads.dataSync().slice())
    // Central differences in float64 arithmetic on float32 parameters: step 1e-2 keeps rounding
    // error small, and no leaky-ReLU unit of this seed changes side within it.
    const h = 1e-2
    for (let i = 0; i < critic.size; i++) {
      const plus = params.slice()
      const minus = params.slice()
      plus[i]! += h
      minus[i]! -= h
      const numeric = (penaltyAt(plus) - penaltyAt(minus)) / (2 * h)
      expect(grads[i]).toBeCloseTo(numeric, 2)
    }
  })
})

describe('spectral normalisation', () => {
  it('divides each weight matrix by its largest singular value after enough power iterations', async () => {
    const { critic, params } = setup((await loadTf()).tf, false, 3)
    const sn = new SpectralNorm(critic, { rng: Rng.from(3) })
    const eff = new Float32Array(critic.size)
    for (let i = 0; i < 50; i++) sn.apply(params, eff)
    // The 1-output head: σ is the Euclidean norm of its weight column.
    const head = critic.head.weights(params, 0)
    const norm = Math.hypot(...head)
    critic.head.weights(eff, 0).forEach((v, j) => expect(v).toBeCloseTo(head[j]! / norm, 6))
    expect(Array.from(critic.body.bias(eff, 0))).toEqual(Array.from(critic.body.bias(params, 0)))
  })

  it('maps gradients through W/σ(W) as tf.grads does with u and v held fixed', async () => {
    const { tf } = await loadTf()
    const { critic, params } = setup(tf, false, 4)
    const sn = new SpectralNorm(critic, { rng: Rng.from(4) })
    const before = sn.u.map((u) => u.slice())
    const eff = new Float32Array(critic.size)
    sn.apply(params, eff)
    const rng = Rng.from(5)
    const upstream = Float32Array.from({ length: critic.size }, () => rng.normal())
    const grads = upstream.slice()
    sn.backward(grads, eff)
    tf.tidy(() => {
      critic.layers.forEach(({ net, k }, i) => {
        const { in: rows, out: cols } = net.layers[k]!
        const W = tf.tensor2d(net.weights(params, k), [rows, cols])
        // One power iteration from the vector the layer started with: v = Wᵀu/‖Wᵀu‖, u' = Wv/‖Wv‖, σ = u'ᵀWv.
        const wtu = tf.matMul(W, tf.tensor2d(before[i]!, [rows, 1]), true, false)
        const v = tf.div(wtu, tf.norm(wtu))
        const wv = tf.matMul(W, v)
        const u = tf.div(wv, tf.norm(wv))
        const g = tf.tensor2d(net.weights(upstream, k), [rows, cols])
        const sigma = (w: Tensor2D) => tf.sum(tf.mul(u, tf.matMul(w, v)))
        const expected = tf.grad((w: Tensor2D) => tf.sum(tf.mul(tf.div(w, sigma(w)), g)))(W)
        const got = net.weights(grads, k)
        expected.dataSync().forEach((e, j) => expect(got[j]).toBeCloseTo(e, 4))
      })
    })
  })
})
