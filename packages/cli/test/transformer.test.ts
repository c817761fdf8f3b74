import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, cliAsync, records, signalAfterRecords, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

// A tiny transformer on Brown sentences on the cpu backend, where tfjs is deterministic: the
// records must not depend on the worker count or on a kill and resume.
const env = { OUROBOROS_BACKEND: 'cpu' }
const config = {
  name: 'tiny-transformer',
  data: { kind: 'brown', n: 120 },
  model: { kind: 'transformer', context: 8, layers: 1, heads: 2, dModel: 8, ffn: 16, maxVocab: 200, steps: 12, batch: 4, warmup: 3, evalEvery: 6 },
  policy: { kind: 'mix', realFraction: 0.25 },
  generations: 4,
  samplesPerGeneration: 120,
  replicates: 1,
  seed: 5,
  heldout: 40,
  metrics: ['text', 'perplexity'],
}

describe('transformer runs', () => {
  let expected: ReturnType<typeof records> | undefined
  const uninterrupted = (dir: string): ReturnType<typeof records> => {
    const a = cli(['run', writeConfig(dir, config), '--out', `${dir}/a`, '--workers', '1'], { env })
    expect(a.status, a.stderr).toBe(0)
    return records(`${dir}/a`)
  }

  it('give identical records with 1 and 2 workers, with training curves', { timeout: 120_000 }, () => {
    const dir = tempDir()
    expected = uninterrupted(dir)
    expect(expected.map((r) => r.generation)).toEqual([-1, 0, 1, 2, 3])
    for (const r of expected.filter((x) => x.generation >= 0)) expect(r.metrics['perplexity_real']).toBeGreaterThan(1)
    // The loss every evalEvery steps.
    const curve = readFileSync(`${dir}/a/chains/r0/gen-000000.training.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; losses: { loss: number } })
    expect(curve.map((l) => l.step)).toEqual([6, 12])
    const b = cli(['run', writeConfig(dir, config), '--out', `${dir}/b`, '--workers', '2'], { env })
    expect(b.status, b.stderr).toBe(0)
    expect(records(`${dir}/b`)).toEqual(expected)
  })

  it('give the records of an uninterrupted run after kill -9 and resume', { timeout: 120_000 }, async () => {
    const dir = tempDir()
    expected ??= uninterrupted(dir)
    const child = cliAsync(['run', writeConfig(dir, config), '--out', `${dir}/killed`, '--workers', '2'], env)
    await signalAfterRecords(child, `${dir}/killed`, 2, 'SIGKILL')
    expect(child.signalCode).toBe('SIGKILL')
    const resumed = cli(['resume', `${dir}/killed`, '--workers', '2'], { env })
    expect(resumed.status, resumed.stderr).toBe(0)
    // The backend is announced once, not once per worker.
    expect(resumed.stderr.match(/tfjs backend/g), resumed.stderr).toHaveLength(1)
    expect(records(`${dir}/killed`)).toEqual(expected)
  })
})

describe('transformer RL', () => {
  it('is trained by policy gradient: the reward of its samples rises along the curve', { timeout: 120_000 }, () => {
    const dir = tempDir()
    const rl = {
      ...config,
      name: 'tiny-transformer-rl',
      // Sentences of "the" over and over grow to maxLength, each word a pass of the model: kept short.
      model: { ...config.model, maxLength: 24 },
      generations: 1,
      policy: { kind: 'replace' },
      // Reward: how often a sentence says "the"; a small KL weight, so the optimum says it far more.
      posttrain: [{ kind: 'rl', method: 'policy-gradient', beta: 0.01, lr: 0.03, batch: 32, steps: 30, evalEvery: 15, evalSamples: 200, reward: { kind: 'lexicon', words: ['the'] } }],
    }
    const res = cli(['run', writeConfig(dir, rl), '--out', `${dir}/run`], { env })
    expect(res.status, res.stderr).toBe(0)
    type Point = { step: number; reward: number; kl: number; metrics: Record<string, number> }
    const curve = readFileSync(`${dir}/run/chains/r0/gen-000000.posttrain.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Point)
    expect(curve.map((p) => p.step)).toEqual([0, 15, 30])
    const reward = curve.map((p) => p.reward)
    expect(reward[2]!, JSON.stringify(reward)).toBeGreaterThan(reward[0]! + 0.5)
    expect(curve[2]!.kl).toBeGreaterThan(0)
    // Reward hacking: the samples say "the" over and over, and their variety goes.
    expect(curve[2]!.metrics['distinct_2']!).toBeLessThan(curve[0]!.metrics['distinct_2']!)
  })
})

describe('transformer DPO', () => {
  it('is trained on preferences: the reward of its samples rises, the DPO loss falls, and records do not depend on the worker count', { timeout: 180_000 }, () => {
    const dir = tempDir()
    const dpo = {
      ...config,
      name: 'tiny-transformer-dpo',
      model: { ...config.model, maxLength: 24 },
      generations: 1,
      policy: { kind: 'replace' },
      // Pairs of the pretrained model's sentences, the one that says "the" more preferred (Bradley–Terry).
      posttrain: [{ kind: 'dpo', beta: 0.1, lr: 0.03, pairs: 200, batch: 32, steps: 30, evalEvery: 15, evalSamples: 200, reward: { kind: 'lexicon', words: ['the'] } }],
    }
    const file = writeConfig(dir, dpo)
    const res = cli(['run', file, '--out', `${dir}/a`, '--workers', '1'], { env })
    expect(res.status, res.stderr).toBe(0)
    type Point = { step: number; kind: string; reward: number; kl: number; losses: Record<string, number>; reward_description?: string }
    const curve = readFileSync(`${dir}/a/chains/r0/gen-000000.posttrain.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Point)
    expect(curve.map((p) => [p.kind, p.step])).toEqual([['dpo', 0], ['dpo', 15], ['dpo', 30]])
    expect(curve[0]!.reward_description).toBe("200 pairs of the stage's input, each labelled by a Bradley–Terry preference scored by lexicon of 1 word (the), their values summed over a sentence")
    // The mean count of "the" on 200 samples, about 0.15 at the start: its standard error is about 0.03.
    const reward = curve.map((p) => p.reward)
    expect(reward[2]!, JSON.stringify(reward)).toBeGreaterThan(reward[0]! + 0.2)
    expect(curve[2]!.kl).toBeGreaterThan(0)
    // The loss starts at ln 2 (π = π_ref: every margin 0) and falls as the margins grow.
    expect(curve[1]!.losses['preference_loss']!).toBeLessThan(Math.log(2))
    expect(curve[2]!.losses['preference_loss']!).toBeLessThan(curve[1]!.losses['preference_loss']!)
    const b = cli(['run', file, '--out', `${dir}/b`, '--workers', '2'], { env })
    expect(b.status, b.stderr).toBe(0)
    expect(records(`${dir}/b`)).toEqual(records(`${dir}/a`))
  })
})
