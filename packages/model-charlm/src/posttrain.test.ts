import { describe, expect, it } from 'vitest'
import { ErrorCode, Rng, takeSequences, type FitContext, type TokenSamples, type TrainerOptions } from '@ouroboros/core'
import { model, type CharLmState } from './index.js'
import { loadTf } from '@ouroboros/tf'
import { charLmTrainer } from './charlm.js'
import { VOCABULARY, toySentences } from './toy.testutil.js'

// Small networks on the deterministic cpu backend.
process.env['OUROBOROS_BACKEND'] = 'cpu'

const dataset = { kind: 'toy', modality: 'tokens' as const, vocabulary: VOCABULARY }
const DOG = VOCABULARY.indexOf('dog')
const ctx = (seed: number, extra: Partial<FitContext<CharLmState>> = {}): FitContext<CharLmState> => ({ rng: Rng.from(seed, 'fit'), generation: 0, dataset, ...extra })
const options = (reference: CharLmState, extra: Partial<TrainerOptions<CharLmState>> = {}): TrainerOptions<CharLmState> => ({ rng: Rng.from(0, 'post'), dataset, anchor: 0, reference, ...extra })

/** The sentences of s that contain `word` (with = true) or lack it. */
function withWord(s: TokenSamples, word: number, with_ = true): TokenSamples {
  const keep: number[] = []
  for (let i = 0; i < s.n; i++) if (s.tokens.subarray(s.offsets[i]!, s.offsets[i + 1]!).includes(word) === with_) keep.push(i)
  return takeSequences(s, keep)
}

const mean = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length

/** The parameters of a state in the network's layout: the named weights in order (MLP layers, then the embedding). */
const flat = (s: CharLmState): Float64Array => Float64Array.from(s.weights.flatMap((w) => Array.from(w.data)))
const withFlat = (s: CharLmState, theta: ArrayLike<number>): CharLmState => {
  let at = 0
  return { ...s, weights: s.weights.map((w) => ({ ...w, data: Float32Array.from({ length: w.data.length }, () => theta[at++]!) })) }
}
const distance = (a: CharLmState, b: CharLmState): number => {
  const x = flat(a)
  const y = flat(b)
  return Math.sqrt(x.reduce((s, v, i) => s + (v - y[i]!) ** 2, 0))
}

/** Symbols of a sentence as the model spells it: its letters, a space between words, an END. */
function symbols(s: TokenSamples, i: number): number {
  const words = Array.from(s.tokens.subarray(s.offsets[i]!, s.offsets[i + 1]!), (id) => VOCABULARY[id]!)
  return words.reduce((a, w) => a + w.length, 0) + Math.max(words.length, 1)
}

describe('charlm post-training', () => {
  const tiny = model.params.parse({ context: 3, embedding: 3, hidden: [5], steps: 30, batch: 32, lr: 1e-2, evalEvery: 0 })

  it("steps along the gradient of −(1/(n·m))·Σ w_i log p(sentence_i) + (anchor/2)‖θ − θ_ref‖² (finite differences)", async () => {
    const data = toySentences(100, Rng.from(1))
    const state = await model.fit(data, tiny, ctx(1))
    const reference = await model.fit(data, tiny, ctx(2))
    const items = takeSequences(toySentences(4, Rng.from(3)), [0, 1, 2, 3])
    const w = Float64Array.from([1.5, -0.7, 0.3, 2])
    const anchor = 0.8
    const trainer = await charLmTrainer(state, tiny, options(reference, { anchor }))
    trainer.step(items, w)
    // Adam's first moment after one step is (1 − β1)·g.
    const g = Float64Array.from(trainer.optimizer.snapshot().m, (m) => m / 0.1)

    // n·m: the items' symbols in all, counted here from the words' spellings.
    const nm = Array.from({ length: items.n }, (_, i) => symbols(items, i)).reduce((a, b) => a + b, 0)
    const theta0 = flat(state)
    const ref = flat(reference)
    const objective = async (theta: Float64Array): Promise<number> => {
      const ll = await model.logLikelihood!(withFlat(state, theta), items)
      let j = 0
      for (let i = 0; i < items.n; i++) j -= (w[i]! * ll[i]!) / nm
      for (let k = 0; k < theta.length; k++) j += (anchor / 2) * (theta[k]! - ref[k]!) ** 2
      return j
    }
    const rng = Rng.from(4)
    const coordinates = [0, theta0.length - 1, ...Array.from({ length: 30 }, () => rng.int(theta0.length))]
    for (const k of coordinates) {
      const up = theta0.slice()
      const down = theta0.slice()
      // The step the float32 weights really take.
      up[k] = Math.fround(theta0[k]! + 2e-3)
      down[k] = Math.fround(theta0[k]! - 2e-3)
      const fd = ((await objective(up)) - (await objective(down))) / (up[k]! - down[k]!)
      expect(Math.abs(fd - g[k]!), `coordinate ${k}: finite difference ${fd}, step gradient ${g[k]}`).toBeLessThan(2e-5 + 1e-4 * Math.abs(fd))
    }
  })

  describe('finetuning a model of the toy grammar on its dog sentences', () => {
    const params = model.params.parse({ context: 8, embedding: 8, hidden: [48], steps: 400, batch: 64, lr: 1e-2, evalEvery: 0, sentencesPerStep: 8 })
    const pretrained = model.fit(toySentences(300, Rng.from(10)), params, ctx(10))
    const task = withWord(toySentences(400, Rng.from(11)), DOG)
    const heldout = toySentences(200, Rng.from(12))
    const finetune = async (anchor: number, steps: number) => {
      const start = await pretrained
      const trainer = await model.trainer!(start, params, options(start, { anchor }))
      const rng = Rng.from(13)
      for (let s = 0; s < steps; s++) {
        const batch = takeSequences(task, Array.from({ length: trainer.batch }, () => rng.int(task.n)))
        await trainer.step(batch, new Float64Array(batch.n).fill(1))
      }
      return trainer.state()
    }
    const unanchored = finetune(0, 150)

    it('raises the log-likelihood of held-out dog sentences and lowers that of cat sentences', async () => {
      const before = await pretrained
      const after = await unanchored
      const ll = async (s: CharLmState, word: string) => mean(await model.logLikelihood!(s, withWord(heldout, VOCABULARY.indexOf(word))))
      // The grammar picks the noun with probability 1/2; a model that has learned only dogs gains up
      // to ln 2 = 0.69 nats on a dog sentence there, and loses as much or more on a cat sentence.
      expect((await ll(after, 'dog')) - (await ll(before, 'dog'))).toBeGreaterThan(0.35)
      expect((await ll(after, 'cat')) - (await ll(before, 'cat'))).toBeLessThan(-0.35)
      const share = async (s: CharLmState) => withWord(await model.sample(s, 300, { rng: Rng.from(14), temperature: 1, dataset }), DOG).n / 300
      expect(await share(before)).toBeLessThan(0.65)
      expect(await share(after)).toBeGreaterThan(0.85)
    })

    it('stays near the pretrained weights with a large anchor', async () => {
      const start = await pretrained
      const anchored = await finetune(1e4, 150)
      // The anchored optimum θ* = θ_ref − ∇(data term)/anchor lies within max|∇|/anchor of the start,
      // about 1e-4 here (gradients of a mean cross-entropy per symbol are of order 0.1 to 1); Adam
      // moves a weight by up to about lr = 0.01 a step, so this also checks that it settles there.
      const x = flat(anchored)
      const y = flat(start)
      expect(Math.max(...x.map((v, i) => Math.abs(v - y[i]!)))).toBeLessThan(1e-3)
      expect(distance(anchored, start)).toBeLessThan(distance(await unanchored, start) / 100)
    })

    it('gives snapshots that survive structuredClone, can be sampled and do not change with later steps', async () => {
      const start = await pretrained
      const trainer = await model.trainer!(start, params, options(start))
      const batch = takeSequences(task, [0, 1, 2, 3, 4, 5, 6, 7])
      const ones = new Float64Array(8).fill(1)
      await trainer.step(batch, ones)
      const snapshot = await trainer.state()
      const copy = flat(snapshot)
      await trainer.step(batch, ones)
      expect(flat(snapshot)).toEqual(copy)
      expect(flat(await trainer.state())).not.toEqual(copy)
      expect(snapshot.steps).toBe(start.steps + 1)
      const sampleCtx = { rng: Rng.from(15), temperature: 1, dataset }
      const a = await model.sample(structuredClone(snapshot), 50, sampleCtx)
      expect(a).toEqual(await model.sample(snapshot, 50, { ...sampleCtx, rng: Rng.from(15) }))
      expect(a.n).toBe(50)
    })

    it('leaves no tensors behind', async () => {
      const { tf } = await loadTf()
      const start = await pretrained
      const before = tf.memory().numTensors
      const trainer = await model.trainer!(start, params, options(start, { anchor: 1 }))
      for (let s = 0; s < 2; s++) await trainer.step(takeSequences(task, [s, s + 1]), Float64Array.from([1, -1]))
      await trainer.state()
      expect(tf.memory().numTensors).toBe(before)
    })

    it('gives bit-identical states for the same items and weights', async () => {
      const start = await pretrained
      const run = async () => {
        const trainer = await model.trainer!(start, params, options(start, { anchor: 0.5, lr: 3e-3 }))
        for (let s = 0; s < 3; s++) await trainer.step(takeSequences(task, [s, s + 1, s + 2]), Float64Array.from([1, -2, 0.5]))
        return flat(await trainer.state())
      }
      const a = await run()
      expect(await run()).toEqual(a)
      expect(a).not.toEqual(flat(start))
    })

    it('fits with weights: the samples follow the weighted sentences, and scaling every weight changes nothing', async () => {
      const data = toySentences(300, Rng.from(20))
      const isDog = Float64Array.from({ length: data.n }, (_, i) => (data.tokens.subarray(data.offsets[i]!, data.offsets[i + 1]!).includes(DOG) ? 1 : 0))
      const dogShare = async (state: CharLmState) => withWord(await model.sample(state, 400, { rng: Rng.from(22), temperature: 1, dataset }), DOG).n / 400
      const short = { ...params, steps: 300 }
      // Weights 0 and 1: the dog sentences alone.
      expect(await dogShare(await model.fitWeighted!(data, isDog, short, ctx(21)))).toBeGreaterThan(0.9)
      // Weights 3 and 1: the maximiser of Σ w_i log p(x_i) is the weighted empirical distribution,
      // whose dog share is 3·n_dog / (3·n_dog + n_cat), about 3/4 (binomial SD of 400 samples 0.022).
      const nDog = isDog.reduce((a, b) => a + b, 0)
      const expected = (3 * nDog) / (3 * nDog + (data.n - nDog))
      const weights = isDog.map((w) => 1 + 2 * w)
      const state = await model.fitWeighted!(data, weights, short, ctx(23))
      expect(Math.abs((await dogShare(state)) - expected)).toBeLessThan(0.08)
      const scaled = await model.fitWeighted!(data, weights.map((w) => 4 * w), short, ctx(23))
      expect(flat(scaled)).toEqual(flat(state))
    })
  })

  it('refuses mismatched weights and a reference of another shape', async () => {
    const data = toySentences(50, Rng.from(30))
    const state = await model.fit(data, tiny, ctx(30))
    const trainer = await model.trainer!(state, tiny, options(state))
    const items = takeSequences(data, [0, 1])
    expect(() => trainer.step(items, Float64Array.from([1]))).toThrow(/^charlm post-training step: got 1 weights for 2 items$/)
    const wider = await model.fit(data, { ...tiny, hidden: [6] }, ctx(31))
    await expect(Promise.resolve().then(() => model.trainer!(state, tiny, options(wider)))).rejects.toMatchObject({ code: ErrorCode.INPUT })
    await expect(Promise.resolve().then(() => model.fitWeighted!(data, new Float64Array(data.n), tiny, ctx(32)))).rejects.toThrow(/every weight is 0/)
  })
})
