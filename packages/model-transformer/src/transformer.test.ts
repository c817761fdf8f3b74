import { describe, expect, it } from 'vitest'
import { ErrorCode, Rng, toOuroborosError, type TokenSamples } from '@ouroboros/core'
import { model } from './index.js'
import { Drawer, sentenceRows } from './transformer.js'
import { VOCABULARY, toySentences } from './toy.testutil.js'
import { makeVocabulary } from './vocabulary.js'

process.env['OUROBOROS_BACKEND'] = 'cpu'

const dataset = { kind: 'toy', modality: 'tokens' as const, vocabulary: VOCABULARY }
const params = model.params.parse({ context: 12, layers: 1, heads: 2, dModel: 16, ffn: 32, steps: 150, batch: 8, lr: 1e-2, warmup: 10, evalEvery: 0 })
const words = (s: TokenSamples, i: number): string => Array.from(s.tokens.subarray(s.offsets[i]!, s.offsets[i + 1]!), (id) => VOCABULARY[id]).join(' ')
const sentences = (s: TokenSamples): string[] => Array.from({ length: s.n }, (_, i) => words(s, i))
const tokens = (list: string[]): TokenSamples => {
  const ids = list.map((s) => (s === '' ? [] : s.split(' ').map((w) => VOCABULARY.indexOf(w))))
  const offsets = new Uint32Array(ids.length + 1)
  ids.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
  return { modality: 'tokens', n: ids.length, vocabSize: VOCABULARY.length, tokens: Int32Array.from(ids.flat()), offsets }
}

describe('transformer parameters', () => {
  it('refuses heads that do not divide dModel, with both values', () => {
    const parsed = model.params.safeParse({ dModel: 64, heads: 5 })
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['heads', 'heads must divide dModel: got heads 5, dModel 64']])
  })
})

describe('transformer', () => {
  const data = toySentences(300, Rng.from(1))
  const fitted = model.fit(data, params, { rng: Rng.from(2), generation: 0, dataset })

  it('learns the toy grammar: its samples are grammar sentences', async () => {
    const samples = await model.sample(await fitted, 400, { rng: Rng.from(3), temperature: 1, dataset })
    const grammar = /^(the|a) (big )?(cat|dog) (sat|ran)( on (the|a) (mat|rug))? \.$/
    expect(sentences(samples).filter((s) => grammar.test(s)).length).toBeGreaterThan(320)
  })

  it('scores grammar sentences near the grammar entropy and far above their shuffled words', async () => {
    const state = await fitted
    const heldout = toySentences(200, Rng.from(6))
    const good = await model.logLikelihood!(state, heldout)
    const bad = await model.logLikelihood!(state, { ...heldout, tokens: heldout.tokens.slice().reverse() })
    // Each sentence: 1 bit (the/a) + H(0.3) (big) + 1 (cat/dog) + 1 (sat/ran) + 1 (on?) + 0.5·2 (the/a, mat/rug).
    const entropy = (4 + 1 + -(0.3 * Math.log2(0.3) + 0.7 * Math.log2(0.7))) * Math.LN2
    const mean = -good.reduce((a, b) => a + b, 0) / good.length
    expect(mean).toBeGreaterThan(entropy - 0.2)
    expect(mean).toBeLessThan(entropy + 0.3)
    expect(good.reduce((a, b) => a + b, 0)).toBeGreaterThan(bad.reduce((a, b) => a + b, 0) + 1000)
  })

  it('is greedy as the temperature goes to 0, and top-k 1 is greedy too', async () => {
    const state = await fitted
    const a = sentences(await model.sample(state, 30, { rng: Rng.from(4), temperature: 1e-3, dataset }))
    const b = sentences(await model.sample({ ...state, topK: 1 }, 30, { rng: Rng.from(5), temperature: 1, dataset }))
    expect(new Set([...a, ...b]).size).toBe(1)
  })

  it('draws sentences longer than the context with the probability logLikelihood gives them (both in windows), and those cut at maxLength with the probability of their words', async () => {
    // Context 4: most grammar sentences (4 to 8 tokens) run past it.
    const short = model.params.parse({ context: 4, layers: 1, heads: 2, dModel: 16, ffn: 32, steps: 150, batch: 8, lr: 1e-2, warmup: 10, evalEvery: 0 })
    const state = await model.fit(data, short, { rng: Rng.from(12), generation: 0, dataset })
    const N = 20_000
    const counts = new Map<string, number>()
    for (const s of sentences(await model.sample(state, N, { rng: Rng.from(13), temperature: 1, dataset }))) counts.set(s, (counts.get(s) ?? 0) + 1)
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20)
    expect(top.filter(([s]) => s.split(' ').length > 5).length).toBeGreaterThan(3)
    const ll = await model.logLikelihood!(state, tokens(top.map(([s]) => s)))
    top.forEach(([sentence, count], i) => {
      const p = Math.exp(ll[i]!)
      expect(Math.abs(count - N * p) / Math.sqrt(N * p * (1 - p)), `'${sentence}': drawn ${count} times in ${N}, probability ${p}`).toBeLessThan(4.5)
    })
    // Cut at maxLength 3 words with no end drawn, and scored so: the cut sentences' frequencies are their probabilities too.
    const capped = { ...state, maxLength: 3 }
    const M = 5_000
    const cut = await model.sample(capped, M, { rng: Rng.from(14), temperature: 1, dataset })
    const lengths = Array.from({ length: cut.n }, (_, i) => cut.offsets[i + 1]! - cut.offsets[i]!)
    expect(Math.max(...lengths)).toBe(3)
    const cutCounts = new Map<string, number>()
    for (const s of sentences(cut)) cutCounts.set(s, (cutCounts.get(s) ?? 0) + 1)
    const cutTop = [...cutCounts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)
    expect(cutTop.every(([s]) => s.split(' ').length === 3)).toBe(true)
    const cutLl = await model.logLikelihood!(capped, tokens(cutTop.map(([s]) => s)))
    cutTop.forEach(([sentence, count], i) => {
      const p = Math.exp(cutLl[i]!)
      expect(Math.abs(count - M * p) / Math.sqrt(M * p * (1 - p)), `'${sentence}': drawn ${count} times in ${M}, probability ${p}`).toBeLessThan(4.5)
    })
  })

  it('scores a sentence the same alone and among others of other lengths', async () => {
    const state = await fitted
    const list = ['the cat sat .', 'a big dog ran on the rug .', 'dog', '', 'the the the the the the the the the the the the the the the the the the the the .']
    const together = await model.logLikelihood!(state, tokens(list))
    for (let i = 0; i < list.length; i++) expect((await model.logLikelihood!(state, tokens([list[i]!])))[0]).toBe(together[i])
  })

  it('keeps the maxVocab most frequent words; the rest, and the dataset <unk>, read and write as <unk>', async () => {
    // the: 3, cat: 2, sat: 2, dog: 1, <unk>: 4 (never kept).
    const corpus = tokens(['the cat sat', 'the cat sat dog', 'the'])
    const withUnknown = { ...corpus, tokens: Int32Array.from([...corpus.tokens, 0, 0, 0, 0]), offsets: Uint32Array.from([0, 3, 7, 12]) }
    const v = makeVocabulary(withUnknown, 3, VOCABULARY)
    // Ties by dataset id: cat (2) before sat (4).
    expect(Array.from(v.words, (w) => VOCABULARY[w])).toEqual(['the', 'cat', 'sat'])
    expect(v.datasetUnknown).toBe(0)
    const small = model.params.parse({ ...params, maxVocab: 4, steps: 60 })
    const state = await model.fit(data, small, { rng: Rng.from(7), generation: 0, dataset })
    const drawn = await model.sample(state, 300, { rng: Rng.from(8), temperature: 1, dataset })
    const kept = new Set([0, ...state.vocabulary.words])
    expect(new Set(drawn.tokens).size).toBeGreaterThan(2)
    for (const t of drawn.tokens) expect(kept.has(t)).toBe(true)
    expect(drawn.tokens.includes(0)).toBe(true)
    // Unknown words score as <unk> spread over the dataset words the model lacks: any two alike.
    const [x, y] = await model.logLikelihood!(state, unknownPair(state.vocabulary.words))
    expect(x).toBe(y)
  })

  it('keeps generation 0 vocabulary for the whole chain: later generations read it from the chain real data', async () => {
    const state = await fitted
    const later = tokens(['the rug .', 'a mat .', 'the rug .'])
    const next = await model.fit(later, { ...params, steps: 5 }, { rng: Rng.from(9), generation: 1, dataset, real: data })
    expect(Array.from(next.vocabulary.words)).toEqual(Array.from(state.vocabulary.words))
    const own = await model.fit(later, { ...params, steps: 5 }, { rng: Rng.from(9), generation: 1, dataset })
    expect(own.vocabulary.words.length).toBe(5)
  })

  it('reports the training loss every evalEvery steps, falling', async () => {
    const lines: { step: number; loss: number }[] = []
    await model.fit(data, { ...params, steps: 60, evalEvery: 20 }, { rng: Rng.from(2), generation: 0, dataset, onTrainingStep: async (step, r) => void lines.push({ step, loss: r.losses!['loss']! }) })
    expect(lines.map((l) => l.step)).toEqual([20, 40, 60])
    expect(lines[2]!.loss).toBeLessThan(lines[0]!.loss)
  })

  it('reports the last step too when it is not a multiple of evalEvery, with the mean loss of the steps since the last report', async () => {
    const lines: { step: number; loss: number }[] = []
    const every: number[] = []
    const fit = (evalEvery: number, onTrainingStep: (step: number, r: { losses?: Record<string, number> }) => Promise<void>) =>
      model.fit(data, { ...params, steps: 25, evalEvery }, { rng: Rng.from(2), generation: 0, dataset, onTrainingStep })
    await fit(20, async (step, r) => void lines.push({ step, loss: r.losses!['loss']! }))
    // evalEvery 1 gives every step's loss on the same training (its reports do not change the steps).
    await fit(1, async (_, r) => void every.push(r.losses!['loss']!))
    expect(lines.map((l) => l.step)).toEqual([20, 25])
    const tail = every.slice(20, 25)
    expect(lines[1]!.loss).toBeCloseTo(tail.reduce((a, b) => a + b, 0) / tail.length, 12)
  })

  it('stops with a diverged error when the loss becomes NaN', async () => {
    const state = await fitted
    const broken = { ...state, weights: state.weights.map((w) => ({ ...w, data: w.data.map(() => NaN) })) }
    const err = await Promise.resolve(model.fit(data, params, { rng: Rng.from(7), generation: 1, dataset, init: broken })).catch((e: unknown) => e)
    expect(toOuroborosError(err).code).toBe(ErrorCode.DIVERGED)
  })

  it('refuses data whose vocabulary has no <unk>, and training text shorter than a window', async () => {
    await expect(Promise.resolve().then(() => model.fit(data, params, { rng: Rng.from(8), generation: 0, dataset: { ...dataset, vocabulary: VOCABULARY.slice(1) } }))).rejects.toThrow(/<unk>/)
    await expect(Promise.resolve().then(() => model.fit(tokens(['the cat']), params, { rng: Rng.from(8), generation: 0, dataset }))).rejects.toThrow(/fewer than context \+ 1 = 13/)
  })
})

/** Two sentences that differ only in a word each, both outside the kept words. */
function unknownPair(kept: Int32Array): TokenSamples {
  const outside = VOCABULARY.map((_, i) => i).filter((i) => i > 0 && !kept.includes(i))
  const a = outside[0]!
  const b = outside[1]!
  const the = VOCABULARY.indexOf('the')
  return { modality: 'tokens', n: 2, vocabSize: VOCABULARY.length, tokens: Int32Array.from([the, a, the, b]), offsets: Uint32Array.from([0, 2, 4]) }
}

describe('sentence windows', () => {
  it('counts every prediction once, each after the first T with at least T − ⌊T/2⌋ tokens before it in its window', () => {
    const v = { words: Int32Array.from([1, 2, 3]), datasetSize: VOCABULARY.length, datasetUnknown: 0 }
    const T = 4
    // 9 words: 10 predictions (the words and the end).
    const s = { modality: 'tokens' as const, n: 2, vocabSize: VOCABULARY.length, tokens: Int32Array.from([1, 2, 3, 1, 2, 3, 1, 2, 3, 2]), offsets: Uint32Array.from([0, 9, 10]) }
    const rows = sentenceRows(s, v, T)
    // Sentence 0: windows at 0, 2, 4 and 6; sentence 1 (one word): one window of 2.
    expect(Array.from(rows.sentence)).toEqual([0, 0, 0, 0, 1])
    expect(Array.from(rows.length)).toEqual([4, 4, 4, 4, 2])
    const end = 4
    const seq = [end, 0, 1, 2, 0, 1, 2, 0, 1, 2, end]
    const counted = new Array(10).fill(0)
    for (let r = 0; r < 4; r++) {
      const from = 2 * r
      for (let p = 0; p < 4; p++) {
        const at = rows.start[r]! + p
        expect(rows.inputs[at]).toBe(seq[from + p])
        expect(rows.targets[at]).toBe(seq[from + p + 1])
        if (rows.counted[at] === 1) {
          counted[from + p]++
          if (r > 0) expect(p).toBeGreaterThanOrEqual(T - 2)
        }
      }
    }
    expect(counted).toEqual(new Array(10).fill(1))
    expect(Array.from(rows.targets.subarray(rows.start[4]!, rows.start[4]! + 2))).toEqual([1, end])
  })
})

describe('token draws', () => {
  /** Frequencies of 20,000 draws from probs. */
  const frequencies = (drawer: Drawer, probs: number[]): number[] => {
    const rng = Rng.from(11)
    const p = Float32Array.from(probs)
    const counts = new Array(probs.length).fill(0)
    for (let i = 0; i < 20_000; i++) counts[drawer.next(p, 0, rng)]++
    return counts.map((c) => c / 20_000)
  }
  const expectNear = (got: number[], want: number[]): void => {
    got.forEach((g, i) => expect(Math.abs(g - want[i]!)).toBeLessThan(4 * Math.sqrt((want[i]! * (1 - want[i]!)) / 20_000) + 1e-9))
  }
  const probs = [0.05, 0.3, 0.2, 0.2, 0.15, 0.1]

  it('draws from the whole distribution without truncation', () => {
    expectNear(frequencies(new Drawer(6, undefined, undefined), probs), probs)
  })

  it('keeps the k most probable with top-k, tokens tied at the boundary all kept', () => {
    // k = 2: 0.3, then the two tokens of 0.2 (each has one token strictly more probable).
    expectNear(frequencies(new Drawer(6, 2, undefined), probs), [0, 0.3, 0.2, 0.2, 0, 0].map((p) => p / 0.7))
    expectNear(frequencies(new Drawer(6, 1, undefined), probs), [0, 1, 0, 0, 0, 0])
  })

  it('keeps the fewest most probable holding topP with top-p, and the smaller set with both', () => {
    // topP 0.6: 0.3 (before it 0) and 0.2, 0.2 (before them 0.3 < 0.6) are kept; 0.15 (before it 0.7) is not.
    expectNear(frequencies(new Drawer(6, undefined, 0.6), probs), [0, 0.3, 0.2, 0.2, 0, 0].map((p) => p / 0.7))
    // topP 0.75: 0.15 is kept as well (0.7 < 0.75 before it).
    expectNear(frequencies(new Drawer(6, undefined, 0.75), probs), [0, 0.3, 0.2, 0.2, 0.15, 0].map((p) => p / 0.85))
    expectNear(frequencies(new Drawer(6, 1, 0.75), probs), [0, 1, 0, 0, 0, 0])
  })
})
