import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, records, tempDir } from './helpers.js'

afterAll(cleanup)

const WORKSPACE = fileURLToPath(new URL('../../../', import.meta.url))
const KINDS = { model: 'demo', metric: 'spread', dataset: 'blobs' } as const

describe('ouroboros new', () => {
  it('writes a model, a metric group and a dataset that compile against this workspace, pass their conformance tests and run', () => {
    const dir = tempDir('ouroboros-new-')
    for (const [kind, name] of Object.entries(KINDS)) {
      const res = cli(['new', kind, name, '--dir', join(dir, `${kind}-${name}`)])
      expect(res.status, res.stderr).toBe(0)
      expect(res.stdout).toContain(`created ${join(dir, `${kind}-${name}`)}: package.json, tsconfig.json, src/index.ts, src/conformance.test.ts, config.json`)
      // Run from this installation, whose vitest takes the package as its root.
      expect(res.stdout).toContain(`next, from ${WORKSPACE.replace(/\/$/, '')}:\n`)
      const vitestLine = /npx vitest run --root (\S+)/.exec(res.stdout)
      expect(vitestLine, res.stdout).not.toBeNull()
      expect(join(WORKSPACE, vitestLine![1]!)).toBe(join(dir, `${kind}-${name}`))
      // What `pnpm install` of its link: dependencies gives it.
      const modules = join(dir, `${kind}-${name}`, 'node_modules')
      mkdirSync(join(modules, '@ouroboros'), { recursive: true })
      for (const pkg of ['core', 'testkit']) symlinkSync(join(WORKSPACE, 'packages', pkg), join(modules, '@ouroboros', pkg))
      symlinkSync(realpathSync(join(WORKSPACE, 'packages/core/node_modules/zod')), join(modules, 'zod'))
    }
    const pkg = JSON.parse(readFileSync(join(dir, 'model-demo/package.json'), 'utf8'))
    expect(pkg.name).toBe('@ouroboros/model-demo')
    expect(pkg.dependencies['@ouroboros/core']).toMatch(/^link:(\.\.\/)+.*packages\/core$/)
    // A new model is short: the whole file the author starts from.
    expect(readFileSync(join(dir, 'model-demo/src/index.ts'), 'utf8').trimEnd().split('\n').length).toBeLessThanOrEqual(60)

    const tsc = spawnSync(process.execPath, [join(WORKSPACE, 'node_modules/typescript/bin/tsc'), '-b', ...Object.entries(KINDS).map(([k, n]) => join(dir, `${k}-${n}`))], { encoding: 'utf8' })
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0)
    expect(existsSync(join(dir, 'model-demo/dist/index.js'))).toBe(true)

    const vitest = spawnSync(process.execPath, [join(WORKSPACE, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } })
    expect(vitest.status, vitest.stdout + vitest.stderr).toBe(0)
    const summary = vitest.stdout.replace(/\x1b\[[0-9;]*m/g, '')
    expect(summary).toMatch(/Test Files\s+3 passed \(3\)/)
    expect(summary).toMatch(/model-demo\/src\/conformance\.test\.ts \(1\d tests\)/)

    // Each config names its package, found from the config's own folder.
    const run = (kind: keyof typeof KINDS) => {
      const out = join(dir, `run-${kind}`)
      const res = cli(['run', join(dir, `${kind}-${KINDS[kind]}`, 'config.json'), '--out', out, '--workers', '2'])
      expect(res.status, res.stderr).toBe(0)
      return records(out).filter((r) => r.generation >= 0)
    }
    const model = run('model')
    expect(model).toHaveLength(2 * 3 * 20)
    const metric = run('metric')
    expect(metric.every((r) => typeof r.metrics['spread_ratio'] === 'number' && typeof r.metrics['mean_shift'] === 'number')).toBe(true)
    const dataset = run('dataset')
    // Two blobs of std 1, 4 apart on the first axis: a total variance of 1 + 2² + 1 = 6, which a two-component mixture keeps.
    for (const r of dataset.filter((x) => x.generation === 0)) expect(Math.abs(r.metrics['total_variance']! - 6)).toBeLessThan(0.8)
  }, 240_000)

  it('inside a pnpm workspace, writes a workspace package and adds it to the workspace build', () => {
    const ws = tempDir('ouroboros-ws-')
    writeFileSync(join(ws, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n')
    writeFileSync(join(ws, 'tsconfig.json'), JSON.stringify({ files: [], references: [{ path: 'packages/core' }] }, null, 2))
    const res = cli(['new', 'dataset', 'blobs', '--dir', join(ws, 'packages/dataset-blobs')])
    expect(res.status, res.stderr).toBe(0)
    expect(res.stdout).toContain(`added packages/dataset-blobs to ${join(ws, 'tsconfig.json')}`)
    expect(res.stdout).toContain('npx -y pnpm@12.4.2 install')
    const pkg = JSON.parse(readFileSync(join(ws, 'packages/dataset-blobs/package.json'), 'utf8'))
    expect(pkg.dependencies).toEqual({ '@ouroboros/core': 'workspace:*', zod: 'catalog:' })
    expect(pkg.devDependencies).toEqual({ '@ouroboros/testkit': 'workspace:*' })
    const tsconfig = JSON.parse(readFileSync(join(ws, 'packages/dataset-blobs/tsconfig.json'), 'utf8'))
    expect(tsconfig.extends).toBe('../../tsconfig.base.json')
    expect(tsconfig.references).toEqual([{ path: '../core' }])
    expect(res.stdout).toContain('npx vitest run packages/dataset-blobs    its conformance test\n')
    expect(cli(['new', 'model', 'other', '--dir', join(ws, 'packages/model-other')]).status).toBe(0)
    expect(JSON.parse(readFileSync(join(ws, 'tsconfig.json'), 'utf8')).references).toEqual([{ path: 'packages/core' }, { path: 'packages/dataset-blobs' }, { path: 'packages/model-other' }])
    // Its config before it is built: the package is found, and the message says to build it.
    const unbuilt = cli(['validate', join(ws, 'packages/model-other/config.json')])
    expect(unbuilt.status).toBe(2)
    expect(unbuilt.stderr).toContain(`model.module: '@ouroboros/model-other' is a package of the workspace (${join(ws, 'packages/model-other')}) that is not built: it has no ./dist/index.js`)
    expect(unbuilt.stderr).toContain('not built: it has no ./dist/index.js; build it: npx -y pnpm@12.4.2 install')
  })

  it('inside a pnpm workspace, writes only where its packages globs reach, which pnpm installs', () => {
    const ws = tempDir('ouroboros-ws-')
    writeFileSync(join(ws, 'pnpm-workspace.yaml'), "packages:\n  - packages/*\n  # models of our own\n  - 'models/**'\n  - \"!models/old/**\"\ncatalog:\n  zod: ^4\n")
    writeFileSync(join(ws, 'tsconfig.json'), JSON.stringify({ files: [], references: [] }))
    const refused = (dir: string) => {
      const res = cli(['new', 'model', 'mine', '--dir', join(ws, dir)])
      expect(res.status, res.stdout).toBe(2)
      expect(res.stderr).toContain(`--dir: ${join(ws, dir)} is inside the pnpm workspace ${ws} but is not one of its packages (packages/*, models/**, !models/old/**)`)
      expect(existsSync(join(ws, dir))).toBe(false)
    }
    refused('model-mine')
    refused('packages/group/model-mine')
    refused('models/old/model-mine')
    refused('modelsx/model-mine')
    expect(JSON.parse(readFileSync(join(ws, 'tsconfig.json'), 'utf8')).references).toEqual([])
    for (const dir of ['models/model-mine', 'models/text/model-mine']) {
      const res = cli(['new', 'model', 'mine', '--dir', join(ws, dir)])
      expect(res.status, res.stderr).toBe(0)
      expect(res.stdout).toContain(`npx vitest run ${dir}    its conformance test`)
    }
  })

  it('refuses a bad kind or name, or a folder that is not empty, and writes nothing', () => {
    const dir = tempDir('ouroboros-new-')
    const kind = cli(['new', 'widget', 'x', '--dir', join(dir, 'a')])
    expect(kind.status).toBe(2)
    expect(kind.stderr).toContain("KIND: 'widget' is not one of model, metric, dataset")
    const name = cli(['new', 'model', 'My_Model', '--dir', join(dir, 'b')])
    expect(name.status).toBe(2)
    expect(name.stderr).toContain("NAME: 'My_Model' must be lower-case letters, digits and dashes")
    expect(existsSync(join(dir, 'a')) || existsSync(join(dir, 'b'))).toBe(false)
    mkdirSync(join(dir, 'taken'))
    writeFileSync(join(dir, 'taken/index.ts'), 'mine')
    const taken = cli(['new', 'model', 'x', '--dir', join(dir, 'taken')])
    expect(taken.status).toBe(2)
    expect(taken.stderr).toContain('already exists and is not empty')
    expect(readFileSync(join(dir, 'taken/index.ts'), 'utf8')).toBe('mine')
  })
})
