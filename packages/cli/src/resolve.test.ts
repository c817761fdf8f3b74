import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ErrorCode, type OuroborosError } from '@ouroboros/core'
import { resolveRun } from './resolve.js'

describe('the data facts a run keeps', () => {
  it('keeps a cell’s own facts where its data differ from the first cell’s, and no copy where they do not', async () => {
    const base = { name: 'kinds', data: { kind: 'ring', n: 200 }, model: { kind: 'gmm', components: 8 }, generations: 1 }
    const kinds = await resolveRun({ ...base, sweep: { 'data.kind': ['ring', 'grid'] } }, 'kinds.json')
    expect(kinds.dataset.kind).toBe('ring')
    expect(kinds.cells[0]!.dataset).toBeUndefined()
    const grid = kinds.cells[1]!.dataset as { kind: string; modes: { k: number; centers: number[] } }
    expect(grid.kind).toBe('grid')
    // The grid's 25 modes at {−4, −2, 0, 2, 4}², as datasets define it.
    expect(grid.modes.k).toBe(25)
    const centres = new Set(Array.from({ length: 25 }, (_, i) => `${grid.modes.centers[2 * i]},${grid.modes.centers[2 * i + 1]}`))
    for (const x of [-4, -2, 0, 2, 4]) for (const y of [-4, -2, 0, 2, 4]) expect(centres.has(`${x},${y}`)).toBe(true)
    const policies = await resolveRun({ ...base, sweep: { 'policy.kind': ['replace', 'accumulate'] } }, 'policies.json')
    expect(policies.cells.map((c) => c.dataset)).toEqual([undefined, undefined])
  })

  it('keeps the training rows of data with a limit (the pool the real-data record is drawn from again), and none for data without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-resolve-'))
    try {
      // 50 rows, 10 % held out: 45 training rows.
      writeFileSync(join(dir, 'points.csv'), Array.from({ length: 50 }, (_, i) => `${i % 7},${i % 3}`).join('\n'))
      const file = await resolveRun({ data: { kind: 'vector-file', path: 'points.csv' }, model: { kind: 'kde' }, generations: 1 }, join(dir, 'own.json'))
      expect(file.dataset['pool']).toBe(45)
      // A generation larger than the pool: the real-data record takes the whole pool.
      expect(file.chains[0]!.referenceN).toBeUndefined()
      const more = await resolveRun({ data: { kind: 'vector-file', path: 'points.csv' }, model: { kind: 'kde' }, generations: 1, samplesPerGeneration: 100 }, join(dir, 'own.json'))
      expect([more.chains[0]!.samplesPerGeneration, more.chains[0]!.referenceN]).toEqual([100, 45])
      const ring = await resolveRun({ data: { kind: 'ring', n: 200 }, model: { kind: 'kde' }, generations: 1 }, join(dir, 'own.json'))
      expect(ring.dataset['pool']).toBeUndefined()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('data from a file', () => {
  it("takes a relative data.path from the config's folder, and holds out all of a small file's held-out lines by default", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-resolve-'))
    try {
      const corpus = Array.from({ length: 40 }, (_, i) => `sentence ${i} of the corpus`).join('\n')
      writeFileSync(join(dir, 'corpus.txt'), corpus)
      const raw = { data: { kind: 'text-file', path: 'corpus.txt' }, model: { kind: 'ngram' }, generations: 1 }
      const run = await resolveRun(raw, join(dir, 'own.json'))
      const chain = run.chains[0]!
      // The run records the file's SHA-256: a resume refuses a file that has changed.
      expect(chain.datasetParams).toEqual({ path: join(dir, 'corpus.txt'), heldoutFraction: 0.1, splitSeed: 0, sha256: createHash('sha256').update(corpus).digest('hex') })
      // 40 lines: 36 to train on (data.n's default), 4 held out; not the 1,000 of a larger pool.
      expect(chain.n).toBe(36)
      expect(chain.config.heldout).toBe(4)
      await expect(resolveRun({ ...raw, heldout: 5 }, join(dir, 'own.json'))).rejects.toThrow(/heldout: 5 is more than the 4 held-out samples the text-file data set aside/)
      // A finetuning task's file is found from the config's folder too, and pinned as the run's is.
      const taskText = Array.from({ length: 20 }, (_, i) => `task line ${i}`).join('\n')
      writeFileSync(join(dir, 'task.txt'), taskText)
      const task = { ...raw, posttrain: [{ kind: 'finetune', data: { kind: 'text-file', path: 'task.txt', n: 10 }, steps: 2 }] }
      const withTask = await resolveRun(task, join(dir, 'own.json'))
      expect(withTask.chains[0]!.tasks[0]!.datasetParams).toEqual({ path: join(dir, 'task.txt'), heldoutFraction: 0.1, splitSeed: 0, sha256: createHash('sha256').update(taskText).digest('hex') })
      // So is one in a sweep of the stage's whole data, and every cell's missing file is said at once.
      const taskData = (path: string) => ({ kind: 'text-file', path, n: 10 })
      const swept = await resolveRun({ ...task, sweep: { 'posttrain.0.data': [taskData('task.txt')] } }, join(dir, 'own.json'))
      expect(swept.chains[0]!.tasks[0]!.datasetParams['path']).toBe(join(dir, 'task.txt'))
      const missing = resolveRun({ ...task, sweep: { 'posttrain.0.data': [taskData('task.txt'), taskData('gone1.txt'), taskData('gone2.txt')] } }, join(dir, 'own.json'))
      await expect(missing).rejects.toThrow(new RegExp(`${join(dir, 'gone1.txt')}: no such file\n.*${join(dir, 'gone2.txt')}: no such file$`))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('data a model cannot take', () => {
  it('refuses the text models on data whose vocabulary has no <unk>, before a run, with a hint', async () => {
    for (const kind of ['transformer', 'charlm']) {
      const raw = { data: { kind: 'zipf' }, model: { kind }, generations: 1 }
      const err = await resolveRun(raw, 'zipf.json').then(() => undefined, (e: unknown) => e as OuroborosError)
      expect(err?.code, kind).toBe(ErrorCode.CONFIG)
      expect(err?.message, kind).toMatch(/^zipf\.json: model\.kind: .* needs a dataset vocabulary with a '<unk>' word.*; data\.kind 'zipf' has no '<unk>'$/)
      expect(err?.hint, kind).toBe("use data.kind 'brown', or 'text-file' for text of your own")
    }
  })

  it("takes a transformer's training text after generation 0 where fresh real sentences join its samples, whose lengths are the data's", async () => {
    const model = { kind: 'transformer', maxLength: 10 }
    // 4 samples of at most 11 tokens cannot fill a context of 64; under mix 0.5 two of the four rows are real sentences.
    await expect(resolveRun({ data: { kind: 'brown', n: 200 }, model, policy: { kind: 'mix', realFraction: 0.1 }, samplesPerGeneration: 4, generations: 2 }, 'm.json')).rejects.toThrow("policy 'mix'")
    await expect(resolveRun({ data: { kind: 'brown', n: 200 }, model, policy: { kind: 'mix', realFraction: 0.5 }, samplesPerGeneration: 4, generations: 2 }, 'm.json')).resolves.toBeDefined()
    await expect(resolveRun({ data: { kind: 'brown', n: 200 }, model, policy: { kind: 'fresh', nReal: 2, nSynthetic: 4 }, samplesPerGeneration: 4, generations: 2 }, 'm.json')).resolves.toBeDefined()
  })

  it("refuses a Bernoulli VAE on the ring's unbounded draws at model.likelihood, and takes it on MNIST's pixels", async () => {
    const vae = { kind: 'vae', likelihood: 'bernoulli', epochs: 1 }
    const err = await resolveRun({ data: { kind: 'ring', n: 200 }, model: vae, generations: 1 }, 'ring.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(err?.code).toBe(ErrorCode.CONFIG)
    expect(err?.message).toBe("ring.json: model.likelihood: 'bernoulli' needs data in [0, 1], and ring data are Gaussian draws, unbounded")
    expect(err?.hint).toMatch(/^use likelihood 'gaussian'/)
    await expect(resolveRun({ data: { kind: 'mnist', n: 200 }, model: vae, generations: 1 }, 'mnist.json')).resolves.toBeDefined()
  })

  it("refuses a dpo stage's batch of more pairs than the stage has, which a step took as all of them", async () => {
    const raw = { data: { kind: 'brown', n: 600 }, model: { kind: 'transformer', dModel: 32, heads: 2, ffn: 64, context: 16, steps: 20, warmup: 5 }, generations: 1, posttrain: [{ kind: 'dpo', reward: { kind: 'genre', genre: 'romance' }, beta: 0.1, pairs: 60, batch: 100 }] }
    await expect(resolveRun(raw, 'dpo.json')).rejects.toThrow("dpo.json: posttrain.0.batch: 100 pairs a step of the stage's 60 pairs: a step takes at most every pair once; give batch at most pairs (60), or more pairs")
    await expect(resolveRun({ ...raw, posttrain: [{ ...raw.posttrain[0], batch: 60 }] }, 'dpo.json')).resolves.toBeDefined()
  })

  it("says what keeps a stage's kind from training the model with the stage's other problems, not once they are mended", async () => {
    const values = [1, 0, 0, 0, 0, 0, 0, 0]
    // An rl stage made a dpo stage by its kind alone: its keys are wrong, and DPO cannot train a GMM.
    const raw = { data: { kind: 'ring', n: 200 }, model: { kind: 'gmm' }, generations: 1, posttrain: [{ kind: 'dpo', reward: { kind: 'modes', values }, beta: 0.1, samples: 100 }] }
    const err = await resolveRun(raw, 'dpo.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(err?.message.split('\n')).toEqual([
      "dpo.json: posttrain.0.samples: unknown key for kind 'dpo' (kind 'rl' takes it); expected one of kind, reward, loss, pairs, noise, beta, steps, lr, batch, evalEvery, evalSamples",
      "dpo.json: posttrain.0.kind: model 'gmm' has no trainer that takes signed weights with a log-likelihood of its samples, which DPO needs; use an rl stage (method 'refit') or best-of-n",
    ])
    // The same where the config parses and a data parameter is what is wrong; and a KDE refinetuned.
    const kde = { data: { kind: 'ring', n: 200, radius: -1 }, model: { kind: 'kde' }, generations: 1, posttrain: [{ kind: 'finetune', data: { weights: values } }] }
    const both = await resolveRun(kde, 'kde.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(both?.message).toContain('kde.json: data.radius: ')
    expect(both?.message).toContain("kde.json: posttrain.0.kind: model 'kde' cannot be finetuned (it has no trainer)")
  })

  it("says a reward of samples the model does not make with the reward's missing keys, for a gold reward and a reward model's", async () => {
    const text = { data: { kind: 'zipf', n: 200 }, model: { kind: 'ngram', order: 1 }, generations: 1 }
    const rl = await resolveRun({ ...text, posttrain: [{ kind: 'rl', reward: { kind: 'modes' } }] }, 'rl.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(rl?.message).toContain('rl.json: posttrain.0.reward.values: ')
    expect(rl?.message).toContain("rl.json: posttrain.0.reward.kind: 'modes' rewards vectors (by the nearest mode of ring or grid data), but model 'ngram' makes sentences")
    const ring = { data: { kind: 'ring', n: 200 }, model: { kind: 'gmm' }, generations: 1 }
    const proxy = await resolveRun({ ...ring, posttrain: [{ kind: 'best-of-n', n: 4, reward: { kind: 'proxy', of: { kind: 'length' } } }] }, 'bon.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(proxy?.message).toContain('bon.json: posttrain.0.reward.of.target: ')
    expect(proxy?.message).toContain("bon.json: posttrain.0.reward.of.kind: 'length' rewards sentences, but model 'gmm' makes vectors")
  })

  it('says of a model with no kind that a program is model.command, where its key is misspelt or beside a module', async () => {
    const data = { kind: 'ring', n: 200 }
    const misspelt = await resolveRun({ data, model: { comand: ['python3', 'm.py'] }, generations: 1 }, 'm.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(misspelt?.message).toContain('m.json: model.kind: missing (expected a string), or a program as model.command (did you mean "command" for "comand"?)')
    const both = await resolveRun({ data, model: { command: ['python3', 'm.py'], module: './m.mjs' }, generations: 1 }, 'b.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(both?.message).toContain("b.json: model.kind: missing (expected a string); model.command and model.module are two ways to give a model: a program, or a module's plug-in (with its kind); give one")
  })

  it('says of a policy or a filter with no kind which kinds there are and how a plug-in is given, once, with the config\'s other problems', async () => {
    const data = { kind: 'ring', n: 200 }
    const refused = (raw: Record<string, unknown>) => resolveRun({ data, model: { kind: 'kde' }, generations: 1, ...raw }, 'k.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect((await refused({ policy: { realFraction: 0.1 }, replicates: 0 }))?.message).toBe(
      'k.json: policy.kind: missing; expected one of the built-in policy kinds, replace, accumulate, accumulate-subsample, mix, fresh, or the id of a plug-in given with policy.module\nk.json: replicates: must be ≥ 1, got 0',
    )
    expect((await refused({ filter: { keep: 0.5 } }))?.message).toBe('k.json: filter.kind: missing; expected one of the built-in filter kinds, modes, likelihood, reward, or the id of a plug-in given with filter.module')
    expect((await refused({ policy: { module: './window.mjs', k: 2 } }))?.message).toBe('k.json: policy.kind: missing; expected the id of the plug-in of policy.module')
  })

  it("says where a metric group's option goes, and says a model.module that is no string once", async () => {
    const data = { kind: 'ring', n: 200 }
    const option = await resolveRun({ data, model: { kind: 'kde' }, generations: 1, metrics: [{ module: './x.mjs', power: 3 }] }, 'o.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(option?.message).toContain('o.json: metrics.0.power: unknown key; a metric group\'s options go in metricOptions, under the group\'s id (ID): "metricOptions": {"ID": {"power": ...}}')
    // Its options as an object: they are what goes under the id, not one level deeper.
    const nested = await resolveRun({ data, model: { kind: 'kde' }, generations: 1, metrics: [{ module: './x.mjs', options: { power: 2 } }] }, 'p.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(nested?.message).toContain('p.json: metrics.0.options: unknown key; a metric group\'s options go in metricOptions, under the group\'s id (ID): "metricOptions": {"ID": {"power":2}}')
    const module = await resolveRun({ data, model: { kind: 'f32', module: 42 }, generations: 1 }, 'n.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(module?.message).toBe('n.json: model.module: expected a string, got 42')
  })

  it("names the policy whose fresh real samples a generation are more than the data's pool", async () => {
    const raw = { data: { kind: 'mnist', n: 200 }, model: { kind: 'gmm', components: 2 }, generations: 2, policy: { kind: 'fresh', nReal: 50_000, nSynthetic: 10 } }
    await expect(resolveRun(raw, 'fresh.json')).rejects.toThrow(/^fresh\.json: policy: 50000 fresh real samples a generation \(fresh\(nReal=50000, nSynthetic=10\)\) is more than the \d+ real samples/)
  })
})

describe('metric groups the data cannot serve', () => {
  it('refuses a named group whose needs the data do not give, before a run, naming the group and the data', async () => {
    const cases = [
      { raw: { data: { kind: 'zipf', n: 200 }, model: { kind: 'ngram' }, metrics: ['genres'] }, message: "metrics.0: 'genres' needs text in genres, which data.kind 'zipf' does not give" },
      { raw: { data: { kind: 'ring', n: 200 }, model: { kind: 'gmm' }, metrics: ['moments', 'classifier'] }, message: "metrics.1: 'classifier' needs labelled images, which data.kind 'ring' does not give" },
      { raw: { data: { kind: 'gaussian', n: 200 }, model: { kind: 'gmm' }, metrics: ['modes'] }, message: "metrics.0: 'modes' needs mode centres, which data.kind 'gaussian' does not give" },
    ]
    for (const { raw, message } of cases) {
      const err = await resolveRun({ ...raw, generations: 1 }, 'own.json').then(() => undefined, (e: unknown) => e as OuroborosError)
      expect(err?.code, message).toBe(ErrorCode.CONFIG)
      expect(err?.message).toBe(`own.json: ${message}`)
    }
  })
})

describe('the metric groups a run gets by default', () => {
  it("scores a finetuning stage's task, which the report sets against diversity, and only where there is one", async () => {
    const ring = { data: { kind: 'ring', n: 200 }, model: { kind: 'gmm' }, generations: 1 }
    const finetune = [{ kind: 'finetune', data: { weights: [1, 1, 0, 0, 0, 0, 0, 0] }, steps: 2 }]
    expect((await resolveRun({ ...ring, posttrain: finetune }, 'own.json')).metrics).toContain('task')
    expect((await resolveRun(ring, 'own.json')).metrics).not.toContain('task')
    const zipf = { data: { kind: 'zipf', n: 200 }, model: { kind: 'ngram' }, generations: 1, posttrain: [{ kind: 'finetune', data: {}, steps: 2 }] }
    expect((await resolveRun(zipf, 'own.json')).metrics).toContain('task_text')
  })

  it('refuses a task group named without a finetuning stage, whose values would be null in every record', async () => {
    const ring = { data: { kind: 'ring', n: 200 }, model: { kind: 'gmm' }, generations: 1, metrics: ['modes', 'task'] }
    await expect(resolveRun(ring, 'own.json')).rejects.toThrow("own.json: metrics.1: 'task' needs a finetuning task, which no stage of posttrain gives")
    const rl = [{ kind: 'rl', reward: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }, beta: 1, steps: 2 }]
    await expect(resolveRun({ ...ring, posttrain: rl }, 'own.json')).rejects.toThrow("'task' needs a finetuning task")
    const finetune = [{ kind: 'finetune', data: { weights: [1, 1, 0, 0, 0, 0, 0, 0] }, steps: 2 }]
    expect((await resolveRun({ ...ring, posttrain: finetune }, 'own.json')).metrics).toEqual(['modes', 'task'])
  })
})

describe('a finetuning task of other data', () => {
  it("refuses a task whose vectors have another dimension than the run's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-resolve-'))
    try {
      writeFileSync(join(dir, 'points.csv'), Array.from({ length: 20 }, (_, i) => `${i},${i % 3},${i % 5}`).join('\n'))
      const raw = { data: { kind: 'ring', n: 200 }, model: { kind: 'gmm' }, generations: 1, posttrain: [{ kind: 'finetune', data: { kind: 'vector-file', path: 'points.csv', n: 10 }, steps: 2 }] }
      const err = await resolveRun(raw, join(dir, 'own.json')).then(() => undefined, (e: unknown) => e as OuroborosError)
      expect(err?.code).toBe(ErrorCode.CONFIG)
      expect(err?.message).toBe(`${join(dir, 'own.json')}: posttrain.0.data: the task's data have 3 dimensions, the run's 2`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("refuses a task with words the run's vocabulary lacks when it has no '<unk>' to read them as", async () => {
    const raw = { data: { kind: 'zipf', vocabSize: 50 }, model: { kind: 'ngram' }, generations: 1, posttrain: [{ kind: 'finetune', data: { vocabSize: 60 }, steps: 2 }] }
    const err = await resolveRun(raw, 'own.json').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(err?.code).toBe(ErrorCode.CONFIG)
    expect(err?.message).toMatch(/^own\.json: posttrain\.0\.data: the task has words the run's data do not \('.+'\), and no '<unk>' to read them as$/)
    // The same words in a smaller vocabulary are all the run's.
    await expect(resolveRun({ ...raw, posttrain: [{ kind: 'finetune', data: { vocabSize: 40 }, steps: 2 }] }, 'own.json')).resolves.toBeDefined()
  })

  it("takes all of a task file smaller than the run's data by default, and as many as the run's data.n from a larger pool", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-resolve-'))
    try {
      writeFileSync(join(dir, 'task.csv'), Array.from({ length: 50 }, (_, i) => `${i % 7},${i % 3}`).join('\n'))
      const stage = (data: Record<string, unknown>) => ({ data: { kind: 'ring', n: 200 }, model: { kind: 'gmm' }, generations: 1, posttrain: [{ kind: 'finetune', data, steps: 2 }] })
      // 50 rows, 10 % held out: 45 to train on.
      const file = await resolveRun(stage({ kind: 'vector-file', path: 'task.csv' }), join(dir, 'own.json'))
      expect(file.chains[0]!.tasks.map((t) => [t.n, t.heldout])).toEqual([[45, 5]])
      await expect(resolveRun(stage({ kind: 'vector-file', path: 'task.csv', n: 46 }), join(dir, 'own.json'))).rejects.toThrow('posttrain.0.data.n: 46 task items is more than the 45 this task\'s data hold')
      const ring = await resolveRun(stage({ weights: [1, 1, 0, 0, 0, 0, 0, 0] }), join(dir, 'own.json'))
      expect(ring.chains[0]!.tasks[0]!.n).toBe(200)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('says once a problem found alike in every sweep cell, and per cell one that the swept values make', async () => {
    const ring = { data: { kind: 'ring', n: 200 }, generations: 1 }
    const refusal = (config: object) => resolveRun(config, 'sweep.json').then(() => '', (e: Error) => e.message)
    // A misspelt key swept, or misspelt beside a swept key of its object: no swept value mends it.
    expect(await refusal({ ...ring, model: { kind: 'gmm' }, sweep: { 'model.componets': [2, 4], seed: [1, 2] } })).toBe('sweep.json: model.componets: unknown key; did you mean "components"?')
    expect(await refusal({ ...ring, model: { kind: 'gmm', componets: 3 }, sweep: { 'model.tol': [0.1, 0.01] } })).toBe('sweep.json: model.componets: unknown key; did you mean "components"?')
    // Bad values: each cell that has one, and not the cell that has none.
    expect((await refusal({ ...ring, model: { kind: 'gmm' }, sweep: { 'model.components': [2, 'eight', 'nine'] } })).split('\n')).toEqual([
      'sweep.json (sweep cell model.components=eight): model.components: expected a number, got "eight"',
      'sweep.json (sweep cell model.components=nine): model.components: expected a number, got "nine"',
    ])
  })

  it('says how to give each swept kind its own keys, where a key of one is unknown to another', async () => {
    const ring = { data: { kind: 'ring', n: 200 }, generations: 1 }
    // A GMM's `components` in a sweep of the model's kind: unknown to the KDE.
    await expect(resolveRun({ ...ring, model: { kind: 'gmm', components: 8 }, sweep: { 'model.kind': ['gmm', 'kde'] } }, 'kinds.json')).rejects.toThrow(
      'kinds.json (sweep cell model.kind=kde): model.components: unknown key; expected one of kind, module, bandwidth; if another swept kind takes it, sweep the whole "model" instead',
    )
    // Without a swept kind, an unknown key is only that.
    await expect(resolveRun({ ...ring, model: { kind: 'kde', components: 8 } }, 'kde.json')).rejects.toThrow(/^kde\.json: model\.components: unknown key; expected one of kind, module, bandwidth$/)
    // A stage's kinds are one schema's: the message names the kind that takes the key.
    const stages = { data: { kind: 'zipf', n: 200 }, model: { kind: 'transformer' }, generations: 1, posttrain: [{ kind: 'rl', reward: { kind: 'length', target: 5 }, beta: 0.1, pairs: 10 }], sweep: { 'posttrain.0.kind': ['rl', 'dpo'] } }
    await expect(resolveRun(stages, 'stages.json')).rejects.toThrow(
      /^stages\.json: posttrain\.0\.pairs: unknown key for kind 'rl' \(kind 'dpo' takes it\); expected one of kind, reward, .*; sweep the whole "posttrain\.0" instead, each value/,
    )
  })

  it("lists a GAN's keys for an unknown one, as a VAE's or a GMM's", async () => {
    const raw = { data: { kind: 'ring', n: 200 }, model: { kind: 'gan', hidden: [64] }, generations: 1 }
    await expect(resolveRun(raw, 'gan.json')).rejects.toThrow(/^gan\.json: model\.hidden: unknown key; expected one of kind, module, loss, steps, .*generator, discriminator, .*evalSamples$/)
  })

  it("says that a command model's own parameters go in model.params, where a key beside command is unknown", async () => {
    const raw = { data: { kind: 'ring', n: 200 }, model: { command: ['python3', 'm.py'], mode: 'ok' }, generations: 1 }
    // Not "did you mean module": a package's module is no key of a model in another process.
    await expect(resolveRun(raw, 'cm.json')).rejects.toThrow("cm.json: model.mode: unknown key; expected one of kind, command, cwd, timeoutMs, params (the program's own parameters go in model.params)")
  })

  it("names the keys the task's data take when one is unknown", async () => {
    const raw = { data: { kind: 'gaussian', n: 200 }, model: { kind: 'gmm' }, generations: 1, posttrain: [{ kind: 'finetune', data: { weights: [1, 0] }, steps: 5 }] }
    await expect(resolveRun(raw, 'own.json')).rejects.toThrow('own.json: posttrain.0.data.weights: unknown key; expected one of kind, module, n, d, mean, std')
  })
})

describe('a problem of the config in a sweep', () => {
  const mnist = { data: { kind: 'mnist', n: 20000 }, model: { kind: 'gmm' }, generations: 1 }
  it('is said once, of the config, where every cell has it', async () => {
    await expect(resolveRun({ ...mnist, sweep: { 'model.components': [2, 3] } }, 'all.json')).rejects.toThrow(/^all\.json: data\.n: 20000 is more than the 9000 real samples/)
  })

  it("is said of its cell where another cell passes, first or later", async () => {
    const cells = (sizes: number[]) => ({ ...mnist, sweep: { 'data.n': sizes } })
    await expect(resolveRun(cells([20000, 100]), 'some.json')).rejects.toThrow(/^some\.json \(sweep cell data\.n=20000\): data\.n: 20000 is more than/)
    await expect(resolveRun(cells([100, 20000]), 'some.json')).rejects.toThrow(/^some\.json \(sweep cell data\.n=20000\): data\.n/)
  })

  it('says of a swept path into a list which elements the list has', async () => {
    const ring = { data: { kind: 'ring', n: 200 }, model: { kind: 'gmm' }, generations: 1 }
    await expect(resolveRun({ ...ring, sweep: { 'posttrain.0.beta': [0.1, 0.2] } }, 'none.json')).rejects.toThrow(
      'none.json: sweep.posttrain.0.beta: no such config path (posttrain is an empty list, with no element 0; a sweep sets values in its elements but adds none: give the element in posttrain)',
    )
    const stage = { ...ring, posttrain: [{ kind: 'finetune', steps: 2, data: { kind: 'ring' } }] }
    await expect(resolveRun({ ...stage, sweep: { 'posttrain.3.steps': [1, 2] } }, 'past.json')).rejects.toThrow('past.json: sweep.posttrain.3.steps: no such config path (posttrain has 1 element, at index 0: there is no posttrain.3)')
    // Not "top-level key "sweep" does not exist; did you mean "sweep"?".
    await expect(resolveRun({ ...stage, sweep: { sweep: [{}] } }, 'self.json')).rejects.toThrow('self.json: sweep.sweep: a sweep cannot sweep itself')
    const two = { ...stage, posttrain: [stage.posttrain[0], stage.posttrain[0]] }
    await expect(resolveRun({ ...two, sweep: { 'posttrain.first.steps': [1] } }, 'name.json')).rejects.toThrow('(posttrain has 2 elements, at indices 0 to 1: there is no posttrain.first)')
  })
})
