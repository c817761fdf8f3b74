import { asVectors, checkWeights, inputError, memoryRows, vectors, type FitContext, type ModelTrainer, type Rng, type RowSource, type Samples, type TrainerOptions, type VectorSamples } from '@ouroboros/core'
import { Adam, Mlp, Rmsprop, checkExploded, loadTf, meanSquaredNorm, normals, type Anchor, type NamedWeights, type Optimizer, type Tensor1D, type Tensor2D, type Tf } from '@ouroboros/tf'
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
  /** Generator updates taken in this generation, post-training included. */
  readonly steps: number
}

/** The settings each loss is usually trained with, where the config leaves them out. */
export function trainingSettings(p: GanParams): { lrG: number; lrD: number; dSteps: number; optimizer: 'adam' | 'rmsprop' } {
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
  if (ctx.init !== undefined) checkArchitecture(ctx.init, d, params, 'gan warm start: the previous state', 'a warm start needs the same architecture in every generation')
  const gan = new GanTraining(tf, params, d, ctx.init, ctx.rng, ctx.rng.derive('noise'), { lrG: settings.lrG, lrD: settings.lrD }, undefined, what)
  const batches = new Batches(n, ctx.rng.derive('batches'))
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

  for (let step = 1; step <= params.steps; step++) {
    gan.iteration(realBatch)
    ctx.onStep?.(step, params.steps)
    if (params.evalEvery > 0 && step % params.evalEvery === 0 && ctx.onTrainingStep !== undefined) {
      const losses = gan.losses(() => realBatch(evalBatches), normals(evalRng, rows * latent))
      const samples = generate(tf, gan.gNet, gan.gParams, params.evalSamples, latent, d, 1, evalRng)
      checkExploded(samples, dataScale, `${what} at step ${step}`)
      await ctx.onTrainingStep(step, { losses, samples })
    }
  }
  checkExploded(generate(tf, gan.gNet, gan.gParams, CHECK_SAMPLES, latent, d, 1, evalRng), dataScale, what)
  return gan.state(params.steps)
}

/**
 * Post-training. A step is one iteration of the GAN's own training (its critic updates, unrolled
 * ones included, then a generator update, with the loss and mitigations of the params) whose real
 * rows are the step's items, shuffled and split among the critic updates, continuing both networks
 * from the state; the items must number what one iteration reads (`batch`). Adam's (or RMSprop's) moments start fresh at the first step. Rates:
 * options.lr for the generator, or else the params'; the discriminator keeps its ratio to it (TTUR).
 *
 * The L2-SP anchor pulls the generator alone toward the reference generator: the generator is the
 * model, and the anchor is there to keep its distribution near the pretrained one. The
 * discriminator is left free to tell the task data from the generator's samples, which is where the
 * generator's learning signal comes from (as Li et al. 2020 regularise only the generator when
 * adapting a GAN to few images).
 *
 * Items carry no per-item weight in a GAN's loss (the real batch is an empirical distribution), so
 * a step's weights must all be equal (finetuning's); weights all 0 make a step with nothing to
 * learn from, which changes nothing.
 */
export async function ganTrainer(state: GanState, params: GanParams, options: TrainerOptions<GanState>): Promise<ModelTrainer<GanState>> {
  const { tf } = await loadTf()
  const what = 'gan post-training'
  const { d, latent } = state
  checkArchitecture(state, d, params, `${what}: the state`, 'post-training continues the fit with the same model params')
  checkArchitecture(options.reference, d, params, `${what}: the reference state`, 'the reference is the state post-training started from')
  const settings = trainingSettings(params)
  const lrG = options.lr ?? settings.lrG
  const gNet = generatorNet(latent, params.generator, d)
  const reference = new Float32Array(gNet.size)
  gNet.importWeights(reference, options.reference.generator, 'generator')
  const anchor = options.anchor > 0 ? { weight: options.anchor, reference } : undefined
  const gan = new GanTraining(tf, params, d, state, options.rng, options.rng.derive('noise'), { lrG, lrD: (lrG * settings.lrD) / settings.lrG }, anchor, what)
  const evalRng = options.rng.derive('eval')
  const shuffle = options.rng.derive('rows')
  const rows = params.batch * params.pack
  const perIteration = rows * (settings.dSteps + params.unrolledSteps)
  let steps = 0
  return {
    batch: perIteration,
    signedWeights: false,
    step(items, weights) {
      const x = asVectors(items, `${what} items`)
      if (x.d !== d) throw inputError(`${what}: the items have dimension ${x.d}, the model ${d}`)
      checkWeights(weights, x.n, `${what} step`)
      const unequal = weights.findIndex((w) => w !== weights[0])
      if (unequal >= 0) {
        throw inputError(
          `${what} step: item ${unequal} has weight ${weights[unequal]}, item 0 ${weights[0]}; a GAN takes a step's items as its real batch, which has no per-item weights`,
          "finetune trains a GAN; the rl stage's reward weights cannot (use best-of-n)",
        )
      }
      if (x.n !== perIteration) {
        throw inputError(`${what}: a step takes ${perIteration} items (batch ${params.batch} × pack ${params.pack} × ${settings.dSteps + params.unrolledSteps} critic updates), got ${x.n}`)
      }
      if (weights[0] === 0) return {}
      // The items in a random order, so that each critic update's real batch is a uniform pick of
      // them, as fit's are of the data, even where the items come in parts (task, then replay).
      const order = shuffle.permutation(x.n)
      const block = (k: number): Tensor2D => {
        const values = new Float32Array(rows * d)
        for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) values[i * d + j] = x.data[order[k * rows + i]! * d + j]!
        return tf.tensor2d(values, [params.batch, d * params.pack])
      }
      let next = 0
      gan.iteration(() => block(next++))
      steps++
      return { losses: gan.losses(() => block(next - 1), normals(evalRng, rows * latent)) }
    },
    state: () => gan.state(state.steps + steps),
  }
}

/**
 * A GAN's two networks, their optimisers and its update rules: one `iteration` is the critic
 * updates and the generator update of one training step. Fit and post-training both run it.
 */
class GanTraining {
  readonly gNet: Mlp
  readonly critic: Critic
  readonly gParams: Float32Array
  readonly dParams: Float32Array
  private readonly spectral: SpectralNorm | undefined
  /** The critic's weights as used: spectrally normalised, or the raw ones. */
  private readonly dEff: Float32Array
  private readonly gOpt: Optimizer
  private readonly dOpt: Optimizer
  private readonly dSteps: number

  constructor(
    private readonly tf: Tf,
    private readonly params: GanParams,
    private readonly d: number,
    start: GanState | undefined,
    rng: Rng,
    private readonly noise: Rng,
    rates: { lrG: number; lrD: number },
    anchor: Anchor | undefined,
    private readonly what: string,
  ) {
    const settings = trainingSettings(params)
    this.dSteps = settings.dSteps
    this.gNet = generatorNet(params.latent, params.generator, d)
    this.critic = new Critic(d * params.pack, params.discriminator, params.minibatchStddev, params.leak)
    this.gParams = new Float32Array(this.gNet.size)
    this.dParams = new Float32Array(this.critic.size)
    if (start !== undefined) {
      this.gNet.importWeights(this.gParams, start.generator, 'generator')
      this.critic.body.importWeights(this.dParams, start.discriminator, 'discriminator.body')
      this.critic.head.importWeights(this.dParams, start.discriminator, 'discriminator.head')
      if (params.spectralNorm) this.spectral = new SpectralNorm(this.critic, start.spectralU !== undefined ? { u: start.spectralU } : { rng: rng.derive('spectral') })
    } else {
      const init = rng.derive('init')
      this.gNet.init(this.gParams, init)
      this.critic.body.init(this.dParams, init)
      this.critic.head.init(this.dParams, init)
      if (params.spectralNorm) this.spectral = new SpectralNorm(this.critic, { rng: rng.derive('spectral') })
    }
    const makeOptimizer = (size: number, lr: number, a: Anchor | undefined): Optimizer =>
      settings.optimizer === 'adam' ? new Adam(size, { lr, beta1: params.beta1, beta2: params.beta2, anchor: a }) : new Rmsprop(size, { lr, anchor: a })
    this.gOpt = makeOptimizer(this.gNet.size, rates.lrG, anchor)
    this.dOpt = makeOptimizer(this.critic.size, rates.lrD, undefined)
    this.dEff = this.spectral === undefined ? this.dParams : new Float32Array(this.critic.size)
  }

  private bindCritic(): BoundCritic {
    this.spectral?.apply(this.dParams, this.dEff)
    return this.critic.bind(this.tf, this.dEff)
  }

  private criticStep(realBatch: () => Tensor2D): void {
    const { tf, params, noise, gNet, gParams } = this
    const { batch, latent } = params
    const rows = batch * params.pack
    const z = normals(noise, rows * latent)
    const mix = params.loss === 'wgan-gp' ? Float32Array.from({ length: batch }, () => noise.uniform()) : undefined
    const grads = tf.tidy(() => {
      const real = realBatch()
      const fake = tf.reshape(gNet.bind(tf, gParams).apply(tf.tensor2d(z, [rows, latent])), [batch, this.d * params.pack]) as Tensor2D
      const D = this.bindCritic()
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
    this.spectral?.backward(g, this.dEff)
    this.dOpt.step(this.dParams, g, `${this.what} (discriminator)`)
    grads.dispose()
    if (params.loss === 'wgan') for (let i = 0; i < this.dParams.length; i++) this.dParams[i] = Math.min(params.clip, Math.max(-params.clip, this.dParams[i]!))
  }

  private generatorStep(): void {
    const { tf, params, gNet } = this
    const { batch, latent } = params
    const rows = batch * params.pack
    const z = normals(this.noise, rows * latent)
    const grads = tf.tidy(() => {
      const G = gNet.bind(tf, this.gParams)
      const trace = G.forward(tf.tensor2d(z, [rows, latent]))
      const fake = tf.reshape(trace.outputs[trace.outputs.length - 1]!, [batch, this.d * params.pack]) as Tensor2D
      const D = this.bindCritic()
      const dTrace = D.forward(fake, 1)
      const { dx } = D.backward(dTrace, generatorLossGrad(tf, params.loss, dTrace.out, batch), { grads: false, dx: true })
      return G.backward(trace, tf.reshape(dx!, [rows, this.d]) as Tensor2D, { grads: true, dx: false }).grads!
    })
    const g = grads.dataSync()
    this.gOpt.step(this.gParams, g, `${this.what} (generator)`)
    grads.dispose()
  }

  /** The critic updates and the generator update of one training step; realBatch gives each critic update its real rows. */
  iteration(realBatch: () => Tensor2D): void {
    for (let j = 0; j < this.dSteps; j++) this.criticStep(realBatch)
    if (this.params.unrolledSteps > 0) {
      // First-order unrolling: the generator steps against the critic after k further critic
      // updates, which are then undone (Metz et al. also backpropagate through those updates).
      const saved = { params: this.dParams.slice(), opt: this.dOpt.snapshot(), u: this.spectral?.u.map((u) => u.slice()) }
      for (let j = 0; j < this.params.unrolledSteps; j++) this.criticStep(realBatch)
      this.generatorStep()
      this.dParams.set(saved.params)
      this.dOpt.restore(saved.opt)
      saved.u?.forEach((u, i) => this.spectral!.u[i]!.set(u))
    } else {
      this.generatorStep()
    }
  }

  /** Both losses on a real batch and fake rows from z, for training curves. */
  losses(realBatch: () => Tensor2D, z: Float32Array): Record<string, number> {
    // The critic as the last update used it (no power iteration, which would move spectral norm's u).
    const { tf, params } = this
    return currentLosses(tf, params, this.gNet, this.gParams, () => this.critic.bind(tf, this.dEff), realBatch, z, params.batch * params.pack, params.batch, this.d)
  }

  /** A snapshot of both networks (copies), with `steps` generator updates. */
  state(steps: number): GanState {
    const { params } = this
    return {
      d: this.d,
      latent: params.latent,
      generatorHidden: [...params.generator],
      discriminatorHidden: [...params.discriminator],
      pack: params.pack,
      minibatchStddev: params.minibatchStddev,
      generator: this.gNet.exportWeights(this.gParams, 'generator'),
      discriminator: [...this.critic.body.exportWeights(this.dParams, 'discriminator.body'), ...this.critic.head.exportWeights(this.dParams, 'discriminator.head')],
      ...(this.spectral === undefined ? {} : { spectralU: this.spectral.u.map((u) => u.slice()) }),
      steps,
    }
  }
}

function checkArchitecture(state: GanState, d: number, params: GanParams, whose: string, hint: string): void {
  const same =
    state.d === d &&
    state.latent === params.latent &&
    state.pack === params.pack &&
    state.minibatchStddev === params.minibatchStddev &&
    state.generatorHidden.join() === params.generator.join() &&
    state.discriminatorHidden.join() === params.discriminator.join()
  if (!same) throw inputError(`${whose} has other network sizes, latent, pack or minibatchStddev`, hint)
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
