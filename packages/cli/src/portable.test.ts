import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { localModuleUrl, portableModule, workerModuleResolver } from './portable.js'
import { packageOfWorkspace } from './registry.js'

const dir = mkdtempSync(join(tmpdir(), 'ouroboros-portable-'))
const allowed = join(dir, 'allowed')
const elsewhere = join(dir, 'elsewhere')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('module names in run.json', () => {
  it('names a built-in plug-in by its package and a loose file by its absolute path', () => {
    expect(portableModule(import.meta.resolve('@ouroboros/model-gmm'))).toBe('@ouroboros/model-gmm')
    expect(portableModule(import.meta.resolve('@ouroboros/metrics'))).toBe('@ouroboros/metrics')
    // A package's subpath entry (model.command on text data) by its name too, which a worker loads.
    expect(portableModule(import.meta.resolve('@ouroboros/model-command/text'))).toBe('@ouroboros/model-command/text')
    expect(workerModuleResolver([])('@ouroboros/model-command/text')).toBe(import.meta.resolve('@ouroboros/model-command/text'))
    const file = join(dir, 'model.mjs')
    writeFileSync(file, 'export default {}')
    expect(portableModule(pathToFileURL(file).href)).toBe(file)
  })

  it("finds a package of a workspace by its name, as a worker and a resume find one of their installation's workspace", () => {
    // A model package made with `ouroboros new`, which only the packages that depend on it can import by name.
    const ws = join(dir, 'ws')
    mkdirSync(join(ws, 'packages/model-x/dist'), { recursive: true })
    mkdirSync(join(ws, 'tools/other'), { recursive: true })
    writeFileSync(join(ws, 'pnpm-workspace.yaml'), 'packages:\n  - "packages/*"\n')
    writeFileSync(join(ws, 'packages/model-x/package.json'), JSON.stringify({ name: '@lab/model-x', exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } } }))
    writeFileSync(join(ws, 'tools/other/package.json'), JSON.stringify({ name: '@lab/other', main: 'index.js' }))
    expect(packageOfWorkspace(ws, '@lab/model-x')?.entry).toBe(join(ws, 'packages/model-x/dist/index.js'))
    // Outside the workspace's globs, or of another name: none.
    expect(packageOfWorkspace(ws, '@lab/other')).toBeUndefined()
    expect(packageOfWorkspace(ws, '@lab/model-y')).toBeUndefined()
    // This installation's own packages are found by Node's lookup first.
    expect(localModuleUrl('@ouroboros/model-gmm')).toBe(import.meta.resolve('@ouroboros/model-gmm'))
  })
})

describe("a worker's modules", () => {
  for (const d of [allowed, elsewhere]) mkdirSync(d)
  writeFileSync(join(allowed, 'm.mjs'), 'export default {}')
  writeFileSync(join(elsewhere, 'm.mjs'), 'export default {}')
  const resolve = workerModuleResolver([allowed])

  it('are packages of its installation and files under the directories it allows', () => {
    expect(resolve('@ouroboros/model-gmm')).toBe(import.meta.resolve('@ouroboros/model-gmm'))
    expect(resolve(join(allowed, 'm.mjs'))).toBe(pathToFileURL(join(allowed, 'm.mjs')).href)
  })

  it('refuse anything else with a plug-in error that says why', () => {
    const refusals: [string, string][] = [
      [join(elsewhere, 'm.mjs'), 'outside the directories this worker runs plug-in files from'],
      [join(allowed, '..', 'elsewhere', 'm.mjs'), 'outside the directories'],
      [join(allowed, 'missing.mjs'), 'this machine has no file'],
      ['@ouroboros/no-such-plugin', "this worker's installation has no package '@ouroboros/no-such-plugin'"],
      ['data:text/javascript,process.exit(9)', 'neither a package name nor an absolute path'],
      ['file:///etc/passwd', 'neither a package name nor an absolute path'],
      ['node:child_process', 'neither a package name nor an absolute path'],
      ['child_process', 'neither a package name nor an absolute path'],
      ['./relative.mjs', 'neither a package name nor an absolute path'],
    ]
    for (const [module, says] of refusals) {
      let caught: unknown
      try {
        resolve(module)
      } catch (err) {
        caught = err
      }
      expect((caught as Error | undefined)?.message, module).toContain(says)
      expect((caught as { code?: string }).code).toBe('OUROBOROS_PLUGIN')
    }
  })
})
