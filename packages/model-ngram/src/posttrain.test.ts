import { describe, expect, it } from 'vitest'
import { Rng, type DatasetInfo, type TokenSamples } from '@ouroboros/core'
import { klRegularisedOptimum, refitStandardErrors } from '@ouroboros/testkit'
import { model, type NgramModelState, type NgramParams } from './index.js'
import { CORPUS, VOCABULARY, referenceModel, sentencesOf, tokenSamples } from './reference.testutil.js'
import { systematicResample } from './weighted.js'

const params = (raw: Partial<NgramParams>): NgramParams => model.params.parse(raw)
const dataset: DatasetInfo = { kind: 'toy', modality: 'tokens', vocabulary: VOCABULARY }
const fitCtx = (seed = 0) => ({ rng: Rng.from(seed, 'fit'), generation: 0, dataset })
const sampleCtx = (seed: number, temperature = 1) => ({ rng: Rng.from(seed, 'sample'), temperature, dataset })
const V = VOCABULARY.length
const END = V
const fit = (sentences: readonly (readonly number[])[], p: NgramParams, vocabSize = V): NgramModelState =>
  model.fit(tokenSamples(sentences, vocabSize), p, fitCtx()) as NgramModelState
const fitWeighted = (sentences: readonly (readonly number[])[], weights: number[] | Float64Array, p: NgramParams, vocabSize = V): NgramModelState =>
  model.fitWeighted!(tokenSamples(sentences, vocabSize), Float64Array.from(weights), p, fitCtx()) as NgramModelState
const logLikelihood = (state: NgramModelState, sentences: readonly (readonly number[])[], vocabSize = V): Float64Array =>
  model.logLikelihood!(state, tokenSamples(sentences, vocabSize)) as Float64Array

/** A second corpus over the same words, for finetuning: other sentences, other word frequencies. */
const TASK: number[][] = ['a big dog ran on a rug .', 'a dog sat .', 'big big dog .', 'a rug .', 'the big dog sat on a big rug .'].map((s) =>
  s.split(' ').map((w) => VOCABULARY.indexOf(w)),
)

/** Outcome frequencies (words, then END) of sentences: the MLE unigram model, independently. */
function outcomeShares(sentences: readonly (readonly number[])[]): Float64Array {
  const c = new Float64Array(V + 1)
  for (const s of sentences) {
    for (const w of s) c[w]!++
    c[END]!++
  }
  const total = c.reduce((a, b) => a + b, 0)
  return c.map((v) => v / total)
}

/** log p(sentence) under a unigram model with outcome probabilities p. */
const unigramLogProb = (p: Float64Array, s: readonly number[]): number => s.reduce((acc, w) => acc + Math.log(p[w]!), Math.log(p[END]!))

describe('ngram fitWeighted, order 1: exact weighted counts', () => {
  it('counts Σ_i w_i·count_i(w), scaled to sum to the sentences of positive weight, with the Chen & Goodman discount of their raw counts', () => {
    const weights = [0.5, 2, 0, 1, 3, 0.25, 1, 1, 0, 2]
    const state = fitWeighted(CORPUS, weights, params({ order: 1 }))
    const m = weights.filter((w) => w > 0).length
    const scale = m / weights.reduce((a, b) => a + b, 0)
    const expected = new Float64Array(V + 1)
    const raw = new Map<number, number>()
    CORPUS.forEach((s, i) => {
      if (weights[i] === 0) return
      for (const w of [...s, END]) {
        expected[w]! += weights[i]! * scale
        raw.set(w, (raw.get(w) ?? 0) + 1)
      }
    })
    const [unigram] = state.models.map((mo) => mo.unigram)
    unigram!.forEach((v, w) => expect(v).toBeCloseTo(expected[w]!, 12))
    const n1 = [...raw.values()].filter((c) => c === 1).length
    const n2 = [...raw.values()].filter((c) => c === 2).length
    expect(state.models[0]!.discounts[0]).toBeCloseTo(n1 / (n1 + 2 * n2), 15)
  })

  it("keeps 'auto' positive when no outcome is seen once, so a held-out word the weighted data lack has a probability", () => {
    // Raw counts: 'the' 4, 'cat' 2, END 4; no 1, so Chen & Goodman's estimate would be 0.
    const the = VOCABULARY.indexOf('the')
    const cat = VOCABULARY.indexOf('cat')
    const dog = VOCABULARY.indexOf('dog')
    const state = fitWeighted([[the, cat], [the, cat], [the], [the]], [1, 1, 1, 1], params({ order: 1 }))
    expect(state.models[0]!.discounts[0]).toBe(0.75)
    // By hand: counts 4, 2, 4 (C = 10, 3 types), 'dog' has only the floor (0.75·3/10)·1/(V + 1);
    // END gets (4 − 0.75)/10 plus the same floor.
    const floor = (0.75 * 3) / 10 / (V + 1)
    expect(logLikelihood(state, [[dog]])[0]).toBeCloseTo(Math.log(floor) + Math.log(0.325 + floor), 12)
  })

  it('gives, at discount 0, the MLE of the sentences repeated as often as their integer weights say', () => {
    const counts = [2, 0, 1, 3, 1, 0, 2, 1, 1, 4]
    const repeated = CORPUS.flatMap((s, i) => Array.from({ length: counts[i]! }, () => s))
    const p = params({ order: 1, discount: 0 })
    const probe = [...CORPUS, [1, 1, 2]]
    const a = logLikelihood(fitWeighted(CORPUS, counts, p), probe)
    const b = logLikelihood(fit(repeated, p), probe)
    const shares = outcomeShares(repeated)
    a.forEach((v, i) => {
      expect(v).toBeCloseTo(b[i]!, 12)
      expect(v).toBeCloseTo(unigramLogProb(shares, probe[i]!), 12)
    })
  })
})

describe('ngram fitWeighted, order ≥ 2: Kneser-Ney on a systematic resample', () => {
  it('gives the fit itself for equal weights', () => {
    const p = params({ order: 3 })
    expect(fitWeighted(CORPUS, new Array(CORPUS.length).fill(0.3), p)).toEqual(fit(CORPUS, p))
  })

  it('gives item i ⌊m·w_i⌋ or ⌈m·w_i⌉ copies (w normalised, m the items of positive weight), m·w_i on average', () => {
    const w = Float64Array.of(0.3, 0, 2.2, 1, 0.05, 0, 4, 0.45)
    const m = 6
    const share = Array.from(w, (v) => (m * v) / 8)
    const runs = 4000
    const mean = new Float64Array(w.length)
    for (let r = 0; r < runs; r++) {
      const idx = systematicResample(w, Rng.from(r, 'resample'))
      expect(idx.length).toBe(m)
      const copies = new Float64Array(w.length)
      for (const i of idx) copies[i]!++
      copies.forEach((c, i) => {
        expect(c === Math.floor(share[i]!) || c === Math.ceil(share[i]!)).toBe(true)
        mean[i]! += c / runs
      })
    }
    // Copies take two neighbouring values: their standard deviation is at most 1/2.
    mean.forEach((v, i) => expect(Math.abs(v - share[i]!)).toBeLessThan(4 * (0.5 / Math.sqrt(runs))))
  })
})

describe('the KL of post-training', () => {
  it('is not estimated with a discount, whose uniform floor scoring gives and sampling leaves out, and is at discount 0', () => {
    const zebra = VOCABULARY.indexOf('zebra')
    for (const order of [1, 3]) {
      const discounted = fit(TASK, params({ order }))
      // The task's sentences lack 'zebra': scored above 0 (the floor), never drawn.
      expect(Math.exp(logLikelihood(discounted, [[zebra]])[0]!)).toBeGreaterThan(0)
      const drawn = model.sample(discounted, 2000, sampleCtx(3)) as TokenSamples
      expect(drawn.tokens.includes(zebra)).toBe(false)
      expect(model.scoresItsSamples).toBeTypeOf('function')
      const scores = model.scoresItsSamples as (state: NgramModelState) => boolean
      expect(scores(discounted)).toBe(false)
      expect(model.klDivergence!(discounted, fit(CORPUS, params({ order })))).toBeUndefined()
      const plain = fit(TASK, params({ order, discount: 0 }))
      expect(scores(plain)).toBe(true)
      expect(Math.exp(logLikelihood(plain, [[zebra]])[0]!)).toBe(0)
    }
    // Exact between two unigram models at discount 0.
    expect(model.klDivergence!(fit(TASK, params({ order: 1, discount: 0 })), fit(CORPUS, params({ order: 1, discount: 0 })))).toBeTypeOf('number')
  })
})

describe('reward-weighted refitting of a unigram model: the KL-regularised optimum', () => {
  // The reference: a unigram model (discount 0, so sampling and scoring agree) fit to one-word
  // sentences where word k = 1..10 appears 2520/k times: its vocabulary distribution is Zipf's
  // p_ref(k) ∝ 1/k exactly, and p(END) = 1/2.
  const K = 10
  const zipfSentences = Array.from({ length: K }, (_, k) => Array.from({ length: 2520 / (k + 1) }, () => [k])).flat()
  const pRef = Array.from({ length: K }, (_, k) => 2520 / (k + 1) / 7381)
  const p = params({ order: 1, discount: 0 })
  const reference = fit(zipfSentences, p, K)
  // Rarer words earn more: r(k) = (k − 1)/9, the tail a reward can hack.
  const rewards = Array.from({ length: K }, (_, k) => k / 9)

  /** The model's vocabulary distribution p(w | not END), from logLikelihood alone. */
  const vocabulary = (state: NgramModelState): Float64Array => {
    const ll = logLikelihood(state, [[], ...Array.from({ length: K }, (_, k) => [k])], K)
    const pEnd = Math.exp(ll[0]!)
    return Float64Array.from({ length: K }, (_, k) => Math.exp(ll[k + 1]! - ll[0]!) / (1 - pEnd))
  }

  /** Words drawn from the reference model, each as a one-word item. */
  const draws = (seed: number): number[][] => {
    const s = model.sample(reference, 50_000, sampleCtx(seed)) as TokenSamples
    return Array.from(s.tokens, (w) => [w])
  }

  for (const beta of [0.1, 1, 10, 1e6]) {
    it(`gives p* ∝ p_ref·exp(r/β), E_p*[r] and KL(p*‖p_ref) within Monte Carlo error at β = ${beta}`, () => {
      const items = draws(Math.round(beta * 10))
      const n = items.length
      const weights = items.map(([w]) => Math.exp((rewards[w!]! - 1) / beta))
      const refit = fitWeighted(items, weights, p, K)
      const optimum = klRegularisedOptimum(pRef, rewards, beta)
      const se = refitStandardErrors(pRef, rewards, beta, n)
      const q = vocabulary(refit)
      // Every estimate within 4 delta-method standard errors of the n ≈ 50,000 draws; the KL also
      // carries its second-order bias (about (K − 1)/(2n) = 1e-4 where p* = p_ref).
      for (let k = 0; k < K; k++) expect(Math.abs(q[k]! - optimum.p[k]!)).toBeLessThanOrEqual(4 * se.p[k]!)
      const reward = q.reduce((acc, v, k) => acc + v * rewards[k]!, 0)
      expect(Math.abs(reward - optimum.reward)).toBeLessThanOrEqual(4 * se.reward)
      const kl = model.klDivergence!(refit, reference)
      expect(Math.abs(kl - optimum.kl - se.klBias)).toBeLessThanOrEqual(4 * se.kl + 3 * se.klBias)
      // Both models end a sentence with probability 1/2, so the per-sentence KL is the vocabulary's.
      expect(kl).toBeCloseTo(q.reduce((acc, v, k) => acc + v * Math.log(v / pRef[k]!), 0), 12)
      expect(se.reward).toBeLessThan(0.01)
    })
  }

  it('puts all mass on the argmax as β → 0 (entropy → 0) and stays p_ref as β → ∞', () => {
    expect(klRegularisedOptimum(pRef, rewards, 1e-3).entropy).toBeLessThan(1e-40)
    const items = draws(7)
    const cold = vocabulary(fitWeighted(items, items.map(([w]) => Math.exp((rewards[w!]! - 1) / 1e-3)), p, K))
    expect(cold[K - 1]).toBeGreaterThan(1 - 1e-12)
    const hot = klRegularisedOptimum(pRef, rewards, 1e6)
    hot.p.forEach((v, k) => expect(Math.abs(v - pRef[k]!)).toBeLessThan(1e-5))
  })
})

describe('ngram klDivergence', () => {
  it('is the per-sentence KL E_p[log p(x) − log q(x)], checked by Monte Carlo where the sentence lengths differ', () => {
    const p = params({ order: 1, discount: 0 })
    const a = fit(CORPUS, p)
    const b = fit(TASK, p)
    const kl = model.klDivergence!(b, a)
    const n = 100_000
    const x = model.sample(b, n, sampleCtx(1)) as TokenSamples
    const lb = model.logLikelihood!(b, x) as Float64Array
    const la = model.logLikelihood!(a, x) as Float64Array
    let sum = 0
    let sum2 = 0
    for (let i = 0; i < n; i++) {
      const d = lb[i]! - la[i]!
      sum += d
      sum2 += d * d
    }
    const mean = sum / n
    const se = Math.sqrt((sum2 / n - mean * mean) / n)
    expect(Math.abs(kl - mean)).toBeLessThan(4 * se)
    // The per-outcome KL would be smaller by the mean number of outcomes per sentence.
    expect(kl / mean).toBeGreaterThan(0.95)
  })

  it('is the per-sentence KL of sentences cut at maxLength, checked by Monte Carlo where most are cut', () => {
    // Cut at 4 words: over half of the sentences of these models run that long, and end with no END.
    const p = params({ order: 1, discount: 0, maxLength: 4 })
    const a = fit(CORPUS, p)
    const b = fit(TASK, p)
    const kl = model.klDivergence!(b, a)
    const n = 100_000
    const x = model.sample(b, n, sampleCtx(2)) as TokenSamples
    const cut = sentencesOf(x).filter((s) => s.length === 4).length / n
    expect(cut).toBeGreaterThan(0.3)
    const la = model.logLikelihood!(a, x) as Float64Array
    const d = (model.logLikelihood!(b, x) as Float64Array).map((v, i) => v - la[i]!)
    const mean = d.reduce((s, v) => s + v, 0) / n
    const se = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / n / n)
    expect(Math.abs(kl - mean)).toBeLessThan(4 * se)
    // The uncut formula would be off by the share of sentences cut, far beyond the noise.
    const uncut = model.klDivergence!({ ...b, maxLength: 100_000 }, { ...a, maxLength: 100_000 })
    expect(Math.abs(uncut - mean)).toBeGreaterThan(20 * se)
    // Models cut at different lengths: no exact KL.
    expect(model.klDivergence!(b, { ...a, maxLength: 5 })).toBeUndefined()
  })

  it('is not exact for models of order 2 and above: undefined, so the KL is estimated by Monte Carlo', () => {
    const s = fit(CORPUS, params({ order: 2 }))
    expect(model.klDivergence!(s, s)).toBeUndefined()
  })
})

describe('ngram trainer (interpolation toward the fit of each step)', () => {
  const ones = (n: number): Float64Array => new Float64Array(n).fill(1)

  it('after t steps on the same items is p_ref interpolated with their fit at weight (1 − (1 − lr)^t)/(1 + a)', async () => {
    const p = params({ order: 1, discount: 0 })
    const reference = fit(CORPUS, p)
    const lr = 0.2
    const anchor = 0.5
    const trainer = await model.trainer!(reference, p, { rng: Rng.from(1), dataset, lr, anchor, reference })
    expect(trainer.batch).toBe('all')
    expect(trainer.signedWeights).toBe(false)
    const items = tokenSamples(TASK, V)
    for (let t = 0; t < 7; t++) await trainer.step(items, ones(items.n))
    const state = await trainer.state()
    expect(state.models.length).toBe(2)
    const lambda = (1 - (1 - lr) ** 7) / (1 + anchor)
    const pRef = outcomeShares(CORPUS)
    const pTask = outcomeShares(TASK)
    const mixed = pRef.map((v, o) => (1 - lambda) * v + lambda * pTask[o]!)
    const probe = [...CORPUS, ...TASK, [9, 9, 9]]
    logLikelihood(state, probe).forEach((v, i) => expect(v).toBeCloseTo(unigramLogProb(mixed, probe[i]!), 12))
    const kl = mixed.reduce((acc, v, o) => acc + (v > 0 ? v * Math.log(v / pRef[o]!) : 0), 0) / mixed[END]!
    expect(model.klDivergence!(state, reference)).toBeCloseTo(kl, 12)
  })

  it('moves 0.1 of the way a step when the stage gives no lr, and refuses an lr outside (0, 1]', async () => {
    const p = params({ order: 1, discount: 0 })
    const reference = fit(CORPUS, p)
    const trainer = await model.trainer!(reference, p, { rng: Rng.from(1), dataset, anchor: 0, reference })
    const items = tokenSamples(TASK, V)
    await trainer.step(items, ones(items.n))
    const mixed = outcomeShares(CORPUS).map((v, o) => 0.9 * v + 0.1 * outcomeShares(TASK)[o]!)
    expect(logLikelihood(await trainer.state(), [[1, 3]])[0]).toBeCloseTo(unigramLogProb(mixed, [1, 3]), 12)
    for (const lr of [0, 1.5]) {
      expect(() => model.trainer!(reference, p, { rng: Rng.from(1), dataset, lr, anchor: 0, reference })).toThrow(/lr/)
    }
  })

  it('mixes next-word distributions of trigram models: log-likelihood against two plain Kneser-Ney implementations', async () => {
    const p = params({ order: 3 })
    const reference = fit(CORPUS, p)
    const trainer = await model.trainer!(reference, p, { rng: Rng.from(2), dataset, lr: 0.3, anchor: 0, reference })
    const items = tokenSamples(TASK, V)
    for (let t = 0; t < 3; t++) await trainer.step(items, ones(items.n))
    const lambda = 1 - 0.7 ** 3
    const pRef = referenceModel(CORPUS, V, 3, 'auto', 'uniform')
    const pTask = referenceModel(TASK, V, 3, 'auto', 'uniform')
    const probe = [...CORPUS, ...TASK, [12, 1, 2], [4, 4]]
    const ll = logLikelihood(await trainer.state(), probe)
    probe.forEach((s, i) => {
      let expected = 0
      for (let t = 0; t <= s.length; t++) {
        const h = s.slice(0, t)
        const w = t < s.length ? s[t]! : END
        expected += Math.log((1 - lambda) * pRef(h, w) + lambda * pTask(h, w))
      }
      expect(ll[i]).toBeCloseTo(expected, 10)
    })
  })

  it('reports the weighted mean negative log-likelihood per sentence of the items before the step', async () => {
    const p = params({ order: 2 })
    const reference = fit(CORPUS, p)
    const trainer = await model.trainer!(reference, p, { rng: Rng.from(3), dataset, anchor: 0, reference })
    const w = Float64Array.of(1, 2, 0, 0.5, 1)
    const report = await trainer.step(tokenSamples(TASK, V), w)
    const ll = logLikelihood(reference, TASK)
    expect(report.losses!['loss']).toBeCloseTo(-ll.reduce((acc, v, i) => acc + w[i]! * v, 0) / 4.5, 12)
  })

  it('refuses to hold more than 32 distinct models, saying what to do', async () => {
    const p = params({ order: 1 })
    const reference = fit(CORPUS, p)
    const trainer = await model.trainer!(reference, p, { rng: Rng.from(4), dataset, anchor: 0, reference })
    const items = tokenSamples(TASK, V)
    for (let t = 0; t < 31; t++) await trainer.step(items, Float64Array.from({ length: items.n }, (_, i) => 1 + ((i + t) % 5) + t))
    await expect((async () => trainer.step(items, Float64Array.of(1, 2, 3, 4, 100)))()).rejects.toMatchObject({ hint: expect.stringMatching(/same items every step/) })
  })
})

describe('sampling an interpolation', () => {
  const N = 40_000
  const lambda = 0.4

  /** An interpolation of the CORPUS and TASK models with weight λ on TASK, made by one trainer step. */
  async function interpolation(order: number, extra: Partial<NgramParams> = {}): Promise<NgramModelState> {
    const p = params({ order, ...extra })
    const reference = fit(CORPUS, p)
    const trainer = await model.trainer!(reference, p, { rng: Rng.from(5), dataset, lr: lambda, anchor: 0, reference })
    await trainer.step(tokenSamples(TASK, V), new Float64Array(TASK.length).fill(1))
    return trainer.state()
  }

  /** The mixed sampling distribution after `history`, tempered and truncated as the single-model sampler does, from the plain implementation. */
  function expected(order: number, history: readonly number[], temperature: number, topK?: number, topP?: number): Float64Array {
    const a = referenceModel(CORPUS, V, order, 'auto', 'support')
    const b = referenceModel(TASK, V, order, 'auto', 'support')
    const p = Array.from({ length: V + 1 }, (_, w) => (1 - lambda) * a(history, w) + lambda * b(history, w))
    const ranked = p.map((_, w) => w).sort((x, y) => p[y]! - p[x]!)
    const q = p.map((x) => x ** (1 / temperature))
    const total = q.reduce((s, v) => s + v, 0)
    const keep = new Set<number>()
    let mass = 0
    for (const w of ranked) {
      if (p[w] === 0) break
      if (topK !== undefined && keep.size >= topK) break
      if (topP !== undefined && mass >= topP * total) break
      keep.add(w)
      mass += q[w]!
    }
    return Float64Array.from(q, (x, w) => (keep.has(w) ? x / mass : 0))
  }

  function expectFrequencies(samples: TokenSamples, history: readonly number[], probabilities: Float64Array): void {
    const counts = new Float64Array(V + 1)
    let total = 0
    for (const s of sentencesOf(samples)) {
      if (s.length < history.length || history.some((h, i) => s[i] !== h)) continue
      counts[history.length < s.length ? s[history.length]! : END]!++
      total++
    }
    expect(total).toBeGreaterThan(1000)
    for (let w = 0; w <= V; w++) {
      const pw = probabilities[w]!
      if (pw === 0) expect(counts[w]).toBe(0)
      else expect(Math.abs(counts[w]! / total - pw)).toBeLessThan(5 * Math.sqrt((pw * (1 - pw)) / total) + 1e-3)
    }
  }

  const cases: { name: string; order: number; temperature: number; topK?: number; topP?: number }[] = [
    { name: 'bigram, temperature 1', order: 2, temperature: 1 },
    { name: 'bigram, temperature 0.5 (rejection, s > 1)', order: 2, temperature: 0.5 },
    { name: 'trigram, temperature 2 (rejection, s < 1)', order: 3, temperature: 2 },
    { name: 'bigram, top-k 3', order: 2, temperature: 1, topK: 3 },
    { name: 'trigram, temperature 0.7 and top-p 0.8', order: 3, temperature: 0.7, topP: 0.8 },
    { name: 'unigram, temperature 1.5 and top-k 4', order: 1, temperature: 1.5, topK: 4 },
  ]
  for (const { name, order, temperature, topK, topP } of cases) {
    it(`${name}: next-word frequencies match the mixed, tempered, truncated distribution`, async () => {
      const state = await interpolation(order, { ...(topK === undefined ? {} : { topK }), ...(topP === undefined ? {} : { topP }) })
      const samples = model.sample(state, N, sampleCtx(6, temperature)) as TokenSamples
      for (const history of [[], [1], [8, 11]]) {
        if (order === 1 && history.length > 0) continue
        expectFrequencies(samples, history, expected(order, history, temperature, topK, topP))
      }
    })
  }
})

describe('the probability of a sample is the one logLikelihood gives it (policy-gradient RL relies on it)', () => {
  const n = 40_000
  const within = (count: number, p: number): boolean => Math.abs(count / n - p) < 4 * Math.sqrt((p * (1 - p)) / n)

  /** The k most frequent of n sampled sentences, with their counts. */
  function mostFrequent(state: NgramModelState, k: number): { sentence: number[]; count: number }[] {
    const counts = new Map<string, { sentence: number[]; count: number }>()
    for (const s of sentencesOf(model.sample(state, n, sampleCtx(9)) as TokenSamples)) {
      const entry = counts.get(s.join(' ')) ?? { sentence: s, count: 0 }
      entry.count++
      counts.set(s.join(' '), entry)
    }
    return [...counts.values()].sort((a, b) => b.count - a.count).slice(0, k)
  }

  // Discount 0: the uniform floor for unseen words, which scoring adds and sampling leaves out, is 0.
  for (const { order, maxLength } of [
    { order: 1, maxLength: 2 },
    { order: 2, maxLength: 3 },
  ]) {
    it(`order ${order}: sentences cut at maxLength ${maxLength}, with no end drawn, are scored without one`, async () => {
      const p = params({ order, discount: 0, maxLength })
      const single = fit(CORPUS, p)
      const top = mostFrequent(single, 16)
      const ll = logLikelihood(single, top.map((t) => t.sentence))
      top.forEach(({ count }, i) => expect(within(count, Math.exp(ll[i]!))).toBe(true))
      const cut = top.filter((t) => t.sentence.length === maxLength)
      expect(cut.length).toBeGreaterThan(2)
      // Scored with an end (as a model with a longer cap scores them), some would miss their frequencies.
      const withEnd = logLikelihood({ ...single, maxLength: maxLength + 1 }, cut.map((t) => t.sentence))
      expect(cut.some(({ count }, i) => !within(count, Math.exp(withEnd[i]!)))).toBe(true)

      const trainer = await model.trainer!(single, p, { rng: Rng.from(5), dataset, lr: 0.4, anchor: 0, reference: single })
      await trainer.step(tokenSamples(TASK, V), new Float64Array(TASK.length).fill(1))
      const mixed = await trainer.state()
      expect(mixed.models.length).toBe(2)
      const mixedTop = mostFrequent(mixed, 16)
      const mixedLl = logLikelihood(mixed, mixedTop.map((t) => t.sentence))
      mixedTop.forEach(({ count }, i) => expect(within(count, Math.exp(mixedLl[i]!))).toBe(true))
      expect(mixedTop.some((t) => t.sentence.length === maxLength)).toBe(true)
    })
  }
})
