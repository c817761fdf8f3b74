import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { OuroborosError } from '@ouroboros/core'
import { ChainError, describeFailure } from './chain.js'
import { loadDataset, loadFilter, loadMetric, loadModel, loadPolicy, syntaxErrorAt } from './plugins.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A folder of plug-in files: plain objects with the functions of their kind, importing nothing but zod (by URL: no node_modules is around them). */
function pluginFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-plugins-'))
  dirs.push(dir)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return dir
}

/** The first line of a plug-in file that has zod schemas. */
const zod = `import { z } from '${import.meta.resolve('zod')}'\n`
const href = (dir: string, name: string) => pathToFileURL(join(dir, name)).href
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as OuroborosError)
const message = async (p: Promise<unknown>) => (await failure(p))?.message

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
    'spread.mjs': zod + "export default { id: 'spread', modality: 'vectors', outputs: ['spread'], options: z.strictObject({}), compute: () => ({ spread: 1 }) }\n",
    'none.mjs': 'export const x = 1\n',
    'number.mjs': 'export default 3\n',
    'window.mjs': zod + "export default { id: 'window', params: z.strictObject({}), trainingSet: () => ({ parts: [] }), largestTrainingSet: () => 1 }\n",
    'unshaped.mjs': "export default { id: 'odd', describe: () => 'odd' }\n",
    'several.mjs': zod + "const policy = (id) => ({ id, params: z.strictObject({}), trainingSet: () => ({ parts: [] }), largestTrainingSet: () => 1 })\nexport const builtinPolicies = { window: policy('window'), 'last-only': policy('last-only') }\n",
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

describe('a plug-in of its kind that lacks what its kind needs', () => {
  const model = (fields: string) =>
    `${zod}export default { id: 'm', modality: 'vectors', description: 'd', params: z.strictObject({}), fit: () => ({}), sample: () => ({}), ${fields} }\n`
  const dir = pluginFolder({
    'plain-params.mjs': model('params: { s: 1 }'),
    'plain-data-params.mjs': `${zod}export default { id: 'blobs', modality: 'vectors', description: 'd', params: { n: 1 }, create: () => ({}) }\n`,
    'plain-options.mjs': `${zod}export default { id: 'spread', modality: 'vectors', outputs: ['spread'], options: { k: 2 }, compute: () => ({ spread: 1 }) }\n`,
    'plain-policy.mjs': "export default { id: 'window', params: { k: 2 }, trainingSet: () => ({ parts: [] }), largestTrainingSet: () => 1 }\n",
    'no-id.mjs': model('id: undefined'),
    'no-id-filter.mjs': `${zod}export default { params: z.strictObject({}), apply: async () => ({}) }\n`,
    'vector.mjs': model("modality: 'vector'"),
    'vector-data.mjs': `${zod}export default { id: 'blobs', modality: 'vector', description: 'd', params: z.strictObject({}), create: () => ({}) }\n`,
    'no-modality.mjs': `${zod}export default { id: 'spread', outputs: ['spread'], options: z.strictObject({}), compute: () => ({ spread: 1 }) }\n`,
    'fitt.mjs': `${zod}export default { id: 's1', modality: 'vectors', params: z.strictObject({}), fitt: () => ({}), sample: () => ({}) }\n`,
    'dataset.mjs': `${zod}export default { id: 'blobs', modality: 'vectors', params: z.strictObject({}), create: () => ({}) }\n`,
    'loose.mjs': model('params: z.object({ s: z.number().default(1) })'),
    'loose-field.mjs': model('params: z.strictObject({ prior: z.strictObject({ a: z.number() }).or(z.object({ b: z.number() })).optional() })'),
    'loose-options.mjs': `${zod}export default { id: 'spread', modality: 'vectors', outputs: ['spread'], options: z.object({ k: z.int().default(2) }), compute: () => ({ spread: 1 }) }\n`,
    'needs.mjs': `${zod}export default { id: 'likely', modality: 'vectors', outputs: ['nll'], options: z.strictObject({}), needs: ['model.loglikelihood'], compute: () => ({ nll: 1 }) }\n`,
    'strict.mjs': model("params: z.strictObject({ s: z.number().default(1), prior: z.looseObject({ a: z.number() }).default({ a: 1 }) }).transform((p) => ({ ...p, t: 1 })), modality: 'tokens'"),
  })
  const refusal = async (p: Promise<unknown>) => {
    const e = await failure(p)
    return { code: e?.code, message: e?.message, hint: e?.hint }
  }

  it('is refused where its params or options are not a zod schema, saying how to write them', async () => {
    expect(await refusal(loadModel(href(dir, 'plain-params.mjs')))).toEqual({
      code: 'OUROBOROS_PLUGIN',
      message: `${href(dir, 'plain-params.mjs')} does not export a model made with defineModel: its default export (id 'm') has params that are not a zod schema`,
      hint: 'write them as z.strictObject({...})',
    })
    expect(await message(loadDataset(href(dir, 'plain-data-params.mjs'), 'blobs'))).toBe(
      `${href(dir, 'plain-data-params.mjs')} does not export a dataset made with defineDataset: its default export (id 'blobs') has params that are not a zod schema`,
    )
    expect(await message(loadMetric(href(dir, 'plain-options.mjs')))).toBe(
      `${href(dir, 'plain-options.mjs')} does not export a metric group made with defineMetric: its default export (id 'spread') has options that are not a zod schema`,
    )
    expect(await message(loadPolicy({ kind: 'window', module: href(dir, 'plain-policy.mjs') }))).toBe(
      `${href(dir, 'plain-policy.mjs')} does not export a policy made with definePolicy: its default export (id 'window') has params that are not a zod schema`,
    )
  })

  it('is refused without an id, which a config’s kind must equal', async () => {
    expect(await refusal(loadModel(href(dir, 'no-id.mjs')))).toEqual({
      code: 'OUROBOROS_PLUGIN',
      message: `${href(dir, 'no-id.mjs')} does not export a model made with defineModel: its default export has no id`,
      hint: "give it an id, the string a config's kind names it by",
    })
    expect(await message(loadFilter({ kind: 'keep', module: href(dir, 'no-id-filter.mjs') }))).toBe(
      `${href(dir, 'no-id-filter.mjs')} does not export a filter made with defineFilter: its default export has no id`,
    )
  })

  it("is refused with a modality other than 'vectors' or 'tokens', naming it", async () => {
    expect(await message(loadModel(href(dir, 'vector.mjs')))).toBe(
      `${href(dir, 'vector.mjs')} does not export a model made with defineModel: its default export (id 'm') has modality 'vector'; expected 'vectors' or 'tokens'`,
    )
    expect(await message(loadDataset(href(dir, 'vector-data.mjs'), 'blobs'))).toBe(
      `${href(dir, 'vector-data.mjs')} does not export a dataset made with defineDataset: its default export (id 'blobs') has modality 'vector'; expected 'vectors' or 'tokens'`,
    )
    expect(await message(loadMetric(href(dir, 'no-modality.mjs')))).toBe(
      `${href(dir, 'no-modality.mjs')} does not export a metric group made with defineMetric: its default export (id 'spread') has no modality; expected 'vectors' or 'tokens'`,
    )
  })

  it('is told the function it lacks, with the key it has near that name; a plug-in of another kind is named as that kind', async () => {
    expect(await message(loadModel(href(dir, 'fitt.mjs')))).toBe(
      `${href(dir, 'fitt.mjs')} does not export a model made with defineModel: its default export (id 's1') has no function 'fit' (it has 'fitt')`,
    )
    expect(await message(loadModel(href(dir, 'dataset.mjs')))).toBe(
      `${href(dir, 'dataset.mjs')} does not export a model made with defineModel: its default export is a dataset with the id 'blobs'`,
    )
  })

  it('is refused where a metric group needs what is no need, naming the group, its file, the entry and the needs there are', async () => {
    const refused = await refusal(loadMetric(href(dir, 'needs.mjs')))
    expect(refused.code).toBe('OUROBOROS_PLUGIN')
    expect(refused.message).toContain(`metric group 'likely' (${join(dir, 'needs.mjs')}): needs.0: 'model.loglikelihood' is not a need (did you mean 'model.logLikelihood'?); the needs are model.logLikelihood, `)
  })

  it('is refused where an object of its schema is a z.object, which drops a misspelt key unsaid', async () => {
    expect(await refusal(loadModel(href(dir, 'loose.mjs')))).toEqual({
      code: 'OUROBOROS_PLUGIN',
      message: `${href(dir, 'loose.mjs')} does not export a model made with defineModel: its default export (id 'm') has params made with z.object, which drops a misspelt key unsaid`,
      hint: 'write them as z.strictObject({...})',
    })
    expect(await message(loadModel(href(dir, 'loose-field.mjs')))).toBe(
      `${href(dir, 'loose-field.mjs')} does not export a model made with defineModel: its default export (id 'm') has params whose field 'prior' is made with z.object, which drops a misspelt key unsaid`,
    )
    expect(await message(loadMetric(href(dir, 'loose-options.mjs')))).toBe(
      `${href(dir, 'loose-options.mjs')} does not export a metric group made with defineMetric: its default export (id 'spread') has options made with z.object, which drops a misspelt key unsaid`,
    )
    // Strict objects under defaults and transforms, and a z.looseObject, which keeps unknown keys on purpose.
    expect((await loadModel(href(dir, 'strict.mjs'))).params.parse({}).t).toBe(1)
  })
})

describe("what a plug-in's hook throws", () => {
  const dir = pluginFolder({
    'throws.mjs': `${zod}export default {
  id: 'throws', modality: 'vectors', description: 'd', params: z.strictObject({}),
  fit: () => { throw new Error('boom in fit') },
  sample: async () => { throw 'a string, not an Error' },
  summary: () => ({ mean: 1 }),
}
`,
    'policy.mjs': `${zod}export default { id: 'window', params: z.strictObject({}), trainingSet: () => null.parts, largestTrainingSet: () => 1 }\n`,
    'setup.mjs': `${zod}export default {
  id: 'setup', modality: 'vectors', outputs: ['v'], options: z.strictObject({ fault: z.enum(['throws', 'number', 'no-line', 'no-record', 'none']) }),
  async setupRun({ options }) {
    if (options.fault === 'throws') throw new Error('setup boom')
    return { number: 5, 'no-line': { record: {} }, 'no-record': { line: 'ready' }, none: { line: 'ready', record: { setup: 1 } } }[options.fault]
  },
  compute: () => ({ v: 1 }),
}
`,
    'dataset.mjs': `${zod}export default {
  id: 'line', modality: 'vectors', description: 'd', params: z.strictObject({}),
  create: async () => ({ info: { kind: 'line', modality: 'vectors', d: 1 }, sample: () => { throw new Error('dataset boom') } }),
}
`,
  })

  it('names the plug-in, its file and the hook, and keeps where an Error was thrown', async () => {
    const model = await loadModel(href(dir, 'throws.mjs'))
    const fit = await failure(Promise.resolve().then(() => model.fit(undefined as never, {}, undefined as never)))
    expect(fit?.message).toBe(`model 'throws' (${join(dir, 'throws.mjs')}): fit threw: boom in fit`)
    // A chain's failure adds where a bug was thrown: the plug-in's line, not the loader's wrapper.
    expect(describeFailure(new ChainError(fit, 0)).message).toMatch(/^model 'throws' \(.*\): fit threw: boom in fit \(at (file:\/\/)?\/.*\/throws\.mjs:4:\d+\)$/)
    expect(await message(Promise.resolve(model.sample(undefined, 1, undefined as never)))).toBe(
      `model 'throws' (${join(dir, 'throws.mjs')}): sample threw a string, not an Error: a string, not an Error`,
    )
    // What returns stays as it was, synchronous where it was.
    expect(model.summary!(undefined)).toEqual({ mean: 1 })
    const policy = await loadPolicy({ kind: 'window', module: href(dir, 'policy.mjs') })
    expect(() => policy.trainingSet({}, undefined as never)).toThrow(`policy 'window' (${join(dir, 'policy.mjs')}): trainingSet threw: Cannot read properties of null (reading 'parts')`)
    // A dataset's instance is of the same plug-in: its sample names it too.
    const instance = await (await loadDataset(href(dir, 'dataset.mjs'), 'line')).create({}, undefined as never)
    expect(instance.info.kind).toBe('line')
    expect(() => instance.sample(1, undefined as never)).toThrow(`dataset 'line' (${join(dir, 'dataset.mjs')}): sample threw: dataset boom`)
  })

  it("names a metric group's setupRun that throws, with its file and where it was thrown, and refuses what it returns other than { line, record }", async () => {
    const group = await loadMetric(href(dir, 'setup.mjs'))
    const setup = (fault: string) => failure(group.setupRun!({ dataset: undefined as never, options: { fault } }))
    const file = join(dir, 'setup.mjs')
    expect((await setup('throws'))?.message).toMatch(/^metric group 'setup' \(.*\/setup\.mjs\): setupRun threw: setup boom \(at (file:\/\/)?\/.*\/setup\.mjs:5:\d+\)$/)
    expect(await setup('number')).toMatchObject({ code: 'OUROBOROS_PLUGIN', message: `metric group 'setup' (${file}): setupRun returned 5; expected { line, record }`, hint: expect.stringContaining("returns { line, record }") })
    expect((await setup('no-line'))?.message).toBe(`metric group 'setup' (${file}): setupRun returned line undefined; expected the line to print, a string`)
    expect((await setup('no-record'))?.message).toBe(`metric group 'setup' (${file}): setupRun returned record undefined; expected an object of the fields run.json gains`)
    expect(await group.setupRun!({ dataset: undefined as never, options: { fault: 'none' } })).toEqual({ line: 'ready', record: { setup: 1 } })
  })
})
