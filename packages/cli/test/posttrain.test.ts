import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { readTokenFile } from '@ouroboros/store'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, cliAsync, itRefusesConfigs, records, signalAfterRecords, tempDir, writeConfig } from './helpers.js'
import { OuroborosError } from '@ouroboros/core'
import { resolveRun } from '@ouroboros/cli'

afterAll(cleanup)

const values = [1, 0.8, 0.6, 0.4, 0.2, 0, 0, 0]
const twoModes = [1, 1, 0, 0, 0, 0, 0, 0]
const ring = { data: { kind: 'ring', n: 600 }, model: { kind: 'gmm', components: 8 }, generations: 2, metrics: ['modes'] }
const withStages = (...posttrain: unknown[]) => ({ ...ring, posttrain })
const finetune = { kind: 'finetune', data: { weights: twoModes, n: 200 }, steps: 5, evalEvery: 0 }

/** [what, config, text the message must contain] */
const configs: [string, unknown, string][] = [
  ['posttrain not a list', { ...ring, posttrain: { kind: 'finetune' } }, 'posttrain'],
  ['unknown stage kind', withStages({ kind: 'ppo' }), 'posttrain.0.kind'],
  ['finetune without data', withStages({ kind: 'finetune' }), 'posttrain.0.data'],
  ['negative finetune steps', withStages({ ...finetune, steps: -1 }), 'posttrain.0.steps'],
  ['replay above 1', withStages({ ...finetune, replay: 1.5 }), 'posttrain.0.replay'],
  ['negative anchor', withStages({ ...finetune, anchor: -0.1 }), 'posttrain.0.anchor'],
  ['zero learning rate', withStages({ ...finetune, lr: 0 }), 'posttrain.0.lr'],
  ['unknown finetune key', withStages({ ...finetune, epochs: 3 }), 'epochs'],
  ['task weights of the wrong length', withStages({ ...finetune, data: { weights: [1, 1] } }), 'posttrain.0.data.weights'],
  ['task of another modality', withStages({ ...finetune, data: { kind: 'zipf' } }), 'posttrain.0.data.kind'],
  ['unknown task dataset', withStages({ ...finetune, data: { kind: 'imagenet' } }), 'posttrain.0.data.kind'],
  ['more task digits than the split holds', { data: { kind: 'mnist', n: 100 }, model: { kind: 'vae' }, generations: 1, posttrain: [{ kind: 'finetune', data: { digits: [3], n: 5000 } }] }, 'posttrain.0.data.n'],
  ['finetuning a model without a trainer', { ...withStages(finetune), model: { kind: 'kde' } }, 'posttrain.0.kind'],
  ['rl without a reward', withStages({ kind: 'rl', beta: 0.1 }), 'posttrain.0.reward'],
  ['rl without beta', withStages({ kind: 'rl', reward: { kind: 'modes', values } }), 'posttrain.0.beta'],
  ['negative beta', withStages({ kind: 'rl', beta: -1, reward: { kind: 'modes', values } }), 'posttrain.0.beta'],
  ['unknown rl method', withStages({ kind: 'rl', beta: 1, method: 'ppo', reward: { kind: 'modes', values } }), 'posttrain.0.method'],
  ['policy gradient for a model without it', withStages({ kind: 'rl', beta: 1, method: 'policy-gradient', reward: { kind: 'modes', values } }), 'posttrain.0.method'],
  ['rl for a model that cannot be trained by it', { ...withStages({ kind: 'rl', beta: 1, reward: { kind: 'modes', values } }), model: { kind: 'gan' } }, 'posttrain.0.method'],
  ['unknown reward kind', withStages({ kind: 'rl', beta: 1, reward: { kind: 'beauty' } }), 'posttrain.0.reward'],
  ['mode values of the wrong length', withStages({ kind: 'rl', beta: 1, reward: { kind: 'modes', values: [1, 2] } }), 'posttrain.0.reward.values'],
  ['mode reward without modes', { data: { kind: 'gaussian', n: 100 }, model: { kind: 'gaussian' }, generations: 1, posttrain: [{ kind: 'best-of-n', n: 4, reward: { kind: 'modes', values } }] }, 'posttrain.0.reward.kind'],
  ['point of the wrong dimension', withStages({ kind: 'best-of-n', n: 4, reward: { kind: 'point', at: [1, 2, 3] } }), 'posttrain.0.reward.at'],
  ['token reward on vectors', withStages({ kind: 'best-of-n', n: 4, reward: { kind: 'lexicon', words: ['the'] } }), 'posttrain.0.reward.kind'],
  ['lexicon word not in the vocabulary', { data: { kind: 'zipf', n: 100 }, model: { kind: 'ngram', order: 1 }, generations: 1, posttrain: [{ kind: 'best-of-n', n: 4, reward: { kind: 'lexicon', words: ['w1', 'zebra'] } }] }, 'zebra'],
  ['lexicon word capitalised where the data are lower-cased', { data: { kind: 'brown', n: 100 }, model: { kind: 'ngram', order: 1 }, generations: 1, posttrain: [{ kind: 'best-of-n', n: 4, reward: { kind: 'lexicon', words: ['love', 'Money'] } }] }, "posttrain.0.reward.words: 'Money' (the data's words are lower-cased: 'money') is not in the vocabulary of data.kind 'brown'"],
  ['finetuning task file that does not exist', { data: { kind: 'zipf', n: 100 }, model: { kind: 'ngram', order: 1 }, generations: 1, posttrain: [{ kind: 'finetune', data: { kind: 'text-file', path: '/nonexistent-ouroboros/task.txt' } }] }, 'posttrain.0.data.path: /nonexistent-ouroboros/task.txt: no such file'],
  ['genre reward off Brown', withStages({ kind: 'best-of-n', n: 4, reward: { kind: 'genre', genre: 'news' } }), 'posttrain.0.reward.kind'],
  ['digit out of range', withStages({ kind: 'best-of-n', n: 4, reward: { kind: 'digit', digit: 12 } }), 'posttrain.0.reward.digit'],
  ['proxy without its gold reward', withStages({ kind: 'rl', beta: 1, reward: { kind: 'proxy', labels: 50 } }), 'posttrain.0.reward'],
  ['proxy with one label', withStages({ kind: 'rl', beta: 1, reward: { kind: 'proxy', of: { kind: 'modes', values }, labels: 1 } }), 'posttrain.0.reward'],
  ['proxy with more labels than an exact kernel fit holds', withStages({ kind: 'rl', beta: 1, reward: { kind: 'proxy', of: { kind: 'modes', values }, labels: 30_000 } }), 'posttrain.0.reward.labels: must be ≤ 10000, got 30000'],
  ['proxy of no members', withStages({ kind: 'rl', beta: 1, reward: { kind: 'proxy', of: { kind: 'modes', values }, members: 0 } }), 'posttrain.0.reward.members'],
  ['proxy combined by an unknown rule', withStages({ kind: 'rl', beta: 1, reward: { kind: 'proxy', of: { kind: 'modes', values }, members: 3, combine: 'max' } }), 'posttrain.0.reward.combine'],
  ['proxy of one member combined by its minimum', withStages({ kind: 'rl', beta: 1, reward: { kind: 'proxy', of: { kind: 'modes', values }, combine: 'min' } }), "posttrain.0.reward.combine: 'min' combines an ensemble's members, and members is 1"],
  ['proxy with a variance penalty it does not use', withStages({ kind: 'rl', beta: 1, reward: { kind: 'proxy', of: { kind: 'modes', values }, members: 5, variancePenalty: 2 } }), "posttrain.0.reward.variancePenalty: weighs the members' variance under combine 'uwo' only, and combine is 'mean'"],
  ['proxy with negative noise', withStages({ kind: 'rl', beta: 1, reward: { kind: 'proxy', of: { kind: 'modes', values }, noise: -1 } }), 'posttrain.0.reward'],
  ['proxy of a bad gold reward', withStages({ kind: 'rl', beta: 1, reward: { kind: 'proxy', of: { kind: 'modes', values: [1] } } }), 'posttrain.0.reward.of.values'],
  ['a KL target for a model RL refits', withStages({ kind: 'rl', beta: 1, klTarget: 2, reward: { kind: 'modes', values } }), 'posttrain.0.klTarget: β adapts between policy-gradient steps; reward-weighted refitting tilts by a fixed β'],
  ['a KL target from beta 0', { data: { kind: 'brown', n: 100 }, model: { kind: 'transformer' }, generations: 1, posttrain: [{ kind: 'rl', beta: 0, klTarget: 2, reward: { kind: 'length', target: 5 } }] }, 'posttrain.0.beta: 0 cannot adapt'],
  ['a KL horizon without a target', { data: { kind: 'brown', n: 100 }, model: { kind: 'transformer' }, generations: 1, posttrain: [{ kind: 'rl', beta: 1, klHorizon: 100, reward: { kind: 'length', target: 5 } }] }, 'posttrain.0.klHorizon'],
  ['a step size for the GMM, whose trainer steps are EM iterations', withStages({ ...finetune, lr: 0.5 }), "posttrain.0.lr: model 'gmm' has no step size to set: its trainer's step is a whole EM iteration; leave lr out"],
  ['a step size for reward-weighted refitting', withStages({ kind: 'rl', beta: 1, lr: 0.01, reward: { kind: 'modes', values } }), 'posttrain.0.lr: the step size of policy gradient'],
  ['a policy-gradient batch for reward-weighted refitting', withStages({ kind: 'rl', beta: 1, batch: 16, reward: { kind: 'modes', values } }), 'posttrain.0.batch: the draws of a policy-gradient step'],
  ['draws per refit for policy gradient', { data: { kind: 'brown', n: 100 }, model: { kind: 'transformer' }, generations: 1, posttrain: [{ kind: 'rl', beta: 1, samples: 500, reward: { kind: 'length', target: 5 } }] }, 'posttrain.0.samples: the draws of a refit step'],
  ['a negative KL target', withStages({ kind: 'rl', beta: 1, klTarget: -1, reward: { kind: 'modes', values } }), 'posttrain.0.klTarget'],
  ['dpo for a model without a trainer of signed weights', withStages({ kind: 'dpo', beta: 0.1, reward: { kind: 'modes', values } }), "posttrain.0.kind: model 'gmm' has no trainer that takes signed weights"],
  ['dpo without beta', { data: { kind: 'zipf', n: 100 }, model: { kind: 'transformer' }, generations: 1, posttrain: [{ kind: 'dpo', reward: { kind: 'length', target: 5 } }] }, 'posttrain.0.beta'],
  ['dpo with beta 0', { data: { kind: 'zipf', n: 100 }, model: { kind: 'transformer' }, generations: 1, posttrain: [{ kind: 'dpo', beta: 0, reward: { kind: 'length', target: 5 } }] }, 'posttrain.0.beta'],
  ['dpo toward a proxy', { data: { kind: 'zipf', n: 100 }, model: { kind: 'transformer' }, generations: 1, posttrain: [{ kind: 'dpo', beta: 1, reward: { kind: 'proxy', of: { kind: 'length', target: 5 } } }] }, 'posttrain.0.reward.kind: "proxy" is not one of modes, point, lexicon, length, genre, digit (a dpo stage learns from preferences of a gold reward itself, with no reward model: give that reward)'],
  ['best-of-n with n 0', withStages({ kind: 'best-of-n', n: 0, reward: { kind: 'modes', values } }), 'posttrain.0.n'],
  ['sweep over a stage that does not exist', { ...withStages(finetune), sweep: { 'posttrain.3.replay': [0, 0.5] } }, 'posttrain.3'],
  ['sweep to a bad stage value', { ...withStages(finetune), sweep: { 'posttrain.0.replay': [0, 5] } }, 'posttrain.0.replay'],
  ['best-of-n before another stage', withStages({ kind: 'best-of-n', n: 4, reward: { kind: 'modes', values } }, finetune), 'best-of-n'],
]

describe(`${configs.length} malformed post-training configs`, () => {
  itRefusesConfigs(configs)

  it("names every lexicon word the data lack, each with its lower-cased form where that is one of the data's words, or a near word", async () => {
    const lexicon = (words: string[]) => ({ data: { kind: 'brown', n: 100 }, model: { kind: 'ngram', order: 1 }, generations: 1, posttrain: [{ kind: 'best-of-n', n: 4, reward: { kind: 'lexicon', words } }] })
    const message = (words: string[]) => resolveRun(lexicon(words), 'bad.json').then(() => 'accepted', (e: OuroborosError) => e.message)
    expect(await message(['love', 'Money'])).toBe("bad.json: posttrain.0.reward.words: 'Money' (the data's words are lower-cased: 'money') is not in the vocabulary of data.kind 'brown'")
    expect(await message(['zzqqxx', 'love', 'loove'])).toBe("bad.json: posttrain.0.reward.words: 'zzqqxx', 'loove' (did you mean 'love'?) are not in the vocabulary of data.kind 'brown'")
  })

  it('`ouroboros list` says which models DPO trains: those whose trainer takes signed weights with a log-likelihood', () => {
    const res = cli(['list'])
    expect(res.status, res.stderr).toBe(0)
    const stages = res.stdout.slice(res.stdout.indexOf('post-training stages'))
    const line = (kind: string) => stages.split('\n').find((l) => l.trimStart().startsWith(`${kind} `)) ?? ''
    expect(line('transformer')).toContain('dpo: yes')
    for (const kind of ['gmm', 'ngram', 'charlm', 'vae']) expect(line(kind)).toContain('dpo: no')
    expect(line('command')).toContain('dpo: where its train_step takes signed weights')
  })

  it('`ouroboros list` names what a run records besides the metric groups, with their titles', () => {
    const res = cli(['list'])
    expect(res.status, res.stderr).toBe(0)
    const section = res.stdout.slice(res.stdout.indexOf("other values a run records, beside the metric groups' outputs:"), res.stdout.indexOf('backends:'))
    const line = (name: string) => section.split('\n').find((l) => l.trimStart().startsWith(`${name} `)) ?? ''
    expect(line('reward')).toMatch(/reward \(the one optimised\) \[with posttrain stages\]$/)
    expect(line('gold_reward')).toContain('gold reward [with posttrain stages]')
    expect(line('kl')).toContain('KL to the model as fit (nats) [with posttrain stages]')
    expect(line('filter_kept')).toContain('share of draws the filter kept')
    expect(line('filter_reward')).toContain('[with filter reward]')
    expect(line('filter_reward_kept')).toContain('reward of the samples the filter kept [with filter reward]')
  })

  it('exits 2 from the command line, naming the field, with nothing written', () => {
    const dir = tempDir()
    const res = cli(['run', writeConfig(dir, withStages({ ...finetune, replay: 2 })), '--out', `${dir}/run`])
    expect(res.status).toBe(2)
    expect(res.stderr).toContain('posttrain.0.replay')
    expect(res.stderr).not.toMatch(/\n\s+at /)
    expect(() => readdirSync(`${dir}/run`)).toThrow()
  })
})

describe('post-training in a run', () => {
  // Finetune on two modes, then RL toward the first, then best-of-4: every kind of stage, in every
  // generation, under replace (the next generation trains on the post-trained model's samples).
  const config = {
    name: 'posttrain-chain',
    data: { kind: 'ring', n: 800 },
    model: { kind: 'gmm', components: 8 },
    generations: 4,
    replicates: 2,
    seed: 3,
    metrics: ['modes', 'moments'],
    posttrain: [
      { kind: 'finetune', data: { weights: twoModes, n: 300 }, steps: 6, evalEvery: 3, replay: 0.2 },
      { kind: 'rl', beta: 0.5, steps: 2, evalEvery: 1, reward: { kind: 'proxy', of: { kind: 'modes', values }, labels: 40, noise: 0.1 } },
      { kind: 'best-of-n', n: 4, reward: { kind: 'modes', values } },
    ],
  }

  it('records reward, gold reward and KL, writes each stage curve, and feeds the post-trained samples to the next generation', () => {
    const dir = tempDir()
    const res = cli(['run', writeConfig(dir, config), '--out', `${dir}/run`, '--workers', '2'])
    expect(res.status, res.stderr).toBe(0)
    const recs = records(`${dir}/run`).filter((r) => r.generation >= 0)
    expect(recs).toHaveLength(8)
    for (const r of recs) {
      expect(r.metrics['reward']).toEqual(expect.any(Number))
      expect(r.metrics['gold_reward']).toEqual(expect.any(Number))
      expect(r.metrics['kl']).toEqual(expect.any(Number))
      // Finetuned on modes 0 and 1 (values 1 and 0.8) with 20 % replay: at least 80 % of the mass
      // sits there, a mean gold reward of at least 0.64, which RL and best-of-n only raise (the
      // reference data average 0.375).
      expect(r.metrics['gold_reward']).toBeGreaterThan(0.64)
    }
    const curve = readFileSync(`${dir}/run/chains/r0/gen-000000.posttrain.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(curve.map((p) => `${p.kind}:${p.step}`)).toEqual(['finetune:0', 'finetune:3', 'finetune:6', 'rl:0', 'rl:1', 'rl:2', 'best-of-n:1', 'best-of-n:2', 'best-of-n:4'])
    expect(curve[0].kl).toBe(0)
    // The samples of generation 0 are the post-trained model's: with replace, generation 1 is fit
    // to them, so the modes the finetuning dropped stay dropped.
    const g1 = recs.find((r) => r.replicate === 0 && r.generation === 1)!
    const reference = records(`${dir}/run`).find((r) => r.replicate === 0 && r.generation === -1)!
    expect(reference.metrics['modes_covered']).toBe(8)
    expect(g1.metrics['modes_covered']).toBeLessThan(8)
  })

  it('gives identical records for 1 and 2 workers, and after a kill and resume', async () => {
    const dir = tempDir()
    const file = writeConfig(dir, config)
    const one = cli(['run', file, '--out', `${dir}/one`, '--workers', '1'])
    expect(one.status, one.stderr).toBe(0)
    const two = cli(['run', file, '--out', `${dir}/two`, '--workers', '2'])
    expect(two.status, two.stderr).toBe(0)
    expect(records(`${dir}/two`)).toEqual(records(`${dir}/one`))
    const child = cliAsync(['run', file, '--out', `${dir}/killed`, '--workers', '1'])
    await signalAfterRecords(child, `${dir}/killed`, 3, 'SIGKILL')
    const resumed = cli(['resume', `${dir}/killed`])
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(records(`${dir}/killed`)).toEqual(records(`${dir}/one`))
  })
})

describe('finetuning on text of another file', () => {
  it("reads the task's text in the run's words, those the run's data lack as '<unk>'", () => {
    const dir = tempDir()
    // The run's text uses eight words; the task's half of its words are new (zz, yy).
    const words = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
    writeFileSync(`${dir}/corpus.txt`, Array.from({ length: 200 }, (_, i) => [0, 3, 5, 7].map((k) => words[(i + k) % 8]).join(' ')).join('\n'))
    writeFileSync(`${dir}/task.txt`, Array.from({ length: 200 }, () => 'a zz b yy').join('\n'))
    const config = {
      data: { kind: 'text-file', path: 'corpus.txt' },
      model: { kind: 'ngram', order: 1 },
      generations: 1,
      samplesPerGeneration: 100,
      metrics: ['text', 'task_text'],
      posttrain: [{ kind: 'finetune', data: { path: 'task.txt', n: 150 }, steps: 1, lr: 1, evalEvery: 1 }],
    }
    const res = cli(['run', writeConfig(dir, config), '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    // One step of share 1 makes the model the task's unigram counts (Kneser-Ney's discount leaves
    // the run's other words 6 × 0.75 / 750 of the mass): 'a', 'b' and '<unk>' a quarter, a quarter
    // and a half of the samples' words, up to the noise of 400 draws (SD 0.025).
    const { samples, vocabulary } = readTokenFile(`${dir}/run/chains/r0/gen-000000.samples.tokens`)
    const count = (w: string): number => samples.tokens.filter((t) => vocabulary[t] === w).length / samples.tokens.length
    expect(count('<unk>')).toBeGreaterThan(0.4)
    expect(count('<unk>')).toBeLessThan(0.6)
    expect(count('a')).toBeGreaterThan(0.15)
    expect(count('b')).toBeGreaterThan(0.15)
    expect(count('<unk>') + count('a') + count('b')).toBeGreaterThan(0.97)
    // Its held-out task sentences, a <unk> b <unk> and their end, then have about the probability
    // 0.2 · 0.4 · 0.2 · 0.4 · 0.2 (the end is one of five tokens a sentence): exactly, Kneser-Ney's
    // counts less the discount, which 'auto' makes 0.75 where no count is 1, over the 750 tokens of
    // the 150 sentences, and the 4 types' discounts spread over the 10 outcomes (the run's 8 words,
    // <unk> and the end).
    const p = (count: number): number => (count - 0.75) / 750 + (0.75 * 4) / 750 / 10
    const curve = readFileSync(`${dir}/run/chains/r0/gen-000000.posttrain.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(curve.at(-1).metrics.task_nll).toBeCloseTo(-Math.log(p(150) * p(300) * p(150) * p(300) * p(150)), 4)
  })
})

describe('curation by a reward across generations (Ferbach et al. 2024)', () => {
  it('raises the reward toward its maximiser under replace, and stays diverse with real data mixed in', () => {
    const dir = tempDir()
    const config = {
      name: 'curated-loop',
      data: { kind: 'ring', n: 4000 },
      model: { kind: 'gmm', components: 8 },
      generations: 6,
      seed: 4,
      metrics: ['modes'],
      filter: { kind: 'reward', reward: { kind: 'modes', values: [2, 0, 0, 0, 0, 0, 0, 0] }, choices: 2 },
      sweep: { policy: [{ kind: 'replace' }, { kind: 'mix', realFraction: 0.5 }] },
    }
    const res = cli(['run', writeConfig(dir, config), '--out', `${dir}/run`, '--workers', '2'])
    expect(res.status, res.stderr).toBe(0)
    const at = (cell: number, g: number) => records(`${dir}/run`).find((r) => r.cell === cell && r.generation === g)!.metrics
    // With Bradley–Terry choices between two draws, mode 0's weight w becomes
    // w·(w + 2(1 − w)·σ(2)) a generation: 1/8 → 0.21, 0.33, 0.50, 0.69, 0.86 (reward 2w).
    const theory = [0.125, 0.208, 0.334, 0.504, 0.694, 0.856]
    for (let g = 0; g < 6; g++) expect(Math.abs(at(0, g)['filter_reward']! - 2 * theory[g]!), `replace, generation ${g}`).toBeLessThan(0.12)
    // Diversity narrows onto the maximiser: KL(mode shares ‖ uniform) = 1.39 at w = 0.856.
    expect(at(0, 5)['reverse_kl']).toBeGreaterThan(1)
    // Half fresh real data: w settles where w = 1/16 + (w/2)(w + 2(1 − w)σ(2)), at 0.278.
    expect(Math.abs(at(1, 5)['filter_reward']! - 2 * 0.278)).toBeLessThan(0.12)
    expect(at(1, 5)['modes_covered_1pct']).toBe(8)
    // KL(mode shares ‖ uniform) = 0.083 at w = 0.278.
    expect(at(1, 5)['reverse_kl']).toBeLessThan(0.3)
  })
})
