import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ErrorCode, type OuroborosError } from '@ouroboros/core'
import { moduleUrl } from './registry.js'
import { resolveRun } from './resolve.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A folder of plug-in files; they import the built-in packages by URL, since no node_modules is around them. */
function pluginFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-registry-'))
  dirs.push(dir)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return dir
}

const url = (pkg: string) => import.meta.resolve(pkg)
/** The built-in Gaussian model under another id, a policy and a metric group, as modules of their own. */
const PLUGINS = {
  'mean-only.mjs': `import gaussian from '${url('@ouroboros/model-gaussian')}'\nexport default { ...gaussian, id: 'mean-only' }\n`,
  'window.mjs': `import { builtinPolicies } from '${url('@ouroboros/scheduler')}'\nexport default { ...builtinPolicies.replace, id: 'window' }\n`,
  'spread.mjs': `import { moments } from '${url('@ouroboros/metrics')}'\nexport default { ...moments, id: 'spread' }\n`,
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as OuroborosError)

describe('plug-in modules by path', () => {
  it('names the missing file as resolved from the config file’s folder, not the loader that imports it', async () => {
    const dir = pluginFolder({})
    const err = await failure(resolveRun({ data: { kind: 'gaussian', n: 20 }, model: { kind: 'gaussian' }, policy: { kind: 'window', module: './missing.mjs' }, generations: 2 }, join(dir, 'c.json')))
    expect(err?.code).toBe(ErrorCode.CONFIG)
    // Said with the config's other problems, one line each: its hint on the same line. The path is
    // made absolute from the config's folder before it is looked up (run.json keeps it so).
    expect(err?.message).toBe(
      `${join(dir, 'c.json')}: policy.module: no such file: ${join(dir, 'missing.mjs')}; a relative path is taken from the config file's folder; a package is named by its package name, or by the path of its built file (such as ./my-model/dist/index.js)`,
    )
    expect(() => moduleUrl('./sub', pluginFolder({ 'sub/package.json': JSON.stringify({ exports: { '.': { default: './dist/index.js' } } }) }))).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/sub \(\.\/sub relative to the config file's folder, .*\) is a folder, not a module file$/), hint: "name its package's built file, ./sub/dist/index.js" }),
    )
  })
})

describe('a plug-in’s kind', () => {
  it('refuses a kind other than the id of the module’s plug-in, naming the field and both', async () => {
    const dir = pluginFolder(PLUGINS)
    const at = join(dir, 'c.json')
    const base = { data: { kind: 'gaussian', n: 20 }, model: { kind: 'gaussian' }, generations: 2 }
    const model = await failure(resolveRun({ ...base, model: { kind: 'other', module: './mean-only.mjs' } }, at))
    expect(model?.code).toBe(ErrorCode.CONFIG)
    expect(model?.message).toBe(`${at}: model.kind: 'other', but the plug-in of model.module (${join(dir, 'mean-only.mjs')}) is 'mean-only'; write "kind": "mean-only"`)
    const policy = await failure(resolveRun({ ...base, policy: { kind: 'windoww', module: './window.mjs' } }, at))
    expect(policy?.message).toBe(`${at}: policy.kind: 'windoww', but the plug-in of policy.module (${join(dir, 'window.mjs')}) is 'window'; write "kind": "window"`)
    // A module without its kind: the problem gives the id to write, and the rest of the config is checked with it.
    const kindless = await failure(resolveRun({ ...base, policy: { module: './window.mjs', k: 2 } }, at))
    expect(kindless?.message).toBe(`${at}: policy.kind: missing; the plug-in of policy.module (${join(dir, 'window.mjs')}) has id 'window': write "kind": "window"\n${at}: policy.k: unknown key; expected one of kind, module`)
    // The ids that agree run, and a module of several datasets has kind pick one.
    await expect(resolveRun({ ...base, model: { kind: 'mean-only', module: './mean-only.mjs' }, policy: { kind: 'window', module: './window.mjs' } }, at)).resolves.toBeDefined()
    await expect(resolveRun({ ...base, data: { kind: 'ring', module: '@ouroboros/datasets', n: 20 } }, at)).resolves.toBeDefined()
  })

  it("says, of a model.module given without a kind, the id of its plug-in to write, with the config's other problems", async () => {
    const dir = pluginFolder(PLUGINS)
    const at = join(dir, 'c.json')
    const model = await failure(resolveRun({ data: { kind: 'gaussian', n: 20 }, model: { module: './mean-only.mjs', hiden: 3 }, generations: 2 }, at))
    expect(model?.code).toBe(ErrorCode.CONFIG)
    expect(model?.message).toBe(
      `${at}: model.kind: missing; the plug-in of model.module (${join(dir, 'mean-only.mjs')}) has id 'mean-only': write "kind": "mean-only"\n` +
        `${at}: model.hiden: unknown key; expected one of kind, module, estimator`,
    )
    // A module that does not load: its problem beside the kind's.
    const missing = await failure(resolveRun({ data: { kind: 'gaussian', n: 20 }, model: { module: './none.mjs' }, generations: 2 }, at))
    expect(missing?.message).toContain(`${at}: model.module: no such file: ${join(dir, 'none.mjs')}`)
    expect(missing?.message).toContain(`${at}: model.kind: missing (expected a string)`)
  })
})

describe('a package of a pnpm workspace named from another folder', () => {
  it('hints at the path of its built file from the config’s folder', () => {
    const root = pluginFolder({
      'pnpm-workspace.yaml': 'packages:\n  - packages/*\n',
      'packages/model-mine/package.json': JSON.stringify({ name: '@lab/model-mine', exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } }),
      'packages/model-mine/dist/index.js': 'export default {}\n',
      'experiments/x.json': '{}',
    })
    let err: OuroborosError | undefined
    try {
      moduleUrl('@lab/model-mine', join(root, 'experiments'))
    } catch (e) {
      err = e as OuroborosError
    }
    expect(err?.message).toMatch(/^cannot find module '@lab\/model-mine' from /)
    expect(err?.hint).toContain('name its built file by path, "../packages/model-mine/dist/index.js"')
    expect(err?.hint).toContain(`its folder (${join(root, 'packages/model-mine')})`)
  })
})
