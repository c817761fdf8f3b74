import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { divergedError, ErrorCode, OuroborosError, Rng, defineModel, posttrainSchema, vectors, type DatasetInfo, type ModelPlugin, type PosttrainStageConfig, type RlStageConfig, type Samples, type VectorSamples } from '@ouroboros/core'
import { builtinDatasets } from '@ouroboros/datasets'
import gmm from '@ouroboros/model-gmm'
import ngram from '@ouroboros/model-ngram'
import { klRegularisedOptimum, ringDataset, ringSamples, ringTask } from '@ouroboros/testkit'
import { GOLD_REWARD_TAKES, rlSettingsProblems, dpoSupport, klHorizonOf, estimateKl, goldOf, goldReward, rlMethod, runPosttrain, type Posttrained, type TaskData } from './index.js'

/** The pipeline on a fitted state, with no metrics (and task data when given). */
async function posttrain<S>(
  model: ModelPlugin<any, S>,
  params: unknown,
  state: S,
  stages: unknown[],
  dataset: DatasetInfo,
  options: { seed?: number; pretraining?: Samples; samplesPerGeneration?: number; task?: TaskData; onStep?: (stage: { index: number; kind: string; phase?: string }, step: number, steps: number) => void } = {},
): Promise<Posttrained<S>> {
  const parsed: PosttrainStageConfig[] = posttrainSchema.parse(stages)
  return runPosttrain(
    {
      stages: parsed,
      model,
      params,
      rng: Rng.from(options.seed ?? 1, 'posttrain'),
      dataset,
      pretraining: options.pretraining ?? vectors(0, 1),
      samplesPerGeneration: options.samplesPerGeneration ?? 1000,
      temperature: 1,
      task: async () => options.task ?? Promise.reject(new Error('no task in this test')),
      gold: async (i) => {
        const stage = parsed[i]!
        if (stage.kind === 'finetune') throw new Error('no reward')
        return goldReward(goldOf(stage.reward), dataset, `posttrain.${i}.reward`)
      },
      score: async () => ({}),
      ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
    },
    state,
  )
}

/** A 1-D standard normal that learns nothing: best-of-n's input. */
const normal = defineModel<Record<string, never>, { readonly mean: number }>({
  id: 'normal',
  modality: 'vectors',
  description: 'N(mean, 1)',
  params: z.strictObject({}),
  acceptsTemperature: false,
  fit: () => ({ mean: 0 }),
  sample: (state, n, ctx) => vectors(n, 1, Float64Array.from({ length: n }, () => state.mean + ctx.rng.normal())),
})
const line: DatasetInfo = { kind: 'gaussian', modality: 'vectors', d: 1 }

describe('gold rewards', () => {
  it('describe a lexicon by its words, with their values where a word has its own, the first 8 of a long one', async () => {
    const words = Array.from({ length: 10 }, (_, i) => `w${i}`)
    const dataset: DatasetInfo = { kind: 'toy', modality: 'tokens', vocabulary: ['<unk>', ...words] }
    const describe = async (reward: unknown): Promise<string> => (await goldReward(goldOf(posttrainSchema.parse([{ kind: 'best-of-n', n: 2, reward }])[0]!.reward as never), dataset, 'reward')).description
    expect(await describe({ kind: 'lexicon', words: ['w1', 'w2'] })).toBe('lexicon of 2 words (w1, w2), their values summed over a sentence')
    expect(await describe({ kind: 'lexicon', words: { w1: 1, w2: -0.5 }, per: 'token' })).toBe('lexicon of 2 words (w1 1, w2 -0.5), their values averaged over a sentence’s tokens')
    expect(await describe({ kind: 'lexicon', words })).toBe('lexicon of 10 words (w0, w1, w2, w3, w4, w5, w6, w7 and 2 more), their values summed over a sentence')
  })

  it('refuse data of the other modality, at the reward\'s kind, before anything of the data is read', async () => {
    const text: DatasetInfo = { kind: 'toy', modality: 'tokens', vocabulary: ['<unk>', 'a'] }
    const specs = [
      { kind: 'modes', values: [1] },
      { kind: 'point', at: [0] },
      { kind: 'digit', digit: 3 },
      { kind: 'lexicon', words: ['a'] },
      { kind: 'length', target: 5 },
      { kind: 'genre', genre: 'news' },
    ]
    expect(specs.map((s) => s.kind).sort()).toEqual(Object.keys(GOLD_REWARD_TAKES).sort())
    const expected: Record<string, string> = {
      modes: "reward.kind: 'modes' rewards vectors (by the nearest mode of ring or grid data), but data.kind 'toy' gives sentences",
      point: "reward.kind: 'point' rewards vectors, but data.kind 'toy' gives sentences",
      digit: "reward.kind: 'digit' rewards vectors (MNIST images), but data.kind 'toy' gives sentences",
      lexicon: "reward.kind: 'lexicon' rewards sentences, but data.kind 'gaussian' gives vectors",
      length: "reward.kind: 'length' rewards sentences, but data.kind 'gaussian' gives vectors",
      genre: "reward.kind: 'genre' rewards sentences (of the Brown corpus), but data.kind 'gaussian' gives vectors",
    }
    for (const spec of specs) {
      const gold = goldOf(posttrainSchema.parse([{ kind: 'best-of-n', n: 2, reward: spec }])[0]!.reward as never)
      const other = ['lexicon', 'length', 'genre'].includes(spec.kind) ? line : text
      await expect(goldReward(gold, other, 'reward'), spec.kind).rejects.toThrow(expected[spec.kind]!)
    }
  })
})

describe('best-of-n', () => {
  for (const n of [2, 4, 16, 64]) {
    it(`with a continuous reward, KL(best-of-${n} ‖ π) = ln n − (n − 1)/n (Stiennon et al. 2020)`, async () => {
      const post = await posttrain(normal, {}, { mean: 0 }, [{ kind: 'best-of-n', n, reward: { kind: 'point', at: [0] } }], line)
      const m = 4000
      const samples = await post.sample(m, Rng.from(7, 'draw', n))
      const summary = await post.summarize(samples)
      const theory = Math.log(n) - (n - 1) / n
      // (n − 1)·ln F(r) with F(r) ~ Beta(n, 1) has sd (n − 1)/n: the standard error of the mean over m.
      const se = (n - 1) / n / Math.sqrt(m)
      expect(Math.abs(summary['kl']! - theory)).toBeLessThan(4 * se + 0.01)
      expect(post.klEstimator()).toBe('best-of-n ranks')
      // The kept samples are the draws closest to 0: |x| of the best of n is the minimum of n half-normals.
      let meanReward = 0
      for (let i = 0; i < m; i++) meanReward -= samples.modality === 'vectors' ? samples.data[i]! ** 2 / m : 0
      expect(summary['reward']).toBeCloseTo(meanReward, 12)
      expect(summary['gold_reward']).toBe(summary['reward'])
    })
  }

  it('with a reward that ties (a few values), gives the exact KL of the best-of-n distribution', async () => {
    // Four outcomes 0..3 with probabilities q, reward −(x − 3)²: the best of n is outcome k with
    // probability F(k)ⁿ − F(k − 1)ⁿ.
    const q = [0.4, 0.3, 0.2, 0.1]
    const categorical = defineModel<Record<string, never>, Record<string, never>>({
      ...normal,
      id: 'categorical',
      fit: () => ({}),
      sample: (_s, n, ctx) => vectors(n, 1, Float64Array.from({ length: n }, () => ctx.rng.categorical(q))),
    }) as unknown as ModelPlugin<any, Record<string, never>>
    const n = 3
    const post = await posttrain(categorical, {}, {}, [{ kind: 'best-of-n', n, reward: { kind: 'point', at: [3] } }], line)
    const summary = await post.summarize(await post.sample(20_000, Rng.from(3, 'draw')))
    let F = 0
    let exact = 0
    for (const p of q) {
      const before = F
      F += p
      const bon = F ** n - before ** n
      exact += bon * Math.log(bon / p)
    }
    expect(summary['kl']).toBeCloseTo(exact, 2)
  })
})

/**
 * A softmax over K outcomes (the vectors 0..K−1): the smallest model with an exact log-likelihood
 * and a gradient, to check policy gradient against the closed-form optimum.
 */
interface Softmax {
  readonly logits: Float64Array
}
function probabilities(logits: Float64Array): Float64Array {
  let max = -Infinity
  for (const v of logits) max = Math.max(max, v)
  const p = logits.map((v) => Math.exp(v - max))
  const z = p.reduce((a, b) => a + b, 0)
  return p.map((v) => v / z)
}
const softmax = defineModel<{ lr: number }, Softmax>({
  id: 'softmax',
  modality: 'vectors',
  description: 'categorical distribution with softmax logits',
  params: z.strictObject({ lr: z.number().default(0.5) }),
  acceptsTemperature: false,
  policyGradient: true,
  fit: () => ({ logits: Float64Array.of(Math.log(0.4), Math.log(0.3), Math.log(0.2), Math.log(0.1)) }),
  sample: (s, n, ctx) => vectors(n, 1, Float64Array.from({ length: n }, () => ctx.rng.categorical(probabilities(s.logits)))),
  logLikelihood: (s, data) => {
    const p = probabilities(s.logits)
    return Float64Array.from((data as VectorSamples).data, (k) => Math.log(p[k]!))
  },
  trainer: (state, params, options) => {
    const logits = Float64Array.from(state.logits)
    return {
      batch: 512,
      signedWeights: true,
      step(items, weights) {
        // ∂ log p(k) / ∂θ_j = 1[j = k] − p_j; ascend the weighted mean.
        const p = probabilities(logits)
        const grad = new Float64Array(logits.length)
        const x = (items as VectorSamples).data
        for (let i = 0; i < x.length; i++) {
          for (let j = 0; j < logits.length; j++) grad[j]! += (weights[i]! * ((j === x[i] ? 1 : 0) - p[j]!)) / x.length
        }
        for (let j = 0; j < logits.length; j++) logits[j]! += (options.lr ?? params.lr) * grad[j]!
        return {}
      },
      state: () => ({ logits: Float64Array.from(logits) }),
    }
  },
})

describe('rl by policy gradient', () => {
  it('reaches the KL-regularised optimum π* ∝ π_ref·exp(r/β) of a categorical model', async () => {
    const reference = [0.4, 0.3, 0.2, 0.1]
    const rewards = [0, 1, 2, 3].map((k) => -((k - 3) ** 2) / 4)
    for (const beta of [0.5, 2]) {
      const fitted = softmax.fit(vectors(0, 1), { lr: 0.5 }, {} as never) as Softmax
      const post = await posttrain(softmax, { lr: 0.5 }, fitted, [{ kind: 'rl', beta, steps: 600, evalEvery: 0, reward: { kind: 'point', at: [3], scale: 2 } }], line, { seed: 5 })
      const optimum = klRegularisedOptimum(reference, rewards, beta)
      const p = probabilities(post.state.logits)
      // SGD at a constant step size hovers around the optimum; its noise at lr 0.5, batch 512 is about 0.01.
      for (let k = 0; k < 4; k++) expect(Math.abs(p[k]! - optimum.p[k]!), `β ${beta}, outcome ${k}`).toBeLessThan(0.03)
    }
  })
})

describe('rl by policy gradient with a KL target', () => {
  const reference = [0.4, 0.3, 0.2, 0.1]
  const rewards = [0, 1, 2, 3].map((k) => -((k - 3) ** 2) / 4)
  /** β* whose optimum π* ∝ π_ref·exp(r/β*) is `target` nats from π_ref, by bisection on the closed form (the KL falls as β grows). */
  const betaAt = (target: number): number => {
    let lo = 1e-3
    let hi = 1e3
    for (let i = 0; i < 200; i++) {
      const mid = Math.sqrt(lo * hi)
      if (klRegularisedOptimum(reference, rewards, mid).kl > target) lo = mid
      else hi = mid
    }
    return Math.sqrt(lo * hi)
  }

  it('adapts β from far on either side until the KL reaches the target, ending at the optimum of the β that gives it', async () => {
    const target = 0.3
    const star = betaAt(target)
    for (const start of [star / 8, star * 8]) {
      const fitted = softmax.fit(vectors(0, 1), { lr: 0.5 }, {} as never) as Softmax
      // 512 samples a step, horizon 5,120: β moves by up to 2 % a step, e^±12 over the first 600.
      const stages = [{ kind: 'rl', beta: start, klTarget: target, klHorizon: 5120, steps: 1500, evalEvery: 100, reward: { kind: 'point', at: [3], scale: 2 } }]
      const post = await posttrain(softmax, { lr: 0.5 }, fitted, stages, line, { seed: 7 })
      // The curve starts at the configured β, before the first step adapts it.
      expect(post.curve.find((c) => c.step === 0)?.losses?.['kl_coefficient']).toBe(start)
      const betas = post.curve.filter((c) => c.step > 0).map((c) => c.losses?.['kl_coefficient'])
      expect(betas.every((b) => typeof b === 'number')).toBe(true)
      const last = betas.at(-1)!
      expect(Math.abs(Math.log(last / star)), `from β ${start}: ended at ${last}, β* ${star}`).toBeLessThan(0.15)
      const p = probabilities(post.state.logits)
      const optimum = klRegularisedOptimum(reference, rewards, star)
      for (let k = 0; k < 4; k++) expect(Math.abs(p[k]! - optimum.p[k]!), `from β ${start}, outcome ${k}`).toBeLessThan(0.03)
      let kl = 0
      for (let k = 0; k < 4; k++) kl += p[k]! * Math.log(p[k]! / reference[k]!)
      expect(Math.abs(kl - target), `from β ${start}: KL ${kl}`).toBeLessThan(0.02)
    }
  })

  it('takes a horizon of a tenth of the stage’s samples unless given one, so that β may move by e^±2 over any stage', () => {
    const stage = (extra: Record<string, unknown>) => posttrainSchema.parse([{ kind: 'rl', beta: 0.1, klTarget: 1, steps: 100, reward: { kind: 'point', at: [3] }, ...extra }])[0] as RlStageConfig
    expect(klHorizonOf(stage({}), 16)).toBe(160)
    // At the clip every step, β moves by (1 ± 0.2·16/160)^100 = (1 ± 0.02)^100, about e^±2.
    expect(Math.log((1 + (0.2 * 16) / klHorizonOf(stage({}), 16)) ** 100)).toBeCloseTo(1.98, 2)
    expect(klHorizonOf(stage({ klHorizon: 10_000 }), 16)).toBe(10_000)
  })

  it('is refused with refitting, from β 0, and as a horizon alone, naming the field', () => {
    const stage = (extra: Record<string, unknown>) => posttrainSchema.parse([{ kind: 'rl', beta: 0.1, reward: { kind: 'point', at: [3] }, ...extra }])[0] as RlStageConfig
    expect(rlSettingsProblems(stage({ klTarget: 1 }), 'policy-gradient', false)).toEqual([])
    expect(rlSettingsProblems(stage({}), 'refit', false)).toEqual([])
    expect(rlSettingsProblems(stage({ klTarget: 1 }), 'refit', false)).toEqual([expect.stringMatching(/^klTarget: β adapts between policy-gradient steps/)])
    expect(rlSettingsProblems(stage({ klTarget: 1, beta: 0 }), 'policy-gradient', false)).toEqual([expect.stringMatching(/^beta: 0 cannot adapt/)])
    expect(rlSettingsProblems(stage({ klHorizon: 100 }), 'policy-gradient', false)).toEqual([expect.stringMatching(/^klHorizon: .* give klTarget too/)])
  })

  it('refuses the sizes of the other way of training, all at once, offering that way only where the model has it', () => {
    const stage = (extra: Record<string, unknown>) => posttrainSchema.parse([{ kind: 'rl', beta: 0.1, reward: { kind: 'point', at: [3] }, ...extra }])[0] as RlStageConfig
    expect(rlSettingsProblems(stage({ samples: 500 }), 'refit', true)).toEqual([])
    expect(rlSettingsProblems(stage({ lr: 0.01, batch: 16 }), 'policy-gradient', true)).toEqual([])
    // A GMM, which only refits: both sizes said, and no policy gradient offered.
    const gmm = rlSettingsProblems(stage({ lr: 0.01, batch: 16 }), 'refit', false)
    expect(gmm).toEqual([expect.stringMatching(/^lr: the step size of policy gradient; .* leave lr out$/), expect.stringMatching(/^batch: .* give samples instead$/)])
    expect(rlSettingsProblems(stage({ lr: 0.01 }), 'refit', true)).toEqual([expect.stringMatching(/leave lr out, or use method 'policy-gradient'$/)])
    expect(rlSettingsProblems(stage({ samples: 500 }), 'policy-gradient', false)).toEqual([expect.stringMatching(/^samples: .* give batch instead$/)])
    expect(rlSettingsProblems(stage({ samples: 500 }), 'policy-gradient', true)).toEqual([expect.stringMatching(/give batch instead, or use method 'refit'$/)])
  })
})

describe('dpo', () => {
  it('reaches the KL-regularised optimum π* ∝ π_ref·exp(r/β) of a categorical model from Bradley–Terry preferences', async () => {
    const reference = [0.4, 0.3, 0.2, 0.1]
    const rewards = [0, 1, 2, 3].map((k) => -((k - 3) ** 2) / 4)
    for (const beta of [0.5, 2]) {
      const fitted = softmax.fit(vectors(0, 1), { lr: 0.5 }, {} as never) as Softmax
      const stage = { kind: 'dpo', beta, pairs: 20_000, batch: 20_000, steps: 150, lr: 4, evalEvery: 0, evalSamples: 10, reward: { kind: 'point', at: [3], scale: 2 } }
      const post = await posttrain(softmax, { lr: 0.5 }, fitted, [stage], line, { seed: 6 })
      const optimum = klRegularisedOptimum(reference, rewards, beta)
      const p = probabilities(post.state.logits)
      // 150 full-batch steps reach the loss's minimum; the preferences of 20,000 pairs place it about 0.01 from the optimum.
      for (let k = 0; k < 4; k++) expect(Math.abs(p[k]! - optimum.p[k]!), `β ${beta}, outcome ${k}: ${Array.from(p).map((v) => v.toFixed(3))} against ${optimum.p.map((v: number) => v.toFixed(3))}`).toBeLessThan(0.02)
      // What it optimised, on its first point; the loss and the batch's preference accuracy on the others.
      expect(post.curve[0]!.reward_description).toBe("20000 pairs of the stage's input, each labelled by a Bradley–Terry preference scored by −‖x − (3)‖² / 2²")
      expect(Object.keys(post.curve[1]!.losses).sort()).toEqual(['preference_accuracy', 'preference_loss'])
    }
  })

  it("with the IPO loss reaches IPO's optimum π ∝ π_ref·exp(P(y ≻ π_ref)/β) (Azar et al. 2023), and with the hinge loss raises the reward", async () => {
    const reference = [0.4, 0.3, 0.2, 0.1]
    const rewards = [0, 1, 2, 3].map((k) => -((k - 3) ** 2) / 4)
    const sigma = (x: number): number => 1 / (1 + Math.exp(-x))
    // P(k ≻ π_ref): the chance that k is preferred to a draw of π_ref under Bradley–Terry.
    const wins = rewards.map((r) => reference.reduce((sum, p, j) => sum + p * sigma(r - rewards[j]!), 0))
    // IPO's weights, 2·(1/(2β) − Δ), are large at small β: a smaller step.
    const stage = (loss: string, beta: number, lr: number) => ({ kind: 'dpo', loss, beta, pairs: 20_000, batch: 20_000, steps: 300, lr, evalEvery: 0, evalSamples: 10, reward: { kind: 'point', at: [3], scale: 2 } })
    for (const beta of [0.1, 0.5]) {
      const fitted = softmax.fit(vectors(0, 1), { lr: 0.5 }, {} as never) as Softmax
      const post = await posttrain(softmax, { lr: 0.5 }, fitted, [stage('ipo', beta, 0.2)], line, { seed: 6 })
      const tilted = reference.map((p, k) => p * Math.exp(wins[k]! / beta))
      const z = tilted.reduce((a, b) => a + b, 0)
      const p = probabilities(post.state.logits)
      for (let k = 0; k < 4; k++) expect(Math.abs(p[k]! - tilted[k]! / z), `β ${beta}, outcome ${k}: ${Array.from(p).map((v) => v.toFixed(3))} against ${tilted.map((v) => (v / z).toFixed(3))}`).toBeLessThan(0.02)
      expect(post.curve[0]!.reward_description).toMatch(/; the IPO loss$/)
    }
    const fitted = softmax.fit(vectors(0, 1), { lr: 0.5 }, {} as never) as Softmax
    const hinge = await posttrain(softmax, { lr: 0.5 }, fitted, [stage('hinge', 1, 1)], line, { seed: 6 })
    const expected = (q: ArrayLike<number>): number => Array.from(q).reduce((sum, p, k) => sum + p * rewards[k]!, 0)
    expect(expected(probabilities(hinge.state.logits))).toBeGreaterThan(expected(reference) + 0.3)
  })

  it('refuses a model without a trainer of signed weights and a log-likelihood, naming what to use instead', async () => {
    expect(dpoSupport(softmax)).toBe(true)
    expect(dpoSupport(gmm)).toBe("model 'gmm' has no trainer that takes signed weights with a log-likelihood of its samples, which DPO needs; use an rl stage (method 'refit') or best-of-n")
  })
})

describe('which way rl trains a model', () => {
  const base = { ...normal, logLikelihood: () => new Float64Array(0), trainer: () => ({ batch: 1, signedWeights: true, step: () => ({}), state: () => ({ mean: 0 }) }) }
  const refits = { fitWeighted: () => ({ mean: 0 }) }

  it('is policy gradient when the model says so, refitting when it can only refit, and either when asked', () => {
    expect(rlMethod({ ...base, policyGradient: true, ...refits }, 'auto')).toBe('policy-gradient')
    expect(rlMethod({ ...base, policyGradient: true, ...refits }, 'refit')).toBe('refit')
    expect(rlMethod({ ...base, ...refits }, 'auto')).toBe('refit')
    expect(rlMethod({ ...base, ...refits }, 'policy-gradient')).toMatch(/no trainer that takes signed weights/)
  })

  it("keeps refitting for a model that trains by policy gradient only 'when-asked' (one in another process), unless asked", () => {
    expect(rlMethod({ ...base, policyGradient: 'when-asked', ...refits }, 'auto')).toBe('refit')
    expect(rlMethod({ ...base, policyGradient: 'when-asked', ...refits }, 'policy-gradient')).toBe('policy-gradient')
    expect(rlMethod({ ...base, policyGradient: 'when-asked' }, 'auto')).toBe('policy-gradient')
  })
})

describe("a model's trainer that breaks its contract", () => {
  /** The 1-D normal with a trainer whose step does as `step` says (a finetuning loss of 1 by default). */
  const trained = (step: ((items: Samples) => unknown) | undefined, trainerFields: Record<string, unknown> = {}) =>
    defineModel<Record<string, never>, { readonly mean: number }>({
      ...normal,
      id: 'my-model',
      trainer: (state) => ({ batch: 4, signedWeights: true, ...(step === undefined ? {} : { step }), state: () => state, ...trainerFields }) as never,
    })
  const task: TaskData = { train: vectors(8, 1, new Float64Array(8).fill(1)), view: { dataset: line, heldout: vectors(8, 1, new Float64Array(8)) } }
  const finetune = async (model: ModelPlugin<any, { readonly mean: number }>, modelName?: string): Promise<Error | Posttrained<{ readonly mean: number }>> =>
    runPosttrain(
      {
        stages: posttrainSchema.parse([{ kind: 'finetune', data: {}, steps: 2, evalEvery: 1, evalSamples: 10 }]),
        model,
        ...(modelName === undefined ? {} : { modelName }),
        params: {},
        rng: Rng.from(1, 'posttrain'),
        dataset: line,
        pretraining: vectors(8, 1, new Float64Array(8)),
        samplesPerGeneration: 10,
        temperature: 1,
        task: async () => task,
        gold: async () => Promise.reject(new Error('no reward')),
        score: async () => ({}),
      },
      { mean: 0 },
    ).catch((e: Error) => e)

  it('a step that throws fails the stage naming the model, the hook, the step and the stage, keeping the error as its cause', async () => {
    const boom = new Error('step boom')
    const err = await finetune(trained(() => {
      throw boom
    }), "model 'my-model' (./my-model.js)")
    expect(String(err)).toBe("OuroborosError: model 'my-model' (./my-model.js): its trainer's step(items, weights) threw at step 1 of posttrain.0 (finetune): step boom")
    // The cause keeps the author's stack: the run says where in their file it was thrown.
    expect((err as Error).cause).toBe(boom)
  })

  it('an error the model put in words itself (a model run as a process) gets the step and the stage, its kind kept', async () => {
    const err = await finetune(trained(() => {
      throw divergedError("model.command [\"python3\",\"m.py\"]: 'train_step' 1 failed: train_step() returned nan at ['loss']")
    }))
    expect(String(err)).toBe("OuroborosError: model.command [\"python3\",\"m.py\"]: 'train_step' 1 failed: train_step() returned nan at ['loss'] (at step 1 of posttrain.0 (finetune))")
    expect((err as OuroborosError).code).toBe(ErrorCode.DIVERGED)
  })

  it('a step that returns nothing is a step without losses, as a Python train_step returning None', async () => {
    const post = await finetune(trained(() => undefined))
    expect(post).not.toBeInstanceOf(Error)
    expect((post as Posttrained<unknown>).curve.map((p) => p.losses)).toEqual([{}, {}, {}])
  })

  it('a trainer without step, or with a batch that is no size, is refused when the stage starts, saying what a trainer is', async () => {
    const noStep = await finetune(trained(undefined))
    expect(String(noStep)).toBe("OuroborosError: model 'my-model': trainer(state, params, options) returned a trainer without a step function, in posttrain.0 (finetune)")
    expect((noStep as OuroborosError).hint).toMatch(/^a model's trainer\(state, params, options\) returns \{ batch, signedWeights, step\(items, weights\), state\(\) \}/)
    const noBatch = await finetune(trained(() => undefined, { batch: undefined }))
    expect(String(noBatch)).toBe("OuroborosError: model 'my-model': its trainer's batch is undefined, in posttrain.0 (finetune); expected a whole number ≥ 1 (items a step) or 'all'")
  })

  it('a loss that is not a number is refused naming it, where it was recorded as it was and its plot had nothing to show', async () => {
    const err = await finetune(trained(() => ({ losses: { loss: 'x' } })))
    expect(String(err)).toBe(`OuroborosError: model 'my-model': its trainer's step(items, weights) at step 1 of posttrain.0 (finetune) returned a loss 'loss' that is the string "x", not a number`)
    expect((err as OuroborosError).code).toBe(ErrorCode.MODEL)
  })

  it('a NaN loss is a diverged generation, as the built-in trainers say it, which the run may retry; an infinite one (a probability of 0) is recorded', async () => {
    const err = await finetune(trained(() => ({ losses: { loss: Number.NaN } })))
    expect(String(err)).toBe("OuroborosError: model 'my-model': its trainer's step(items, weights) at step 1 of posttrain.0 (finetune) returned a loss 'loss' of NaN: the training diverged (a lower lr may help)")
    expect((err as OuroborosError).code).toBe(ErrorCode.DIVERGED)
    const post = await finetune(trained(() => ({ losses: { loss: Infinity } })))
    if (post instanceof Error) throw post
    expect((post as Posttrained<unknown>).curve.map((p) => p.losses)).toEqual([{}, { loss: Infinity }, { loss: Infinity }])
  })
})

describe('the KL at a stage\'s start', () => {
  it('is 0, exact, where the model has a KL, and none where it has none at the later steps either (a charlm), not a 0 that reads as measured', async () => {
    const words: DatasetInfo = { kind: 'words', modality: 'tokens', vocabulary: ['a', 'b'] }
    const sentences = (n: number): Samples => ({ modality: 'tokens', n, vocabSize: 2, tokens: new Int32Array(n), offsets: Uint32Array.from({ length: n + 1 }, (_, i) => i) })
    // Sentences of one word, no log-likelihood and no exact KL: no estimator applies.
    const model = defineModel<Record<string, never>, Record<string, never>>({
      id: 'words',
      modality: 'tokens',
      description: 'the word a',
      params: z.strictObject({}),
      fit: () => ({}),
      sample: (_state, n) => sentences(n),
      trainer: (state) => ({ batch: 4, signedWeights: true, step: () => ({ losses: { loss: 1 } }), state: () => state }),
    })
    const task: TaskData = { train: sentences(8), view: { dataset: words, heldout: sentences(8) } }
    const post = await posttrain(model, {}, {}, [{ kind: 'finetune', data: {}, steps: 2, evalEvery: 1, evalSamples: 10 }], words, { pretraining: sentences(8), samplesPerGeneration: 10, task })
    expect(post.curve.map((p) => [p.step, p.kl, p.kl_estimator])).toEqual([[0, null, null], [1, null, null], [2, null, null]])
    // With a log-likelihood of its samples, the same model has a Monte Carlo KL, 0 at the start.
    const scored = defineModel<Record<string, never>, Record<string, never>>({ ...model, logLikelihood: (_state, s) => new Float64Array(s.n) })
    const withKl = await posttrain(scored, {}, {}, [{ kind: 'finetune', data: {}, steps: 2, evalEvery: 1, evalSamples: 10 }], words, { pretraining: sentences(8), samplesPerGeneration: 10, task })
    expect(withKl.curve.map((p) => [p.step, p.kl, p.kl_estimator])).toEqual([[0, 0, 'exact'], [1, 0, 'monte-carlo'], [2, 0, 'monte-carlo']])
  })
})

describe('finetuning a GMM by EM', () => {
  const params = gmm.params.parse({ components: 8 })
  const real = ringSamples(8000, Rng.from(11, 'ring'))
  const pretrained = gmm.fit(real, params, { rng: Rng.from(11, 'fit'), generation: 0, dataset: ringDataset })
  const task = ringTask([1, 1, 0, 0, 0, 0, 0, 0])
  const taskData: TaskData = { train: task.sample(2000, Rng.from(12, 'task')), view: { dataset: task.dataset, heldout: task.sample(2000, Rng.from(13, 'heldout')) } }
  const meanLogLikelihood = async (state: unknown): Promise<number> => {
    const ll = await gmm.logLikelihood!(state as never, taskData.view.heldout)
    return ll.reduce((a, b) => a + b, 0) / ll.length
  }
  const shares = (s: Samples): number[] => {
    const x = s as VectorSamples
    const counts = new Array<number>(8).fill(0)
    for (let i = 0; i < x.n; i++) counts[(Math.round((Math.atan2(x.data[2 * i + 1]!, x.data[2 * i]!) / (2 * Math.PI)) * 8) + 8) % 8]! += 1 / x.n
    return counts
  }

  it('on 2 of 8 ring modes converges to the direct 2-mode fit of the task data', async () => {
    const post = await posttrain(gmm, params, await pretrained, [{ kind: 'finetune', data: {}, steps: 100, evalEvery: 0 }], ringDataset, { task: taskData })
    const direct = await gmm.fit(taskData.train, gmm.params.parse({ components: 2 }), { rng: Rng.from(14, 'fit'), generation: 0, dataset: task.dataset })
    // Held-out task log-likelihood per point: both fits estimate the same two modes from the same 2,000 points.
    expect(Math.abs((await meanLogLikelihood(post.state)) - (await meanLogLikelihood(direct)))).toBeLessThan(0.02)
    const got = shares(await post.sample(20_000, Rng.from(15, 'draw')))
    expect(got[0]! + got[1]!).toBeGreaterThan(0.999)
    // The curve starts at the pretrained model (KL 0) and ends far from it: about ln 4 = 1.39 nats
    // for moving 1/4 of the mass onto all of it.
    expect(post.curve[0]!.kl).toBe(0)
    expect(Math.abs(post.curve[post.curve.length - 1]!.kl! - Math.log(4))).toBeLessThan(0.1)
  })

  it('says after each step of each training stage how far it is', async () => {
    const seen: string[] = []
    const stages = [
      { kind: 'finetune', data: {}, steps: 3, evalEvery: 0 },
      { kind: 'rl', reward: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }, beta: 1, steps: 2, evalEvery: 0, samples: 200 },
      { kind: 'best-of-n', n: 4, reward: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }, evalSamples: 50 },
    ]
    await posttrain(gmm, params, await pretrained, stages, ringDataset, { task: taskData, onStep: (stage, step, steps) => seen.push(`${stage.index} ${stage.kind} ${step}/${steps}`) })
    // best-of-n's steps are its curve's points, n' = 1, 2, 4.
    expect(seen).toEqual(['0 finetune 1/3', '0 finetune 2/3', '0 finetune 3/3', '1 rl 1/2', '1 rl 2/2', '2 best-of-n 1/3', '2 best-of-n 2/3', '2 best-of-n 3/3'])
  })

  it('says that rl at beta 0 refit on the draws of the highest reward alone, where they are too few for the model', async () => {
    // A point reward is continuous: one draw has the highest reward, and 8 components need 8.
    const stages = [{ kind: 'rl', reward: { kind: 'point', at: [2, 0] }, beta: 0, steps: 1, evalEvery: 0, samples: 200 }]
    const err = await posttrain(gmm, params, await pretrained, stages, ringDataset).then(() => undefined, (e: unknown) => e as { message: string; hint?: string })
    expect(err?.message).toMatch(/^rl at beta 0 refits on the draws of the highest reward alone, here 1 of 200: .*8 components needs at least 8/)
    expect(err?.hint).toMatch(/^give beta above 0/)
    // With ties at the top (the modes reward), beta 0 keeps them all and refits.
    const ties = [{ kind: 'rl', reward: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }, beta: 0, steps: 1, evalEvery: 0, samples: 400 }]
    await expect(posttrain(gmm, gmm.params.parse({ components: 1 }), await gmm.fit(real, gmm.params.parse({ components: 1 }), { rng: Rng.from(11, 'fit'), generation: 0, dataset: ringDataset }), ties, ringDataset)).resolves.toBeDefined()
  })

  it('says, before a stage fits its proxy reward model, that it does', async () => {
    const seen: string[] = []
    const reward = { kind: 'proxy', of: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }, labels: 40 }
    const stages = [{ kind: 'rl', reward, beta: 1, steps: 2, evalEvery: 0, samples: 200 }]
    await posttrain(gmm, params, await pretrained, stages, ringDataset, { onStep: (stage, step, steps) => seen.push(`${stage.kind}${stage.phase === undefined ? '' : `: ${stage.phase}`} ${step}/${steps}`) })
    expect(seen).toEqual(['rl: fitting its reward model on 40 labels 0/0', 'rl 1/2', 'rl 2/2'])
  })

  it("puts what each reward stage optimises on its first curve point: the gold reward, or the proxy and how it was labelled", async () => {
    const gold = { kind: 'modes', values: [1, 0.5, 0, 0, 0, 0, 0, 0] }
    const stages = [
      { kind: 'finetune', data: {}, steps: 2, evalEvery: 1 },
      { kind: 'rl', reward: { kind: 'proxy', of: gold, labels: 30, noise: 0.2 }, beta: 1, steps: 2, evalEvery: 1, samples: 100 },
      { kind: 'rl', reward: { kind: 'proxy', of: gold, labels: 30, noise: 0, preferences: true, members: 3, combine: 'min' }, beta: 1, steps: 1, evalEvery: 1, samples: 100 },
      { kind: 'best-of-n', n: 2, reward: gold, evalSamples: 50 },
    ]
    const post = await posttrain(gmm, params, await pretrained, stages, ringDataset, { task: taskData })
    const described = post.curve.map((p) => [p.stage, p.step, p.reward_description])
    const modes = 'value of the nearest mode (1, 0.5, 0, 0, 0, 0, 0, 0)'
    const rbf = 'RBF kernel, bandwidth the median distance between the labelled samples'
    expect(described).toEqual([
      [0, 0, undefined],
      [0, 1, undefined],
      [0, 2, undefined],
      [1, 0, `regression reward model on 30 labels (${rbf}), labelled by ${modes}; the labels have noise of sd 0.2`],
      [1, 1, undefined],
      [1, 2, undefined],
      [2, 0, `3 preference reward models on bootstrap resamples of 30 labels, combined by min (${rbf}), labelled by Bradley–Terry preferences between pairs scored by ${modes}`],
      [2, 1, undefined],
      [3, 1, modes],
      [3, 2, undefined],
    ])
  })

  it('with replay 1 keeps the pretrained mode weights within noise', async () => {
    const post = await posttrain(gmm, params, await pretrained, [{ kind: 'finetune', data: {}, steps: 50, evalEvery: 0, replay: 1 }], ringDataset, { task: taskData, pretraining: real })
    const m = 40_000
    const got = shares(await post.sample(m, Rng.from(16, 'draw')))
    // EM from a fit on the same data stays at that fit, whose weights are the data's mode shares.
    const data = shares(real)
    for (let k = 0; k < 8; k++) expect(Math.abs(got[k]! - data[k]!), `mode ${k}`).toBeLessThan(4 * Math.sqrt((1 / 8) * (7 / 8) / m) + 0.005)
    // Its state survives a structured clone, as checkpoints and warm starts need.
    const cloned = structuredClone(post.state)
    expect(await meanLogLikelihood(cloned)).toBe(await meanLogLikelihood(post.state))
  })
})

describe('rl by reward-weighted refitting', () => {
  const values = [1, 0.8, 0.6, 0.4, 0.2, 0, 0, 0]
  const params = gmm.params.parse({ components: 8 })
  const fitted = gmm.fit(ringSamples(20_000, Rng.from(1, 'ring')), params, { rng: Rng.from(1, 'fit'), generation: 0, dataset: ringDataset })

  /** Mode shares of samples (the ring's modes are far apart: the nearest centre decides). */
  function shares(s: Samples): number[] {
    const x = s as VectorSamples
    const counts = new Array<number>(8).fill(0)
    for (let i = 0; i < x.n; i++) {
      const angle = Math.atan2(x.data[2 * i + 1]!, x.data[2 * i]!)
      counts[(Math.round((angle / (2 * Math.PI)) * 8) + 8) % 8]! += 1 / x.n
    }
    return counts
  }

  for (const beta of [0.1, 1, 10]) {
    it(`a GMM's mode weights, E[r] and KL match the closed-form optimum at β = ${beta}`, async () => {
      const state = await fitted
      const m = 40_000
      const post = await posttrain(gmm, params, state, [{ kind: 'rl', beta, steps: 1, samples: m, reward: { kind: 'modes', values } }], ringDataset)
      const reference = shares(await gmm.sample(state, 200_000, { rng: Rng.from(2, 'reference'), temperature: 1, dataset: ringDataset }))
      const optimum = klRegularisedOptimum(reference, values, beta)
      const drawn = await post.sample(m, Rng.from(3, 'draw'))
      const got = shares(drawn)
      for (let k = 0; k < 8; k++) {
        // Binomial error of m draws, plus that of the refit's own m weighted draws (Kish's n_eff ≤ m).
        const se = Math.sqrt((optimum.p[k]! * (1 - optimum.p[k]!)) / m) * 3
        expect(Math.abs(got[k]! - optimum.p[k]!), `mode ${k}`).toBeLessThan(4 * se + 1e-3)
      }
      const summary = await post.summarize(drawn)
      expect(summary['reward']).toBeCloseTo(optimum.reward, 1)
      // The modes are 0.02 wide and 0.77 apart: the mixtures' KL is that of their mode weights.
      expect(Math.abs(summary['kl']! - optimum.kl)).toBeLessThan(0.05 + 0.1 * optimum.kl)
    })
  }

  it('releases each refit once the next is fitted from it, and never a stage’s input or its result', async () => {
    const made: unknown[] = []
    const released: unknown[] = []
    const spy = {
      ...gmm,
      fitWeighted: async (...args: Parameters<NonNullable<typeof gmm.fitWeighted>>) => {
        const state = await gmm.fitWeighted!(...args)
        made.push(state)
        return state
      },
      release: (state: unknown) => released.push(state),
    }
    const reward = { kind: 'modes', values }
    const stages = [
      { kind: 'rl', beta: 1, steps: 3, samples: 500, evalEvery: 0, reward },
      { kind: 'rl', beta: 1, steps: 2, samples: 500, evalEvery: 0, reward },
    ]
    const post = await posttrain(spy as typeof gmm, params, await fitted, stages, ringDataset)
    // Stage 0 makes refits 0, 1, 2 and stage 1, from refit 2 (its input), refits 3 and 4.
    expect(made).toHaveLength(5)
    expect(post.state).toBe(made[4])
    expect(released).toEqual([made[0], made[1], made[3]])
  })

  it('collapses onto the best mode as β → 0 and stays at the reference as β → ∞', async () => {
    const state = await fitted
    const greedy = await posttrain(gmm, params, state, [{ kind: 'rl', beta: 1e-3, steps: 1, reward: { kind: 'modes', values } }], ringDataset)
    const greedyShares = shares(await greedy.sample(5000, Rng.from(4, 'draw')))
    expect(greedyShares[0]).toBeGreaterThan(0.999)
    const lax = await posttrain(gmm, params, state, [{ kind: 'rl', beta: 1e6, steps: 1, samples: 40_000, reward: { kind: 'modes', values } }], ringDataset)
    const laxShares = shares(await lax.sample(40_000, Rng.from(5, 'draw')))
    for (const s of laxShares) expect(Math.abs(s - 1 / 8)).toBeLessThan(0.015)
  })
})

describe('rl on a unigram model of Zipf tokens, with a per-word reward', () => {
  // At β = 0.5 the tilted words' mass S exceeds 1 for these rewards: no optimum exists (longer
  // sentences always pay), and refitting makes sentences grow to the sampler's length limit.
  for (const beta of [1, 2, 10]) {
    it(`matches the closed-form optimum over sentences at β = ${beta}, with the exact KL`, async () => {
      const zipf = builtinDatasets['zipf']!
      const data = await zipf.create(zipf.params.parse({ vocabSize: 20, exponent: 1, length: 5 }), Rng.from(0, 'zipf'))
      const params = ngram.params.parse({ order: 1, discount: 0 })
      const state = await ngram.fit(data.sample(4000, Rng.from(1, 'zipf')), params, { rng: Rng.from(1, 'fit'), generation: 0, dataset: data.info })
      const words = { w1: -1, w2: 0.5, w5: 1 }
      // Whole-sentence weights exp(R/β) can have infinite variance (when Σ_w p(w)·e^(2r(w)/β) ≥ 1
      // summed over lengths); tempered steps keep each step's finite.
      const post = await posttrain(ngram, params, state, [{ kind: 'rl', beta, steps: 5, samples: 50_000, reward: { kind: 'lexicon', words } }], data.info)
      // The reference's probabilities from its own likelihood: log p([w]) − log p([]) = log p(w).
      const one = (ids: number[]) => ({ modality: 'tokens' as const, n: 1, vocabSize: 20, tokens: Int32Array.from(ids), offsets: Uint32Array.of(0, ids.length) })
      const end = Math.exp((await ngram.logLikelihood!(state, one([])))[0]!)
      const p = await Promise.all(Array.from({ length: 20 }, async (_, w) => Math.exp((await ngram.logLikelihood!(state, one([w])))[0]!) / end))
      const r = new Array<number>(20).fill(0)
      for (const [word, v] of Object.entries(words)) r[Number(word.slice(1)) - 1] = v
      // π_ref(x) = p(end)·Π p(w), so π*(x) ∝ π_ref(x)·e^(R(x)/β) = (1 − S)·Π p(w)e^(r(w)/β) with
      // S = Σ_w p(w)e^(r(w)/β) < 1: a unigram model whose words keep their tilted mass and whose end
      // takes the rest. E[R] = Σ_w p*(w)r(w)/(1 − S), KL = E[R]/β + ln((1 − S)/p(end)).
      const tilted = p.map((pw, w) => pw * Math.exp(r[w]! / beta))
      const S = tilted.reduce((a, b) => a + b, 0)
      const reward = tilted.reduce((a, t, w) => a + t * r[w]!, 0) / (1 - S)
      const kl = reward / beta + Math.log((1 - S) / end)
      const endAfter = Math.exp((await ngram.logLikelihood!(post.state, one([])))[0]!)
      const summary = await post.summarize(await post.sample(20_000, Rng.from(2, 'draw')))
      expect(post.klEstimator()).toBe('exact')
      expect(Math.abs(endAfter - (1 - S))).toBeLessThan(0.1 * (1 - S))
      expect(Math.abs(summary['kl']! - kl)).toBeLessThan(0.05 + 0.05 * kl)
      expect(Math.abs(summary['reward']! - reward)).toBeLessThan(0.05 + 0.05 * Math.abs(reward))
    })
  }
})

describe('KL estimates', () => {
  it('are Monte Carlo over log-likelihoods, and none for a model whose log-likelihood does not score its samples as drawn', async () => {
    const samples = vectors(4, 1, Float64Array.of(0, 1, 0, 2))
    const state = { logits: Float64Array.of(0, 0, 0, 0) }
    const reference = { logits: Float64Array.of(Math.log(2), 0, 0, 0) }
    const noDraws = (): Promise<Samples> => Promise.reject(new Error('no reference draws expected'))
    // log p − log p_ref on 0, 1, 0, 2: p = 1/4 everywhere, p_ref = 2/5, 1/5, 2/5, 1/5.
    const want = (2 * Math.log(0.25 / 0.4) + 2 * Math.log(0.25 / 0.2)) / 4
    const mc = await estimateKl(softmax, state, reference, samples, noDraws)
    expect(mc.estimator).toBe('monte-carlo')
    expect(mc.value).toBeCloseTo(want, 12)
    const blind = await estimateKl({ ...softmax, scoresItsSamples: false }, state, reference, { modality: 'tokens', n: 0 } as unknown as Samples, noDraws)
    expect(blind).toEqual({ value: null, estimator: null })
  })
})
