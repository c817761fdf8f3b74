import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { expectedTypesChain, zipfProbabilities } from '@ouroboros/datasets'
import { decodeNpy } from '@ouroboros/store'
import { cleanup, cli, cliAsync, mean, records, signalAfterRecords, standardError, tempDir, writeConfig } from './helpers.js'

// Runs of many chains leave a model directory per generation: removing them can take a while.
afterAll(cleanup, 60_000)

// Debian's python3 is the one .ci/run installs numpy for.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const GAUSSIAN = fileURLToPath(new URL('../../model-command/examples/gaussian/gaussian_model.py', import.meta.url))
const UNIGRAM = fileURLToPath(new URL('../../model-command/examples/unigram/unigram_model.py', import.meta.url))
const LSTM = fileURLToPath(new URL('../../model-command/examples/lstm/lstm_model.py', import.meta.url))
const VAE = fileURLToPath(new URL('../../model-command/examples/vae/vae_model.py', import.meta.url))
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0
const FAULTY = fileURLToPath(new URL('../../model-command/test/faulty_model.py', import.meta.url))
const SLOW_GAUSSIAN = fileURLToPath(new URL('./fixtures/slow_gaussian_model.py', import.meta.url))

// ψ(m + ½) for an integer m, from its closed form −γ − 2 ln 2 + Σ_{i=1}^{m} 2/(2i−1).
function psiHalfInteger(m: number): number {
  let s = -0.5772156649015329 - 2 * Math.log(2)
  for (let i = 1; i <= m; i++) s += 2 / (2 * i - 1)
  return s
}

describe('model.command: a numpy Gaussian through the protocol', () => {
  it('follows the 1-D Gaussian chain’s theory, E[log σ²] = k·(ψ((M−1)/2) + ln 2 − ln M), and fits generation 0 as model.kind gaussian does', () => {
    const dir = tempDir()
    const M = 6
    const R = 60
    const base = { data: { kind: 'gaussian', d: 1, n: M }, generations: 6, samplesPerGeneration: M, replicates: R, seed: 7, metrics: ['moments'] }
    const config = writeConfig(dir, { ...base, name: 'numpy-gaussian', model: { command: [PYTHON, GAUSSIAN] } })
    const res = cli(['run', config, '--out', `${dir}/run`, '--workers', '2'])
    expect(res.status, res.stderr).toBe(0)
    const recs = records(`${dir}/run`)
    for (const g of [0, 2, 5]) {
      const values = recs.filter((r) => r.generation === g).map((r) => r.metrics['log_variance']!)
      expect(values).toHaveLength(R)
      // ψ((M−1)/2) for even M is ψ(m + ½) with m = (M−2)/2.
      const expected = (g + 1) * (psiHalfInteger((M - 2) / 2) + Math.log(2) - Math.log(M))
      const z = (mean(values) - expected) / standardError(values)
      expect(Math.abs(z), `generation ${g}: mean ${mean(values)} vs ${expected}`).toBeLessThan(4)
    }
    // The same real data fit by the built-in MLE Gaussian: generation 0's variance agrees to rounding.
    const builtin = writeConfig(dir, { ...base, name: 'builtin-gaussian', generations: 1, model: { kind: 'gaussian', estimator: 'mle' } }, 'builtin.json')
    expect(cli(['run', builtin, '--out', `${dir}/builtin`]).status).toBe(0)
    const ours = recs.filter((r) => r.generation === 0)
    const theirs = records(`${dir}/builtin`).filter((r) => r.generation === 0)
    for (const [i, r] of ours.entries()) expect(r.metrics['log_variance']).toBeCloseTo(theirs[i]!.metrics['log_variance']!, 10)
  })

  it('gives identical records for 1 and 2 workers, and after a kill -9 and resume (warm-started: the child loads the checkpoint)', async () => {
    const dir = tempDir()
    const run = {
      name: 'numpy-gaussian',
      data: { kind: 'gaussian', d: 2, n: 30 },
      model: { command: [PYTHON, GAUSSIAN] },
      warmStart: true,
      generations: 20,
      replicates: 2,
      seed: 3,
      metrics: ['moments', 'likelihood'],
    }
    const config = writeConfig(dir, run)
    const one = cli(['run', config, '--out', `${dir}/one`, '--workers', '1'])
    expect(one.status, one.stderr).toBe(0)
    const expected = records(`${dir}/one`)
    expect(expected.filter((r) => r.generation >= 0)).toHaveLength(40)
    expect(expected.every((r) => r.generation < 0 || Number.isFinite(r.metrics['nll_real']))).toBe(true)
    expect(cli(['run', config, '--out', `${dir}/two`, '--workers', '2']).status).toBe(0)
    expect(records(`${dir}/two`)).toEqual(expected)

    // The run killed is of the same Gaussian with fits 200 ms slower (fixtures/slow_gaussian_model.py),
    // so that the kill comes with generations left: the example's chains can all be done within
    // a few hundred ms of their first records.
    const slow = writeConfig(dir, { ...run, model: { command: [PYTHON, SLOW_GAUSSIAN] } }, 'slow.json')
    const child = cliAsync(['run', slow, '--out', `${dir}/killed`, '--workers', '2'])
    await signalAfterRecords(child, `${dir}/killed`, 12, 'SIGKILL')
    expect(child.signalCode).toBe('SIGKILL')
    expect(JSON.parse(readFileSync(`${dir}/killed/run.json`, 'utf8')).status).toBe('running')
    const resumed = cli(['resume', `${dir}/killed`, '--workers', '2'])
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(records(`${dir}/killed`)).toEqual(expected)
  })
})

describe('model.command on text: a numpy unigram through the protocol', () => {
  it('loses word types as a chain of maximum-likelihood unigram models must (the expected support after each resampling), the same for 1 and 2 workers', () => {
    const dir = tempDir()
    const V = 2000
    const length = 20
    const n = 250
    const G = 6
    const R = 10
    const config = writeConfig(dir, {
      data: { kind: 'zipf', vocabSize: V, exponent: 1.1, length, n },
      model: { command: [PYTHON, UNIGRAM] },
      generations: G,
      replicates: R,
      seed: 11,
      heldout: 0,
      metrics: ['text'],
    })
    // Each worker thread writes the vocabulary for its children into a temporary folder: none may outlive the run.
    const tmp = `${dir}/tmp`
    mkdirSync(tmp)
    const two = cli(['run', config, '--out', `${dir}/two`, '--workers', '2'], { env: { TMPDIR: tmp } })
    expect(two.status, two.stderr).toBe(0)
    expect(readdirSync(tmp)).toEqual([])
    const recs = records(`${dir}/two`)
    // Every sentence has `length` tokens, so each sampling is of exactly M tokens: the prediction is exact.
    // Index 0: the real data (one sampling); generation g's samples are sampling g + 2.
    const predicted = expectedTypesChain(zipfProbabilities(V, 1.1), n * length, G + 1)
    for (let g = -1; g < G; g++) {
      const types = recs.filter((r) => r.generation === g).map((r) => r.metrics['vocab_size']!)
      expect(types).toHaveLength(R)
      const z = (mean(types) - predicted[g + 1]!) / standardError(types)
      expect(Math.abs(z), `generation ${g}: ${mean(types)} types, predicted ${predicted[g + 1]}`).toBeLessThan(4)
    }
    expect(predicted[G]! / predicted[0]!).toBeLessThan(0.8)
    expect(cli(['run', config, '--out', `${dir}/one`, '--workers', '1']).status).toBe(0)
    expect(records(`${dir}/one`)).toEqual(recs)
  })

  it('scores held-out sentences with its log_likelihood: perplexity_real is exp of the cross-entropy per word and end', () => {
    const dir = tempDir()
    // 30 Zipf types, all seen in M = 4,000 training tokens: the fit is close to p itself.
    const V = 30
    const length = 20
    const n = 200
    const heldout = 200
    const R = 6
    const config = writeConfig(dir, {
      data: { kind: 'zipf', vocabSize: V, exponent: 1, length, n },
      model: { command: [PYTHON, UNIGRAM] },
      generations: 1,
      replicates: R,
      seed: 5,
      heldout,
      metrics: ['perplexity'],
    })
    const res = cli(['run', config, '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const logPerplexity = records(`${dir}/run`).filter((r) => r.generation === 0).map((r) => Math.log(r.metrics['perplexity_real']!))
    expect(logPerplexity).toHaveLength(R)
    // Per held-out sentence: 20 words of cross-entropy H(p) + (V − 1)/(2M) each (the fit's expected
    // excess, to first order) and log P(length 20) = 0 for its end, over 21 predictions.
    const p = zipfProbabilities(V, 1)
    let H = 0
    let second = 0
    for (const q of p) {
      H -= q * Math.log(q)
      second += q * Math.log(q) ** 2
    }
    const expected = (length / (length + 1)) * (H + (V - 1) / (2 * n * length))
    const se = (length / (length + 1)) * Math.sqrt((second - H * H) / (heldout * length * R))
    expect(Math.abs(mean(logPerplexity) - expected) / se, `${mean(logPerplexity)} against ${expected}`).toBeLessThan(4)
  })
})

describe('model.command on text: reward-weighted refitting (an rl stage) of the numpy unigram', () => {
  it('tilts the lexicon’s share as exponential weighting must: logit π rises by 1/β each generation', () => {
    const dir = tempDir()
    const lexicon = Array.from({ length: 10 }, (_, i) => `w${i + 11}`)
    const beta = 1
    const R = 3
    const config = writeConfig(dir, {
      data: { kind: 'zipf', vocabSize: 1000, exponent: 1.1, length: 20, n: 5000 },
      model: { command: [PYTHON, UNIGRAM] },
      posttrain: [{ kind: 'rl', reward: { kind: 'lexicon', words: lexicon, per: 'sentence' }, beta, steps: 4, samples: 5000, evalEvery: 4, evalSamples: 500 }],
      generations: 2,
      replicates: R,
      seed: 0,
      heldout: 0,
      metrics: ['text'],
    })
    const res = cli(['run', config, '--out', `${dir}/run`, '--workers', '2'])
    expect(res.status, res.stderr).toBe(0)
    // Sentences of 20 i.i.d. tokens, a lexicon token with probability π: the reward (lexicon tokens a
    // sentence) is Binomial(20, π), and weights exp(r/(β·steps)) over `steps` refits tilt it to
    // Binomial(20, π') with logit π' = logit π + 1/β. Generation g's model is fit to samples of the
    // one before it, post-trained: logit π_g = logit π_real + (g + 1)/β.
    const p = zipfProbabilities(1000, 1.1)
    const share = p.slice(10, 20).reduce((a, b) => a + b, 0)
    const logit = Math.log(share / (1 - share))
    for (const g of [0, 1]) {
      const expected = 20 / (1 + Math.exp(-(logit + (g + 1) / beta)))
      const rewards = records(`${dir}/run`).filter((r) => r.generation === g).map((r) => r.metrics['reward']!)
      expect(rewards).toHaveLength(R)
      // Each chain's mean over its 5,000 sentences has a standard error of about 0.03, and each refit's
      // share of 100,000 tokens about 0.05 in reward: 0.15 is three of those.
      expect(Math.abs(mean(rewards) - expected), `generation ${g}: ${rewards.join(', ')} against ${expected}`).toBeLessThan(0.15)
    }
    // Refits are saved in the chain's folder, beside the generation's model, each removed once the
    // next is fitted from it: the last stays, the model a checkpoint's state names.
    expect(readdirSync(`${dir}/run/chains/r0`).filter((f) => /^gen-000001\.refit-.*\.model$/.test(f))).toHaveLength(1)
  })
})

describe('model.command: finetuning and policy-gradient rl through train_step (the numpy Gaussian)', () => {
  /** A chain's saved Gaussian: its mean and variance (1-D). */
  const gaussianAt = (model: string): { mean: number; variance: number } => ({
    mean: decodeNpy(readFileSync(`${model}/mean.npy`), 'mean.npy').data[0]!,
    variance: decodeNpy(readFileSync(`${model}/var.npy`), 'var.npy').data[0]!,
  })
  const stages = [
    { kind: 'finetune', data: { mean: 3, std: 0.5, n: 1000 }, steps: 100, lr: 0.2, evalEvery: 50 },
    { kind: 'rl', method: 'policy-gradient', reward: { kind: 'point', at: [2], scale: 1 }, beta: 1, steps: 200, batch: 256, lr: 0.05, evalEvery: 100 },
  ]
  const base = { data: { kind: 'gaussian', d: 1, n: 2000 }, model: { command: [PYTHON, GAUSSIAN] }, posttrain: stages, generations: 1, samplesPerGeneration: 1000, replicates: 2, seed: 3, metrics: ['moments'] }

  it('finetunes to the task data and reaches the KL-regularised optimum π* ∝ π_ref·exp(r/β), the same for 1 and 2 workers', () => {
    const dir = tempDir()
    const config = writeConfig(dir, base)
    for (const workers of ['1', '2']) {
      const res = cli(['run', config, '--out', `${dir}/run-${workers}`, '--workers', workers])
      expect(res.status, res.stderr).toBe(0)
    }
    expect(records(`${dir}/run-2`)).toEqual(records(`${dir}/run-1`))
    for (const chain of ['r0', 'r1']) {
      const folder = `${dir}/run-2/chains/${chain}`
      // Each stage leaves its last snapshot only, numbered in the order taken: finetune's, then rl's.
      const trained = readdirSync(folder).filter((f) => /^gen-000000\.train-.*\.model$/.test(f))
      expect(trained).toHaveLength(2)
      const [finetuned, optimised] = trained.sort((a, b) => Number(/(\d+)\.model$/.exec(a)![1]) - Number(/(\d+)\.model$/.exec(b)![1])).map((f) => gaussianAt(`${folder}/${f}`))
      // Natural-gradient steps of 0.2 on all 1,000 task items reach their maximum-likelihood fit, whose
      // mean and variance estimate N(3, 0.5²)'s within 0.016 and 0.011 (one standard error).
      expect(Math.abs(finetuned!.mean - 3)).toBeLessThan(0.07)
      expect(Math.abs(finetuned!.variance - 0.25)).toBeLessThan(0.05)
      // exp(r/β) = exp(−(x − 2)²/β) is a Gaussian factor of variance β/2, so π* is the Gaussian of precision
      // 1/σ²_ref + 2/β and mean (μ_ref/σ²_ref + 2·2/β)/precision. In the family, π* makes every sample's
      // KL-penalised reward the same, so the policy gradient's noise vanishes there.
      const precision = 1 / finetuned!.variance + 2
      expect(Math.abs(optimised!.mean - (finetuned!.mean / finetuned!.variance + 4) / precision)).toBeLessThan(1e-3)
      expect(Math.abs(optimised!.variance - 1 / precision)).toBeLessThan(1e-3)
    }
  })

  it('is trained by DPO toward the same optimum π* ∝ π_ref·exp(r/β), from Bradley–Terry preferences between its own samples', () => {
    const dir = tempDir()
    const dpo = { kind: 'dpo', reward: { kind: 'point', at: [2], scale: 1 }, beta: 1, pairs: 10000, steps: 600, lr: 0.2, evalEvery: 300 }
    const config = writeConfig(dir, { ...base, posttrain: [dpo], replicates: 1 })
    const res = cli(['run', config, '--out', `${dir}/run`, '--workers', '1'])
    expect(res.status, res.stderr).toBe(0)
    const folder = `${dir}/run/chains/r0`
    const reference = gaussianAt(`${folder}/gen-000000.model`)
    const trained = readdirSync(folder).filter((f) => /^gen-000000\.train-.*\.model$/.test(f))
    expect(trained).toHaveLength(1)
    const optimised = gaussianAt(`${folder}/${trained[0]!}`)
    // π* as above, from the fitted model; the Gaussians hold it (log π/π_ref is quadratic, as r is).
    // The preferences of 10,000 pairs put the loss's minimum within about 0.005 of it (600 full-batch steps reach it).
    const precision = 1 / reference.variance + 2
    expect(Math.abs(optimised.mean - (reference.mean / reference.variance + 4) / precision)).toBeLessThan(0.02)
    expect(Math.abs(optimised.variance - 1 / precision)).toBeLessThan(0.02)
  })

  it('a model without train_step fails its chain saying what to add', () => {
    const dir = tempDir()
    const config = writeConfig(dir, { ...base, model: { command: [PYTHON, FAULTY] }, replicates: 1 })
    const res = cli(['run', config, '--out', `${dir}/run`, '--workers', '1'])
    expect(res.status).toBe(1)
    const info = JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8'))
    expect(info.chains[0].error.message).toMatch(/'train_begin' from .*gen-000000\.model failed: TypeError: finetune and policy-gradient rl stages train this model step by step, but it has no start_training or train_step: add start_training\(self, rng, lr, anchor\) and train_step\(self, x, weights\)/)
  })
})

// PyTorch's start-up and training take tens of seconds, more on a loaded machine.
describe.skipIf(!hasTorch)('model.command on text: the PyTorch LSTM example', () => {
  it('trains on Brown sentences and is scored on held-out ones: its perplexity is far below the vocabulary’s size', { timeout: 180_000 }, () => {
    const dir = tempDir()
    const config = writeConfig(dir, {
      data: { kind: 'brown', minCount: 100, n: 500 },
      model: { command: [PYTHON, LSTM], params: { embed: 32, hidden: 64, epochs: 6, lr: 0.01, maxLength: 40 } },
      generations: 2,
      replicates: 1,
      seed: 1,
      heldout: 100,
      metrics: ['text', 'perplexity'],
    })
    const res = cli(['run', config, '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const vocabulary = JSON.parse(readFileSync(`${dir}/run/vocabulary.json`, 'utf8')) as string[]
    const recs = records(`${dir}/run`).filter((r) => r.generation >= 0)
    expect(recs).toHaveLength(2)
    // A uniform guess over the words and the end would score vocabulary.length + 1.
    for (const r of recs) expect(r.metrics['perplexity_real']).toBeLessThan(vocabulary.length / 4)
    expect(recs[0]!.metrics['vocab_size']).toBeGreaterThan(50)
    expect(readFileSync(`${dir}/run/chains/r0/model.log`, 'utf8')).toMatch(/epoch 5: [\d.]+ nats a token/)
  })

  it('is finetuned on news and trained by policy gradient toward a length: task NLL falls, the reward rises', { timeout: 180_000 }, () => {
    const dir = tempDir()
    const config = writeConfig(dir, {
      data: { kind: 'brown', minCount: 100, n: 500 },
      model: { command: [PYTHON, LSTM], params: { embed: 32, hidden: 64, epochs: 4, lr: 0.01, maxLength: 30 } },
      posttrain: [
        { kind: 'finetune', data: { categories: ['news'] }, steps: 20, evalEvery: 20, evalSamples: 100, heldout: 100 },
        { kind: 'rl', method: 'policy-gradient', reward: { kind: 'length', target: 5, scale: 5 }, beta: 0.1, steps: 20, batch: 32, lr: 0.01, evalEvery: 20, evalSamples: 100 },
      ],
      generations: 1,
      samplesPerGeneration: 100,
      replicates: 1,
      seed: 1,
      heldout: 100,
      metrics: ['text', 'task_text'],
    })
    const res = cli(['run', config, '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const curve = readFileSync(`${dir}/run/chains/r0/gen-000000.posttrain.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    const at = (stage: number, step: number) => curve.find((p) => p.stage === stage && p.step === step)
    expect(at(0, 20).metrics.task_nll).toBeLessThan(at(0, 0).metrics.task_nll)
    // The reward is −|words − 5|/5: about −3 for the finetuned model's 20-word sentences, 0 at the target.
    expect(at(1, 20).gold_reward).toBeGreaterThan(at(1, 0).gold_reward + 1)
    expect(at(1, 20).kl).toBeGreaterThan(0)
  })
})

describe.skipIf(!hasTorch)('model.command on vectors: the PyTorch VAE example, which has no log_likelihood', () => {
  it('is finetuned on 2 of the 8 ring modes through train_step, its KLs estimated from samples alone', { timeout: 180_000 }, () => {
    const dir = tempDir()
    const config = writeConfig(dir, {
      data: { kind: 'ring', n: 2000 },
      model: { command: [PYTHON, VAE], params: { hidden: 64, epochs: 15, lr: 0.003 } },
      posttrain: [{ kind: 'finetune', data: { weights: [1, 1, 0, 0, 0, 0, 0, 0], n: 1000 }, steps: 150, evalEvery: 150, evalSamples: 1000 }],
      generations: 1,
      samplesPerGeneration: 1000,
      replicates: 1,
      seed: 0,
      metrics: ['modes'],
    })
    const res = cli(['run', config, '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const curve = readFileSync(`${dir}/run/chains/r0/gen-000000.posttrain.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    const last = curve[curve.length - 1]!
    expect(last.step).toBe(150)
    // Its samples are on the task's two modes only.
    expect(last.metrics.modes_covered).toBeLessThanOrEqual(2)
    // No log-likelihood to average: the nearest-neighbour estimator of the KL to the pretrained model.
    expect(last.kl_estimator).toBe('nearest-neighbour')
    expect(last.kl).toBeGreaterThan(0.5)
  })

  it('with the default metrics, says in one line that the likelihood group cannot score it and what to do', { timeout: 120_000 }, () => {
    const dir = tempDir()
    const config = writeConfig(dir, { data: { kind: 'ring', n: 500 }, model: { command: [PYTHON, VAE], params: { hidden: 16, epochs: 1 } }, generations: 1, replicates: 1, seed: 0 })
    const res = cli(['run', config, '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    expect(res.stderr).toContain(`has no log_likelihood method: name the run's metrics without 'likelihood' (it is among the defaults), or give the model one`)
    // Not the child's traceback.
    expect(res.stderr).not.toContain('NotImplementedError')
  })
})

describe('model.command: failures', () => {
  const run = (model: Record<string, unknown>, replicates = 1) => {
    const dir = tempDir()
    const config = writeConfig(dir, { data: { kind: 'gaussian', d: 1, n: 20 }, model, generations: 4, replicates, metrics: ['moments'] })
    const res = cli(['run', config, '--out', `${dir}/run`, '--workers', '1'])
    return { res, dir, info: existsSync(`${dir}/run/run.json`) ? JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8')) : undefined }
  }

  it('a child that crashes at generation 2 fails its chain with the command and the request named, keeping generations 0 and 1', () => {
    const { res, dir, info } = run({ command: [PYTHON, FAULTY], params: { fault: 'crash', after: 2 } })
    expect(res.status).toBe(1)
    expect(info.chains[0].status).toBe('failed')
    expect(info.chains[0].error.generation).toBe(2)
    expect(info.chains[0].error.message).toMatch(/^model\.command \[".*faulty_model\.py"\] \(in .*\): 'fit' of generation 2: the process exited \(code 3\); its stderr ends: .*about to crash/)
    expect(records(`${dir}/run`).filter((r) => r.generation >= 0).map((r) => r.generation)).toEqual([0, 1])
  })

  it('a terminal’s Ctrl-C, which signals the whole process group, lets the fits in flight finish; resume completes the run', async () => {
    const dir = tempDir()
    // Each fit after the first sleeps 1 s: the signal comes while fits are in flight.
    const config = writeConfig(dir, { data: { kind: 'gaussian', d: 1, n: 20 }, model: { command: [PYTHON, FAULTY], params: { fault: 'slow', after: 1 } }, generations: 8, replicates: 2, seed: 4, metrics: ['moments'] })
    const child = cliAsync(['run', config, '--out', `${dir}/run`, '--workers', '2'], {}, true)
    // The reference records and generation 0 of both chains.
    const { code, stderr } = await signalAfterRecords(child, `${dir}/run`, 3, 'SIGINT', true)
    expect(code, stderr).toBe(130)
    expect(stderr).toContain('interrupted (SIGINT): finishing the generations in flight')
    const info = JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8'))
    expect(info.status).toBe('interrupted')
    for (const chain of info.chains) expect(chain.status, JSON.stringify(chain.error)).not.toBe('failed')
    for (const chain of ['r0', 'r1']) expect(readFileSync(`${dir}/run/chains/${chain}/model.log`, 'utf8')).not.toContain('KeyboardInterrupt')
    const resumed = cli(['resume', `${dir}/run`])
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(cli(['run', config, '--out', `${dir}/full`]).status).toBe(0)
    expect(records(`${dir}/run`)).toEqual(records(`${dir}/full`))
  }, 120_000)

  it('a child that hangs is stopped at model.timeoutMs and the run ends', () => {
    const started = Date.now()
    const { res, info } = run({ command: [PYTHON, FAULTY], params: { fault: 'hang', after: 1 }, timeoutMs: 1000 })
    expect(res.status).toBe(1)
    expect(info.chains[0].error.message).toMatch(/'fit' of generation 1: no reply within 1000 ms; the process was stopped/)
    expect(Date.now() - started).toBeLessThan(60_000)
  })

  it('a command that cannot start, a missing program or script, is a config error naming model.command and the file, with nothing written', () => {
    for (const [command, said] of [
      [['./no-such-model'], /model\.command: \["\.\/no-such-model"\]: no program '\.\/no-such-model' in \//],
      [['no-such-binary-xyz'], /model\.command: \["no-such-binary-xyz"\]: no program 'no-such-binary-xyz' on PATH/],
      [[PYTHON, 'nope.py'], /model\.command: \[".*python3","nope\.py"\]: no file 'nope\.py' in \/.* for .*python3 to run/],
    ] as const) {
      const { res, dir } = run({ command })
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toMatch(said)
      expect(existsSync(`${dir}/run`)).toBe(false)
    }
  })

  it('a command that exits before its first reply fails every chain with the reason, and the run still writes its files and report', () => {
    const { res, info, dir } = run({ command: ['sh', '-c', 'echo gone >&2; exit 3'] }, 2)
    expect(res.status).toBe(1)
    for (const chain of info.chains) expect(chain.error.message).toMatch(/'hello': the process exited \(code 3\); its stderr ends: gone/)
    // No chain wrote a record: the record files have none, and the report says why.
    for (const file of ['metrics.parquet', 'metrics.csv', 'metrics.ndjson', 'report.html']) expect(existsSync(`${dir}/run/${file}`), file).toBe(true)
    expect(res.stderr).not.toMatch(/^error:/m)
  })

  it('a bad model.command is a config error naming the field, with nothing written', () => {
    for (const command of [[], 'python3 model.py', [1]]) {
      const { res, dir } = run({ command })
      expect(res.status).toBe(2)
      expect(res.stderr).toMatch(/model\.command/)
      expect(res.stderr).not.toMatch(/\n\s+at /)
      expect(existsSync(`${dir}/run`)).toBe(false)
    }
    const { res } = run({ command: [PYTHON, GAUSSIAN], timeOutMs: 5 })
    expect(res.status).toBe(2)
    expect(res.stderr).toMatch(/model\.timeOutMs: unknown key; did you mean "timeoutMs"\?/)
    // A missing directory, which spawn would report as the program's ENOENT.
    const missing = run({ command: [PYTHON, GAUSSIAN], cwd: './no-such-dir' })
    expect(missing.res.status).toBe(2)
    expect(missing.res.stderr).toMatch(/model\.cwd: \/.*\/no-such-dir is not a directory/)
    expect(existsSync(`${missing.dir}/run`)).toBe(false)
  })

  it('runs the command in the config file’s directory unless model.cwd says otherwise', () => {
    const dir = tempDir()
    const config = writeConfig(dir, { data: { kind: 'gaussian', d: 1, n: 20 }, model: { command: [PYTHON, GAUSSIAN] }, generations: 1 })
    const res = cli(['validate', config, '--json'])
    expect(res.status, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout).config.model).toMatchObject({ kind: 'command', cwd: dir })
  })
})
