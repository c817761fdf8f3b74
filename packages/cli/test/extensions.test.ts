import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readSamples } from '@ouroboros/store'
import { cleanup, cli, records, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

const WORKSPACE = fileURLToPath(new URL('../../../', import.meta.url))
const TSC = join(WORKSPACE, 'node_modules/typescript/bin/tsc')

/**
 * Packages a researcher would write outside this workspace, one of each kind, installed in a
 * project's node_modules: a model (the README's), a dataset and a metric group.
 */
const sources: Record<string, { exports: unknown; index: string }> = {
  'model-mean': {
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    index: `import { z } from 'zod'
import { defineModel, asVectors, vectors } from '@ouroboros/core'

export const model = defineModel({
  id: 'mean-only',
  modality: 'vectors',
  description: 'a point mass at the training mean',
  params: z.strictObject({ jitter: z.number().min(0).default(0) }),
  acceptsTemperature: false,
  fit(data, params) {
    const x = asVectors(data)
    const mean = new Float64Array(x.d)
    for (let i = 0; i < x.n; i++) for (let j = 0; j < x.d; j++) mean[j]! += x.data[i * x.d + j]! / x.n
    return { mean, jitter: params.jitter }
  },
  sample(state, n, ctx) {
    const d = state.mean.length
    const out = new Float64Array(n * d)
    for (let i = 0; i < n * d; i++) out[i] = state.mean[i % d]! + state.jitter * ctx.rng.normal()
    return vectors(n, d, out)
  },
})

export default model
`,
  },
  'dataset-shifted': {
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    index: `import { z } from 'zod'
import { defineDataset, vectors } from '@ouroboros/core'

export default defineDataset({
  id: 'shifted',
  modality: 'vectors',
  description: 'standard normal points shifted by a constant',
  params: z.strictObject({ d: z.int().min(1).default(2), shift: z.number() }),
  create(params) {
    return {
      info: { kind: 'shifted', modality: 'vectors', d: params.d },
      sample(n, rng) {
        const out = rng.fillNormal(new Float64Array(n * params.d), params.shift, 1)
        return vectors(n, params.d, out)
      },
    }
  },
})
`,
  },
  // Exported for import only: found by the resolver's own reading of "exports".
  'metric-first-mean': {
    exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
    index: `import { z } from 'zod'
import { asVectors, defineMetric } from '@ouroboros/core'

export default defineMetric({
  id: 'first-mean',
  modality: 'vectors',
  description: 'mean of the first coordinate of the generated samples',
  outputs: ['first_mean'],
  options: z.strictObject({ scale: z.number().default(1) }),
  compute({ generated, options }) {
    const g = asVectors(generated)
    let sum = 0
    for (let i = 0; i < g.n; i++) sum += g.data[i * g.d]!
    return { first_mean: (options.scale * sum) / g.n }
  },
})
`,
  },
}

let project: string

beforeAll(() => {
  project = tempDir('ouroboros-project-')
  const modules = join(project, 'node_modules')
  mkdirSync(join(modules, '@ouroboros'), { recursive: true })
  // What `npm install` of the Ouroboros packages would give the project.
  symlinkSync(join(WORKSPACE, 'packages/core'), join(modules, '@ouroboros/core'))
  symlinkSync(realpathSync(join(WORKSPACE, 'packages/core/node_modules/zod')), join(modules, 'zod'))
  for (const [name, { exports, index }] of Object.entries(sources)) {
    const dir = join(modules, '@lab', name)
    mkdirSync(join(dir, 'src'), { recursive: true })
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `@lab/${name}`, version: '1.2.3', type: 'module', exports }))
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, skipLibCheck: true, types: [], rootDir: 'src', outDir: 'dist', declaration: true },
        include: ['src'],
      }),
    )
    writeFileSync(join(dir, 'src/index.ts'), index)
  }
  const built = spawnSync(process.execPath, [TSC, '-b', ...Object.keys(sources).map((name) => join(modules, '@lab', name))], { encoding: 'utf8' })
  expect(built.status, built.stdout + built.stderr).toBe(0)
}, 120_000)

describe('plug-ins from outside the workspace, by package name', () => {
  it('runs a config whose model, dataset and metric group are packages of the config’s project, in worker threads', () => {
    const config = writeConfig(project, {
      name: 'external',
      data: { kind: 'shifted', module: '@lab/dataset-shifted', shift: 3, n: 50 },
      model: { kind: 'mean-only', module: '@lab/model-mean' },
      metrics: [{ module: '@lab/metric-first-mean' }, 'moments'],
      metricOptions: { 'first-mean': { scale: 2 } },
      generations: 3,
      replicates: 2,
    })
    // From another directory: names are looked up from the config file's directory.
    const res = cli(['run', config, '--out', join(project, 'run'), '--workers', '2'], { cwd: WORKSPACE })
    expect(res.status, res.stderr).toBe(0)
    const run = JSON.parse(readFileSync(join(project, 'run/run.json'), 'utf8'))
    expect(run.packages).toMatchObject({ '@lab/model-mean': '1.2.3', '@lab/dataset-shifted': '1.2.3', '@lab/metric-first-mean': '1.2.3' })
    expect(run.metricOptions['first-mean']).toEqual({ scale: 2 })
    const recs = records(join(project, 'run'))
    for (const r of [0, 1]) {
      // The point mass sits at the real data's mean: computed here from the chain's real.npy.
      const real = readSamples(join(project, `run/chains/r${r}/real.npy`))
      if (real.modality !== 'vectors') throw new Error('vectors expected')
      expect(real.n).toBe(50)
      let sum = 0
      for (let i = 0; i < real.n; i++) sum += real.data[i * real.d]!
      const chain = recs.filter((x) => x.replicate === r && x.generation >= 0)
      expect(chain).toHaveLength(3)
      for (const x of chain) {
        expect(x.metrics['first_mean']).toBeCloseTo((2 * sum) / real.n, 12)
        // A point mass has no spread.
        expect(x.metrics['total_variance']).toBeCloseTo(0, 20)
      }
    }
    // The real data are shifted by 3: generation -1 scores fresh real samples.
    const reference = recs.filter((x) => x.generation === -1)
    for (const x of reference) expect(Math.abs(x.metrics['first_mean']! / 2 - 3)).toBeLessThan(0.5)
  })

  it('loads plug-ins by path relative to the config file, and a resume finds them from the run directory', () => {
    const sub = join(project, 'configs')
    mkdirSync(sub, { recursive: true })
    const config = writeConfig(sub, {
      data: { kind: 'shifted', module: '../node_modules/@lab/dataset-shifted/dist/index.js', shift: -1, n: 20 },
      model: { kind: 'mean-only', module: '../node_modules/@lab/model-mean/dist/index.js' },
      metrics: [{ module: '../node_modules/@lab/metric-first-mean/dist/index.js' }],
      generations: 2,
    })
    const validate = cli(['validate', config, '--json'], { cwd: WORKSPACE })
    expect(validate.status, validate.stderr).toBe(0)
    const resolved = JSON.parse(validate.stdout).config
    expect(resolved.model.module).toBe(join(project, 'node_modules/@lab/model-mean/dist/index.js'))
    expect(resolved.data.module).toBe(join(project, 'node_modules/@lab/dataset-shifted/dist/index.js'))
    expect(resolved.metrics[0].module).toBe(join(project, 'node_modules/@lab/metric-first-mean/dist/index.js'))
    const res = cli(['run', config, '--out', join(project, 'run2')], { cwd: WORKSPACE })
    expect(res.status, res.stderr).toBe(0)
    const before = records(join(project, 'run2'))
    // resume re-reads the config from run.json, whose paths are absolute (as a run stopped after its
    // last record: a finished one is left as it is).
    const info = JSON.parse(readFileSync(join(project, 'run2', 'run.json'), 'utf8'))
    writeFileSync(join(project, 'run2', 'run.json'), JSON.stringify({ ...info, status: 'interrupted' }))
    const resumed = cli(['resume', join(project, 'run2')], { cwd: dirname(WORKSPACE) })
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(records(join(project, 'run2'))).toEqual(before)
  })

  it('resumes a run of packages named by name, into a run directory elsewhere, from any folder: the packages are looked up where the config was', () => {
    const config = writeConfig(project, { data: { kind: 'shifted', module: '@lab/dataset-shifted', shift: 1, n: 20 }, model: { kind: 'mean-only', module: '@lab/model-mean' }, generations: 2 }, 'named.json')
    // No node_modules above this run directory: Node cannot find @lab/... from it.
    const out = join(tempDir('ouroboros-elsewhere-'), 'run')
    const res = cli(['run', config, '--out', out], { cwd: WORKSPACE })
    expect(res.status, res.stderr).toBe(0)
    const info = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))
    expect(info.configDir).toBe(realpathSync(project))
    const before = records(out)
    writeFileSync(join(out, 'run.json'), JSON.stringify({ ...info, status: 'interrupted' }))
    const resumed = cli(['resume', out], { cwd: dirname(WORKSPACE) })
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(records(out)).toEqual(before)
  })

  it('names the field and the module when a plug-in cannot be found or is not of its kind', () => {
    const bad = (patch: Record<string, unknown>) => {
      const config = writeConfig(project, { data: { kind: 'shifted', module: '@lab/dataset-shifted', shift: 0 }, model: { kind: 'mean-only', module: '@lab/model-mean' }, generations: 1, ...patch }, 'bad.json')
      return cli(['validate', config])
    }
    const missing = bad({ data: { kind: 'shifted', module: '@lab/no-such-dataset' } })
    expect(missing.status).toBe(2)
    expect(missing.stderr).toMatch(/data\.module: cannot find module '@lab\/no-such-dataset' from /)
    const wrongKind = bad({ metrics: [{ module: '@lab/model-mean' }] })
    expect(wrongKind.status).toBe(2)
    expect(wrongKind.stderr).toMatch(/metrics\.0\.module: .*does not export a metric group made with defineMetric/)
    const badParam = bad({ data: { kind: 'shifted', module: '@lab/dataset-shifted', shfit: 1 } })
    expect(badParam.status).toBe(2)
    expect(badParam.stderr).toMatch(/data\.shfit: unknown key; did you mean "shift"\?/)
  })

  it("refuses a dataset whose create returns no info of its data, naming the dataset, where the model's checks failed on it", () => {
    const made = (name: string, returned: string) => {
      writeFileSync(join(project, `${name}.mjs`), `import { z } from 'zod'\nexport default { id: '${name}', modality: 'vectors', description: 'made badly', params: z.strictObject({}), create: () => (${returned}) }\n`)
      return cli(['validate', writeConfig(project, { data: { kind: name, module: `./${name}.mjs`, n: 50 }, model: { kind: 'gaussian' }, generations: 1 }, `${name}.json`)], { cwd: project })
    }
    const sample = '(n) => ({ modality: "vectors", n, d: 2, data: new Float64Array(2 * n) })'
    for (const [name, returned, says] of [
      ['no-info', `{ sample: ${sample} }`, 'returned no info (undefined)'],
      ['no-d', `{ info: { kind: 'x', modality: 'vectors' }, sample: ${sample} }`, 'returned info.d undefined, not the data\'s dimension (a whole number ≥ 1)'],
      ['no-sample', `{ info: { kind: 'x', modality: 'vectors', d: 2 } }`, 'returned no sample(n, rng) function'],
    ] as const) {
      const res = made(name, returned)
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toContain(`error: ${join(project, `${name}.json`)}: data: dataset '${name}' (${join(project, `${name}.mjs`)}): create(params, rng) ${says}\nhint: a dataset's create returns { info, sample, heldout? }`)
      expect(res.stderr).not.toContain('minimumRows')
    }
    // Draws of another shape than the info says, or a held-out draw that throws: found in a draw
    // or two before the run, where every chain failed at its first generation (exit 1).
    const wide = '(n) => ({ modality: "vectors", n, d: 3, data: new Float64Array(3 * n) })'
    for (const [name, returned, says] of [
      ['wide', `{ info: { kind: 'x', modality: 'vectors', d: 2 }, sample: ${wide} }`, 'sample(2) returned 2 x 3 values; expected 2 x 2 (the 2 items asked for, in the data\'s dimension 2)'],
      ['bad-heldout', `{ info: { kind: 'x', modality: 'vectors', d: 2 }, sample: ${sample}, heldout: () => { throw new Error('no held-out rows') } }`, 'no held-out rows'],
      // A NaN failed the chain naming the model's training data, not the dataset.
      ['nan', `{ info: { kind: 'x', modality: 'vectors', d: 2 }, sample: (n) => ({ modality: "vectors", n, d: 2, data: new Float64Array(2 * n).fill(NaN, 1, 2) }) }`, 'sample(2) returned NaN at row 0, coordinate 1'],
    ] as const) {
      const res = made(name, returned)
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toContain(`error: ${join(project, `${name}.json`)}: data: `)
      expect(res.stderr).toContain(says)
    }
  })

  it("refuses a metric group or a filter whose outputs' descriptions a report would misread, naming the output and what to write", () => {
    writeFileSync(
      join(project, 'length.mjs'),
      `import { z } from 'zod'
export default {
  id: 'length', modality: 'vectors', description: 'norms', outputs: ['mean_norm'], options: z.strictObject({}),
  // 0.5 for a halving or a doubling: 'departs' takes the factor above 1.
  outputInfo: { mean_norm: { title: 'mean norm', better: 'up', threshold: { direction: 'departs', kind: 'factor', value: 0.5 } }, men_norm: { title: 'typo' } },
  compute: () => ({ mean_norm: 1 }),
}
`,
    )
    writeFileSync(
      join(project, 'keep-all.mjs'),
      `import { z } from 'zod'
export default {
  id: 'keep-all', description: 'keeps every draw', params: z.strictObject({}),
  outputInfo: { kept_share: { title: 'kept', titel: 'kept', threshold: { direction: 'falls', kind: 'factor', value: 2 } } },
  apply: async (_p, inputs) => ({ kept: inputs.first, draws: inputs.n, values: { kept_share: 1 } }),
}
`,
    )
    const base = { data: { kind: 'ring', n: 50 }, model: { kind: 'kde' }, generations: 1 }
    const metric = cli(['validate', writeConfig(project, { ...base, metrics: [{ module: './length.mjs' }] }, 'length.json')])
    expect(metric.status).toBe(2)
    expect(metric.stderr).toContain("length.json: metrics.0.module: metric group 'length': outputInfo.mean_norm.threshold.value: a factor for 'departs' is above 1, a move by that factor either way (2: a halving or a doubling), got 0.5")
    expect(metric.stderr).toContain("metrics.0.module: metric group 'length': outputInfo.men_norm: describes 'men_norm', which is not among its outputs (mean_norm)")
    expect(metric.stderr).toContain("metrics.0.module: metric group 'length': outputInfo.mean_norm.better: 'up' is not one of higher, lower, neither, raised")
    expect(metric.stderr).not.toMatch(/\n\s+at /)
    const filter = cli(['validate', writeConfig(project, { ...base, filter: { kind: 'keep-all', module: './keep-all.mjs' } }, 'keep.json')])
    expect(filter.status).toBe(2)
    expect(filter.stderr).toContain("keep.json: filter.module: filter 'keep-all': outputInfo.kept_share.threshold.value: a factor for 'falls' is between 0 and 1 (0.5: a fall to half the baseline), got 2")
    expect(filter.stderr).toContain("keep.json: filter.module: filter 'keep-all': outputInfo.kept_share.titel: unknown key (did you mean 'title'?); expected one of title, unit, threshold, bounds, better, diversity, taskQuality, nullWhen")
  })

  it('refuses a metric group whose needs hold what is no need before a run, naming the group, the entry and the needs there are', () => {
    writeFileSync(
      join(project, 'modez.mjs'),
      `import { z } from 'zod'\nexport default { id: 'modez', modality: 'vectors', description: 'd', outputs: ['near'], options: z.strictObject({}), needs: ['dataset.modez'], compute: () => ({ near: 1 }) }\n`,
    )
    const res = cli(['validate', writeConfig(project, { data: { kind: 'ring', n: 50 }, model: { kind: 'kde' }, generations: 1, metrics: [{ module: './modez.mjs' }] }, 'modez.json')])
    expect(res.status).toBe(2)
    expect(res.stderr).toContain(`modez.json: metrics.0.module: metric group 'modez' (${join(project, 'modez.mjs')}): needs.0: 'dataset.modez' is not a need (did you mean 'dataset.modes'?); the needs are model.logLikelihood, `)
    expect(res.stderr.trim().split('\n')).toHaveLength(1)
  })

  it("stops a run whose metric group's setupRun throws or returns other than { line, record }, naming the group, its file and the hook", () => {
    writeFileSync(
      join(project, 'setup.mjs'),
      `import { z } from 'zod'
export default {
  id: 'setup', modality: 'vectors', description: 'd', outputs: ['v'], options: z.strictObject({ fault: z.enum(['throws', 'number']) }),
  async setupRun({ options }) {
    if (options.fault === 'throws') throw new Error('setup boom')
    return 5
  },
  compute: () => ({ v: 1 }),
}
`,
    )
    const run = (fault: string) =>
      cli(['run', writeConfig(project, { data: { kind: 'ring', n: 50 }, model: { kind: 'kde' }, generations: 1, metrics: [{ module: './setup.mjs' }], metricOptions: { setup: { fault } } }, `setup-${fault}.json`), '--out', join(project, `setup-${fault}-run`)], { cwd: project })
    const file = join(project, 'setup.mjs')
    const thrown = run('throws')
    expect(thrown.status).toBe(1)
    expect(thrown.stderr).toContain(`error: metric group 'setup' (${file}): setupRun threw: setup boom (at file://${file}:5:`)
    expect(thrown.stderr).not.toMatch(/\n\s+at /)
    const number = run('number')
    expect(number.status).toBe(2)
    expect(number.stderr).toContain(`error: metric group 'setup' (${file}): setupRun returned 5; expected { line, record }`)
    expect(number.stdout).not.toContain('setup: undefined')
  })

  it("refuses a metric group from a module whose output has the name of another group's output, which the records would hold once", () => {
    writeFileSync(
      join(project, 'spread.mjs'),
      `import { z } from 'zod'
export default {
  id: 'spread', modality: 'vectors', description: 'trace', outputs: ['total_variance', 'spread_ratio'], options: z.strictObject({}),
  compute: () => ({ total_variance: 1, spread_ratio: 1 }),
}
`,
    )
    const base = { data: { kind: 'ring', n: 50 }, model: { kind: 'kde' }, generations: 1 }
    // After the built-in group in the list, and before it: the module's group is the one named.
    for (const metrics of [['moments', { module: './spread.mjs' }], [{ module: './spread.mjs' }, 'moments']]) {
      const res = cli(['validate', writeConfig(project, { ...base, metrics }, 'spread.json')])
      expect(res.status).toBe(2)
      expect(res.stderr).toContain(`spread.json: metrics.${metrics.indexOf('moments') === 0 ? 1 : 0}.module: group 'spread' has the output 'total_variance' of group 'moments', and a record holds one value per name; give it another name`)
    }
    // Without the built-in group beside it, the name is the module's own.
    expect(cli(['validate', writeConfig(project, { ...base, metrics: [{ module: './spread.mjs' }, 'modes'] }, 'spread-alone.json')]).status).toBe(0)
    // The names the run records itself beside the groups' values are no group's.
    writeFileSync(join(project, 'kept.mjs'), `import { z } from 'zod'\nexport default { id: 'kept', modality: 'vectors', description: 'd', outputs: ['filter_kept', 'kl'], options: z.strictObject({}), compute: () => ({ filter_kept: 1, kl: 0 }) }\n`)
    const own = cli(['validate', writeConfig(project, { ...base, metrics: [{ module: './kept.mjs' }] }, 'kept.json')])
    expect(own.status).toBe(2)
    expect(own.stderr).toContain("kept.json: metrics.0.module: group 'kept' has the outputs 'filter_kept' (share of draws the filter kept), 'kl' (KL to the model as fit), which the run records itself; give them other names")
    // A filter's own values go into the same record: the reward filter's beside a module's group, a module filter's beside a built-in group.
    writeFileSync(join(project, 'rewarded.mjs'), `import { z } from 'zod'\nexport default { id: 'rewarded', modality: 'vectors', description: 'd', outputs: ['filter_reward'], options: z.strictObject({}), compute: () => ({ filter_reward: 1 }) }\n`)
    const reward = { kind: 'reward', reward: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] } }
    const beside = cli(['validate', writeConfig(project, { ...base, metrics: ['modes', { module: './rewarded.mjs' }], filter: reward }, 'rewarded.json')])
    expect(beside.status).toBe(2)
    expect(beside.stderr).toContain("rewarded.json: metrics.1.module: filter 'reward' and metric group 'rewarded' both record 'filter_reward'; records keep one value per name")
    writeFileSync(
      join(project, 'covers.mjs'),
      `import { z } from 'zod'\nexport default { id: 'covers', description: 'keeps the first draws', params: z.strictObject({}), outputInfo: { modes_covered: { title: 'modes' } }, apply: (p, inputs) => ({ kept: inputs.first, draws: inputs.n, values: { modes_covered: 1 } }) }\n`,
    )
    const filter = cli(['validate', writeConfig(project, { ...base, metrics: ['modes'], filter: { kind: 'covers', module: './covers.mjs' } }, 'covers.json')])
    expect(filter.status).toBe(2)
    expect(filter.stderr).toContain("covers.json: filter.module: filter 'covers' and metric group 'modes' both record 'modes_covered'; records keep one value per name")
    // Nor a name the run records itself: the filter's share kept, post-training's reward.
    writeFileSync(
      join(project, 'kept-filter.mjs'),
      `import { z } from 'zod'\nexport default { id: 'kept-filter', description: 'keeps the first draws', params: z.strictObject({}), outputInfo: { filter_kept: { title: 'kept' }, reward: { title: 'r' } }, apply: (p, inputs) => ({ kept: inputs.first, draws: inputs.n, values: { filter_kept: 0.5, reward: 1 } }) }\n`,
    )
    const keptFilter = cli(['validate', writeConfig(project, { ...base, filter: { kind: 'kept-filter', module: './kept-filter.mjs' } }, 'kept-filter.json')])
    expect(keptFilter.status).toBe(2)
    expect(keptFilter.stderr).toContain("kept-filter.json: filter.module: filter 'kept-filter' has the values 'filter_kept' (share of draws the filter kept), 'reward' (")
    expect(keptFilter.stderr).toContain('which the run records itself; give them other names')
  })

  it("fails a chain whose text model samples a token id outside its vocabulary, naming the model, and does not retry it as a divergence", () => {
    writeFileSync(
      join(project, 'outside.mjs'),
      `import { z } from 'zod'
export default {
  id: 'outside', modality: 'tokens', description: 'one sentence a word, the word past the vocabulary from generation 1 on',
  params: z.strictObject({}), acceptsTemperature: false,
  fit: (data, _p, ctx) => ({ vocabSize: data.vocabSize, generation: ctx.generation }),
  sample(state, n) {
    const tokens = new Int32Array(n).fill(state.generation >= 1 ? state.vocabSize : 1)
    return { modality: 'tokens', n, vocabSize: state.vocabSize, tokens, offsets: Uint32Array.from({ length: n + 1 }, (_, i) => i) }
  },
}
`,
    )
    const config = { data: { kind: 'zipf', vocabSize: 30, n: 200 }, model: { kind: 'outside', module: './outside.mjs' }, metrics: ['text'], generations: 3, retries: 2 }
    const res = cli(['run', writeConfig(project, config, 'outside.json'), '--out', join(project, 'outside-run')], { cwd: project })
    expect(res.status, res.stderr).toBe(1)
    const chain = JSON.parse(readFileSync(join(project, 'outside-run', 'run.json'), 'utf8')).chains[0]
    expect(chain).toMatchObject({ status: 'failed', generationsDone: 1, error: { generation: 1, code: 'OUROBOROS_MODEL' } })
    // Not OUROBOROS_DIVERGED, which `retries` would have tried again with new seeds.
    expect(chain.error.message).toContain(`model 'outside' (${join(project, 'outside.mjs')}): sample(state, 200) returned token id 30 at position 0; expected ids 0 to 29 (its vocabulary of 30 words)`)
  })

  it('fails a chain whose plug-in (model, dataset, filter, metric group) returns what its contract rules out, naming it and what was wrong', () => {
    writeFileSync(
      join(project, 'faulty-filter.mjs'),
      `import { z } from 'zod'
export default {
  id: 'faulty', description: 'keeps the first draw, with a fault', params: z.strictObject({ fault: z.enum(['short', 'values', 'draws', 'no-return']) }),
  outputInfo: { faulty_share: { title: 'share' } },
  apply: async (p, { first, n }) => p.fault === 'no-return' ? undefined : ({
    kept: p.fault === 'short' ? { modality: 'vectors', n: n - 1, d: first.d, data: first.data.slice(0, (n - 1) * first.d) } : first,
    draws: p.fault === 'draws' ? n - 1 : n,
    values: p.fault === 'values' ? { faulty_share: 1, other: 2 } : { faulty_share: 1 },
  }),
}
`,
    )
    writeFileSync(
      join(project, 'text-metric.mjs'),
      `import { z } from 'zod'
export default { id: 'text-valued', modality: 'vectors', description: 'a string for a value', outputs: ['v'], options: z.strictObject({}), compute: () => ({ v: '1' }) }
`,
    )
    const base = { data: { kind: 'ring', n: 50 }, model: { kind: 'kde' }, samplesPerGeneration: 40, metrics: ['moments'], generations: 2 }
    const failure = (name: string, config: Record<string, unknown>): { status: number | null; message: string } => {
      const res = cli(['run', writeConfig(project, { ...base, ...config }, `${name}.json`), '--out', join(project, `${name}-run`)], { cwd: project })
      return { status: res.status, message: JSON.parse(readFileSync(join(project, `${name}-run`, 'run.json'), 'utf8')).chains[0].error?.message }
    }
    const filter = (fault: string) => failure(`filter-${fault}`, { filter: { kind: 'faulty', module: './faulty-filter.mjs', fault } })
    const faulty = `filter 'faulty' (${join(project, 'faulty-filter.mjs')})`
    expect(filter('short')).toEqual({ status: 1, message: `${faulty}: apply returned kept samples of 39 x 2 values; expected 40 x 2 (the 40 items asked for, in the data's dimension 2)` })
    expect(filter('draws')).toEqual({ status: 1, message: `${faulty}: apply returned draws 39; expected the number of samples drawn, at least the 40 kept` })
    expect(filter('values')).toEqual({ status: 1, message: `${faulty}: apply returned values with 'other', which its outputs do not declare; its outputs are 'faulty_share'` })
    // A forgotten return: the next generation would train on the unfiltered samples.
    expect(filter('no-return')).toEqual({ status: 1, message: `${faulty}: apply returned undefined` })
    // The built-in likelihood filter ranks what the model's logLikelihood gives, one value per sample.
    writeFileSync(
      join(project, 'few-ll.mjs'),
      `import { z } from 'zod'
export default {
  id: 'few-ll', modality: 'vectors', description: 'resamples its data; three log-likelihoods whatever it is asked', params: z.strictObject({}),
  fit: (data) => data,
  sample: (state, n) => ({ modality: 'vectors', n, d: state.d, data: state.data.slice(0, n * state.d) }),
  logLikelihood: () => new Float64Array(3),
}
`,
    )
    expect(failure('few-ll', { model: { kind: 'few-ll', module: './few-ll.mjs' }, filter: { kind: 'likelihood', keep: 0.8 } })).toEqual({
      status: 1,
      message: `model 'few-ll' (${join(project, 'few-ll.mjs')}): logLikelihood(state, samples) returned 3 values for 50 samples`,
    })
    // A dataset whose rows have more values than its info's dimension, in draws larger than the
    // check before the run makes (see the test of what create returns).
    writeFileSync(
      join(project, 'wide-data.mjs'),
      `import { z } from 'zod'
export default {
  id: 'wide', modality: 'vectors', description: 'says 2-D, gives 3-D past a few rows', params: z.strictObject({}),
  create: () => ({ info: { modality: 'vectors', d: 2 }, sample: (n) => { const d = n > 2 ? 3 : 2; return { modality: 'vectors', n, d, data: new Float64Array(d * n) } } }),
}
`,
    )
    expect(failure('wide-data', { data: { kind: 'wide', module: './wide-data.mjs', n: 50 } })).toEqual({
      status: 1,
      message: `dataset 'wide' (${join(project, 'wide-data.mjs')}): sample(50) returned 50 x 3 values; expected 50 x 2 (the 50 items asked for, in the data's dimension 2)`,
    })
    // A model whose fit returns nothing: named, before sample() reads a property of undefined.
    writeFileSync(
      join(project, 'no-state.mjs'),
      `import { z } from 'zod'
export default { id: 'no-state', modality: 'vectors', description: 'forgets to return its state', params: z.strictObject({}), fit: () => {}, sample: (state, n) => ({ modality: 'vectors', n, d: state.d, data: new Float64Array(n * state.d) }) }
`,
    )
    expect(failure('no-state', { model: { kind: 'no-state', module: './no-state.mjs' } })).toEqual({ status: 1, message: `model 'no-state' (${join(project, 'no-state.mjs')}): fit returned undefined` })
    // A state holding a function: V8 cannot save it as the checkpoint, and the model is named with the rule.
    writeFileSync(
      join(project, 'fn-state.mjs'),
      `import { z } from 'zod'
export default { id: 'fn-state', modality: 'vectors', description: 'keeps a function in its state', params: z.strictObject({}), fit: (data) => ({ d: data.d, f: () => 1 }), sample: (state, n) => ({ modality: 'vectors', n, d: state.d, data: new Float64Array(n * state.d) }) }
`,
    )
    expect(failure('fn-state', { model: { kind: 'fn-state', module: './fn-state.mjs' } })).toEqual({ status: 1, message: `model 'fn-state' (${join(project, 'fn-state.mjs')}): its state cannot be saved (() => 1 could not be cloned)` })
    expect(failure('text-metric', { metrics: [{ module: './text-metric.mjs' }], metricErrors: 'fail' })).toEqual({
      status: 1,
      message: `metric group 'text-valued': compute returned 'v': string "1"; expected a number, or null for no value`,
    })
  })

  it("refuses a policy whose declared sizes are no sizes before a run, and fails a chain whose plan breaks its shape, naming the policy, the part and the field", () => {
    writeFileSync(
      join(project, 'planner.mjs'),
      `import { z } from 'zod'
const plans = { array: () => [{ from: 'real' }], typo: () => ({ parts: [{ from: 'reel' }] }) }
export default {
  id: 'planner', description: 'plans as its fault says', params: z.strictObject({ fault: z.enum(['array', 'typo', 'nan']) }), needsAllGenerations: false,
  largestTrainingSet: (p, sizes) => (p.fault === 'nan' ? NaN : sizes.n),
  trainingSet: (p) => plans[p.fault](),
}
`,
    )
    const base = { data: { kind: 'ring', n: 50 }, model: { kind: 'kde' }, metrics: ['moments'], generations: 2 }
    const file = join(project, 'planner.mjs')
    const nan = cli(['validate', writeConfig(project, { ...base, policy: { kind: 'planner', module: './planner.mjs', fault: 'nan' } }, 'planner-nan.json')])
    expect(nan.status).toBe(2)
    expect(nan.stderr).toContain(`planner-nan.json: policy.module: policy 'planner' (${file}): largestTrainingSet gave NaN for these sizes (n 50, samplesPerGeneration 50, generations 2); expected a whole number at least n (50)`)
    expect(nan.stderr).not.toMatch(/\n\s+at /)
    for (const [fault, message] of [
      ['array', 'trainingSet returned an array for generation 1; expected a plan, { parts: [...] }'],
      ['typo', `trainingSet's plan for generation 1: parts.0.from: "reel" is not one of real, fresh, generation`],
    ]) {
      const res = cli(['run', writeConfig(project, { ...base, policy: { kind: 'planner', module: './planner.mjs', fault } }, `planner-${fault}.json`), '--out', join(project, `planner-${fault}-run`)], { cwd: project })
      expect(res.status, res.stderr).toBe(1)
      const chain = JSON.parse(readFileSync(join(project, `planner-${fault}-run`, 'run.json'), 'utf8')).chains[0]
      expect(chain).toMatchObject({ status: 'failed', error: { generation: 1, code: 'OUROBOROS_PLUGIN', message: `policy 'planner' (${file}): ${message}` } })
    }
  })

  it('loads a single-file policy anywhere in the workspace, importing @ouroboros/core and zod as the root does', () => {
    // Inside the workspace (its test-output folder is ignored by git), with no package around it.
    mkdirSync(join(WORKSPACE, 'test-output'), { recursive: true })
    const dir = mkdtempSync(join(WORKSPACE, 'test-output/single-file-'))
    try {
      writeFileSync(
        join(dir, 'window.mjs'),
        `import { z } from 'zod'
import { definePolicy } from '@ouroboros/core'

export default definePolicy({
  id: 'window',
  description: 'the real data plus the last k generations',
  params: z.strictObject({ k: z.int().min(1) }),
  needsAllGenerations: true,
  largestTrainingSet: (p, sizes) => sizes.n + sizes.samplesPerGeneration * Math.min(p.k, sizes.generations - 1),
  trainingSet(p, inputs) {
    const parts = [{ from: 'real' }]
    for (let j = Math.max(0, inputs.generation - p.k); j < inputs.generation; j++) parts.push({ from: 'generation', generation: j })
    return { parts }
  },
})
`,
      )
      const config = writeConfig(dir, {
        data: { kind: 'gaussian', d: 1, n: 40 },
        model: { kind: 'gaussian' },
        metrics: ['moments'],
        generations: 6,
        sweep: { policy: [{ kind: 'accumulate' }, { kind: 'window', module: './window.mjs', k: 2 }] },
      })
      const res = cli(['run', config, '--out', join(dir, 'run')], { cwd: dir })
      expect(res.status, res.stderr).toBe(0)
      const recs = records(join(dir, 'run'))
      const variance = (cell: number, g: number) => recs.find((x) => x.cell === cell && x.generation === g)!.metrics['total_variance']
      // Both settings share their chains' random numbers, and a window of 2 is accumulate up to
      // generation 2; from generation 3 it leaves generation 0 out.
      for (const g of [0, 1, 2]) expect(variance(1, g)).toBe(variance(0, g))
      for (const g of [3, 4, 5]) expect(variance(1, g)).not.toBe(variance(0, g))
      // run.json keeps the swept module's path absolute, and a resume from another folder finds it.
      const info = JSON.parse(readFileSync(join(dir, 'run', 'run.json'), 'utf8'))
      expect(info.config.sweep.policy[1].module).toBe(join(dir, 'window.mjs'))
      writeFileSync(join(dir, 'run', 'run.json'), JSON.stringify({ ...info, status: 'interrupted' }))
      const resumed = cli(['resume', join(dir, 'run')], { cwd: tempDir() })
      expect(resumed.status, resumed.stderr).toBe(0)
      expect(records(join(dir, 'run'))).toEqual(recs)
      // The same file where no node_modules has its imports: the message says where Node looks.
      const elsewhere = tempDir()
      writeFileSync(join(elsewhere, 'window.mjs'), readFileSync(join(dir, 'window.mjs')))
      const lone = cli(['validate', writeConfig(elsewhere, JSON.parse(readFileSync(config, 'utf8')))])
      expect(lone.status).toBe(2)
      expect(lone.stderr).toContain(`policy.module: cannot load plug-in module file://${join(elsewhere, 'window.mjs')}: Cannot find package 'zod'`)
      expect(lone.stderr).toContain('in a node_modules folder beside it or above it: put it inside the Ouroboros workspace')
      // The same plug-in written as TypeScript: Node imports JavaScript only, and the message says what to do.
      writeFileSync(join(dir, 'window.ts'), readFileSync(join(dir, 'window.mjs')))
      const typed = JSON.parse(readFileSync(config, 'utf8'))
      typed.sweep.policy[1].module = './window.ts'
      const ts = cli(['validate', writeConfig(dir, typed, 'typed.json')], { cwd: dir })
      expect(ts.status).toBe(2)
      expect(ts.stderr).toContain(`policy.module: cannot load plug-in module file://${join(dir, 'window.ts')}: Unknown file extension ".ts"`)
      expect(ts.stderr).toContain('a plug-in is loaded as JavaScript: write a single file as .mjs, or compile TypeScript with npx tsc')
      expect(ts.stderr).not.toMatch(/\n\s+at /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
