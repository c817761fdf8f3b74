import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanup, cli, records, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

const WORKSPACE = fileURLToPath(new URL('../../../', import.meta.url))
const TSC = join(WORKSPACE, 'node_modules/typescript/bin/tsc')

/**
 * Packages from outside the workspace that describe themselves: a dataset of two blobs that gives
 * their centres as a facet, a metric group that needs the facet and describes its output, and a
 * filter with its own parameters, check and output.
 */
const sources: Record<string, string> = {
  'dataset-blobs': `import { z } from 'zod'
import { defineDataset, defineFacet, vectors } from '@ouroboros/core'

const centres = defineFacet<Float64Array>('centres')

/** Half the points around (−c, 0), half around (c, 0), standard deviation 1. */
export default defineDataset({
  id: 'blobs',
  modality: 'vectors',
  description: 'two unit blobs on the first axis',
  params: z.strictObject({ c: z.number().positive().default(3) }),
  create(params) {
    return {
      info: { kind: 'blobs', modality: 'vectors', d: 2, facets: centres.entry(Float64Array.of(-params.c, 0, params.c, 0)) },
      sample(n, rng) {
        const out = rng.fillNormal(new Float64Array(2 * n), 0, 1)
        for (let i = 0; i < n; i++) out[2 * i]! += i % 2 === 0 ? -params.c : params.c
        return vectors(n, 2, out)
      },
    }
  },
})
`,
  'metric-balance': `import { z } from 'zod'
import { asVectors, defineFacet, defineMetric } from '@ouroboros/core'

const centres = defineFacet<Float64Array>('centres')

/** Twice the share of samples nearest the rarer of the two centres: 1 when balanced, 0 when one blob is lost. */
export default defineMetric({
  id: 'balance',
  modality: 'vectors',
  description: 'balance of the two blobs',
  outputs: ['blob_balance'],
  outputInfo: { blob_balance: { title: 'balance of the two blobs', unit: 'fraction', threshold: { direction: 'falls', kind: 'factor', value: 0.5 }, bounds: [0, 1] } },
  needs: [centres.need],
  options: z.strictObject({}),
  async setupRun({ dataset }) {
    const c = centres.of(dataset)!
    return { line: \`\${c.length / 2} centres\`, record: { balance: { centres: Array.from(c) } } }
  },
  compute({ generated, dataset }) {
    const c = centres.of(dataset)!
    const g = asVectors(generated)
    let right = 0
    for (let i = 0; i < g.n; i++) if (Math.abs(g.data[2 * i]! - c[2]!) < Math.abs(g.data[2 * i]! - c[0]!)) right++
    return { blob_balance: (2 * Math.min(right, g.n - right)) / g.n }
  },
})
`,
  'metric-greedy': `import { z } from 'zod'
import { defineMetric } from '@ouroboros/core'

/** A group whose setup would overwrite the run's own status. */
export default defineMetric({
  id: 'greedy',
  modality: 'vectors',
  description: 'nothing',
  outputs: ['nothing'],
  options: z.strictObject({}),
  async setupRun() {
    return { line: 'done', record: { status: 'mine' } }
  },
  compute() {
    return { nothing: 0 }
  },
})
`,
  'filter-right': `import { z } from 'zod'
import { asVectors, concatSamples, configError, defineFacet, defineFilter, takeSamples } from '@ouroboros/core'

const centres = defineFacet<Float64Array>('centres')

/** Keeps the samples whose first coordinate is at least \`above\`. */
export default defineFilter({
  id: 'right',
  description: 'keep samples right of a line',
  params: z.strictObject({ above: z.number().default(0) }),
  check(_params, { dataset }, where) {
    if (centres.of(dataset) === undefined) throw configError(\`\${where}.kind: 'right' keeps one blob, which data.kind '\${dataset.kind}' does not have\`)
  },
  outputInfo: { kept_x: { title: 'mean first coordinate of the kept samples', unit: 'data units' } },
  async apply(params, inputs) {
    const parts = []
    let kept = 0
    let draws = 0
    for (let batch = 0; kept < inputs.n; batch++) {
      const s = asVectors(batch === 0 ? inputs.first : await inputs.draw(inputs.n, batch))
      const idx = []
      for (let i = 0; i < s.n && kept + idx.length < inputs.n; i++) {
        draws++
        if (s.data[2 * i]! >= params.above) idx.push(i)
      }
      kept += idx.length
      parts.push(takeSamples(s, idx))
    }
    const out = asVectors(concatSamples(parts))
    let x = 0
    for (let i = 0; i < out.n; i++) x += out.data[2 * i]! / out.n
    return { kept: out, draws, values: { kept_x: x } }
  },
})
`,
}

let project: string

beforeAll(() => {
  project = tempDir('ouroboros-describe-')
  const modules = join(project, 'node_modules')
  mkdirSync(join(modules, '@ouroboros'), { recursive: true })
  symlinkSync(join(WORKSPACE, 'packages/core'), join(modules, '@ouroboros/core'))
  symlinkSync(realpathSync(join(WORKSPACE, 'packages/core/node_modules/zod')), join(modules, 'zod'))
  for (const [name, index] of Object.entries(sources)) {
    const dir = join(modules, '@lab', name)
    mkdirSync(join(dir, 'src'), { recursive: true })
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `@lab/${name}`, version: '0.1.0', type: 'module', exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } }))
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

const blobs = { kind: 'blobs', module: '@lab/dataset-blobs', n: 2000 }

describe('plug-ins from outside that describe themselves', () => {
  it('a filter from filter.module curates, and the report shows the outside group and filter by their own titles and thresholds', () => {
    const config = writeConfig(project, {
      name: 'right-blob',
      data: blobs,
      model: { kind: 'gmm', components: 2 },
      filter: { kind: 'right', module: '@lab/filter-right' },
      metrics: [{ module: '@lab/metric-balance' }],
      generations: 3,
      replicates: 2,
    })
    const res = cli(['run', config, '--out', join(project, 'run')], { cwd: WORKSPACE })
    expect(res.status, res.stderr).toBe(0)
    const run = JSON.parse(readFileSync(join(project, 'run/run.json'), 'utf8'))
    expect(run.metricInfo).toEqual({
      blob_balance: { title: 'balance of the two blobs', unit: 'fraction', threshold: { direction: 'falls', kind: 'factor', value: 0.5 }, bounds: [0, 1] },
      kept_x: { title: 'mean first coordinate of the kept samples', unit: 'data units' },
      filter_kept: { title: 'share of draws the filter kept', unit: 'fraction', bounds: [0, 1] },
    })
    // The facet reaches run.json's dataset facts as a list.
    expect(run.dataset.facets).toEqual({ centres: [-3, 0, 3, 0] })
    // The chain specs name the filter's module by its path, which a worker on another machine can find.
    const filterModule: string = run.cellSpecs[0].config.filter.module
    expect(filterModule.startsWith('/') && filterModule.endsWith('@lab/filter-right/dist/index.js'), filterModule).toBe(true)
    // The group's setup ran once, before the workers, and its field is in run.json.
    expect(res.stdout.split('\n').filter((l) => l.startsWith('balance:'))).toEqual(['balance: 2 centres'])
    expect(run.balance).toEqual({ centres: [-3, 0, 3, 0] })
    const recs = records(join(project, 'run'))
    for (const r of recs.filter((x) => x.generation >= 0)) {
      // Generation 0 fits both blobs and keeps the right half of its draws; later ones train on the right blob alone.
      if (r.generation === 0) {
        expect(r.metrics['blob_balance']).toBeGreaterThan(0.85)
        expect(Math.abs(r.metrics['filter_kept']! - 0.5)).toBeLessThan(0.06)
      } else {
        expect(r.metrics['blob_balance']).toBeLessThan(0.05)
        expect(r.metrics['filter_kept']).toBeGreaterThan(0.95)
      }
      // The kept samples are those right of 0: E[x | x ≥ 0] is 3.004 for N(3, 1), and the left blob gives 0.3 % of them.
      expect(Math.abs(r.metrics['kept_x']! - 3)).toBeLessThan(0.1)
    }
    const html = readFileSync(join(project, 'run/report.html'), 'utf8')
    expect(html).toContain('balance of the two blobs<br><code>blob_<wbr>balance</code><br><span class="gen better">higher is better</span>')
    expect(html).toMatch(/<tr data-metric="blob_balance" data-cell="0">[\s\S]*?<td data-col="crossing" data-generation="1" class="crossed">generation 1<\/td>/)
    // Without a threshold, the filter's values have plots of their own, titled as their filter says.
    expect(html).toContain('share of draws the filter kept (fraction)')
    // Its y axis title, longer than the plot is high, in two lines (the page's JSON writes '<' and '>' as \u003c and \u003e).
    expect(html).toContain('mean first coordinate of the kept samples\\u003cbr\\u003e(data units)')
  })

  it('refuses a filter that cannot curate the data, and a bad filter parameter, naming the field', () => {
    const refuses = (filter: unknown, data: unknown = blobs): string => {
      const res = cli(['validate', writeConfig(project, { data, model: { kind: 'gmm' }, generations: 1, filter }, 'bad-filter.json')], { cwd: WORKSPACE })
      expect(res.status, res.stdout).toBe(2)
      expect(res.stderr).not.toMatch(/\n\s+at /)
      return res.stderr
    }
    expect(refuses({ kind: 'right', module: '@lab/filter-right' }, { kind: 'ring', n: 100 })).toContain("filter.kind: 'right' keeps one blob, which data.kind 'ring' does not have")
    expect(refuses({ kind: 'right', module: '@lab/filter-right', above: 'zero' })).toContain('filter.above: expected a number')
    expect(refuses({ kind: 'right', module: '@lab/filter-right', abvoe: 1 })).toContain('filter.abvoe: unknown key; did you mean "above"?')
    expect(refuses({ kind: 'right', module: '@lab/no-such-filter' })).toContain("filter.module: cannot find module '@lab/no-such-filter'")
    expect(refuses({ kind: 'rigth' })).toContain("filter.kind: unknown filter 'rigth'")
  })

  it('scores at training steps the cheap groups that need only samples and data, the outside one among them', () => {
    const config = writeConfig(project, {
      data: { ...blobs, n: 400 },
      model: { kind: 'gan', steps: 20, evalEvery: 10, evalSamples: 200, generator: [16], discriminator: [16], batch: 64 },
      // prdc is expensive, copy_rate reads the training set: neither is scored at a step.
      metrics: [{ module: '@lab/metric-balance' }, 'moments', 'prdc', 'copy_rate'],
      generations: 1,
      heldout: 0,
    })
    const res = cli(['run', config, '--out', join(project, 'gan')], { cwd: WORKSPACE, env: { OUROBOROS_BACKEND: 'cpu' } })
    expect(res.status, res.stderr).toBe(0)
    const lines = readFileSync(join(project, 'gan/chains/r0/gen-000000.training.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; metrics: Record<string, number | null> })
    expect(lines.map((l) => l.step)).toEqual([10, 20])
    for (const { metrics } of lines) expect(Object.keys(metrics).sort()).toEqual(['blob_balance', 'log_det_cov', 'log_variance', 'total_variance', 'w2_to_reference'])
  })
})

describe('a metric group’s setup', () => {
  it('may not replace a field of run.json', () => {
    const config = writeConfig(project, { data: blobs, model: { kind: 'gmm' }, metrics: [{ module: '@lab/metric-greedy' }], generations: 1 }, 'greedy.json')
    const res = cli(['run', config, '--out', join(project, 'greedy')], { cwd: WORKSPACE })
    expect(res.status).toBe(2)
    expect(res.stderr).toContain("metric group 'greedy': its setupRun records run.json field 'status', which the run uses itself\nhint: give the field another name")
  })

  it('may not record a field another group records, which run.json would hold once', () => {
    for (const id of ['one', 'two']) {
      writeFileSync(
        join(project, `setup-${id}.mjs`),
        `import { z } from 'zod'\nexport default { id: '${id}', modality: 'vectors', description: 'sets up', outputs: ['${id}_value'], options: z.strictObject({}), compute: () => ({ ${id}_value: 1 }), setupRun: async () => ({ line: 'ready', record: { labCache: '${id}' } }) }\n`,
      )
    }
    const config = writeConfig(project, { data: blobs, model: { kind: 'gmm' }, metrics: [{ module: './setup-one.mjs' }, { module: './setup-two.mjs' }], generations: 1 }, 'two-setups.json')
    const res = cli(['run', config, '--out', join(project, 'two-setups')], { cwd: project })
    expect(res.status, res.stderr).toBe(2)
    expect(res.stderr).toContain("metric groups 'one' and 'two' both record run.json field 'labCache' in their setupRun")
  })
})

describe('ouroboros report of a run whose run.json describes no metric', () => {
  it('shows the built-in metrics as a new run would', () => {
    const dir = tempDir()
    const res = cli(['run', writeConfig(dir, { data: { kind: 'ring', n: 500 }, model: { kind: 'gmm', components: 8 }, metrics: ['modes'], generations: 2 }), '--out', join(dir, 'run')])
    expect(res.status, res.stderr).toBe(0)
    const fresh = readFileSync(join(dir, 'run/report.html'), 'utf8')
    const runFile = join(dir, 'run/run.json')
    const { metricInfo, ...older } = JSON.parse(readFileSync(runFile, 'utf8'))
    expect(Object.keys(metricInfo).sort()).toEqual(['modes_covered', 'modes_covered_1pct', 'off_support_share', 'pct_high_quality', 'reverse_kl', 'reverse_kl_uniform'])
    writeFileSync(runFile, JSON.stringify(older))
    const again = cli(['report', join(dir, 'run')])
    expect(again.status, again.stderr).toBe(0)
    const html = readFileSync(join(dir, 'run/report.html'), 'utf8')
    expect(html).toContain('modes covered<br><code>modes_<wbr>covered</code><br><span class="gen better">higher is better</span>')
    const table = (page: string): string => /<table class="summary">[\s\S]*?<\/table>/.exec(page)![0]
    expect(table(html)).toBe(table(fresh))
  })
})
