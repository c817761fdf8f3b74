import { describe, expect, it } from 'vitest'
import { Rng, takeSequences, type TokenSamples } from '@ouroboros/core'
import { model, type TransformerState } from './index.js'
import { Layout } from './layout.js'
import { transformerTrainer, type TransformerTrainer } from './transformer.js'
import { VOCABULARY, toySentences } from './toy.testutil.js'

// Small networks on the deterministic cpu backend.
process.env['OUROBOROS_BACKEND'] = 'cpu'

const dataset = { kind: 'toy', modality: 'tokens' as const, vocabulary: VOCABULARY }
const params = model.params.parse({ context: 8, layers: 1, heads: 2, dModel: 8, ffn: 16, steps: 200, batch: 8, lr: 1e-2, warmup: 10, evalEvery: 0 })
/** A model of toy sentences drawn with `seed`; fitSeed (default: seed) seeds its initialisation and batches. */
const fit = (seed: number, steps = params.steps, fitSeed = seed): Promise<TransformerState> =>
  Promise.resolve(model.fit(toySentences(200, Rng.from(seed)), { ...params, steps }, { rng: Rng.from(fitSeed, 'fit'), generation: 0, dataset }))
const trainer = (state: TransformerState, reference: TransformerState, anchor: number, lr?: number): Promise<TransformerTrainer> =>
  transformerTrainer(structuredClone(state), params, { rng: Rng.from(0, 'post'), dataset, anchor, reference, ...(lr === undefined ? {} : { lr }) })

const flat = (s: TransformerState): Float32Array => {
  const layout = new Layout(s.dims)
  const theta = new Float32Array(layout.size)
  layout.import(theta, s.weights, 'test')
  return theta
}
const withFlat = (s: TransformerState, theta: Float32Array): TransformerState => ({ ...s, weights: new Layout(s.dims).export(theta) })
const distance = (a: Float32Array, b: Float32Array): number => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0))
const sum = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, b) => a + b, 0)
const sentencesWith = (s: TokenSamples, word: string): TokenSamples => {
  const id = VOCABULARY.indexOf(word)
  return takeSequences(s, Array.from({ length: s.n }, (_, i) => i).filter((i) => s.tokens.subarray(s.offsets[i]!, s.offsets[i + 1]!).includes(id)))
}

describe('transformer post-training', () => {
  it('steps along the gradient of −(1/(n·m))·Σ w_i log p(sentence_i) + (anchor/2)‖θ − θ_ref‖² (finite differences)', async () => {
    // Two fits with the same vocabulary (the same data) and different parameters.
    const state = await fit(1, 60)
    const reference = await fit(1, 60, 2)
    // Signed weights, and a sentence longer than the context, scored in windows.
    const items = toySentences(3, Rng.from(3))
    const long = { modality: 'tokens' as const, n: 1, vocabSize: VOCABULARY.length, tokens: Int32Array.from([1, 11, 2, 4, 6, 1, 7, 10, 8, 3, 5, 6, 8, 9, 10]), offsets: Uint32Array.from([0, 15]) }
    const all: TokenSamples = { ...items, n: 4, tokens: Int32Array.from([...items.tokens, ...long.tokens]), offsets: Uint32Array.from([...items.offsets, items.tokens.length + 15]) }
    const w = Float64Array.from([1.5, -0.7, 0.3, 2])
    const anchor = 0.8
    const t = await trainer(state, reference, anchor)
    const theta = flat(state)
    const ref = flat(reference)
    const grads = new Float32Array(theta.length)
    t.objective(all, w, grads)
    // The objective from the model's own logLikelihood (its forward-only path), m = mean predictions per sentence.
    const m = (all.tokens.length + all.n) / all.n
    const objective = async (p: Float32Array): Promise<number> => {
      const ll = await model.logLikelihood!(withFlat(state, p), all)
      let j = 0
      for (let i = 0; i < all.n; i++) j -= (w[i]! * ll[i]!) / (all.n * m)
      for (let i = 0; i < p.length; i++) j += (anchor / 2) * (p[i]! - ref[i]!) ** 2
      return j
    }
    const rng = Rng.from(4)
    for (let k = 0; k < 6; k++) {
      const u = Float64Array.from({ length: theta.length }, () => rng.normal())
      const norm = Math.sqrt(u.reduce((a, b) => a + b * b, 0))
      const eps = 1e-2 / norm
      const fd = ((await objective(theta.map((v, i) => v + eps * u[i]!))) - (await objective(theta.map((v, i) => v - eps * u[i]!)))) / (2 * eps * norm)
      const analytic = grads.reduce((a, g, i) => a + g * u[i]!, 0) / norm
      expect(Math.abs(fd - analytic)).toBeLessThan(5e-4 + 2e-3 * Math.abs(analytic))
    }
    // The first AdamW step from fresh moments moves each parameter by −lr·g/(|g| + ε), g the
    // gradient clipped to norm `clip` (AdamW's bias corrections make m̂ = g and √v̂ = |g|).
    const norm = Math.sqrt(grads.reduce((a, g) => a + g * g, 0))
    const factor = Math.min(1, params.clip / (norm + 1e-6))
    const before = flat(t.state())
    t.step(all, w)
    const after = flat(t.state())
    let moved = 0
    for (let i = 0; i < theta.length; i++) {
      const g = grads[i]! * factor
      expect(Math.abs(after[i]! - before[i]! + (params.lr * g) / (Math.abs(g) + 1e-8))).toBeLessThan(2e-7)
      if (Math.abs(after[i]! - before[i]!) > params.lr / 2) moved++
    }
    expect(moved).toBeGreaterThan(theta.length / 2)
  })

  it('with unit weights on a corpus, raises that corpus log-likelihood', async () => {
    const state = await fit(5)
    const corpus = sentencesWith(toySentences(200, Rng.from(6)), 'dog')
    const t = await trainer(state, state, 0)
    const before = sum(await model.logLikelihood!(state, corpus))
    const rng = Rng.from(7)
    for (let s = 0; s < 30; s++) {
      const items = takeSequences(corpus, Array.from({ length: t.batch }, () => rng.int(corpus.n)))
      t.step(items, new Float64Array(items.n).fill(1))
    }
    const after = sum(await model.logLikelihood!(t.state(), corpus))
    // Every sentence has dog rather than cat: about ln 2 nats per sentence to gain.
    expect(after).toBeGreaterThan(before + 0.4 * corpus.n)
  })

  it('with a large anchor, stays near the reference while an unanchored run moves away', async () => {
    const state = await fit(8)
    const corpus = sentencesWith(toySentences(200, Rng.from(9)), 'cat')
    const run = async (anchor: number): Promise<number> => {
      const t = await trainer(state, state, anchor)
      const rng = Rng.from(10)
      for (let s = 0; s < 40; s++) {
        const items = takeSequences(corpus, Array.from({ length: t.batch }, () => rng.int(corpus.n)))
        t.step(items, new Float64Array(items.n).fill(1))
      }
      return distance(flat(t.state()), flat(state))
    }
    const free = await run(0)
    const anchored = await run(1e3)
    expect(anchored).toBeLessThan(0.2 * free)
  })
})
