import { divergedError, inputError, logSumExp, type FitContext, type Rng, type Samples, type TokenSamples } from '@ouroboros/core'
import { Adam, Mlp, loadTf, type NamedWeights, type Tf } from '@ouroboros/tf'
import { END, UNKNOWN_WORD, alphabetOf, readWords, spell, type Alphabet, type Spelled } from './spelling.js'

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
  readonly steps: number
  /** Mean training loss (nats per symbol) over the last steps. */
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

export async function fitCharLm(data: Samples, params: CharLmParams, ctx: FitContext<CharLmState>): Promise<CharLmState> {
  const tokens = asTokens(data, 'charlm training data')
  const vocabulary = ctx.dataset.vocabulary
  if (vocabulary === undefined || !vocabulary.includes(UNKNOWN_WORD)) {
    throw inputError(`charlm needs a dataset vocabulary with a '${UNKNOWN_WORD}' word, to read back words it makes up`, "use data.kind 'brown'")
  }
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
  const dLogits = new Float32Array(B * alphabet.outputs)
  const recent: number[] = []
  for (let step = 1; step <= params.steps; step++) {
    for (let b = 0; b < B; b++) {
      const t = batchRng.int(text.symbols.length)
      targets[b] = text.symbols[t]!
      contextOf(text, t, K, alphabet.start, rows, b * K)
    }
    const x = embed(rows, weights, net.embeddingAt, E)
    const loss = tf.tidy(() => {
      const bound = net.mlp.bind(tf, weights)
      const trace = bound.forward(tf.tensor2d(x, [B, K * E]))
      const logits = trace.outputs[trace.outputs.length - 1]!.dataSync()
      const l = crossEntropy(logits, targets, alphabet.outputs, dLogits)
      const back = bound.backward(trace, tf.tensor2d(dLogits, [B, alphabet.outputs]), { grads: true, dx: true })
      grads.set(back.grads!.dataSync())
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
    recent.push(loss)
    if (recent.length > LOSS_WINDOW) recent.shift()
    if (params.evalEvery > 0 && step % params.evalEvery === 0) await ctx.onTrainingStep?.(step, { losses: { loss: mean(recent) } })
  }
  return {
    vocabulary,
    alphabet,
    context: K,
    embedding: E,
    hidden: [...params.hidden],
    weights: [...net.mlp.exportWeights(weights, 'mlp'), { name: 'embedding', shape: [alphabet.start + 1, E], data: weights.slice(net.embeddingAt) }],
    steps: params.steps,
    loss: mean(recent),
    topK: params.topK,
    topP: params.topP,
    maxChars: params.maxChars,
  }
}

function warmStart(init: CharLmState, alphabet: Alphabet, params: CharLmParams, net: Network, weights: Float32Array): void {
  if (init.alphabet.chars.join('') !== alphabet.chars.join('') || init.context !== params.context || init.embedding !== params.embedding) {
    throw inputError('charlm warm start: the previous state has another alphabet, context or embedding size', 'a warm start needs the same data and network sizes in every generation')
  }
  importWeights(net, weights, init.weights)
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

/** Adds dL/dx of the concatenated embeddings into the embedding rows' gradient (zeroing it first). */
function scatterEmbedding(rows: Int32Array, dx: ArrayLike<number>, grads: Float32Array, at: number, E: number): void {
  grads.fill(0, at)
  for (let i = 0; i < rows.length; i++) {
    const g = at + rows[i]! * E
    for (let e = 0; e < E; e++) grads[g + e]! += dx[i * E + e]!
  }
}

/** Mean softmax cross-entropy of the rows of logits; writes its gradient into dLogits. */
function crossEntropy(logits: ArrayLike<number>, targets: Int32Array, C: number, dLogits: Float32Array): number {
  const B = targets.length
  let loss = 0
  for (let b = 0; b < B; b++) {
    const lse = logSumExp(logits, C, b * C)
    loss += lse - logits[b * C + targets[b]!]!
    for (let c = 0; c < C; c++) dLogits[b * C + c] = Math.exp(logits[b * C + c]! - lse) / B
    dLogits[b * C + targets[b]!]! -= 1 / B
  }
  return loss / B
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
  if (tokens.vocabSize > state.vocabulary.length) {
    throw inputError(`evaluation data have a vocabulary of ${tokens.vocabSize} words, the model ${state.vocabulary.length}`)
  }
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

function asTokens(data: Samples, what: string): TokenSamples {
  if (data.modality !== 'tokens') throw inputError(`${what} are ${data.modality}, but charlm needs token sequences`)
  return data
}
