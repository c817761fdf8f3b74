import {
  asVectors,
  checkWeights,
  divergedError,
  inputError,
  memoryRows,
  pickRows,
  readRange,
  rowChunks,
  vectors,
  type FitContext,
  type ModelTrainer,
  type Rng,
  type RowSource,
  type Samples,
  type TrainerOptions,
  type VectorSamples,
} from '@ouroboros/core'
import { Adam, Mlp, WeightedDraws, checkExploded, loadTf, meanSquaredNorm, normals, positiveItems, type NamedWeights, type Tensor, type Tensor1D, type Tensor2D, type Tf } from '@ouroboros/tf'

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
  /** Optimiser steps taken in this generation, post-training included. */
  readonly steps: number
  /**
   * Mean negative ELBO (nats per item) of the training data after the fit, one z per item
   * (weighted by the items' weights after a weighted fit); post-training leaves it.
   */
  readonly negElbo: number
}

interface Nets {
  encoder: Mlp
  decoder: Mlp
  size: number
}

/** encoder d → hidden… → (μ, log σ²) ∈ R^2L; decoder L → reversed hidden… → d (mean, or Bernoulli logits). */
export function nets(d: number, hidden: readonly number[], latent: number): Nets {
  const encoder = new Mlp([d, ...hidden, 2 * latent], 'relu', 'linear')
  const decoder = new Mlp([latent, ...[...hidden].reverse(), d], 'relu', 'linear', { base: encoder.size })
  return { encoder, decoder, size: encoder.size + decoder.size }
}

/** Rows of data whose values a Bernoulli likelihood cannot model. */
export function checkRange(rows: RowSource): void {
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
export function fitVaeRows(rows: RowSource, params: VaeParams, ctx: FitContext<VaeState>): Promise<VaeState> {
  return train(rows, undefined, params, ctx)
}

/**
 * Minimises Σ_i w_i·(negative ELBO of item i) / Σ_i w_i, starting from ctx.init when given. Items
 * of weight 0 are left out; when the others' weights are equal this is fit on them. Otherwise each
 * epoch draws as many rows as there are items, with replacement and with probability ∝ weight,
 * rather than taking uniform minibatches with the weights in the loss: reward-weighted refitting's
 * weights exp(r/β) are heavy-tailed, so a uniform batch would mostly hold rows of weight near 0 and
 * let one heavy row make the whole gradient; drawn by weight, every row of a batch counts alike and
 * the expected gradient is still the weighted objective's.
 */
export function fitVaeWeighted(data: Samples, weights: Float64Array, params: VaeParams, ctx: FitContext<VaeState>): Promise<VaeState> {
  const x = asVectors(data, 'vae training data')
  checkWeights(weights, x.n, 'vae fitWeighted')
  const kept = positiveItems(weights, 'vae fitWeighted')
  const rows = kept.index.length === x.n ? memoryRows(x) : pickRows(memoryRows(x), kept.index)
  return train(rows, kept.equal ? undefined : kept.weights, params, ctx)
}

async function train(rows: RowSource, itemWeights: Float64Array | undefined, params: VaeParams, ctx: FitContext<VaeState>): Promise<VaeState> {
  const { n, d } = rows
  if (n === 0) throw inputError('vae: the training set is empty')
  if (params.likelihood === 'bernoulli') checkRange(rows)
  const { tf } = await loadTf()
  const { encoder, decoder, size } = nets(d, params.hidden, params.latent)
  const L = params.latent
  const weights = new Float32Array(size)
  const streams = fitStreams(ctx.rng)
  if (ctx.init !== undefined) {
    if (ctx.init.d !== d) throw inputError(`vae warm start: the previous state models dimension ${ctx.init.d}, the data have ${d}`)
    encoder.importWeights(weights, ctx.init.weights, 'encoder')
    decoder.importWeights(weights, ctx.init.weights, 'decoder')
  } else {
    encoder.init(weights, streams.init)
    decoder.init(weights, streams.init)
  }
  const optimizer = new Adam(size, adamOptions(params))
  const { batches: batchRng, noise: noiseRng, eval: evalRng } = streams
  const what = `vae generation ${ctx.generation}`
  const dataScale = meanSquaredNorm(rows)
  const draws = itemWeights === undefined ? undefined : new WeightedDraws(itemWeights)

  let step = 0
  const steps = params.epochs * Math.ceil(n / params.batch)
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    // Reshuffled every epoch (or n rows drawn by weight); the last batch is smaller when batch does
    // not divide n (torch's randperm().split()).
    const order = draws?.next(batchRng, n) ?? permutation(batchRng, n)
    for (let start = 0; start < n; start += params.batch) {
      const { values: batchValues, eps } = minibatch(rows, order, start, params, noiseRng)
      const { grads } = tf.tidy(() => negElboGradient(tf, encoder, decoder, weights, batchValues, eps, params))
      const g = grads.dataSync()
      optimizer.step(weights, g, what)
      grads.dispose()
      step++
      ctx.onStep?.(step, steps)
      if (params.evalEvery > 0 && step % params.evalEvery === 0 && ctx.onTrainingStep !== undefined) {
        const negElbo = evaluate(tf, encoder, decoder, weights, rows, params, evalRng, Math.min(n, 4096), itemWeights)
        const samples = decode(tf, decoder, weights, params.evalSamples, L, d, params.likelihood, 1, evalRng)
        checkExploded(samples, dataScale, `${what} at step ${step}`)
        await ctx.onTrainingStep(step, { losses: { neg_elbo: negElbo }, samples })
      }
    }
  }
  const negElbo = finalCheck(tf, encoder, decoder, weights, rows, params, evalRng, dataScale, what, itemWeights)
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

/**
 * Post-training. A step is one Adam step on (1/n)·Σ_i w_i·(negative ELBO of item i, one z each)
 * plus the L2-SP term (anchor/2)·‖θ − θ_ref‖² over encoder and decoder, from fresh moments at the
 * first step, at options.lr or else params.lr. Weights must be ≥ 0 (reward-weighted steps, task
 * data): policy gradient needs ∇ log π(x) at the model's own samples, and this model's samples are
 * decoder means, not draws from the Gaussian or Bernoulli likelihood it trains (whose ELBO is in
 * any case a bound, not log π), so a step on advantages of either sign would follow the gradient
 * of no objective of the samples.
 */
export async function vaeTrainer(state: VaeState, params: VaeParams, options: TrainerOptions<VaeState>): Promise<ModelTrainer<VaeState>> {
  const { tf } = await loadTf()
  const what = 'vae post-training'
  const ref = options.reference
  if (ref.d !== state.d || ref.latent !== state.latent || ref.hidden.join() !== state.hidden.join()) {
    throw inputError(`${what}: the reference state has another dimension, latent size or hidden layers than the state it trains`)
  }
  const { encoder, decoder, size } = nets(state.d, state.hidden, state.latent)
  const load = (named: readonly NamedWeights[]): Float32Array => {
    const w = new Float32Array(size)
    encoder.importWeights(w, named, 'encoder')
    decoder.importWeights(w, named, 'decoder')
    return w
  }
  const weights = load(state.weights)
  const reference = load(ref.weights)
  const optimizer = new Adam(size, { lr: options.lr ?? params.lr, beta1: 0.9, beta2: 0.999, anchor: options.anchor > 0 ? { weight: options.anchor, reference } : undefined })
  const noiseRng = options.rng.derive('noise')
  // The likelihood and latent size the state was fit with.
  const settings = { ...params, likelihood: state.likelihood, obsStd: state.obsStd, latent: state.latent }
  let steps = 0
  return {
    batch: params.batch,
    signedWeights: false,
    step(items, itemWeights) {
      const x = asVectors(items, `${what} items`)
      if (x.d !== state.d) throw inputError(`${what}: the items have dimension ${x.d}, the model ${state.d}`)
      if (x.n === 0) throw inputError(`${what}: a step needs at least one item`)
      checkWeights(itemWeights, x.n, `${what} step`)
      if (state.likelihood === 'bernoulli') checkRange(memoryRows(x))
      const eps = normals(noiseRng, x.n * state.latent)
      const { grads, loss } = tf.tidy(() => negElboGradient(tf, encoder, decoder, weights, Float32Array.from(x.data), eps, settings, Float32Array.from(itemWeights), true))
      const value = loss!.dataSync()[0]!
      const g = grads.dataSync()
      steps++
      try {
        if (!Number.isFinite(value)) throw divergedError(`${what}: the weighted negative ELBO became ${value} at step ${steps} (the training diverged; a lower lr may help)`)
        optimizer.step(weights, g, `${what} step ${steps}`)
      } finally {
        grads.dispose()
        loss!.dispose()
      }
      return { losses: { neg_elbo: value } }
    },
    state: () => ({ ...state, weights: [...encoder.exportWeights(weights, 'encoder'), ...decoder.exportWeights(weights, 'decoder')], steps: state.steps + steps }),
  }
}

/** The streams of a fit, from its rng: a fit alone and a chain's share of a block fit derive them alike. */
export function fitStreams(rng: Rng): { init: Rng; batches: Rng; noise: Rng; eval: Rng } {
  return { init: rng.derive('init'), batches: rng.derive('batches'), noise: rng.derive('noise'), eval: rng.derive('eval') }
}

export function adamOptions(params: VaeParams): { lr: number; beta1: number; beta2: number } {
  return { lr: params.lr, beta1: 0.9, beta2: 0.999 }
}

/**
 * The minibatch of `order` that starts at `start` (smaller at the end when batch does not divide
 * n, as torch's randperm().split()), with its reparameterisation noise.
 */
export function minibatch(rows: RowSource, order: Int32Array, start: number, params: VaeParams, noiseRng: Rng): { values: Float32Array; eps: Float32Array } {
  const batchRows = order.subarray(start, Math.min(rows.n, start + params.batch))
  const B = batchRows.length
  // A fresh array each batch: the cpu backend keeps the array it is given instead of copying it.
  const values = new Float32Array(B * rows.d)
  rows.read(batchRows, values)
  return { values, eps: normals(noiseRng, B * params.latent) }
}

/** The negative ELBO after training, checked to be finite, and a check that samples did not explode. */
export function finalCheck(tf: Tf, encoder: Mlp, decoder: Mlp, weights: Float32Array, rows: RowSource, params: VaeParams, evalRng: Rng, dataScale: number, what: string, itemWeights?: Float64Array): number {
  const negElbo = evaluate(tf, encoder, decoder, weights, rows, params, evalRng, rows.n, itemWeights)
  if (!Number.isFinite(negElbo)) throw divergedError(`${what}: the final negative ELBO is ${negElbo} (the training diverged)`)
  checkExploded(decode(tf, decoder, weights, CHECK_SAMPLES, params.latent, rows.d, params.likelihood, 1, evalRng), dataScale, what)
  return negElbo
}

export function permutation(rng: Rng, n: number): Int32Array {
  const perm = rng.permutation(n)
  return new Int32Array(perm.buffer, perm.byteOffset, n)
}

/**
 * The gradient (flat: encoder, then decoder) of Σ_i c_i·(negative ELBO of row i of x, with
 * z = μ + σ·eps), where c_i = 1/B (the batch mean) or, given rowWeights, w_i/B; with withLoss
 * also that sum. Call it inside tf.tidy.
 */
export function negElboGradient(
  tf: Tf,
  encoder: Mlp,
  decoder: Mlp,
  weights: Float32Array,
  x: Float32Array,
  eps: Float32Array,
  params: VaeParams,
  rowWeights?: Float32Array,
  withLoss = false,
): { grads: Tensor1D; loss?: Tensor } {
  const L = params.latent
  const B = eps.length / L
  const d = x.length / B
  const w = rowWeights === undefined ? undefined : tf.tensor2d(rowWeights, [B, 1])
  // c_i times a constant, as a scalar in the batch mean (one multiply, as the plain fit has it).
  const scaled = (c: number): number | Tensor2D => (w === undefined ? c / B : (tf.mul(w, c / B) as Tensor2D))
  const xb = tf.tensor2d(x, [B, d])
  const enc = encoder.bind(tf, weights)
  const dec = decoder.bind(tf, weights)
  const et = enc.forward(xb)
  const [mu, lv] = tf.split(et.outputs.at(-1)!, 2, 1) as [Tensor2D, Tensor2D]
  const sdEps = tf.mul(tf.tensor2d(eps, [B, L]), tf.exp(tf.mul(lv, 0.5)))
  const z = tf.add(mu, sdEps) as Tensor2D
  const dt = dec.forward(z)
  const out = dt.outputs.at(-1)!
  // dL/d(decoder output).
  const dOut = params.likelihood === 'gaussian' ? tf.mul(tf.sub(out, xb), scaled(1 / params.obsStd ** 2)) : tf.mul(tf.sub(tf.sigmoid(out), xb), scaled(1))
  const { grads: gDec, dx: dz } = dec.backward(dt, dOut as Tensor2D, { grads: true, dx: true })
  // z = μ + σ ε with σ = exp(lv/2), plus the closed-form KL 0.5 Σ (μ² + e^lv − 1 − lv).
  const dMu = tf.add(dz!, tf.mul(mu, scaled(1)))
  const dLv = tf.add(tf.mul(tf.mul(dz!, sdEps), 0.5), tf.mul(tf.sub(tf.exp(lv), 1), scaled(0.5)))
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
  const grads = tf.concat([gEnc!, gDec!]) as Tensor1D
  if (!withLoss) return { grads }
  const perRow = negElboRows(tf, xb, mu, lv, out, params)
  return { grads, loss: tf.sum(w === undefined ? tf.div(perRow, B) : tf.div(tf.mul(perRow, tf.reshape(w, [-1])), B)) }
}

/** The negative ELBO of each row of xb ([B]) from the encoder's μ, log σ² and the decoder's output at z. */
function negElboRows(tf: Tf, xb: Tensor2D, mu: Tensor2D, lv: Tensor2D, out: Tensor2D, params: VaeParams): Tensor1D {
  const d = xb.shape[1]
  const nll =
    params.likelihood === 'gaussian'
      ? tf.add(tf.mul(tf.sum(tf.squaredDifference(xb, out), 1), 0.5 / params.obsStd ** 2), d * 0.5 * Math.log(2 * Math.PI * params.obsStd ** 2))
      : tf.sum(tf.sub(tf.softplus(out), tf.mul(xb, out)), 1)
  const kl = tf.mul(tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(lv)), tf.add(lv, 1)), 1), 0.5)
  return tf.add(nll, kl) as Tensor1D
}

/**
 * Mean negative ELBO in nats of the first `count` rows of the data, with one z per row; given
 * item weights, the weighted mean Σ w_i·v_i / Σ w_i.
 */
function evaluate(tf: Tf, encoder: Mlp, decoder: Mlp, weights: Float32Array, data: RowSource, params: VaeParams, rng: Rng, count: number, itemWeights?: Float64Array): number {
  const d = data.d
  const L = params.latent
  let total = 0
  let weightSum = 0
  for (let start = 0; start < count; start += CHUNK) {
    const B = Math.min(count, start + CHUNK) - start
    const values = readRange(data, start, B, new Float32Array(B * d))
    const eps = normals(rng, B * L)
    const rows = tf.tidy(() => {
      const xb = tf.tensor2d(values, [B, d])
      const [mu, lv] = tf.split(encoder.bind(tf, weights).apply(xb), 2, 1) as [Tensor2D, Tensor2D]
      const z = tf.add(mu, tf.mul(tf.tensor2d(eps, [B, L]), tf.exp(tf.mul(lv, 0.5)))) as Tensor2D
      return negElboRows(tf, xb, mu, lv, decoder.bind(tf, weights).apply(z), params)
    })
    const v = rows.dataSync()
    rows.dispose()
    for (let i = 0; i < B; i++) {
      const w = itemWeights === undefined ? 1 : itemWeights[start + i]!
      // A row of weight 0 adds nothing, even a non-finite value.
      if (w !== 0) total += w * v[i]!
      weightSum += w
    }
  }
  return total / weightSum
}

/** Samples drawn after training to check that it did not explode. */
const CHECK_SAMPLES = 1000

/** Rows decoded per batch when sampling, which bounds the memory of a large draw. */
const CHUNK = 4096

/** n decoder means at z ~ N(0, temperature² I). */
export function decode(tf: Tf, decoder: Mlp, weights: Float32Array, n: number, L: number, d: number, likelihood: VaeParams['likelihood'], temperature: number, rng: Rng): VectorSamples {
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
