import { describe, expect, it } from 'vitest'
import { resolveRun } from './resolve.js'
import { validateOutput } from './validate-command.js'

describe('validate on a terminal', () => {
  it('writes swept specs and stage options in words, each cell with its values', async () => {
    const raw = {
      name: 'words',
      data: { kind: 'ring' },
      model: { kind: 'gmm', components: 8 },
      generations: 2,
      posttrain: [{ kind: 'rl', reward: { kind: 'proxy', of: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }, labels: 50 }, beta: 0.5, steps: 3 }],
      sweep: { policy: [{ kind: 'replace' }, { kind: 'mix', realFraction: 0.2 }] },
    }
    const lines = validateOutput(await resolveRun(raw, 'words.json'), 'words.json', false).split('\n')
    expect(lines).toContain('  cells        2: policy (replace, mix(realFraction=0.2))')
    expect(lines).toContain('               c1  policy=mix(realFraction=0.2)')
    const stage = lines.find((l) => l.startsWith('  posttrain'))
    // A long value is cut within 60 characters, after a whole item (never inside labels=50), its open bracket closed.
    expect(stage).toContain('0  rl: reward proxy(of=modes(values=[1, 0, 0, 0, 0, 0, 0, 0]), ...), beta 0.5, steps 3')
  })

  it('counts the values of a swept key where cutting them short would make two read alike', async () => {
    const proxy = (members: number) => ({ kind: 'proxy', of: { kind: 'modes', values: [1, 0.5, 0, 0, 0, 0, 0, 0] }, labels: 50, members })
    const raw = { data: { kind: 'ring' }, model: { kind: 'gmm' }, generations: 1, posttrain: [{ kind: 'rl', reward: proxy(1), beta: 0.5, steps: 3 }], sweep: { 'posttrain.0.reward': [proxy(1), proxy(5)], 'posttrain.0.beta': [0.5, 0.1] } }
    const lines = validateOutput(await resolveRun(raw, 'r.json'), 'r.json', false).split('\n')
    expect(lines).toContain("  cells        4: posttrain.0.reward (2 values, each in full on its cells' lines) × posttrain.0.beta (0.5, 0.1)")
    expect(lines.some((l) => l.includes('c3  ') && l.includes('members=5'))).toBe(true)
  })

  it("labels a cell's swept specs in words, as validate's lines and the report say them", async () => {
    const raw = { data: { kind: 'gaussian' }, model: { kind: 'gmm' }, generations: 2, sweep: { policy: [{ kind: 'mix', realFraction: 0.2 }, { kind: 'replace' }], 'model.components': [2] } }
    const run = await resolveRun(raw, 's.json')
    expect(run.cells.map((c) => c.label)).toEqual(['policy=mix(realFraction=0.2), model.components=2', 'policy=replace, model.components=2'])
  })

  it("names the swept paths in the config's order, as the cells' labels do, the last varying fastest", async () => {
    const raw = { data: { kind: 'gaussian' }, model: { kind: 'gmm' }, generations: 1, sweep: { 'policy.kind': ['replace', 'accumulate'], 'model.components': [2, 3] } }
    const lines = validateOutput(await resolveRun(raw, 's.json'), 's.json', false).split('\n')
    expect(lines).toContain('  cells        4: policy.kind (replace, accumulate) × model.components (2, 3)')
    expect(lines).toContain('               c0  policy.kind=replace, model.components=2')
    expect(lines).toContain('               c1  policy.kind=replace, model.components=3')
    expect(lines).toContain('               c2  policy.kind=accumulate, model.components=2')
  })

  it('lists, where the data kind is swept, only the parameters every kind shares', async () => {
    // A ring has 8 modes of std 0.02 and a grid 25 of std 0.05 (their defaults): neither is the run's.
    const raw = { data: { kind: 'ring', n: 500 }, model: { kind: 'gmm' }, generations: 1, sweep: { 'data.kind': ['ring', 'grid'] } }
    const resolved = await resolveRun(raw, 'k.json')
    const cells = JSON.parse(validateOutput(resolved, 'k.json', true)).cells as { config: { data: { std: number; modes?: number } } }[]
    expect(cells.map((c) => c.config.data.std)).toEqual([0.02, 0.05])
    const line = validateOutput(resolved, 'k.json', false).split('\n').find((l) => l.startsWith('  data '))
    expect(line).toBe('  data         kind swept, n 500, others by kind (see the cells, or --json)')
  })

  it("sweeps a stage's kind over keys both kinds take, without the defaults the first kind filled in", async () => {
    const stage = { kind: 'rl', reward: { kind: 'genre', genre: 'romance' }, beta: 0.1, steps: 2 }
    const raw = { data: { kind: 'brown', n: 200 }, model: { kind: 'transformer', steps: 2, warmup: 1 }, generations: 1, posttrain: [stage], sweep: { 'posttrain.0.kind': ['rl', 'dpo'] } }
    const resolved = await resolveRun(raw, 'k.json')
    const stages = resolved.chains.map((c) => c.config.posttrain[0] as Record<string, unknown>)
    // rl's default method, and dpo's default loss, each in its own cell only.
    expect(stages.map((s) => [s['kind'], s['method'], s['loss']])).toEqual([
      ['rl', 'auto', undefined],
      ['dpo', undefined, 'sigmoid'],
    ])
    const line = validateOutput(resolved, 'k.json', false).split('\n').find((l) => l.startsWith('  posttrain'))
    expect(line).toBe('  posttrain    0  kind swept, reward genre(genre=romance), beta 0.1, steps 2, evalEvery 25, others by kind (see the cells, or --json)')
  })

  it('counts the samples a filter keeps, and says that it draws more', async () => {
    const raw = { data: { kind: 'ring', n: 100 }, model: { kind: 'kde' }, generations: 3, replicates: 2 }
    const samples = async (config: object) => validateOutput(await resolveRun(config, 'f.json'), 'f.json', false).split('\n').find((l) => l.startsWith('  samples'))
    // 2 chains × 3 generations × 100 samples.
    expect(await samples(raw)).toBe('  samples      100 per generation, 600 in all')
    // The likelihood filter draws 100 / 0.5 = 200 a generation to keep 100.
    expect(await samples({ ...raw, filter: { kind: 'likelihood', keep: 0.5 } })).toBe('  samples      100 per generation, 600 in all (kept by the filter from more draws)')
  })

  it('counts the generations, chains and samples of each cell where a sweep sets them', async () => {
    // No model outside the sweep: each cell has its own.
    const raw = { data: { kind: 'ring', n: 100 }, sweep: { model: [{ kind: 'gmm' }, { kind: 'kde' }], generations: [2, 3], replicates: [1, 2] } }
    const lines = validateOutput(await resolveRun(raw, 's.json'), 's.json', false).split('\n')
    const line = (key: string) => lines.find((l) => l.startsWith(`  ${key} `))
    // Each model has cells of 2 and 3 generations, with 1 and 2 replicates: 2 × (1 + 2) chains of each length.
    expect(line('chains')).toBe('  chains       12 (1 or 2 replicates per cell, run seed 0)')
    expect(line('generations')).toBe('  generations  2 or 3 per chain, 30 in all (generation 0 fit on real data)')
    expect(line('samples')).toBe('  samples      100 per generation, 3,000 in all')
    expect(line('model')).toBe('  model        swept')
  })

  it('shows a sweep of one value as one, and the seeds a sweep of seed gives', async () => {
    const one = { data: { kind: 'gaussian', n: 20 }, model: { kind: 'gmm', components: 2 }, generations: 1, sweep: { 'model.components': [3], seed: [3] } }
    const lines = validateOutput(await resolveRun(one, 'o.json'), 'o.json', false).split('\n')
    const line = (key: string) => lines.find((l) => l.startsWith(`  ${key} `))
    expect(line('cells')).toBe('  cells        1: model.components (3) × seed (3)')
    expect(line('chains')).toBe('  chains       1 (1 replicate per cell, run seed 3)')
    const two = validateOutput(await resolveRun({ ...one, sweep: { seed: [3, 5] } }, 't.json'), 't.json', false).split('\n')
    expect(two.find((l) => l.startsWith('  chains '))).toBe('  chains       2 (1 replicate per cell, run seed by cell, 3, 5)')
  })

  it("takes a stage's required key from the sweep that gives it whole, and names it missing otherwise", async () => {
    const reward = (members: number) => ({ kind: 'proxy', of: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }, labels: 20, members })
    const raw = { data: { kind: 'ring', n: 100 }, model: { kind: 'gmm' }, generations: 1, posttrain: [{ kind: 'rl', beta: 0.5, steps: 2 }] }
    const swept = await resolveRun({ ...raw, sweep: { 'posttrain.0.reward': [reward(1), reward(3)] } }, 'r.json')
    expect(swept.chains.map((c) => (c.config.posttrain[0] as { reward: { members: number } }).reward.members)).toEqual([1, 3])
    expect(validateOutput(swept, 'r.json', false)).toContain('0  rl: reward swept, beta 0.5, steps 2')
    await expect(resolveRun({ ...raw, sweep: { 'posttrain.0.beta': [0.1, 1] } }, 'r.json')).rejects.toThrow('r.json: posttrain.0.reward: missing (expected an object)')
  })
})
