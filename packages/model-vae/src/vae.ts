import { asVectors, divergedError, inputError, memoryRows, readRange, rowChunks, vectors, type FitContext, type Rng, type RowSource, type Samples, type VectorSamples } from '@ouroboros/core'
import { Adam, Mlp, checkExploded, loadTf, meanSquaredNorm, normals, type NamedWeights, type Tensor2D, type Tf } from '@ouroboros/tf'

export interface VaeParams {
  epochs: number
  hidden: number[]
  latent: number
  batch: number
  lr: number
  obsStd: number
  likelihood: 'gaussian' | 'bernoulli'
  evalEvery: number
  evalSamples: number
}

export interface VaeState {
  readonly d: number
  readonly latent: number
  readonly hidden: readonly number[]
  readonly likelihood: VaeParams['likelihood']
  readonly obsStd: number
  /** encoder.k.weight / .bias and decoder.k.weight / .bias, float32. */
  readonly weights: readonly NamedWeights[]
  /** Optimiser steps taken in this generation. */
  readonly steps: number
  /** Mean negative ELBO (nats per item) of the training data after training, one z per item. */
  readonly negElbo: number
}

interface Nets {
  encoder: Mlp
  decoder: Mlp
  size: number
}

/** encoder d → hidden… → (μ, log σ²) ∈ R^2L; decoder L → reversed hidden… → d (mean, or Bernoulli logits). */
function nets(d: number, hidden: readonly number[], latent: number): Nets {
  const encoder = new Mlp([d, ...hidden, 2 * latent], 'relu', 'linear')
  const decoder = new Mlp([latent, ...[...hidden].reverse(), d], 'relu', 'linear', { base: encoder.size })
  return { encoder, decoder, size: encoder.size + decoder.size }
}

/** Rows of data whose values a Bernoulli likelihood cannot model. */
function checkRange(rows: RowSource): void {
  let at = 0
  for (const chunk of rowChunks(rows)) {
    for (let i = 0; i < chunk.data.length; i++) {
      const v = chunk.data[i]!
      if (!(v >= 0 && v <= 1)) {
        throw inputError(`vae: likelihood 'bernoulli' needs data in [0, 1], but value ${at + i} is ${v}`, "use likelihood 'gaussian' for unbounded data")
      }
    }
    at += chunk.data.length
  }
}

export function fitVae(data: Samples, params: VaeParams, ctx: FitContext<VaeState>): Promise<VaeState> {
  return fitVaeRows(memoryRows(asVectors(data, 'vae training data')), params, ctx)
}

/** Trains on minibatches read from `rows`, so the training set need not be in memory. */
export async function fitVaeRows(rows: RowSource, params: VaeParams, ctx: FitContext<VaeState>): Promise<VaeState> {
  const { n, d } = rows
  if (n === 0) throw inputError('vae: the training set is empty')
  if (params.likelihood === 'bernoulli') checkRange(rows)
  const { tf } = await loadTf()
  const { encoder, decoder, size } = nets(d, params.hidden, params.latent)
  const L = params.latent
  const weights = new Float32Array(size)
  if (ctx.init !== undefined) {
    if (ctx.init.d !== d) throw inputError(`vae warm start: the previous state models dimension ${ctx.init.d}, the data have ${d}`)
    encoder.importWeights(weights, ctx.init.weights, 'encoder')
    decoder.importWeights(weights, ctx.init.weights, 'decoder')
  } else {
    const rng = ctx.rng.derive('init')
    encoder.init(weights, rng)
    decoder.init(weights, rng)
  }
  const optimizer = new Adam(size, { lr: params.lr, beta1: 0.9, beta2: 0.999 })
  const batchRng = ctx.rng.derive('batches')
  const noiseRng = ctx.rng.derive('noise')
  const evalRng = ctx.rng.derive('eval')
  const invVar = 1 / params.obsStd ** 2
  const what = `vae generation ${ctx.generation}`
  const dataScale = meanSquaredNorm(rows)

  let step = 0
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    // Reshuffled every epoch; the last batch is smaller when batch does not divide n (torch's randperm().split()).
    const perm = batchRng.permutation(n)
    const order = new Int32Array(perm.buffer, perm.byteOffset, n)
    for (let start = 0; start < n; start += params.batch) {
      const batchRows = order.subarray(start, Math.min(n, start + params.batch))
      const B = batchRows.length
      // A fresh array each batch: the cpu backend keeps the array it is given instead of copying it.
      const batchValues = new Float32Array(B * d)
      rows.read(batchRows, batchValues)
      const eps = normals(noiseRng, B * L)
      const grads = tf.tidy(() => {
        const xb = tf.tensor2d(batchValues, [B, d])
        const enc = encoder.bind(tf, weights)
        const dec = decoder.bind(tf, weights)
        const et = enc.forward(xb)
        const [mu, lv] = tf.split(et.outputs.at(-1)!, 2, 1) as [Tensor2D, Tensor2D]
        const epsT = tf.tensor2d(eps, [B, L])
        const sdEps = tf.mul(epsT, tf.exp(tf.mul(lv, 0.5)))
        const z = tf.add(mu, sdEps) as Tensor2D
        const dt = dec.forward(z)
        const out = dt.outputs.at(-1)!
        // dL/d(decoder output) of the batch-mean negative ELBO.
        const dOut =
          params.likelihood === 'gaussian' ? tf.mul(tf.sub(out, xb), invVar / B) : tf.mul(tf.sub(tf.sigmoid(out), xb), 1 / B)
        const { grads: gDec, dx: dz } = dec.backward(dt, dOut as Tensor2D, { grads: true, dx: true })
        // z = μ + σ ε with σ = exp(lv/2), plus the closed-form KL 0.5 Σ (μ² + e^lv − 1 − lv).
        const dMu = tf.add(dz!, tf.mul(mu, 1 / B))
        const dLv = tf.add(tf.mul(tf.mul(dz!, sdEps), 0.5), tf.mul(tf.sub(tf.exp(lv), 1), 0.5 / B))
        // [dμ, d lv] by two pads and an add: the wasm backend concatenates along axis 1 row by row in JavaScript.
        const dEncoderOut = tf.add(
          tf.pad(dMu, [
            [0, 0],
            [0, L],
          ]),
          tf.pad(dLv, [
            [0, 0],
            [L, 0],
          ]),
        ) as Tensor2D
        const { grads: gEnc } = enc.backward(et, dEncoderOut, { grads: true, dx: false })
        return tf.concat([gEnc!, gDec!])
      })
      const g = grads.dataSync()
      optimizer.step(weights, g, what)
      grads.dispose()
      step++
      if (params.evalEvery > 0 && step % params.evalEvery === 0 && ctx.onTrainingStep !== undefined) {
        const negElbo = evaluate(tf, encoder, decoder, weights, rows, params, evalRng, Math.min(n, 4096))
        const samples = decode(tf, decoder, weights, params.evalSamples, L, d, params.likelihood, 1, evalRng)
        checkExploded(samples, dataScale, `${what} at step ${step}`)
        await ctx.onTrainingStep(step, { losses: { neg_elbo: negElbo }, samples })
      }
    }
  }
  const negElbo = evaluate(tf, encoder, decoder, weights, rows, params, evalRng, n)
  if (!Number.isFinite(negElbo)) throw divergedError(`${what}: the final negative ELBO is ${negElbo} (the training diverged)`)
  checkExploded(decode(tf, decoder, weights, CHECK_SAMPLES, L, d, params.likelihood, 1, evalRng), dataScale, what)
  return {
    d,
    latent: L,
    hidden: [...params.hidden],
    likelihood: params.likelihood,
    obsStd: params.obsStd,
    weights: [...encoder.exportWeights(weights, 'encoder'), ...decoder.exportWeights(weights, 'decoder')],
    steps: step,
    negElbo,
  }
}

/** Mean negative ELBO in nats of the first `count` rows of the data, with one z per row. */
function evaluate(tf: Tf, encoder: Mlp, decoder: Mlp, weights: Float32Array, data: RowSource, params: VaeParams, rng: Rng, count: number): number {
  const d = data.d
  const L = params.latent
  let total = 0
  for (let start = 0; start < count; start += CHUNK) {
    const B = Math.min(count, start + CHUNK) - start
    const values = readRange(data, start, B, new Float32Array(B * d))
    const eps = normals(rng, B * L)
    const sum = tf.tidy(() => {
      const xb = tf.tensor2d(values, [B, d])
      const [mu, lv] = tf.split(encoder.bind(tf, weights).apply(xb), 2, 1) as [Tensor2D, Tensor2D]
      const z = tf.add(mu, tf.mul(tf.tensor2d(eps, [B, L]), tf.exp(tf.mul(lv, 0.5)))) as Tensor2D
      const out = decoder.bind(tf, weights).apply(z)
      const nll =
        params.likelihood === 'gaussian'
          ? tf.add(tf.mul(tf.sum(tf.squaredDifference(xb, out)), 0.5 / params.obsStd ** 2), B * d * 0.5 * Math.log(2 * Math.PI * params.obsStd ** 2))
          : tf.sum(tf.sub(tf.softplus(out), tf.mul(xb, out)))
      const kl = tf.mul(tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(lv)), tf.add(lv, 1))), 0.5)
      return tf.add(nll, kl)
    })
    total += sum.dataSync()[0]!
    sum.dispose()
  }
  return total / count
}

/** Samples drawn after training to check that it did not explode. */
const CHECK_SAMPLES = 1000

/** Rows decoded per batch when sampling, which bounds the memory of a large draw. */
const CHUNK = 4096

/** n decoder means at z ~ N(0, temperature² I). */
function decode(tf: Tf, decoder: Mlp, weights: Float32Array, n: number, L: number, d: number, likelihood: VaeParams['likelihood'], temperature: number, rng: Rng): VectorSamples {
  const out = new Float64Array(n * d)
  for (let start = 0; start < n; start += CHUNK) {
    const B = Math.min(n, start + CHUNK) - start
    const z = normals(rng, B * L, temperature)
    const mean = tf.tidy(() => {
      const y = decoder.bind(tf, weights).apply(tf.tensor2d(z, [B, L]))
      return likelihood === 'bernoulli' ? tf.sigmoid(y) : y
    })
    out.set(mean.dataSync(), start * d)
    mean.dispose()
  }
  return vectors(n, d, out)
}

export async function sampleVae(state: VaeState, n: number, temperature: number, rng: Rng): Promise<VectorSamples> {
  const { tf } = await loadTf()
  const { decoder, size } = nets(state.d, state.hidden, state.latent)
  const weights = new Float32Array(size)
  decoder.importWeights(weights, state.weights, 'decoder')
  return decode(tf, decoder, weights, n, state.latent, state.d, state.likelihood, temperature, rng)
}
