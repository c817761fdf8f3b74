import { checkWeights, divergedError, inputError, logSumExp, takeSequences, UNKNOWN_WORD, vocabularyWithUnknown, type DatasetInfo, type FitContext, type ModelTrainer, type Rng, type Samples, type TokenSamples, type TrainerOptions } from '@ouroboros/core'
import { Adam, Mlp, WeightedDraws, loadTf, positiveItems, type NamedWeights, type Tf } from '@ouroboros/tf'
import { END, alphabetOf, readWords, spell, type Alphabet, type Spelled } from './spelling.js'

export interface CharLmParams {
  context: number
  embedding: number
  hidden: number[]
  steps: number
  batch: number
  lr: number
  evalEvery: number
  topK?: number | undefined
  topP?: number | undefined
  maxChars: number
  sentencesPerStep: number
}

export interface CharLmState {
  /** The dataset's id -> word table: sampled words are read back through it, held-out ids spelled with it. */
  readonly vocabulary: readonly string[]
  readonly alphabet: Alphabet
  readonly context: number
  readonly embedding: number
  readonly hidden: readonly number[]
  /** mlp.k.weight / .bias and embedding (symbols × embedding), float32. */
  readonly weights: readonly NamedWeights[]
  /** Optimiser steps of the fit and of any post-training after it. */
  readonly steps: number
  /** Mean training loss (nats per symbol) over the fit's last steps; post-training leaves it. */
  readonly loss: number
  readonly topK: number | undefined
  readonly topP: number | undefined
  readonly maxChars: number
}

/**
 * A feed-forward character language model (Bengio et al. 2003, on characters): the previous
 * `context` symbols, each embedded in `embedding` dimensions and concatenated, go through a ReLU
 * MLP to logits over the next symbol. Its parameters are one Float32Array: the MLP's, then the
 * embedding table.
 */
interface Network {
  readonly mlp: Mlp
  /** Offset of the embedding table (alphabet.start + 1 rows). */
  readonly embeddingAt: number
  readonly size: number
}

function network(alphabet: Alphabet, context: number, embedding: number, hidden: readonly number[]): Network {
  const mlp = new Mlp([context * embedding, ...hidden, alphabet.outputs], 'relu', 'linear')
  return { mlp, embeddingAt: mlp.size, size: mlp.size + (alphabet.start + 1) * embedding }
}

/** Training steps averaged into the reported loss. */
const LOSS_WINDOW = 100

export function fitCharLm(data: Samples, params: CharLmParams, ctx: FitContext<CharLmState>): Promise<CharLmState> {
  return train(data, undefined, params, ctx)
}

/**
 * The maximiser of Σ_i w_i·log p(sentence_i), starting from ctx.init when given. Sentences of
 * weight 0 are left out; when the others' weights are equal this is fit on them. Otherwise each
 * step's characters are drawn with probability ∝ the weight of their sentence (a sentence ∝ w_i ×
 * its length in symbols, then a position in it uniformly), so a step's expected gradient is that
 * of the weighted objective.
 */
export function fitCharLmWeighted(data: Samples, weights: Float64Array, params: CharLmParams, ctx: FitContext<CharLmState>): Promise<CharLmState> {
  const tokens = asTokens(data, 'charlm training data')
  checkWeights(weights, tokens.n, 'charlm fitWeighted')
  const kept = positiveItems(weights, 'charlm fitWeighted')
  return train(takeSequences(tokens, kept.index), kept.equal ? undefined : kept.weights, params, ctx)
}

/** The data's vocabulary, which must hold '<unk>': the word a made-up spelling is read back as. */
export function spelledVocabulary(dataset: DatasetInfo): readonly string[] {
  return vocabularyWithUnknown(dataset, 'charlm', 'to read back words it makes up')
}

async function train(data: Samples, sentenceWeights: Float64Array | undefined, params: CharLmParams, ctx: FitContext<CharLmState>): Promise<CharLmState> {
  const tokens = asTokens(data, 'charlm training data')
  const vocabulary = spelledVocabulary(ctx.dataset)
  if (tokens.n === 0) throw inputError('charlm: the training set is empty')
  const alphabet = alphabetOf(vocabulary)
  // A <unk> in the training data stands for a word whose spelling is lost (one a model made up,
  // or a rare real word): there is nothing to learn from it, and spelling it as "<unk>" would
  // teach the next generation a frequent non-word. It is left out.
  const text = spell(tokens, vocabulary, alphabet, vocabulary.indexOf(UNKNOWN_WORD))
  const { tf } = await loadTf()
  const { context: K, embedding: E, batch: B } = params
  const net = network(alphabet, K, E, params.hidden)
  const weights = new Float32Array(net.size)
  if (ctx.init !== undefined) {
    warmStart(ctx.init, alphabet, params, net, weights)
  } else {
    const rng = ctx.rng.derive('init')
    net.mlp.init(weights, rng)
    // nn.Embedding's default: N(0, 1).
    for (let i = net.embeddingAt; i < net.size; i++) weights[i] = rng.normal()
  }
  const optimizer = new Adam(net.size, { lr: params.lr, beta1: 0.9, beta2: 0.999 })
  const batchRng = ctx.rng.derive('batches')
  const what = `charlm generation ${ctx.generation}`
  const grads = new Float32Array(net.size)
  const before = new Float32Array(net.size)
  const rows = new Int32Array(B * K)
  const targets = new Int32Array(B)
  const coef = new Float64Array(B).fill(1 / B)
  const dLogits = new Float32Array(B * alphabet.outputs)
  const recent: number[] = []
  const sentences = sentenceWeights === undefined ? undefined : new WeightedDraws(sentenceWeights.map((w, i) => w * (text.offsets[i + 1]! - text.offsets[i]!)))
  for (let step = 1; step <= params.steps; step++) {
    const drawn = sentences?.next(batchRng, B)
    for (let b = 0; b < B; b++) {
      let t: number
      if (drawn === undefined) t = batchRng.int(text.symbols.length)
      else {
        const i = drawn[b]!
        t = text.offsets[i]! + batchRng.int(text.offsets[i + 1]! - text.offsets[i]!)
      }
      targets[b] = text.symbols[t]!
      contextOf(text, t, K, alphabet.start, rows, b * K)
    }
    const x = embed(rows, weights, net.embeddingAt, E)
    const loss = tf.tidy(() => {
      const bound = net.mlp.bind(tf, weights)
      const trace = bound.forward(tf.tensor2d(x, [B, K * E]))
      const logits = trace.outputs[trace.outputs.length - 1]!.dataSync()
      const l = crossEntropy(logits, targets, coef, alphabet.outputs, dLogits)
      const back = bound.backward(trace, tf.tensor2d(dLogits, [B, alphabet.outputs]), { grads: true, dx: true })
      grads.set(back.grads!.dataSync())
      grads.fill(0, net.embeddingAt)
      scatterEmbedding(rows, back.dx!.dataSync(), grads, net.embeddingAt, E)
      return l
    })
    if (!Number.isFinite(loss)) throw divergedError(`${what}: the training loss became ${loss} at step ${step} (the training diverged; a lower lr may help)`)
    // Adam's rate decays linearly to 0 over the steps (for a fixed budget of steps it ends at a
    // clearly lower loss than a constant rate); tf's Adam has a fixed rate, so its step is scaled.
    before.set(weights)
    optimizer.step(weights, grads, what)
    const decay = 1 - (step - 1) / params.steps
    for (let i = 0; i < weights.length; i++) weights[i] = before[i]! + decay * (weights[i]! - before[i]!)
    ctx.onStep?.(step, params.steps)
    recent.push(loss)
    if (recent.length > LOSS_WINDOW) recent.shift()
    // The last step is reported too: a curve then reaches the end of training whatever the steps.
    if (params.evalEvery > 0 && (step % params.evalEvery === 0 || step === params.steps)) await ctx.onTrainingStep?.(step, { losses: { loss: mean(recent) } })
  }
  return {
    vocabulary,
    alphabet,
    context: K,
    embedding: E,
    hidden: [...params.hidden],
    weights: exportWeights(net, weights, alphabet, E),
    steps: params.steps,
    loss: mean(recent),
    topK: params.topK,
    topP: params.topP,
    maxChars: params.maxChars,
  }
}

const WHAT = 'charlm post-training'

/**
 * Post-training on whole sentences. A step ascends (1/(n·m))·Σ_i w_i·log p(sentence_i) −
 * (anchor/2)·‖θ − θ_ref‖² over its n sentences, where log p is the log-probability of the
 * sentence's spelling with its <unk> words left out, as fit trains (for sentences without <unk>
 * it is what logLikelihood gives), and m is the mean number of symbols per sentence of the first
 * step's items, then held fixed. With unit weights a step is then a pretraining step on those
 * sentences' symbols (the mean cross-entropy per symbol), so lr means what it means in pretraining,
 * and every step ascends the same objective. Weights of either sign are taken (policy gradient's
 * advantages). Adam starts with fresh moments at the first step and a constant rate, options.lr
 * or else params.lr (pretraining's decays to 0).
 */
export async function charLmTrainer(state: CharLmState, params: CharLmParams, options: TrainerOptions<CharLmState>): Promise<CharLmTrainer> {
  const { tf } = await loadTf()
  return new CharLmTrainer(tf, state, params, options)
}

export class CharLmTrainer implements ModelTrainer<CharLmState> {
  readonly batch: number
  readonly signedWeights = true
  /** Adam with the L2-SP anchor; its first moment after one step is (1 − β1)·(the step's gradient). */
  readonly optimizer: Adam
  private readonly net: Network
  private readonly weights: Float32Array
  private readonly unknown: number
  /** m, the mean symbols per sentence of the first step's items. */
  private symbolsPerSentence: number | undefined
  private steps = 0

  constructor(
    private readonly tf: Tf,
    private readonly start: CharLmState,
    params: CharLmParams,
    options: TrainerOptions<CharLmState>,
  ) {
    const { alphabet } = start
    this.batch = params.sentencesPerStep
    this.net = network(alphabet, start.context, start.embedding, start.hidden)
    this.weights = new Float32Array(this.net.size)
    importWeights(this.net, this.weights, start.weights)
    const ref = options.reference
    if (ref.alphabet.chars.join('') !== alphabet.chars.join('') || ref.context !== start.context || ref.embedding !== start.embedding || ref.hidden.join() !== start.hidden.join()) {
      throw inputError(`${WHAT}: the reference state has another alphabet or network size than the state it trains`)
    }
    const reference = new Float32Array(this.net.size)
    importWeights(this.net, reference, ref.weights)
    this.optimizer = new Adam(this.net.size, {
      lr: options.lr ?? params.lr,
      beta1: 0.9,
      beta2: 0.999,
      anchor: options.anchor > 0 ? { weight: options.anchor, reference } : undefined,
    })
    this.unknown = start.vocabulary.indexOf(UNKNOWN_WORD)
  }

  step(items: Samples, itemWeights: Float64Array): { losses: Record<string, number> } {
    const tokens = asTokens(items, `${WHAT} items`)
    checkVocabulary(tokens, this.start, `${WHAT} items`)
    // Signed weights (advantages): only their count and finiteness are checked.
    if (itemWeights.length !== tokens.n) throw inputError(`${WHAT} step: got ${itemWeights.length} weights for ${tokens.n} items`, 'give one weight per item')
    itemWeights.forEach((w, i) => {
      if (!Number.isFinite(w)) throw inputError(`${WHAT} step: weight ${i} is ${w}; weights must be finite`)
    })
    if (tokens.n === 0) throw inputError(`${WHAT}: a step needs at least one sentence`)
    const text = spell(tokens, this.start.vocabulary, this.start.alphabet, this.unknown)
    this.symbolsPerSentence ??= text.symbols.length / tokens.n
    const grads = new Float32Array(this.net.size)
    const loss = sentenceGradient(this.tf, this.net, this.start, this.weights, text, itemWeights, tokens.n * this.symbolsPerSentence, grads)
    this.steps++
    this.optimizer.step(this.weights, grads, `${WHAT} step ${this.steps}`)
    return { losses: { loss } }
  }

  state(): CharLmState {
    return { ...this.start, weights: exportWeights(this.net, this.weights, this.start.alphabet, this.start.embedding), steps: this.start.steps + this.steps }
  }
}

/**
 * −(1/denominator)·Σ_i w_i·log p(sentence_i) of the spelled sentences and its gradient, written
 * into grads (network layout); the rows are scored in blocks of SCORE_BATCH symbols.
 */
function sentenceGradient(
  tf: Tf,
  net: Network,
  shape: { readonly alphabet: Alphabet; readonly context: number; readonly embedding: number },
  weights: Float32Array,
  text: Spelled,
  sentenceWeights: Float64Array,
  denominator: number,
  grads: Float32Array,
): number {
  const { alphabet, context: K, embedding: E } = shape
  const C = alphabet.outputs
  grads.fill(0)
  let loss = 0
  for (let from = 0; from < text.symbols.length; from += SCORE_BATCH) {
    const to = Math.min(text.symbols.length, from + SCORE_BATCH)
    const B = to - from
    const rows = new Int32Array(B * K)
    const coef = new Float64Array(B)
    for (let t = from; t < to; t++) {
      contextOf(text, t, K, alphabet.start, rows, (t - from) * K)
      coef[t - from] = sentenceWeights[text.sentence[t]!]! / denominator
    }
    const x = embed(rows, weights, net.embeddingAt, E)
    const dLogits = new Float32Array(B * C)
    loss += tf.tidy(() => {
      const bound = net.mlp.bind(tf, weights)
      const trace = bound.forward(tf.tensor2d(x, [B, K * E]))
      const l = crossEntropy(trace.outputs[trace.outputs.length - 1]!.dataSync(), text.symbols.subarray(from, to), coef, C, dLogits)
      const back = bound.backward(trace, tf.tensor2d(dLogits, [B, C]), { grads: true, dx: true })
      const g = back.grads!.dataSync()
      for (let i = 0; i < g.length; i++) grads[i]! += g[i]!
      scatterEmbedding(rows, back.dx!.dataSync(), grads, net.embeddingAt, E)
      return l
    })
  }
  if (!Number.isFinite(loss)) throw divergedError(`${WHAT}: the loss became ${loss} (the training diverged; a lower lr may help)`)
  return loss
}

function warmStart(init: CharLmState, alphabet: Alphabet, params: CharLmParams, net: Network, weights: Float32Array): void {
  if (init.alphabet.chars.join('') !== alphabet.chars.join('') || init.context !== params.context || init.embedding !== params.embedding) {
    throw inputError('charlm warm start: the previous state has another alphabet, context or embedding size', 'a warm start needs the same data and network sizes in every generation')
  }
  importWeights(net, weights, init.weights)
}

/** The network's parameters as named copies, for a state. */
function exportWeights(net: Network, weights: Float32Array, alphabet: Alphabet, E: number): NamedWeights[] {
  return [...net.mlp.exportWeights(weights, 'mlp'), { name: 'embedding', shape: [alphabet.start + 1, E], data: weights.slice(net.embeddingAt) }]
}

/** Copies a state's named weights into the network's parameter array. */
function importWeights(net: Network, weights: Float32Array, named: readonly NamedWeights[]): void {
  net.mlp.importWeights(weights, named, 'mlp')
  weights.set(named.find((w) => w.name === 'embedding')!.data, net.embeddingAt)
}

/** The K symbols before position t of its sentence (START before the sentence), into rows at `at`. */
function contextOf(text: Spelled, t: number, K: number, start: number, rows: Int32Array, at: number): void {
  const first = text.offsets[text.sentence[t]!]!
  for (let k = 0; k < K; k++) {
    const s = t - K + k
    rows[at + k] = s >= first ? text.symbols[s]! : start
  }
}

/** The concatenated embeddings of each row of K symbols: [rows / K, K·E]. */
function embed(rows: Int32Array, weights: Float32Array, at: number, E: number): Float32Array {
  const x = new Float32Array(rows.length * E)
  for (let i = 0; i < rows.length; i++) {
    const from = at + rows[i]! * E
    for (let e = 0; e < E; e++) x[i * E + e] = weights[from + e]!
  }
  return x
}

/** Adds dL/dx of the concatenated embeddings into the embedding rows' gradient. */
function scatterEmbedding(rows: Int32Array, dx: ArrayLike<number>, grads: Float32Array, at: number, E: number): void {
  for (let i = 0; i < rows.length; i++) {
    const g = at + rows[i]! * E
    for (let e = 0; e < E; e++) grads[g + e]! += dx[i * E + e]!
  }
}

/** Σ_b coef_b·(softmax cross-entropy of row b of logits); writes its gradient into dLogits. */
function crossEntropy(logits: ArrayLike<number>, targets: Int32Array, coef: Float64Array, C: number, dLogits: Float32Array): number {
  let loss = 0
  for (let b = 0; b < targets.length; b++) {
    const lse = logSumExp(logits, C, b * C)
    const w = coef[b]!
    loss += w * (lse - logits[b * C + targets[b]!]!)
    for (let c = 0; c < C; c++) dLogits[b * C + c] = Math.exp(logits[b * C + c]! - lse) * w
    dLogits[b * C + targets[b]!]! -= w
  }
  return loss
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
}

/** The network of a state with its weights uploaded; dispose() frees the tensors. */
function loaded(tf: Tf, state: CharLmState) {
  const net = network(state.alphabet, state.context, state.embedding, state.hidden)
  const weights = new Float32Array(net.size)
  importWeights(net, weights, state.weights)
  const bound = net.mlp.bind(tf, weights)
  const { context: K, embedding: E } = state
  return {
    /** Logits [rows / K, outputs] for rows of K context symbols. */
    logits(rows: Int32Array): Float32Array {
      const x = embed(rows, weights, net.embeddingAt, E)
      // Read outside tf.tidy: tidy walks whatever its callback returns, a typed array value by value.
      const out = tf.tidy(() => bound.apply(tf.tensor2d(x, [rows.length / K, K * E])))
      const data = out.dataSync() as Float32Array
      out.dispose()
      return data
    },
    dispose(): void {
      for (const t of [...bound.w, ...bound.b]) t.dispose()
    },
  }
}

/** Sentences decoded in parallel, each slot taking the next sentence when its own ends. */
const SAMPLE_SLOTS = 1024

export async function sampleCharLm(state: CharLmState, n: number, temperature: number, rng: Rng): Promise<TokenSamples> {
  const { tf } = await loadTf()
  const model = loaded(tf, state)
  const { alphabet, context: K } = state
  const C = alphabet.outputs
  const ids = new Map(state.vocabulary.map((w, i) => [w, i]))
  const unknown = ids.get(UNKNOWN_WORD)!
  const sentences: number[][] = new Array(n)
  const slots = Math.min(n, SAMPLE_SLOTS)
  // Per slot: the sentence it writes and the symbols so far.
  const owner = new Int32Array(slots).fill(-1)
  const written = Array.from({ length: slots }, () => new Int32Array(state.maxChars))
  const length = new Int32Array(slots)
  let nextSentence = 0
  const take = (slot: number): void => {
    owner[slot] = nextSentence < n ? nextSentence++ : -1
    length[slot] = 0
  }
  for (let s = 0; s < slots; s++) take(s)
  const probs = new Float64Array(C)
  const order = Array.from({ length: C }, (_, c) => c)
  try {
    for (;;) {
      const active = [...owner.keys()].filter((s) => owner[s]! >= 0)
      if (active.length === 0) break
      const rows = new Int32Array(active.length * K)
      active.forEach((s, i) => {
        for (let k = 0; k < K; k++) {
          const at = length[s]! - K + k
          rows[i * K + k] = at >= 0 ? written[s]![at]! : alphabet.start
        }
      })
      const logits = model.logits(rows)
      active.forEach((s, i) => {
        const symbol = drawSymbol(logits, i * C, C, temperature, state.topK, state.topP, rng, probs, order)
        if (symbol !== END) written[s]![length[s]!++] = symbol
        if (symbol === END || length[s] === state.maxChars) {
          sentences[owner[s]!] = readWords(written[s]!, length[s]!, alphabet, ids, unknown)
          take(s)
        }
      })
    }
  } finally {
    model.dispose()
  }
  const offsets = new Uint32Array(n + 1)
  sentences.forEach((words, i) => (offsets[i + 1] = offsets[i]! + words.length))
  return { modality: 'tokens', n, vocabSize: state.vocabulary.length, tokens: Int32Array.from(sentences.flat()), offsets }
}

/**
 * One symbol from logits[at..at+C) at temperature T, keeping only the topK most probable and the
 * fewest most probable holding topP of the probability (the smaller set when both are given).
 */
function drawSymbol(
  logits: Float32Array,
  at: number,
  C: number,
  T: number,
  topK: number | undefined,
  topP: number | undefined,
  rng: Rng,
  probs: Float64Array,
  order: number[],
): number {
  let max = -Infinity
  for (let c = 0; c < C; c++) max = Math.max(max, logits[at + c]!)
  let total = 0
  for (let c = 0; c < C; c++) total += probs[c] = Math.exp((logits[at + c]! - max) / T)
  let keep = C
  if (topK !== undefined || topP !== undefined) {
    order.sort((a, b) => probs[b]! - probs[a]! || a - b)
    keep = Math.min(C, topK ?? C)
    if (topP !== undefined) {
      let mass = 0
      for (let i = 0; i < keep; i++) {
        mass += probs[order[i]!]!
        if (mass >= topP * total) {
          keep = i + 1
          break
        }
      }
    }
    total = 0
    for (let i = 0; i < keep; i++) total += probs[order[i]!]!
  }
  let u = rng.uniform() * total
  for (let i = 0; i < keep; i++) {
    const c = keep === C ? i : order[i]!
    u -= probs[c]!
    if (u < 0) return c
  }
  return keep === C ? C - 1 : order[keep - 1]!
}

/** Rows scored per forward pass when computing log-likelihoods. */
const SCORE_BATCH = 4096

/** Natural-log probability of each sentence: its characters, the spaces between words and its end. */
export async function charLmLogLikelihood(state: CharLmState, data: Samples): Promise<Float64Array> {
  const tokens = asTokens(data, 'charlm evaluation data')
  checkVocabulary(tokens, state, 'evaluation data')
  const { tf } = await loadTf()
  const model = loaded(tf, state)
  const { alphabet, context: K } = state
  const C = alphabet.outputs
  const text = spell(tokens, state.vocabulary, alphabet)
  const out = new Float64Array(tokens.n)
  try {
    for (let from = 0; from < text.symbols.length; from += SCORE_BATCH) {
      const to = Math.min(text.symbols.length, from + SCORE_BATCH)
      const rows = new Int32Array((to - from) * K)
      for (let t = from; t < to; t++) contextOf(text, t, K, alphabet.start, rows, (t - from) * K)
      const logits = model.logits(rows)
      for (let t = from; t < to; t++) {
        const at = (t - from) * C
        out[text.sentence[t]!]! += logits[at + text.symbols[t]!]! - logSumExp(logits, C, at)
      }
    }
  } finally {
    model.dispose()
  }
  return out
}

function checkVocabulary(tokens: TokenSamples, state: CharLmState, what: string): void {
  if (tokens.vocabSize > state.vocabulary.length) {
    throw inputError(`${what} have a vocabulary of ${tokens.vocabSize} words, the model ${state.vocabulary.length}`)
  }
}

function asTokens(data: Samples, what: string): TokenSamples {
  if (data.modality !== 'tokens') throw inputError(`${what} are ${data.modality}, but charlm needs token sequences`)
  return data
}
