import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import gmm from '@ouroboros/model-gmm'
import { cleanup, cli, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const git = (...args: string[]) => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim()

const config = {
  name: 'provenance',
  data: { kind: 'ring', n: 200 },
  model: { kind: 'gmm', components: 3 },
  generations: 2,
  replicates: 3,
  metrics: ['moments'],
  sweep: { 'policy.kind': ['replace', 'accumulate'] },
}

interface Run {
  cells: { config: { model: Record<string, unknown>; data: Record<string, unknown> } }[]
  git?: { commit: string; dirty: boolean }
  build?: string
}

describe('what a run records about itself', () => {
  let res: ReturnType<typeof cli>
  let run: Run
  beforeAll(() => {
    const dir = tempDir()
    res = cli(['run', writeConfig(dir, config), '--out', join(dir, 'run'), '--workers', '1'])
    run = JSON.parse(readFileSync(join(dir, 'run', 'run.json'), 'utf8')) as Run
  })

  it('records every cell with the model parameters the model resolved, defaults filled in', () => {
    expect(res.status, res.stderr).toBe(0)
    const expected = { kind: 'gmm', ...gmm.params.parse({ components: 3 }) }
    expect(Object.keys(expected)).toEqual(expect.arrayContaining(['tol', 'maxIter', 'nInit']))
    for (const cell of run.cells) expect(cell.config.model).toEqual(expected)
    expect(run.cells[0]!.config.data).toMatchObject({ kind: 'ring', n: 200 })
  })

  it('records the git commit of the checkout it ran from', () => {
    expect(run.git?.commit).toBe(git('rev-parse', 'HEAD'))
    // Others may commit or edit while this runs; the commit above was read right after the run.
    expect(typeof run.git?.dirty).toBe('boolean')
  })

  it("records the hash of the workspace's built JavaScript, which workers on the queue compare", () => {
    expect(run.build).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('ouroboros validate', () => {
  const dir = tempDir()
  const file = writeConfig(dir, { ...config, generations: 50 })

  it('summarises the run in a few lines: cells, chains, generations in all, resolved model', () => {
    const res = cli(['validate', file, '--summary'])
    expect(res.status, res.stderr).toBe(0)
    const lines = res.stdout.trim().split('\n')
    expect(lines.length).toBeLessThan(20)
    const line = (key: string) => lines.find((l) => l.trimStart().startsWith(`${key} `)) ?? ''
    expect(line('cells')).toContain('2: policy.kind (replace, accumulate)')
    // 2 cells × 3 replicates; 6 chains × 50 generations; 6 × 50 × 200 samples.
    expect(line('chains')).toContain('6 (3 replicates per cell')
    expect(line('generations')).toContain('50 per chain, 300 in all')
    expect(line('samples')).toContain('200 per generation, 60,000 in all')
    const model = gmm.params.parse({ components: 3 })
    expect(line('model')).toContain(`gmm: components 3, covarianceType ${model.covarianceType}, tol ${model.tol}, maxIter ${model.maxIter}`)
    expect(line('model')).toContain(`nInit ${model.nInit}`)
    expect(line('metrics')).toBe('  metrics      moments')
  })

  it('lists post-training stages, one a line, with their defaults and what is swept', () => {
    const stages = [
      { kind: 'finetune', data: { weights: [1, 1, 0, 0, 0, 0, 0, 0] }, steps: 10 },
      { kind: 'rl', reward: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }, beta: 1, steps: 5 },
    ]
    const res = cli(['validate', writeConfig(dir, { ...config, posttrain: stages, sweep: { 'posttrain.1.beta': [1, 0.1] } }, 'stages.json'), '--summary'])
    expect(res.status, res.stderr).toBe(0)
    const lines = res.stdout.split('\n')
    const at = lines.findIndex((l) => l.trimStart().startsWith('posttrain '))
    // Values in words: a spec as its kind and options, objects and lists without JSON's quotes.
    expect(lines[at]).toMatch(/^  posttrain +0  finetune: data \{weights=\[1, 1, 0, 0, 0, 0, 0, 0\]\}, steps 10, replay 0, anchor 0,/)
    expect(lines[at + 1]).toMatch(/^ +1  rl: reward modes\(values=\[1, 0, 0, 0, 0, 0, 0, 0\]\), beta swept, steps 5, method auto,/)
    // A swept key inside an object shows as swept there.
    const proxy = { kind: 'proxy', of: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] } }
    const nested = cli(['validate', writeConfig(dir, { ...config, posttrain: [{ ...stages[1], reward: proxy }], sweep: { 'posttrain.0.reward.labels': [50, 200] } }, 'nested.json'), '--summary'])
    expect(nested.status, nested.stderr).toBe(0)
    expect(nested.stdout).toContain('0  rl: reward (proxy: of modes(values=[1, 0, 0, 0, 0, 0, 0, 0]), labels swept, noise 0,')
  })

  it('prints the resolved form as JSON when its output is not a terminal, as scripts read it', () => {
    const res = cli(['validate', file])
    expect(res.status, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout).chains).toBe(6)
  })

  it('prints the resolved config as JSON with --json', () => {
    const res = cli(['validate', file, '--json'])
    expect(res.status, res.stderr).toBe(0)
    const view = JSON.parse(res.stdout) as { chains: number; cells: { config: { model: Record<string, unknown> } }[] }
    expect(view.chains).toBe(6)
    expect(view.cells[1]!.config.model).toEqual({ kind: 'gmm', ...gmm.params.parse({ components: 3 }) })
  })

  it('refuses --json with --summary, which ask for two outputs', () => {
    const res = cli(['validate', file, '--json', '--summary'])
    expect(res.status).toBe(2)
    expect(res.stderr).toMatch(/^error: --json and --summary: give one of them\n/)
    expect(res.stdout).toBe('')
  })
})

describe('ouroboros --version', () => {
  it('prints the CLI version and the commit of the checkout', () => {
    const res = cli(['--version'])
    expect(res.status, res.stderr).toBe(0)
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    expect(res.stdout).toMatch(new RegExp(`^ouroboros ${pkg.version.replace(/\./g, '\\.')} \\(git ${git('rev-parse', 'HEAD').slice(0, 12)}(, uncommitted changes)?\\)\\n$`))
  })
})
