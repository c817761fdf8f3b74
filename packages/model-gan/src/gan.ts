import { asVectors, inputError, memoryRows, vectors, type FitContext, type Rng, type RowSource, type Samples, type VectorSamples } from '@ouroboros/core'
import { Adam, Mlp, Rmsprop, checkExploded, loadTf, meanSquaredNorm, normals, type NamedWeights, type Optimizer, type Tensor1D, type Tensor2D, type Tf } from '@ouroboros/tf'
import { Critic, type BoundCritic } from './critic.js'
import { SpectralNorm } from './spectral.js'

export type GanLoss = 'minimax' | 'non-saturating' | 'wgan' | 'wgan-gp' | 'hinge'

export interface GanParams {
  loss: GanLoss
  steps: number
  batch: number
  latent: number
  generator: number[]
  discriminator: number[]
  lr: number
  lrG?: number | undefined
  lrD?: number | undefined
  beta1: number
  beta2: number
  optimizer?: 'adam' | 'rmsprop' | undefined
  dSteps?: number | undefined
  clip: number
  gpWeight: number
  minibatchStddev: boolean
  unrolledSteps: number
  spectralNorm: boolean
  pack: number
  leak: number
  evalEvery: number
  evalSamples: number
}

export interface GanState {
  readonly d: number
  readonly latent: number
  readonly generatorHidden: readonly number[]
  readonly discriminatorHidden: readonly number[]
  readonly pack: number
  readonly minibatchStddev: boolean
  /** generator.k.weight / .bias, float32. */
  readonly generator: readonly NamedWeights[]
  /** discriminator.body.k.* and discriminator.head.0.* (raw weights, before spectral normalisation). */
  readonly discriminator: readonly NamedWeights[]
  /** Spectral normalisation's power-iteration vectors, one per critic layer. */
  readonly spectralU?: readonly Float32Array[]
  /** Generator updates taken in this generation. */
  readonly steps: number
}

/** The settings each loss is usually trained with, where the config leaves them out. */
function trainingSettings(p: GanParams): { lrG: number; lrD: number; dSteps: number; optimizer: 'adam' | 'rmsprop' } {
  const critic = p.loss === 'wgan' || p.loss === 'wgan-gp'
  return {
    lrG: p.lrG ?? p.lr,
    lrD: p.lrD ?? p.lr,
    // Arjovsky et al. and Gulrajani et al. train the critic 5 times per generator step.
    dSteps: p.dSteps ?? (critic ? 5 : 1),
    // The original WGAN uses RMSprop: momentum made weight clipping unstable.
    optimizer: p.optimizer ?? (p.loss === 'wgan' ? 'rmsprop' : 'adam'),
  }
}

function generatorNet(latent: number, hidden: readonly number[], d: number): Mlp {
  return new Mlp([latent, ...hidden, d], 'relu', 'linear')
}

/** Real rows in reshuffled passes over the data, one pass after another. */
class Batches {
  private order: Int32Array = new Int32Array(0)
  private at = 0
  constructor(
    private readonly n: number,
    private readonly rng: Rng,
  ) {}

  next(count: number): Int32Array {
    const out = new Int32Array(count)
    for (let i = 0; i < count; i++) {
      if (this.at === this.order.length) {
        const perm = this.rng.permutation(this.n)
        this.order = new Int32Array(perm.buffer, perm.byteOffset, this.n)
        this.at = 0
      }
      out[i] = this.order[this.at++]!
    }
    return out
  }
}

export function fitGan(data: Samples, params: GanParams, ctx: FitContext<GanState>): Promise<GanState> {
  return fitGanRows(memoryRows(asVectors(data, 'gan training data')), params, ctx)
}

/** Trains on minibatches read from `data`, so the training set need not be in memory. */
export async function fitGanRows(data: RowSource, params: GanParams, ctx: FitContext<GanState>): Promise<GanState> {
  const { n, d } = data
  if (n === 0) throw inputError('gan: the training set is empty')
  const { tf } = await loadTf()
  const settings = trainingSettings(params)
  const { latent, pack, batch } = params
  const what = `gan generation ${ctx.generation}`

  const gNet = generatorNet(latent, params.generator, d)
  const critic = new Critic(d * pack, params.discriminator, params.minibatchStddev, params.leak)
  const gParams = new Float32Array(gNet.size)
  const dParams = new Float32Array(critic.size)
  let spectral: SpectralNorm | undefined
  if (ctx.init !== undefined) {
    checkWarmStart(ctx.init, d, params)
    gNet.importWeights(gParams, ctx.init.generator, 'generator')
    critic.body.importWeights(dParams, ctx.init.discriminator, 'discriminator.body')
    critic.head.importWeights(dParams, ctx.init.discriminator, 'discriminator.head')
    if (params.spectralNorm) spectral = new SpectralNorm(critic, ctx.init.spectralU !== undefined ? { u: ctx.init.spectralU } : { rng: ctx.rng.derive('spectral') })
  } else {
    const rng = ctx.rng.derive('init')
    gNet.init(gParams, rng)
    critic.body.init(dParams, rng)
    critic.head.init(dParams, rng)
    if (params.spectralNorm) spectral = new SpectralNorm(critic, { rng: ctx.rng.derive('spectral') })
  }
  const makeOptimizer = (size: number, lr: number): Optimizer =>
    settings.optimizer === 'adam' ? new Adam(size, { lr, beta1: params.beta1, beta2: params.beta2 }) : new Rmsprop(size, { lr })
  const gOpt = makeOptimizer(gNet.size, settings.lrG)
  const dOpt = makeOptimizer(critic.size, settings.lrD)
  // The critic's weights as used: spectrally normalised, or the raw ones.
  const dEff = spectral === undefined ? dParams : new Float32Array(critic.size)
  const batches = new Batches(n, ctx.rng.derive('batches'))
  const noise = ctx.rng.derive('noise')
  // Evaluation draws from streams of its own, so that evalEvery does not change the training.
  const evalRng = ctx.rng.derive('eval')
  const evalBatches = new Batches(n, ctx.rng.derive('eval-batches'))
  const rows = batch * pack
  const dataScale = meanSquaredNorm(data)

  const realBatch = (from = batches): Tensor2D => {
    // A fresh array each batch: the cpu backend keeps the array it is given instead of copying it.
    const values = new Float32Array(rows * d)
    data.read(from.next(rows), values)
    return tf.tensor2d(values, [batch, d * pack])
  }
  const bindCritic = (): BoundCritic => {
    spectral?.apply(dParams, dEff)
    return critic.bind(tf, dEff)
  }

  const criticStep = (): void => {
    const z = normals(noise, rows * latent)
    const mix = params.loss === 'wgan-gp' ? Float32Array.from({ length: batch }, () => noise.uniform()) : undefined
    const grads = tf.tidy(() => {
      const real = realBatch()
      const fake = tf.reshape(gNet.bind(tf, gParams).apply(tf.tensor2d(z, [rows, latent])), [batch, d * pack]) as Tensor2D
      const D = bindCritic()
      // Real and fake rows in one pass; the minibatch-stddev statistic is taken within each half.
      const trace = D.forward(tf.concat([real, fake], 0) as Tensor2D, 2)
      let g = D.backward(trace, criticLossGrad(tf, params.loss, trace.out, batch), { grads: true, dx: false }).grads!
      if (mix !== undefined) {
        const alpha = tf.tensor2d(mix, [batch, 1])
        const xHat = tf.add(tf.mul(alpha, real), tf.mul(tf.sub(1, alpha), fake)) as Tensor2D
        g = tf.add(g, D.penalty(xHat, params.gpWeight).grads) as Tensor1D
      }
      return g
    })
    const g = grads.dataSync() as Float32Array
    spectral?.backward(g, dEff)
    dOpt.step(dParams, g, `${what} (discriminator)`)
    grads.dispose()
    if (params.loss === 'wgan') for (let i = 0; i < dParams.length; i++) dParams[i] = Math.min(params.clip, Math.max(-params.clip, dParams[i]!))
  }

  const generatorStep = (): void => {
    const z = normals(noise, rows * latent)
    const grads = tf.tidy(() => {
      const G = gNet.bind(tf, gParams)
      const trace = G.forward(tf.tensor2d(z, [rows, latent]))
      const fake = tf.reshape(trace.outputs[trace.outputs.length - 1]!, [batch, d * pack]) as Tensor2D
      const D = bindCritic()
      const dTrace = D.forward(fake, 1)
      const { dx } = D.backward(dTrace, generatorLossGrad(tf, params.loss, dTrace.out, batch), { grads: false, dx: true })
      return G.backward(trace, tf.reshape(dx!, [rows, d]) as Tensor2D, { grads: true, dx: false }).grads!
    })
    const g = grads.dataSync()
    gOpt.step(gParams, g, `${what} (generator)`)
    grads.dispose()
  }

  for (let step = 1; step <= params.steps; step++) {
    for (let j = 0; j < settings.dSteps; j++) criticStep()
    if (params.unrolledSteps > 0) {
      // First-order unrolling: the generator steps against the critic after k further critic
      // updates, which are then undone (Metz et al. also backpropagate through those updates).
      const saved = { params: dParams.slice(), opt: dOpt.snapshot(), u: spectral?.u.map((u) => u.slice()) }
      for (let j = 0; j < params.unrolledSteps; j++) criticStep()
      generatorStep()
      dParams.set(saved.params)
      dOpt.restore(saved.opt)
      saved.u?.forEach((u, i) => spectral!.u[i]!.set(u))
    } else {
      generatorStep()
    }
    if (params.evalEvery > 0 && step % params.evalEvery === 0 && ctx.onTrainingStep !== undefined) {
      // The critic as the last update used it (no power iteration, which would move spectral norm's u).
      const losses = currentLosses(tf, params, gNet, gParams, () => critic.bind(tf, dEff), () => realBatch(evalBatches), normals(evalRng, rows * latent), rows, batch, d)
      const samples = generate(tf, gNet, gParams, params.evalSamples, latent, d, 1, evalRng)
      checkExploded(samples, dataScale, `${what} at step ${step}`)
      await ctx.onTrainingStep(step, { losses, samples })
    }
  }
  checkExploded(generate(tf, gNet, gParams, CHECK_SAMPLES, latent, d, 1, evalRng), dataScale, what)
  return {
    d,
    latent,
    generatorHidden: [...params.generator],
    discriminatorHidden: [...params.discriminator],
    pack,
    minibatchStddev: params.minibatchStddev,
    generator: gNet.exportWeights(gParams, 'generator'),
    discriminator: [...critic.body.exportWeights(dParams, 'discriminator.body'), ...critic.head.exportWeights(dParams, 'discriminator.head')],
    ...(spectral === undefined ? {} : { spectralU: spectral.u.map((u) => u.slice()) }),
    steps: params.steps,
  }
}

function checkWarmStart(init: GanState, d: number, params: GanParams): void {
  const same =
    init.d === d &&
    init.latent === params.latent &&
    init.pack === params.pack &&
    init.minibatchStddev === params.minibatchStddev &&
    init.generatorHidden.join() === params.generator.join() &&
    init.discriminatorHidden.join() === params.discriminator.join()
  if (!same) throw inputError('gan warm start: the previous state has other network sizes, latent, pack or minibatchStddev', 'a warm start needs the same architecture in every generation')
}

/**
 * dL_D/d(score) for the critic's batch-mean loss; `out` holds the real half, then the fake half.
 * minimax and non-saturating share the critic loss −log σ(D(x)) − log(1 − σ(D(G(z)))).
 */
function criticLossGrad(tf: Tf, loss: GanLoss, out: Tensor2D, b: number): Tensor2D {
  const [real, fake] = tf.split(out, 2, 0) as [Tensor2D, Tensor2D]
  let dReal
  let dFake
  switch (loss) {
    case 'minimax':
    case 'non-saturating':
      dReal = tf.sub(tf.sigmoid(real), 1)
      dFake = tf.sigmoid(fake)
      break
    case 'wgan':
    case 'wgan-gp':
      dReal = tf.fill(real.shape, -1)
      dFake = tf.fill(fake.shape, 1)
      break
    case 'hinge':
      // mean relu(1 − D(x)) + mean relu(1 + D(G(z)))
      dReal = tf.neg(tf.cast(tf.less(real, 1), 'float32'))
      dFake = tf.cast(tf.greater(fake, -1), 'float32')
      break
  }
  return tf.div(tf.concat([dReal, dFake], 0), b) as Tensor2D
}

/** dL_G/d(score) of the generator's batch-mean loss. */
function generatorLossGrad(tf: Tf, loss: GanLoss, out: Tensor2D, b: number): Tensor2D {
  switch (loss) {
    case 'minimax':
      // log(1 − σ(D(G(z)))), the loss of Goodfellow et al.'s game, which saturates when D wins.
      return tf.div(tf.neg(tf.sigmoid(out)), b) as Tensor2D
    case 'non-saturating':
      // −log σ(D(G(z)))
      return tf.div(tf.sub(tf.sigmoid(out), 1), b) as Tensor2D
    case 'wgan':
    case 'wgan-gp':
    case 'hinge':
      // −D(G(z))
      return tf.fill(out.shape, -1 / b) as Tensor2D
  }
}

/** Both losses on a fresh batch, for the training curve. */
function currentLosses(
  tf: Tf,
  params: GanParams,
  gNet: Mlp,
  gParams: Float32Array,
  bindCritic: () => BoundCritic,
  realBatch: () => Tensor2D,
  z: Float32Array,
  rows: number,
  batch: number,
  d: number,
): Record<string, number> {
  const values = tf.tidy(() => {
    const fake = tf.reshape(gNet.bind(tf, gParams).apply(tf.tensor2d(z, [rows, z.length / rows])), [batch, d * params.pack]) as Tensor2D
    const [real, fakeScore] = tf.split(bindCritic().forward(tf.concat([realBatch(), fake], 0) as Tensor2D, 2).out, 2, 0) as [Tensor2D, Tensor2D]
    let dLoss
    let gLoss
    switch (params.loss) {
      case 'minimax':
      case 'non-saturating':
        dLoss = tf.add(tf.mean(tf.softplus(tf.neg(real))), tf.mean(tf.softplus(fakeScore)))
        gLoss = params.loss === 'minimax' ? tf.neg(tf.mean(tf.softplus(fakeScore))) : tf.mean(tf.softplus(tf.neg(fakeScore)))
        break
      case 'wgan':
      case 'wgan-gp':
        dLoss = tf.sub(tf.mean(fakeScore), tf.mean(real))
        gLoss = tf.neg(tf.mean(fakeScore))
        break
      case 'hinge':
        dLoss = tf.add(tf.mean(tf.relu(tf.sub(1, real))), tf.mean(tf.relu(tf.add(1, fakeScore))))
        gLoss = tf.neg(tf.mean(fakeScore))
        break
    }
    return tf.stack([dLoss, gLoss])
  })
  const [dLoss, gLoss] = values.dataSync()
  values.dispose()
  return { d: dLoss!, g: gLoss! }
}

/** Samples drawn after training to check that it did not explode. */
const CHECK_SAMPLES = 1000

/** Rows generated per batch when sampling. */
const CHUNK = 8192

function generate(tf: Tf, gNet: Mlp, gParams: Float32Array, n: number, latent: number, d: number, temperature: number, rng: Rng): VectorSamples {
  const out = new Float64Array(n * d)
  for (let start = 0; start < n; start += CHUNK) {
    const B = Math.min(n, start + CHUNK) - start
    const z = normals(rng, B * latent, temperature)
    const y = tf.tidy(() => gNet.bind(tf, gParams).apply(tf.tensor2d(z, [B, latent])))
    out.set(y.dataSync(), start * d)
    y.dispose()
  }
  return vectors(n, d, out)
}

export async function sampleGan(state: GanState, n: number, temperature: number, rng: Rng): Promise<VectorSamples> {
  const { tf } = await loadTf()
  const gNet = generatorNet(state.latent, state.generatorHidden, state.d)
  const gParams = new Float32Array(gNet.size)
  gNet.importWeights(gParams, state.generator, 'generator')
  return generate(tf, gNet, gParams, n, state.latent, state.d, temperature, rng)
}
