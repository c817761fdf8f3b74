import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import { loadTf, type Tf } from './backend.js'
import { Mlp } from './mlp.js'
import type { Tensor1D, Tensor2D } from '@tensorflow/tfjs'

// The explicit backward pass is checked against tfjs's own autodiff (tf.grads), an independent
// implementation, on the deterministic cpu backend.
process.env['OUROBOROS_BACKEND'] = 'cpu'

/** The same network written with plain tfjs ops, for tf.grads to differentiate. */
function reference(tf: Tf, mlp: Mlp, x: Tensor2D, ws: Tensor2D[], bs: Tensor1D[]): Tensor2D {
  let h = x
  mlp.layers.forEach((l, k) => {
    const a = tf.add(tf.matMul(h, ws[k]!), bs[k]!) as Tensor2D
    h = l.activation === 'relu' ? tf.relu(a) : l.activation === 'leaky_relu' ? tf.leakyRelu(a, mlp.leak) : a
  })
  return h
}

describe('Mlp', () => {
  for (const [hidden, output] of [
    ['relu', 'linear'],
    ['leaky_relu', 'leaky_relu'],
  ] as const) {
    it(`backward matches tf.grads (${hidden} hidden, ${output} output)`, async () => {
      const { tf } = await loadTf()
      const rng = Rng.from(1, 'mlp-test')
      const mlp = new Mlp([3, 5, 4, 2], hidden, output)
      const params = new Float32Array(mlp.size)
      mlp.init(params, rng)
      const xData = Float32Array.from({ length: 6 * 3 }, () => rng.normal())
      const upstream = Float32Array.from({ length: 6 * 2 }, () => rng.normal())
      tf.tidy(() => {
        const x = tf.tensor2d(xData, [6, 3])
        const dOut = tf.tensor2d(upstream, [6, 2])
        const net = mlp.bind(tf, params)
        const trace = net.forward(x)
        const { grads, dx } = net.backward(trace, dOut, { grads: true, dx: true })

        // L = Σ upstream ⊙ output, so dL/d(output) = upstream.
        const loss = (...args: Tensor2D[]) => {
          const [xi, ...rest] = args
          const ws = rest.slice(0, mlp.layers.length)
          const bs = rest.slice(mlp.layers.length).map((b) => tf.reshape(b, [-1]) as Tensor1D)
          return tf.sum(tf.mul(reference(tf, mlp, xi!, ws, bs), dOut))
        }
        const inputs = [x, ...net.w, ...net.b.map((b) => tf.reshape(b, [1, -1]) as Tensor2D)]
        const expected = tf.grads(loss)(inputs)
        const flat: number[] = []
        mlp.layers.forEach((_, k) => {
          flat.push(...expected[1 + k]!.dataSync(), ...expected[1 + mlp.layers.length + k]!.dataSync())
        })
        expect(grads!.shape).toEqual([mlp.size])
        const got = grads!.dataSync()
        flat.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5))
        const gotDx = dx!.dataSync()
        expected[0]!.dataSync().forEach((v, i) => expect(gotDx[i]).toBeCloseTo(v, 5))
        expect(Array.from(net.apply(x).dataSync())).toEqual(Array.from(trace.outputs.at(-1)!.dataSync()))
      })
    })
  }

  it('exports and imports weights by name and refuses other shapes', () => {
    const mlp = new Mlp([2, 3, 1], 'relu', 'linear')
    const params = new Float32Array(mlp.size)
    mlp.init(params, Rng.from(2))
    const exported = mlp.exportWeights(params, 'd')
    expect(exported.map((w) => `${w.name}:${w.shape.join('x')}`)).toEqual(['d.0.weight:2x3', 'd.0.bias:3', 'd.1.weight:3x1', 'd.1.bias:1'])
    const copy = new Float32Array(mlp.size)
    mlp.importWeights(copy, structuredClone(exported), 'd')
    expect(copy).toEqual(params)
    const wider = new Mlp([2, 4, 1], 'relu', 'linear')
    expect(() => wider.importWeights(new Float32Array(wider.size), exported, 'd')).toThrow(/d\.0\.weight of shape 2x3, expected 2x4/)
  })
})
