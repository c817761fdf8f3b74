import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Rng, type DatasetInfo, type TokenSamples } from '@ouroboros/core'
import { runModelConformance } from '@ouroboros/testkit'
import { params } from './model.js'
import { model } from './text.js'

// Debian's python3 is the one .ci/run installs numpy for.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const UNIGRAM = fileURLToPath(new URL('../examples/unigram/unigram_model.py', import.meta.url))
const FAULTY = fileURLToPath(new URL('../test/faulty_model.py', import.meta.url))

const VOCABULARY = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'dog', 'ran', 'ünïcode', 'end']
const dataset: DatasetInfo = { kind: 'toy', modality: 'tokens', vocabulary: VOCABULARY }

/** n sentences of 1 to 6 words, word k drawn with probability ∝ 1/(k + 1). */
function sentences(n: number, rng: Rng): TokenSamples {
  const weights = VOCABULARY.map((_, k) => 1 / (k + 1))
  const offsets = new Uint32Array(n + 1)
  const tokens: number[] = []
  for (let i = 0; i < n; i++) {
    const length = 1 + rng.int(6)
    for (let j = 0; j < length; j++) tokens.push(rng.categorical(weights))
    offsets[i + 1] = tokens.length
  }
  return { modality: 'tokens', n, vocabSize: VOCABULARY.length, tokens: Int32Array.from(tokens), offsets }
}

runModelConformance(model, {
  params: { command: [PYTHON, UNIGRAM] },
  data: (rng) => sentences(300, rng),
  dataset,
  badParams: [
    { params: { command: [] }, field: 'command' },
    { params: { command: [PYTHON, UNIGRAM], timeoutMs: -1 }, field: 'timeoutMs' },
  ],
})

const fitCtx = (dir?: string) => ({ rng: Rng.from(1, 'fit'), generation: 0, dataset, ...(dir === undefined ? {} : { dir }) })
const sampleCtx = { rng: Rng.from(2, 'sample'), temperature: 1, dataset }

describe('a text model through the protocol', () => {
  it('gets the sentences and words as they are: the numpy unigram’s log-likelihoods are the closed form at its training counts', async () => {
    const data = sentences(200, Rng.from(5, 'data'))
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-text-command-'))
    const state = await model.fit(data, params.parse({ command: [PYTHON, UNIGRAM] }), fitCtx(dir))
    const counts = new Float64Array(VOCABULARY.length)
    for (const t of data.tokens) counts[t]!++
    const lengths = new Map<number, number>()
    for (let i = 0; i < data.n; i++) {
      const length = data.offsets[i + 1]! - data.offsets[i]!
      lengths.set(length, (lengths.get(length) ?? 0) + 1)
    }
    const scored = sentences(40, Rng.from(6, 'scored'))
    const got = await model.logLikelihood!(state, scored)
    expect(got).toHaveLength(40)
    for (let i = 0; i < scored.n; i++) {
      const words = scored.tokens.subarray(scored.offsets[i]!, scored.offsets[i + 1]!)
      let expected = Math.log((lengths.get(words.length) ?? 0) / data.n)
      for (const t of words) expected += Math.log(counts[t]! / data.tokens.length)
      expect(got[i]).toBeCloseTo(expected, 10)
    }
    // The words reached the model: it logs the most frequent one by name.
    const top = VOCABULARY[counts.indexOf(Math.max(...counts))]
    expect(readFileSync(join(dir, 'model.log'), 'utf8')).toContain(`most frequent word: '${top}'`)
  })

  it('samples n sentences of the vocabulary’s ids and the training lengths, the same for the same seed', async () => {
    const data = sentences(200, Rng.from(5, 'data'))
    const state = await model.fit(data, params.parse({ command: [PYTHON, UNIGRAM] }), fitCtx())
    const out = await model.sample(state, 500, sampleCtx)
    if (out.modality !== 'tokens') throw new Error('expected sentences')
    expect(out.n).toBe(500)
    expect(out.vocabSize).toBe(VOCABULARY.length)
    expect(out.offsets[500]).toBe(out.tokens.length)
    for (let i = 0; i < 500; i++) expect(out.offsets[i + 1]! - out.offsets[i]!).toBeGreaterThanOrEqual(1)
    expect(Math.max(...out.tokens)).toBeLessThan(VOCABULARY.length)
    // The most probable word (id 0, weight 1 of 2.93) is about a third of the tokens.
    const share = out.tokens.filter((t) => t === 0).length / out.tokens.length
    expect(share).toBeGreaterThan(0.28)
    expect(share).toBeLessThan(0.41)
    const again = await model.sample(state, 500, { ...sampleCtx, rng: Rng.from(2, 'sample') })
    expect(again).toEqual(out)
  })

  it('refits to weighted sentences (rl stages): weighted counts, read back through log_likelihood; a model whose fit takes no weights says so', async () => {
    const data = sentences(150, Rng.from(8, 'data'))
    const weightRng = Rng.from(9, 'weights')
    // Some weights 0: those sentences must leave no trace.
    const weights = Float64Array.from({ length: data.n }, (_, i) => (i % 5 === 0 ? 0 : 0.1 + weightRng.uniform()))
    const spec = params.parse({ command: [PYTHON, UNIGRAM] })
    const plain = await model.fit(data, spec, fitCtx())
    const state = await model.fitWeighted!(data, weights, spec, { ...fitCtx(), init: plain })
    const counts = new Float64Array(VOCABULARY.length)
    const lengths = new Map<number, number>()
    let tokens = 0
    let total = 0
    for (let i = 0; i < data.n; i++) {
      const w = weights[i]!
      const length = data.offsets[i + 1]! - data.offsets[i]!
      for (let t = data.offsets[i]!; t < data.offsets[i + 1]!; t++) counts[data.tokens[t]!]! += w
      lengths.set(length, (lengths.get(length) ?? 0) + w)
      tokens += w * length
      total += w
    }
    const scored = sentences(40, Rng.from(10, 'scored'))
    const got = await model.logLikelihood!(state, scored)
    for (let i = 0; i < scored.n; i++) {
      let expected = Math.log((lengths.get(scored.offsets[i + 1]! - scored.offsets[i]!) ?? 0) / total)
      for (let t = scored.offsets[i]!; t < scored.offsets[i + 1]!; t++) expected += Math.log(counts[scored.tokens[t]!]! / tokens)
      expect(got[i]).toBeCloseTo(expected, 10)
    }
    // Saved beside the model it started from, which stays as it was.
    expect(state.model).not.toBe(plain.model)
    expect(await model.logLikelihood!(plain, scored)).not.toEqual(got)
    await expect(Promise.resolve(model.fitWeighted!(data, new Float64Array(data.n), spec, fitCtx()))).rejects.toThrow('model.command fitWeighted: every weight is 0')
    await expect(Promise.resolve(model.fitWeighted!(data, new Float64Array(3).fill(1), spec, fitCtx()))).rejects.toThrow('got 3 weights for 150 items')
    const unweighted = params.parse({ command: [PYTHON, FAULTY] })
    await expect(Promise.resolve(model.fitWeighted!(data, weights, unweighted, fitCtx()))).rejects.toThrow(/'fit' of generation 0 \(weighted\) failed: TypeError: an rl stage refits this model to weighted items, but its fit takes no weights/)
  })

  it('a token id outside the vocabulary, or fewer sentences than asked for, fail the request with what is wrong', async () => {
    const data = sentences(20, Rng.from(5, 'data'))
    const spec = (fault: string) => params.parse({ command: [PYTHON, FAULTY], params: { fault } })
    const token = await model.fit(data, spec('token'), fitCtx())
    expect(String(await Promise.resolve(model.sample(token, 3, sampleCtx)).catch((e: Error) => e))).toMatch(
      /model\.command \[".*faulty_model\.py"\] \(in .*\): 'sample' of 3: token id 10 \(at 1\) is outside the vocabulary's 0 to 9/,
    )
    // Said in what sample returned: the model's author never writes offsets, ouroboros_model.py does.
    const short = await model.fit(data, spec('offsets'), fitCtx())
    const fewer = String(await Promise.resolve(model.sample(short, 3, sampleCtx)).catch((e: Error) => e))
    expect(fewer).toMatch(/'sample' of 3 failed: sample returned 2 sentences where 3 were asked for; return exactly n sequences of token ids; its stderr ends: fitting 20 sentences$/)
    // Said once, without the helper's own traceback, where the model's author has nothing to mend.
    expect(fewer).not.toMatch(/Traceback|ouroboros_model\.py|ValueError/)
    // A child that writes the offsets itself (another language) is told in sentences too.
    const written = await model.fit(data, spec('offsets-written'), fitCtx())
    expect(String(await Promise.resolve(model.sample(written, 3, sampleCtx)).catch((e: Error) => e))).toMatch(
      /'sample' of 3: it wrote 2 sentences where 3 were asked for \(3 offsets; expected 4: where each sentence starts, then the total\)$/,
    )
  })

  it('token ids that are not whole numbers fail the request rather than being cut to whole ones; whole numbers of a float type are ids', async () => {
    const data = sentences(20, Rng.from(5, 'data'))
    const spec = (fault: string) => params.parse({ command: [PYTHON, FAULTY], params: { fault } })
    const fractional = await model.fit(data, spec('float-token'), fitCtx())
    expect(String(await Promise.resolve(model.sample(fractional, 3, sampleCtx)).catch((e: Error) => e))).toMatch(
      /model\.command \[".*faulty_model\.py"\] \(in .*\): 'sample' of 3 failed: sample returned non-integer token ids \(0\.5 at row 0\); its stderr ends: fitting 20 sentences$/,
    )
    const whole = await model.fit(data, spec('whole-float-token'), fitCtx())
    const out = await model.sample(whole, 3, sampleCtx)
    expect(out).toMatchObject({ modality: 'tokens', n: 3, tokens: Int32Array.from([0, 1, 0, 1, 0, 1]), offsets: Uint32Array.from([0, 2, 4, 6]) })
  })

  it('a model without log_likelihood names the text group that scores held-out sentences, perplexity', async () => {
    const data = sentences(20, Rng.from(5, 'data'))
    const state = await model.fit(data, params.parse({ command: [PYTHON, FAULTY] }), fitCtx())
    expect(String(await Promise.resolve(model.logLikelihood!(state, data)).catch((e: Error) => e))).toMatch(/has no log_likelihood method: name the run's metrics without 'perplexity'/)
  })
})

const LSTM = fileURLToPath(new URL('../examples/lstm/lstm_model.py', import.meta.url))
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0

describe.skipIf(!hasTorch)('the PyTorch LSTM example', () => {
  it('scores sentences as it samples them: over every sentence of at most maxLength words (those of maxLength without an end), the probabilities sum to 1', { timeout: 120_000 }, async () => {
    const words = ['a', 'b', 'c']
    const small: DatasetInfo = { kind: 'toy', modality: 'tokens', vocabulary: words }
    const data: TokenSamples = { modality: 'tokens', n: 3, vocabSize: 3, tokens: Int32Array.from([0, 1, 2, 0, 2]), offsets: Uint32Array.from([0, 2, 3, 5]) }
    const spec = params.parse({ command: [PYTHON, LSTM], params: { embed: 4, hidden: 8, epochs: 2, maxLength: 2 } })
    const state = await model.fit(data, spec, { rng: Rng.from(3, 'fit'), generation: 0, dataset: small })
    // The empty sentence, the 3 of one word and the 9 of two, which the sampler cuts there.
    const all: number[][] = [[], ...[0, 1, 2].map((w) => [w]), ...[0, 1, 2].flatMap((w) => [0, 1, 2].map((v) => [w, v]))]
    const offsets = new Uint32Array(all.length + 1)
    all.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
    const ll = await model.logLikelihood!(state, { modality: 'tokens', n: all.length, vocabSize: 3, tokens: Int32Array.from(all.flat()), offsets })
    // float32 log-probabilities: their exponentials sum to 1 within a few units of 1e-7 each.
    expect(Math.abs(ll.reduce((s, v) => s + Math.exp(v), 0) - 1)).toBeLessThan(1e-5)
  })
})
