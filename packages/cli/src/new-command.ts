import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve as resolvePath, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configError } from '@ouroboros/core'
import { makeDirectory } from '@ouroboros/store'
import { checkOutDir } from './out-paths.js'
import { builtinDatasets, builtinModels, metricsModule } from './registry.js'
import { NEW_KINDS } from './usage.js'
import { globPattern, workspaceAbove, workspaceGlobs } from './workspace.js'

type NewKind = (typeof NEW_KINDS)[number]

const PNPM = 'npx -y pnpm@12.4.2'

/** This installation's workspace: the packages a new package builds against. */
const INSTALLATION = fileURLToPath(new URL('../../../', import.meta.url))

/** A path for a JSON file: relative, with forward slashes, starting with '.' or '..'. */
function rel(from: string, to: string): string {
  const r = relative(from, to).split(sep).join('/')
  return r.startsWith('.') ? r : `./${r}`
}

/**
 * `ouroboros new KIND NAME`: a package with a working plug-in of that kind, its conformance test
 * and a config that uses it. Inside a pnpm workspace it is a workspace package (and the
 * workspace's tsconfig.json builds it); elsewhere it links this installation's packages.
 */
export async function newCommand(kind: string, name: string, opts: { dir?: string }): Promise<string> {
  if (!(NEW_KINDS as readonly string[]).includes(kind)) throw configError(`KIND: '${kind}' is not one of ${NEW_KINDS.join(', ')}`)
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw configError(`NAME: '${name}' must be lower-case letters, digits and dashes, starting with a letter (it becomes the ${kind}'s id)`)
  const k = kind as NewKind
  // A config names a plug-in by its id: one with a built-in's id would be refused by a run (a
  // metric group) or be mistaken for the built-in wherever its module is left out.
  const taken = await builtinIds(k)
  if (taken.includes(name)) throw configError(`NAME: '${name}' is the id of a built-in ${KIND_WORDS[k]}`, `choose another NAME (the built-in ${KIND_WORDS[k]}s are ${taken.join(', ')})`)
  const dir = resolvePath(opts.dir ?? (existsSync(join(INSTALLATION, 'pnpm-workspace.yaml')) ? join(INSTALLATION, 'packages', `${k}-${name}`) : `${k}-${name}`))
  // Without --dir the folder comes from NAME, which the message then blames.
  const field = opts.dir === undefined ? 'NAME' : '--dir'
  checkOutDir(field, dir)
  if (existsSync(dir) && readdirSync(dir).length > 0) throw configError(`${field}: ${dir} already exists and is not empty; choose another NAME or --dir`)
  const workspace = workspaceAbove(dir)
  if (workspace !== undefined) checkWorkspacePackage(workspace, dir)
  const packageName = `@ouroboros/${k}-${name}`
  // A workspace package of this installation, of another workspace, or a package on its own.
  const own = workspace !== undefined
  const base = workspace ?? INSTALLATION
  const zod = /^\s+zod:\s*(\S+)/m.exec(readFileSync(join(INSTALLATION, 'pnpm-workspace.yaml'), 'utf8'))?.[1] ?? '^4'
  const dep = (pkg: string) => (own ? 'workspace:*' : `link:${rel(dir, join(INSTALLATION, 'packages', pkg))}`)
  const files: Record<string, string> = {
    'package.json': json({
      name: packageName,
      version: '0.1.0',
      private: true,
      description: DESCRIPTIONS[k],
      type: 'module',
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
      files: ['dist'],
      dependencies: { '@ouroboros/core': dep('core'), zod: own ? 'catalog:' : zod },
      devDependencies: { '@ouroboros/testkit': dep('testkit') },
    }),
    'tsconfig.json': json({
      extends: rel(dir, join(base, 'tsconfig.base.json')),
      compilerOptions: { rootDir: 'src', outDir: 'dist', ...(own ? {} : { typeRoots: [rel(dir, join(INSTALLATION, 'node_modules/@types'))] }) },
      include: ['src'],
      exclude: ['src/**/*.test.ts'],
      references: [{ path: rel(dir, join(base, 'packages/core')) }],
    }),
    'src/index.ts': SOURCES[k].replaceAll('NAME', name),
    'src/conformance.test.ts': TESTS[k].replaceAll('NAME', name),
    'config.json': json(CONFIGS[k](name, packageName)),
  }
  try {
    for (const [file, text] of Object.entries(files)) {
      makeDirectory(dirname(join(dir, file)))
      writeFileSync(join(dir, file), text)
    }
  } catch (err) {
    throw configError(`--dir: cannot write ${dir}: ${(err as Error).message}`, 'give --dir a directory this user can write')
  }
  const lines = [`created ${dir}: ${Object.keys(files).join(', ')}`]
  // Outside a workspace the commands run from this installation, which has pnpm's lockfile, tsc and vitest.
  const where = resolvePath(workspace ?? INSTALLATION)
  const shown = (p: string) => rel(where, p).replace(/^\.\//, '')
  if (workspace !== undefined) {
    const rootConfig = join(workspace, 'tsconfig.json')
    const root = JSON.parse(readFileSync(rootConfig, 'utf8')) as { references?: { path: string }[] }
    const path = relative(workspace, dir).split(sep).join('/')
    if (!(root.references ?? []).some((r) => r.path === path)) {
      root.references = [...(root.references ?? []), { path }]
      writeFileSync(rootConfig, json(root))
      lines.push(`added ${path} to ${rootConfig} (the workspace build)`)
    }
  }
  lines.push(
    'next, from ' + where + ':',
    `  ${PNPM} install${own ? '' : ` --dir ${shown(dir)}`}    links its dependencies${own ? ' and builds the workspace (commit pnpm-lock.yaml with the package)' : ''}`,
    ...(own ? [] : [`  npx tsc -b ${shown(dir)}    builds it, and again after each change (a run uses the build)`]),
    // A workspace's tests cover its packages; a package on its own is vitest's root.
    `  npx vitest run ${own ? '' : '--root '}${shown(dir)}    its conformance test`,
    `  node ${shown(join(INSTALLATION, 'packages/cli/dist/main.js'))} run ${shown(join(dir, 'config.json'))}    a run that uses it`,
    ...(own ? ['  npx tsc -b    rebuilds it after each change (a run uses the build)'] : []),
  )
  return lines.join('\n') + '\n'
}

/**
 * A package inside a pnpm workspace is one of its packages only where the workspace's `packages`
 * globs say so: anywhere else pnpm would not install its dependencies, and the workspace build,
 * which gets a reference to it, would fail on its imports.
 */
function checkWorkspacePackage(workspace: string, dir: string): void {
  const path = relative(workspace, dir).split(sep).join('/')
  const globs = workspaceGlobs(workspace)
  const matches = (glob: string) => globPattern(glob).test(path)
  if (globs.some((g) => !g.startsWith('!') && matches(g)) && !globs.some((g) => g.startsWith('!') && matches(g.slice(1)))) return
  throw configError(
    `--dir: ${dir} is inside the pnpm workspace ${workspace} but is not one of its packages (${globs.join(', ') || 'none'}), so pnpm would not install it`,
    `give --dir a folder the workspace's packages cover (such as ${join(workspace, 'packages', basename(dir))}), or one outside the workspace, or add its folder to the packages of ${join(workspace, 'pnpm-workspace.yaml')}`,
  )
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n'
}

const KIND_WORDS: Record<NewKind, string> = { model: 'model', metric: 'metric group', dataset: 'dataset' }

async function builtinIds(kind: NewKind): Promise<string[]> {
  if (kind === 'model') return Object.keys(builtinModels)
  if (kind === 'dataset') return Object.keys(await builtinDatasets())
  return Object.keys((await metricsModule()).builtinMetrics)
}

const DESCRIPTIONS: Record<NewKind, string> = {
  model: 'A model for Ouroboros',
  metric: 'A metric group for Ouroboros',
  dataset: 'A dataset for Ouroboros',
}

const SOURCES: Record<NewKind, string> = {
  model: `import { z } from 'zod'
import { asVectors, defineModel, inputError, vectors } from '@ouroboros/core'

/** Hyperparameters: what a config gives under "model" besides kind and module. */
const params = z.strictObject({
  /** Added to every fitted variance, so that a collapsed model can still sample. */
  varianceFloor: z.number().min(0).default(0),
})

/** Learned state: plain data and typed arrays (it is checkpointed and crosses threads). */
interface State {
  mean: Float64Array
  variance: Float64Array
}

export const model = defineModel<z.output<typeof params>, State>({
  id: 'NAME',
  modality: 'vectors',
  description: 'a Gaussian with a diagonal covariance, fit by maximum likelihood',
  params,
  acceptsTemperature: true,
  // A variance needs two rows: a run whose training sets can be smaller is refused before it starts.
  minimumRows: () => ({ rows: 2, what: 'a NAME model' }),
  fit(data, p) {
    const x = asVectors(data, 'NAME training data')
    if (x.n < 2) throw inputError(\`NAME: a variance needs at least 2 training rows, got \${x.n}\`)
    const mean = new Float64Array(x.d)
    const variance = new Float64Array(x.d).fill(p.varianceFloor)
    for (let i = 0; i < x.n; i++) for (let j = 0; j < x.d; j++) mean[j]! += x.data[i * x.d + j]! / x.n
    for (let i = 0; i < x.n; i++) for (let j = 0; j < x.d; j++) variance[j]! += (x.data[i * x.d + j]! - mean[j]!) ** 2 / x.n
    return { mean, variance }
  },
  sample(state, n, ctx) {
    // Every random number comes from ctx.rng, so that a chain is reproducible.
    const d = state.mean.length
    const out = new Float64Array(n * d)
    for (let i = 0; i < n * d; i++) out[i] = state.mean[i % d]! + Math.sqrt(state.variance[i % d]! * ctx.temperature) * ctx.rng.normal()
    return vectors(n, d, out)
  },
  logLikelihood(state, data) {
    const x = asVectors(data, 'NAME log-likelihood data')
    const out = new Float64Array(x.n)
    for (let i = 0; i < x.n; i++) {
      for (let j = 0; j < x.d; j++) {
        const v = state.variance[j]!
        out[i]! -= 0.5 * (Math.log(2 * Math.PI * v) + (x.data[i * x.d + j]! - state.mean[j]!) ** 2 / v)
      }
    }
    return out
  },
})

export default model
`,
  metric: `import { z } from 'zod'
import { asVectors, defineMetric, type VectorSamples } from '@ouroboros/core'

/** Mean and total variance (the trace of the covariance) of vector samples. */
function moments(x: VectorSamples): { mean: Float64Array; total: number } {
  const mean = new Float64Array(x.d)
  for (let i = 0; i < x.n; i++) for (let j = 0; j < x.d; j++) mean[j]! += x.data[i * x.d + j]! / x.n
  let total = 0
  for (let i = 0; i < x.n; i++) for (let j = 0; j < x.d; j++) total += (x.data[i * x.d + j]! - mean[j]!) ** 2 / x.n
  return { mean, total }
}

export const metric = defineMetric({
  id: 'NAME',
  modality: 'vectors',
  description: 'spread of the generated samples relative to the real data, and the distance between their means',
  outputs: ['spread_ratio', 'mean_shift'],
  /** Options: what a config gives under metricOptions.NAME. */
  options: z.strictObject({}),
  nullWhen: { spread_ratio: 'the real data have no spread' },
  /**
   * How the report shows each output. The real data's spread is best: collapse shrinks a mixture's
   * samples onto fewer modes and spreads a KDE's, so the threshold is a move by a factor of 2 either way.
   */
  outputInfo: {
    spread_ratio: { title: 'spread relative to the real data', threshold: { direction: 'departs', kind: 'factor', value: 2 } },
    mean_shift: { title: 'distance of the means', unit: 'data units' },
  },
  compute({ real, generated }) {
    const r = moments(asVectors(real, 'NAME: real samples'))
    const g = moments(asVectors(generated, 'NAME: generated samples'))
    let shift = 0
    for (let j = 0; j < r.mean.length; j++) shift += (g.mean[j]! - r.mean[j]!) ** 2
    return { spread_ratio: r.total > 0 ? g.total / r.total : null, mean_shift: Math.sqrt(shift) }
  },
})

export default metric
`,
  dataset: `import { z } from 'zod'
import { defineDataset, vectors } from '@ouroboros/core'

/** Parameters: what a config gives under "data" besides kind, module and n. */
const params = z.strictObject({
  d: z.int().min(1).max(10_000).default(2),
  /** Distance between the two blob centres, along the first axis. */
  separation: z.number().positive().default(4),
  std: z.number().positive().default(1),
})

export const dataset = defineDataset({
  id: 'NAME',
  modality: 'vectors',
  description: 'two Gaussian blobs of equal weight, separation apart on the first axis',
  params,
  create(p) {
    return {
      // What metrics and the report may read about the data.
      info: { kind: 'NAME', modality: 'vectors', d: p.d },
      sample(n, rng) {
        const out = rng.fillNormal(new Float64Array(n * p.d), 0, p.std)
        for (let i = 0; i < n; i++) out[i * p.d]! += (rng.uniform() < 0.5 ? -0.5 : 0.5) * p.separation
        return vectors(n, p.d, out)
      },
    }
  },
})

export default dataset
`,
}

const TESTS: Record<NewKind, string> = {
  model: `import { vectors } from '@ouroboros/core'
import { runModelConformance } from '@ouroboros/testkit'
import { model } from './index.js'

runModelConformance(model, {
  params: { varianceFloor: 0 },
  data: (rng) => vectors(200, 2, rng.fillNormal(new Float64Array(400), 1, 2)),
  dataset: { kind: 'gaussian', modality: 'vectors', d: 2 },
  badParams: [{ params: { varianceFloor: -1 }, field: 'varianceFloor' }],
})
`,
  metric: `import { vectors } from '@ouroboros/core'
import { runMetricConformance } from '@ouroboros/testkit'
import { metric } from './index.js'

runMetricConformance(metric, {
  options: {},
  real: (rng) => vectors(300, 2, rng.fillNormal(new Float64Array(600), 0, 1)),
  generated: (rng) => vectors(300, 2, rng.fillNormal(new Float64Array(600), 1, 0.5)),
  dataset: { kind: 'gaussian', modality: 'vectors', d: 2 },
  badOptions: [],
})
`,
  dataset: `import { runDatasetConformance } from '@ouroboros/testkit'
import { dataset } from './index.js'

runDatasetConformance(dataset, {
  params: { separation: 4 },
  badParams: [
    { params: { std: 0 }, field: 'std' },
    { params: { d: 1.5 }, field: 'd' },
  ],
})
`,
}

const CONFIGS: Record<NewKind, (name: string, pkg: string) => unknown> = {
  model: (name, pkg) => ({
    name,
    data: { kind: 'gaussian', d: 2, n: 100 },
    model: { kind: name, module: pkg },
    generations: 20,
    replicates: 3,
    sweep: { 'policy.kind': ['replace', 'accumulate'] },
  }),
  metric: (name, pkg) => ({
    name: `${name}-on-a-kde`,
    data: { kind: 'ring', n: 1000 },
    model: { kind: 'kde' },
    generations: 10,
    replicates: 2,
    metrics: [{ module: pkg }, 'modes'],
  }),
  dataset: (name, pkg) => ({
    name: `gmm-on-${name}`,
    data: { kind: name, module: pkg, n: 1000 },
    model: { kind: 'gmm', components: 2 },
    generations: 10,
    replicates: 2,
    metrics: ['moments'],
  }),
}
