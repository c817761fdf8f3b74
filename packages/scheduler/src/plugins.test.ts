import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { OuroborosError } from '@ouroboros/core'
import { loadDataset, loadFilter, loadMetric, loadModel, loadPolicy, syntaxErrorAt } from './plugins.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A folder of plug-in files that import nothing: plain objects with the functions of their kind. */
function pluginFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-plugins-'))
  dirs.push(dir)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return dir
}

const href = (dir: string, name: string) => pathToFileURL(join(dir, name)).href
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as OuroborosError)

describe('a syntax error in a plug-in module', () => {
  it('is found at its line and column, which Node 20’s import does not give', () => {
    const dir = pluginFolder({ 'syntax.mjs': "export default {\n  id: 'x',\n  foo(;\n}\n", 'fine.mjs': 'export default {}\n' })
    // The error as Node's import throws it: a message and no location (vitest's own import differs).
    const thrown = new SyntaxError("Unexpected token ';'")
    // Line 3, under the ';' of "  foo(;".
    expect(syntaxErrorAt(href(dir, 'syntax.mjs'), thrown)).toBe(`${join(dir, 'syntax.mjs')}:3:7`)
    expect(syntaxErrorAt(href(dir, 'fine.mjs'), thrown)).toBeUndefined()
    expect(syntaxErrorAt(href(dir, 'syntax.mjs'), new Error('not a syntax error'))).toBeUndefined()
  })

  it('is found in a module the plug-in imports by relative path, and in one that module imports', () => {
    const dir = pluginFolder({
      'plugin.mjs': "import { shared } from './lib/shared.mjs'\nimport('./lib/later.mjs')\nexport default { shared }\n",
      'lib/shared.mjs': "export { deep as shared } from './deep.mjs'\n",
      'lib/later.mjs': 'export const later = 1\n',
      'lib/deep.mjs': 'export const deep = {\n  a: 1\n  b: 2\n}\n',
    })
    // Line 3 of deep.mjs, under its 'b'.
    expect(syntaxErrorAt(href(dir, 'plugin.mjs'), new SyntaxError("Unexpected identifier 'b'"))).toBe(`${join(dir, 'lib', 'deep.mjs')}:3:3`)
  })
})

describe('a module that is not the plug-in its field wants', () => {
  const dir = pluginFolder({
    'spread.mjs': "export default { id: 'spread', outputs: ['spread'], options: {}, compute: () => ({ spread: 1 }) }\n",
    'none.mjs': 'export const x = 1\n',
    'number.mjs': 'export default 3\n',
    'window.mjs': "export default { id: 'window', params: {}, trainingSet: () => ({ parts: [] }), largestTrainingSet: () => 1 }\n",
    'unshaped.mjs': "export default { id: 'odd', describe: () => 'odd' }\n",
    'several.mjs': "const policy = (id) => ({ id, params: {}, trainingSet: () => ({ parts: [] }), largestTrainingSet: () => 1 })\nexport const builtinPolicies = { window: policy('window'), 'last-only': policy('last-only') }\n",
  })

  it('is refused in the same words by every loader, saying what the module exports', async () => {
    expect((await failure(loadPolicy({ kind: 'spread', module: href(dir, 'spread.mjs') })))?.message).toBe(
      `${href(dir, 'spread.mjs')} does not export a policy made with definePolicy: its default export is a metric group with the id 'spread'`,
    )
    expect((await failure(loadModel(href(dir, 'none.mjs'))))?.message).toBe(`${href(dir, 'none.mjs')} does not export a model made with defineModel: it has no default export`)
    expect((await failure(loadDataset(href(dir, 'number.mjs'), 'x')))?.message).toBe(`${href(dir, 'number.mjs')} does not export a dataset made with defineDataset: its default export is a number`)
    expect((await failure(loadFilter({ kind: 'window', module: href(dir, 'window.mjs') })))?.message).toBe(
      `${href(dir, 'window.mjs')} does not export a filter made with defineFilter: its default export is a policy with the id 'window'`,
    )
    expect((await failure(loadMetric(href(dir, 'unshaped.mjs'))))?.message).toBe(
      `${href(dir, 'unshaped.mjs')} does not export a metric group made with defineMetric: its default export is an object that is none of the plug-in kinds with the id 'odd'`,
    )
  })

  it('is taken where it is of its kind', async () => {
    expect((await loadMetric(href(dir, 'spread.mjs'))).id).toBe('spread')
    expect((await loadPolicy({ kind: 'window', module: href(dir, 'window.mjs') })).id).toBe('window')
    expect((await loadPolicy({ kind: 'replace' })).id).toBe('replace')
    expect((await failure(loadPolicy({ kind: 'nope' })))?.message).toBe("no built-in policy 'nope'")
    // A module of several plug-ins: the kind picks one, and a misspelt kind is told the ones it has.
    expect((await loadPolicy({ kind: 'last-only', module: href(dir, 'several.mjs') })).id).toBe('last-only')
    expect((await failure(loadPolicy({ kind: 'lastonly', module: href(dir, 'several.mjs') })))?.message).toBe(
      `${href(dir, 'several.mjs')} has no 'lastonly' among its builtinPolicies (window, last-only) (did you mean 'last-only'?)`,
    )
  })
})
