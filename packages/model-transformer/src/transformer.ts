import { divergedError, inputError, type FitContext, type ModelTrainer, type Rng, type Samples, type TokenSamples, type TrainerOptions } from '@ouroboros/core'
import { loadTf, type NamedWeights, type Tf } from '@ouroboros/tf'
import { AdamW, clipGradients, scheduledRate } from './adamw.js'
import { Layout, type Dimensions } from './layout.js'
import { Bound, KvCache } from './network.js'
import { checkIds, datasetVocabulary, endId, makeVocabulary, modelIds, outcomes, trainingStream, unknownId, unknownWords, type Vocabulary } from './vocabulary.js'

export interface TransformerParams {
  context: number
  layers: number
  heads: number
  dModel: number
  ffn: number
  maxVocab: number
  steps: number
  batch: number
  lr: number
  warmup: number
  weightDecay: number
  clip: number
  evalEvery: number
  topK?: number | undefined
  topP?: number | undefined
  maxLength: number
}

export interface TransformerState {
  readonly vocabulary: Vocabulary
  readonly dims: Dimensions
  /** Named tensors (layout.ts), float32. */
  readonly weights: readonly NamedWeights[]
  readonly steps: number
  /** Mean training loss (nats per token) over the last steps. */
  readonly loss: number
  readonly topK: number | undefined
  readonly topP: number | undefined
  /** Longest sampled sentence in words (absent in states saved before it: 256, its default). */
  readonly maxLength?: number
}

/** AdamW's β and ε (tfjs's Adam defaults to ε = 1e-7) and the schedule's final share of lr. */
const BETA1 = 0.9
const BETA2 = 0.95
const EPS = 1e-8
const FINAL_LR = 0.1

/** Training steps averaged into the reported loss. */
const LOSS_WINDOW = 100

export async function fitTransformer(data: Samples, params: TransformerParams, ctx: FitContext<TransformerState>): Promise<TransformerState> {
  const tokens = asTokens(data, 'transformer training data')
  if (tokens.n === 0) throw inputError('the transformer needs at least one training sentence')
  const vocabulary = ctx.init?.vocabulary ?? makeVocabulary(ctx.real?.modality === 'tokens' ? ctx.real : tokens, params.maxVocab, datasetVocabulary(ctx.dataset))
  checkIds(tokens, vocabulary.datasetSize, 'transformer training data')
  const dims = dimensionsOf(params, vocabulary)
  const layout = new Layout(dims)
  const theta = new Float32Array(layout.size)
  if (ctx.init !== undefined) {
    if (!sameDimensions(ctx.init.dims, dims)) throw inputError('transformer warm start: the previous state has other network sizes', 'a warm start needs the same sizes in every generation')
    layout.import(theta, ctx.init.weights, 'transformer warm start')
  } else {
    layout.init(theta, ctx.rng.derive('init'))
  }
  const stream = trainingStream(tokens, vocabulary, ctx.rng.derive('order').permutation(tokens.n))
  const { context: T, batch: B } = params
  if (stream.length < T + 1) {
    throw inputError(`the transformer's training text has ${stream.length} tokens (sentences and their ends), fewer than context + 1 = ${T + 1}`, 'train on more sentences or lower model.context')
  }
  const { tf } = await loadTf()
  const trainer = new Pretraining(tf, layout, theta, params)
  const windows = ctx.rng.derive('windows')
  const what = `transformer generation ${ctx.generation}`
  const inputs = new Int32Array(B * T)
  const targets = new Int32Array(B * T)
  const recent: number[] = []
  let sinceReport: number[] = []
  for (let step = 1; step <= params.steps; step++) {
    for (let b = 0; b < B; b++) {
      const start = windows.int(stream.length - T)
      inputs.set(stream.subarray(start, start + T), b * T)
      targets.set(stream.subarray(start + 1, start + T + 1), b * T)
    }
    const loss = trainer.step(inputs, targets, `${what} step ${step}`)
    ctx.onStep?.(step, params.steps)
    recent.push(loss)
    if (recent.length > LOSS_WINDOW) recent.shift()
    sinceReport.push(loss)
    // The last step is reported too: a curve then reaches the end of training whatever the steps.
    if (params.evalEvery > 0 && (step % params.evalEvery === 0 || step === params.steps)) {
      await ctx.onTrainingStep?.(step, { losses: { loss: mean(sinceReport) } })
      sinceReport = []
    }
  }
  return { vocabulary, dims, weights: layout.export(theta), steps: params.steps, loss: mean(recent), topK: params.topK, topP: params.topP, maxLength: params.maxLength }
}

/**
 * Pretraining steps on batches of windows: the mean cross-entropy of the next token over every
 * position, its gradient clipped to norm `clip`, and AdamW at the scheduled rate of the step.
 */
export class Pretraining {
  private readonly optimizer: AdamW
  private readonly grads: Float32Array
  private steps = 0
  /** The gradient norm of the last step, before clipping. */
  lastNorm = 0

  constructor(
    private readonly tf: Tf,
    private readonly layout: Layout,
    /** The parameters, updated in place. */
    readonly theta: Float32Array,
    private readonly params: Pick<TransformerParams, 'steps' | 'lr' | 'warmup' | 'weightDecay' | 'clip' | 'batch' | 'context'>,
  ) {
    this.optimizer = new AdamW(layout.size, layout.decayMask(), { beta1: BETA1, beta2: BETA2, eps: EPS, weightDecay: params.weightDecay })
    this.grads = new Float32Array(layout.size)
  }

  /** One step on batch × context inputs and their targets (the inputs shifted by one); returns the loss before the step. */
  step(inputs: Int32Array, targets: Int32Array, what: string): number {
    const { batch: B, context: T } = this.params
    const N = B * T
    this.grads.fill(0)
    const logp = gradientStep(this.tf, this.layout, this.theta, inputs, targets, B, T, new Float32Array(N).fill(1 / N), this.grads)
    let loss = 0
    for (let r = 0; r < N; r++) loss -= logp[r]! / N
    if (!Number.isFinite(loss)) throw divergedError(`${what}: the training loss became ${loss} (the training diverged; a lower lr may help)`)
    this.lastNorm = clipGradients(this.grads, this.params.clip, what)
    this.steps++
    this.optimizer.step(this.theta, this.grads, scheduledRate(this.steps, this.params.steps, this.params.lr, this.params.warmup, FINAL_LR))
    return loss
  }
}

/** Forward and backward over rows of inputs: adds the gradient of −Σ coef·log p(target) into grads; returns log p per position. */
function gradientStep(tf: Tf, layout: Layout, theta: Float32Array, inputs: Int32Array, targets: Int32Array, rows: number, length: number, coef: Float32Array, grads: Float32Array): Float64Array {
  const net = new Bound(tf, layout, theta)
  try {
    const pass = net.forward(inputs, rows, length, true)
    const out = net.output(pass.xf, rows * length, targets, coef, grads)
    net.backward(pass, out.dxf!, grads)
    return out.logp
  } finally {
    net.dispose()
  }
}

export function dimensionsOf(params: TransformerParams, vocabulary: Vocabulary): Dimensions {
  return { vocab: outcomes(vocabulary), context: params.context, layers: params.layers, heads: params.heads, dModel: params.dModel, ffn: params.ffn }
}

function sameDimensions(a: Dimensions, b: Dimensions): boolean {
  return a.vocab === b.vocab && a.context === b.context && a.layers === b.layers && a.heads === b.heads && a.dModel === b.dModel && a.ffn === b.ffn
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
}

/** The state's parameters as one array. */
function parametersOf(state: TransformerState): { layout: Layout; theta: Float32Array } {
  const layout = new Layout(state.dims)
  const theta = new Float32Array(layout.size)
  layout.import(theta, state.weights, 'transformer state')
  return { layout, theta }
}

/**
 * Scoring rows for whole sentences. A sentence of k words is k + 1 predictions (its words and its
 * end), each from the end of sentence before it and the sentence's own earlier words, never the
 * previous sentence (as at sampling, which starts from an end of sentence). A sentence with
 * more predictions than the context T is scored in windows of T positions that advance by
 * S = ⌊T/2⌋: the first window counts its T predictions, each later one its last S, so every
 * prediction after the first T sees at least T − S earlier tokens.
 */
export interface SentenceRows {
  /** Row r: `length[r]` positions of inputs and targets from `start[r]`. */
  readonly inputs: Int32Array
  readonly targets: Int32Array
  readonly start: Int32Array
  readonly length: Int32Array
  /** The sentence of each row and, per position, whether it counts. */
  readonly sentence: Int32Array
  readonly counted: Uint8Array
}

export function sentenceRows(data: TokenSamples, v: Vocabulary, T: number, maxLength?: number): SentenceRows {
  const table = modelIds(v)
  const end = endId(v)
  const S = Math.max(1, Math.floor(T / 2))
  const inputs: number[] = []
  const targets: number[] = []
  const counted: number[] = []
  const start: number[] = []
  const length: number[] = []
  const sentence: number[] = []
  const seq: number[] = []
  for (let i = 0; i < data.n; i++) {
    seq.length = 0
    seq.push(end)
    for (let t = data.offsets[i]!; t < data.offsets[i + 1]!; t++) seq.push(table[data.tokens[t]!]!)
    seq.push(end)
    const P = seq.length - 1
    // Sampling cuts a sentence at maxLength words without drawing its end: such a sentence's end is not scored.
    const cut = maxLength !== undefined && P - 1 === maxLength ? P - 1 : -1
    for (let w = 0; ; w++) {
      const from = w === 0 ? 0 : (w - 1) * S + S
      const first = w === 0 ? 0 : from + T - S
      if (w > 0 && first >= P) break
      const len = Math.min(T, P - from)
      start.push(inputs.length)
      length.push(len)
      sentence.push(i)
      for (let p = from; p < from + len; p++) {
        inputs.push(seq[p]!)
        targets.push(seq[p + 1]!)
        counted.push(p >= first && p !== cut ? 1 : 0)
      }
      if (from + T >= P) break
    }
  }
  return {
    inputs: Int32Array.from(inputs),
    targets: Int32Array.from(targets),
    start: Int32Array.from(start),
    length: Int32Array.from(length),
    sentence: Int32Array.from(sentence),
    counted: Uint8Array.from(counted),
  }
}

/** Positions per forward pass when scoring or post-training: a training batch's worth. */
const POSITIONS_PER_PASS = 1024

/**
 * Runs the rows through the network in passes of rows of equal length (rows sorted by length, so
 * that short sentences are not padded to long ones) and calls `visit` with each pass's rows, their
 * length and the log-probabilities of their targets. With `coef` (per position of `rows`) and
 * `grads` it also accumulates the gradient of −Σ coef·log p(target).
 */
function runRows(
  tf: Tf,
  layout: Layout,
  theta: Float32Array,
  rows: SentenceRows,
  visit: (row: number, logp: Float64Array, at: number) => void,
  coef?: Float32Array,
  grads?: Float32Array,
): void {
  const order = Array.from(rows.length.keys()).sort((a, b) => rows.length[a]! - rows.length[b]! || a - b)
  const net = grads === undefined ? new Bound(tf, layout, theta) : undefined
  try {
    for (let i = 0; i < order.length; ) {
      const L = rows.length[order[i]!]!
      let j = i
      while (j < order.length && rows.length[order[j]!] === L && (j - i + 1) * L <= Math.max(POSITIONS_PER_PASS, L)) j++
      const group = order.slice(i, j)
      const N = group.length * L
      const inputs = new Int32Array(N)
      const targets = new Int32Array(N)
      const c = new Float32Array(N)
      group.forEach((r, k) => {
        const s = rows.start[r]!
        inputs.set(rows.inputs.subarray(s, s + L), k * L)
        targets.set(rows.targets.subarray(s, s + L), k * L)
        if (coef !== undefined) c.set(coef.subarray(s, s + L), k * L)
      })
      let logp: Float64Array
      if (grads !== undefined) {
        logp = gradientStep(tf, layout, theta, inputs, targets, group.length, L, c, grads)
      } else {
        const pass = net!.forward(inputs, group.length, L, false)
        logp = net!.output(pass.xf, N, targets).logp
      }
      group.forEach((r, k) => visit(r, logp, k * L))
      i = j
    }
  } finally {
    net?.dispose()
  }
}

/**
 * Natural-log probability of each sentence: its words and its end, in the windows of
 * sentenceRows; a sentence of maxLength words has no end scored, as sampling cuts it there. A word the model does not know is `<unk>` to it; its probability is p(<unk>)
 * shared equally among the dataset's words outside the model's vocabulary, so that the
 * probabilities of all dataset words sum to one and perplexities compare with other models'.
 */
export async function transformerLogLikelihood(state: TransformerState, data: Samples): Promise<Float64Array> {
  const tokens = asTokens(data, 'transformer evaluation data')
  checkIds(tokens, state.vocabulary.datasetSize, 'transformer evaluation data')
  const { tf } = await loadTf()
  const { layout, theta } = parametersOf(state)
  const rows = sentenceRows(tokens, state.vocabulary, state.dims.context, state.maxLength ?? DEFAULT_MAX_LENGTH)
  const unknown = unknownId(state.vocabulary)
  const spread = Math.log(unknownWords(state.vocabulary))
  const out = new Float64Array(tokens.n)
  runRows(tf, layout, theta, rows, (r, logp, at) => {
    const s = rows.start[r]!
    for (let p = 0; p < rows.length[r]!; p++) {
      if (rows.counted[s + p] === 0) continue
      out[rows.sentence[r]!]! += logp[at + p]! - (rows.targets[s + p] === unknown ? spread : 0)
    }
  })
  return out
}

/** Sentences decoded in parallel, each slot taking the next sentence when its own ends. */
const SAMPLE_SLOTS = 256

/** maxLength of states saved before it was a parameter. */
const DEFAULT_MAX_LENGTH = 256

/**
 * n sentences, each started from an end of sentence and ended by the next, or cut after
 * `maxLength` words. Draws at temperature T (p^(1/T)), keeping the topK most probable tokens and
 * the fewest most probable holding topP of the tempered probability (ties at the boundary all
 * kept, the smaller set when both are given), as the n-gram model does. Keys and values of earlier
 * positions are cached, so each token costs one position's forward pass.
 *
 * A sentence longer than the context goes on in the windows logLikelihood scores it in (see
 * sentenceRows): once a window of T positions is full, the next starts S = ⌊T/2⌋ tokens later,
 * its first T − S tokens are fed again at positions 0.. (nothing is drawn meanwhile), and drawing
 * resumes. So a sentence shorter than maxLength is drawn with the probability logLikelihood gives
 * it, however long; the refill costs T − S positions' passes every S tokens past the context.
 */
export async function sampleTransformer(state: TransformerState, n: number, temperature: number, rng: Rng): Promise<TokenSamples> {
  const { tf } = await loadTf()
  const { layout, theta } = parametersOf(state)
  const { vocabulary: v, dims } = state
  const V = dims.vocab
  const T = dims.context
  const S = Math.max(1, Math.floor(T / 2))
  const maxLength = state.maxLength ?? DEFAULT_MAX_LENGTH
  const end = endId(v)
  const unknown = unknownId(v)
  const slots = Math.min(n, SAMPLE_SLOTS)
  const cache = new KvCache(dims.layers, slots, T, dims.dModel)
  const net = new Bound(tf, layout, theta)
  const sentences: Int32Array[] = new Array(n)
  const owner = new Int32Array(slots).fill(-1)
  /** Per slot: the model's tokens so far (an end of sentence first), and the dataset's ids of its words. */
  const seq: number[][] = Array.from({ length: slots }, () => [])
  const words: number[][] = Array.from({ length: slots }, () => [])
  /** Per slot: the index in seq of the next token to feed, and where its window starts. */
  const next = new Int32Array(slots)
  const from = new Int32Array(slots)
  let taken = 0
  const take = (s: number): void => {
    owner[s] = taken < n ? taken++ : -1
    seq[s] = [end]
    words[s] = []
    next[s] = 0
    from[s] = 0
  }
  for (let s = 0; s < slots; s++) take(s)
  const draw = new Drawer(V, state.topK, state.topP)
  try {
    for (;;) {
      const active = Int32Array.from([...owner.keys()].filter((s) => owner[s]! >= 0))
      if (active.length === 0) break
      const A = active.length
      const tokensIn = Int32Array.from(active, (s) => seq[s]![next[s]!]!)
      const positions = Int32Array.from(active, (s) => next[s]! - from[s]!)
      const xf = net.decode(tokensIn, positions, active, A, cache)
      // Rows that fed a sentence's last token draw its next one; the others are refilling a window.
      const draws = Uint8Array.from(active, (s) => (next[s] === seq[s]!.length - 1 ? 1 : 0))
      const drawing = Int32Array.from([...draws.keys()].filter((i) => draws[i] === 1))
      const probs = drawing.length === 0 ? new Float32Array(0) : net.probabilities(drawing.length === A ? xf : pickRows(xf, drawing, dims.dModel), drawing.length, temperature)
      let row = 0
      for (let i = 0; i < A; i++) {
        const s = active[i]!
        if (draws[i] === 0) {
          next[s]!++
          continue
        }
        const token = draw.next(probs, row++ * V, rng)
        const done = token === end
        if (!done) {
          seq[s]!.push(token)
          words[s]!.push(token === unknown ? v.datasetUnknown : v.words[token]!)
        }
        if (done || words[s]!.length === maxLength) {
          sentences[owner[s]!] = Int32Array.from(words[s]!)
          take(s)
          continue
        }
        next[s]!++
        if (next[s]! - from[s]! === T) {
          from[s]! += S
          next[s] = from[s]!
        }
      }
    }
  } finally {
    net.dispose()
  }
  const offsets = new Uint32Array(n + 1)
  sentences.forEach((w, i) => (offsets[i + 1] = offsets[i]! + w.length))
  const out = new Int32Array(offsets[n]!)
  sentences.forEach((w, i) => out.set(w, offsets[i]!))
  return { modality: 'tokens', n, vocabSize: v.datasetSize, tokens: out, offsets }
}

/** Rows `rows` of x [·, C], in order. */
function pickRows(x: Float32Array, rows: Int32Array, C: number): Float32Array {
  const out = new Float32Array(rows.length * C)
  rows.forEach((r, i) => out.set(x.subarray(r * C, (r + 1) * C), i * C))
  return out
}

/** One token from a row of probabilities, truncated by top-k and top-p. */
export class Drawer {
  private readonly order: Int32Array
  constructor(
    private readonly V: number,
    private readonly topK: number | undefined,
    private readonly topP: number | undefined,
  ) {
    this.order = Int32Array.from({ length: V }, (_, i) => i)
  }

  next(probs: Float32Array, at: number, rng: Rng): number {
    const { V } = this
    let total = 0
    for (let c = 0; c < V; c++) total += probs[at + c]!
    if (this.topK === undefined && this.topP === undefined) {
      let u = rng.uniform() * total
      for (let c = 0; c < V; c++) {
        u -= probs[at + c]!
        if (u < 0) return c
      }
      for (let c = V - 1; c >= 0; c--) if (probs[at + c]! > 0) return c
      return V - 1
    }
    const order = this.order
    for (let c = 0; c < V; c++) order[c] = c
    order.sort((a, b) => probs[at + b]! - probs[at + a]! || a - b)
    // A token is kept when fewer than k tokens are strictly more probable and those hold less
    // than topP of the mass: whole groups of tied tokens are kept or dropped together.
    const k = this.topK ?? V
    const limit = (this.topP ?? 1) * total
    let kept = 0
    let mass = 0
    while (kept < V) {
      if (!(kept < k && (this.topP === undefined || mass < limit))) break
      const p = probs[at + order[kept]!]!
      let end = kept
      while (end < V && probs[at + order[end]!] === p) mass += probs[at + order[end++]!]!
      kept = end
    }
    let u = rng.uniform() * mass
    for (let i = 0; i < kept; i++) {
      u -= probs[at + order[i]!]!
      if (u < 0) return order[i]!
    }
    return order[kept - 1]!
  }
}

const TRAINER = 'transformer post-training'

/**
 * Post-training on whole sentences. A step ascends (1/(n·m))·Σ_i w_i·log p(sentence_i) −
 * (anchor/2)·‖θ − θ_ref‖² over its n sentences, where log p(sentence) is what logLikelihood gives
 * (from its end-of-sentence start through its end, in the same windows; the constant for unknown
 * words aside) and m is the mean number of predictions per sentence (words + 1) of the first
 * step's items, then held fixed: with unit weights a step is a pretraining step on those
 * sentences (the mean cross-entropy per token), so lr means what it means in pretraining, and
 * every step ascends the same objective. The gradient is clipped to norm `clip` as in
 * pretraining, and AdamW takes the step with fresh moments and a constant rate (options.lr, else
 * params.lr) and without weight decay: post-training's pull is the L2-SP anchor toward the
 * reference, and a decay toward 0 would move the model on a step that carries no signal.
 */
export async function transformerTrainer(state: TransformerState, params: TransformerParams, options: TrainerOptions<TransformerState>): Promise<TransformerTrainer> {
  const { tf } = await loadTf()
  return new TransformerTrainer(tf, state, params, options)
}

export class TransformerTrainer implements ModelTrainer<TransformerState> {
  readonly batch: number
  readonly signedWeights = true
  private readonly layout: Layout
  private readonly theta: Float32Array
  private readonly reference: Float32Array
  private readonly optimizer: AdamW
  private readonly lr: number
  private readonly anchor: number
  private readonly clip: number
  /** m: mean predictions per sentence of the first step's items. */
  private perSentence: number | undefined
  private steps = 0

  constructor(
    private readonly tf: Tf,
    private readonly start: TransformerState,
    params: TransformerParams,
    options: TrainerOptions<TransformerState>,
  ) {
    this.batch = params.batch
    const own = parametersOf(start)
    this.layout = own.layout
    this.theta = own.theta
    const ref = options.reference
    if (!sameDimensions(ref.dims, start.dims) || ref.vocabulary.words.join() !== start.vocabulary.words.join()) {
      throw inputError(`${TRAINER}: the reference state has another vocabulary or network size than the state it trains`)
    }
    this.reference = parametersOf(ref).theta
    this.optimizer = new AdamW(this.layout.size, new Uint8Array(this.layout.size), { beta1: BETA1, beta2: BETA2, eps: EPS, weightDecay: 0 })
    this.lr = options.lr ?? params.lr
    this.anchor = options.anchor
    this.clip = params.clip
  }

  /**
   * −(1/(n·m))·Σ w_i·log p(sentence_i) + (anchor/2)·‖θ − θ_ref‖² and its gradient (into grads),
   * at the current parameters; the loss returned leaves the anchor out.
   */
  objective(items: Samples, weights: Float64Array, grads: Float32Array): number {
    const tokens = asTokens(items, `${TRAINER} items`)
    checkIds(tokens, this.start.vocabulary.datasetSize, `${TRAINER} items`)
    if (weights.length !== tokens.n) throw inputError(`${TRAINER} step: got ${weights.length} weights for ${tokens.n} items`, 'give one weight per item')
    for (let i = 0; i < weights.length; i++) {
      if (!Number.isFinite(weights[i]!)) throw inputError(`${TRAINER} step: weight ${i} is ${weights[i]}; weights must be finite`)
    }
    if (tokens.n === 0) throw inputError(`${TRAINER}: a step needs at least one sentence`)
    this.perSentence ??= (tokens.tokens.length + tokens.n) / tokens.n
    const rows = sentenceRows(tokens, this.start.vocabulary, this.start.dims.context, this.start.maxLength ?? DEFAULT_MAX_LENGTH)
    const coef = new Float32Array(rows.inputs.length)
    const scale = 1 / (tokens.n * this.perSentence)
    for (let r = 0; r < rows.start.length; r++) {
      const s = rows.start[r]!
      for (let p = 0; p < rows.length[r]!; p++) if (rows.counted[s + p] === 1) coef[s + p] = weights[rows.sentence[r]!]! * scale
    }
    grads.fill(0)
    let loss = 0
    runRows(this.tf, this.layout, this.theta, rows, (r, logp, at) => {
      const s = rows.start[r]!
      for (let p = 0; p < rows.length[r]!; p++) loss -= coef[s + p]! * logp[at + p]!
    }, coef, grads)
    if (this.anchor > 0) {
      const { theta, reference, anchor } = this
      for (let i = 0; i < grads.length; i++) grads[i]! += anchor * (theta[i]! - reference[i]!)
    }
    return loss
  }

  step(items: Samples, weights: Float64Array): { losses: Record<string, number> } {
    const grads = new Float32Array(this.layout.size)
    const loss = this.objective(items, weights, grads)
    this.steps++
    const what = `${TRAINER} step ${this.steps}`
    if (!Number.isFinite(loss)) throw divergedError(`${what}: the loss became ${loss} (the training diverged; a lower lr may help)`)
    clipGradients(grads, this.clip, what)
    this.optimizer.step(this.theta, grads, this.lr)
    return { losses: { loss } }
  }

  state(): TransformerState {
    return { ...this.start, weights: this.layout.export(this.theta), steps: this.start.steps + this.steps }
  }
}

function asTokens(data: Samples, what: string): TokenSamples {
  if (data.modality !== 'tokens') throw inputError(`${what} are ${data.modality}, but the transformer needs token sequences`)
  return data
}
