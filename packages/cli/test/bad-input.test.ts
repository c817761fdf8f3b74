import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { availableParallelism } from 'node:os'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, cliUnprivileged, itRefusesConfigs, tempDir, unprivilegedPrefix, writeConfig } from './helpers.js'

afterAll(cleanup)

const ok = { data: { kind: 'ring', n: 100 }, model: { kind: 'gmm' }, generations: 2 }
const r = (patch: Record<string, unknown>) => ({ ...ok, ...patch })

/** [what, config, text the message must contain (the field, or the problem)] */
const configs: [string, unknown, string][] = [
  ['not an object', 42, '(top level)'],
  ['an array', [ok], '(top level)'],
  ['null', null, '(top level)'],
  ['missing data', { model: { kind: 'gmm' }, generations: 2 }, 'data'],
  ['missing model', { data: { kind: 'ring' }, generations: 2 }, 'model'],
  ['missing generations', { data: { kind: 'ring' }, model: { kind: 'gmm' } }, 'generations'],
  ['generations as a string', r({ generations: 'ten' }), 'generations'],
  ['fractional generations', r({ generations: 2.5 }), 'generations'],
  ['zero generations', r({ generations: 0 }), 'generations'],
  ['negative generations', r({ generations: -1 }), 'generations'],
  ['absurd generations', r({ generations: 1e12 }), 'generations'],
  ['unknown top-level key', r({ generatons: 3 }), 'generatons'],
  ['unknown key in sampling', r({ sampling: { temperature: 1, topk: 3 } }), 'topk'],
  ['top-p in sampling, where it is a model option', r({ sampling: { top_p: 0.9 } }), 'sampling.top_p: unknown key; expected one of temperature (top-k and top-p are model options, for the text models that have them: model.topP)'],
  ['zero temperature', r({ sampling: { temperature: 0 } }), 'sampling.temperature'],
  ['negative replicates', r({ replicates: -2 }), 'replicates'],
  ['zero replicates', r({ replicates: 0 }), 'replicates'],
  ['negative seed', r({ seed: -1 }), 'seed'],
  ['seed as text', r({ seed: 'abc' }), 'seed'],
  ['zero samplesPerGeneration', r({ samplesPerGeneration: 0 }), 'samplesPerGeneration'],
  ['negative n', r({ data: { kind: 'ring', n: -5 } }), 'data.n'],
  ['zero n', r({ data: { kind: 'ring', n: 0 } }), 'data.n'],
  ['n as text', r({ data: { kind: 'ring', n: 'many' } }), 'data.n'],
  ['data without kind', r({ data: { n: 10 } }), 'data.kind'],
  ['unknown dataset', r({ data: { kind: 'imagenet' } }), 'data.kind'],
  ['unknown dataset parameter', r({ data: { kind: 'ring', radious: 3 } }), 'radious'],
  ['negative std', r({ data: { kind: 'gaussian', std: -1 } }), 'data.std'],
  ['wrong number of ring weights', r({ data: { kind: 'ring', weights: [1, 2] } }), 'data.weights'],
  ['all-zero grid weights', r({ data: { kind: 'grid', weights: Array(25).fill(0) } }), 'data.weights'],
  ['regression T too small for d', r({ data: { kind: 'regression', T: 1 }, model: { kind: 'linreg' } }), 'data.T'],
  ['model without kind', r({ model: { components: 3 } }), 'model.kind'],
  ['unknown model', r({ model: { kind: 'transformer' } }), 'model.kind'],
  ['missing model module', r({ model: { kind: 'mine', module: './does-not-exist.js' } }), 'does-not-exist'],
  ['negative components', r({ model: { kind: 'gmm', components: -3 } }), 'model.components'],
  ['unknown model parameter', r({ model: { kind: 'gmm', componets: 3 } }), 'componets'],
  ['unknown estimator', r({ model: { kind: 'gaussian', estimator: 'bayes' } }), 'model.estimator'],
  ['bad bandwidth', r({ model: { kind: 'kde', bandwidth: 'wide' } }), 'model.bandwidth'],
  ['fractional replicates', r({ replicates: 1.5 }), 'replicates'],
  ['unknown policy', r({ policy: { kind: 'recycle' } }), 'policy'],
  ['policy without kind', r({ policy: { realFraction: 0.2 } }), 'policy'],
  ['mix fraction above 1', r({ policy: { kind: 'mix', realFraction: 1.5 } }), 'policy.realFraction'],
  ['unknown policy key', r({ policy: { kind: 'replace', size: 10 } }), 'size'],
  ['fresh with nothing', r({ policy: { kind: 'fresh', nReal: 0, nSynthetic: 0 } }), 'policy'],
  ['fresh with more synthetic than generated', r({ policy: { kind: 'fresh', nReal: 10, nSynthetic: 500 } }), 'policy.nSynthetic'],
  ['metrics not a list', r({ metrics: 'modes' }), 'metrics'],
  ['unknown metric', r({ metrics: ['modes', 'fid'] }), 'metrics.1'],
  ['a metric group listed twice', r({ metrics: ['modes', 'moments', 'modes'] }), "metrics.2: 'modes' is listed twice"],
  ['options for a metric not run', r({ metrics: ['modes'], metricOptions: { prdc: { k: 3 } } }), 'metricOptions.prdc'],
  ['bad metric option', r({ metrics: ['prdc'], metricOptions: { prdc: { k: 0 } } }), 'metricOptions.prdc.k'],
  ['sweep over a missing path', r({ sweep: { 'optimizer.lr': [1, 2] } }), 'optimizer.lr'],
  ['sweep through a scalar', r({ sweep: { 'generations.max': [1, 2] } }), 'generations'],
  ['empty sweep list', r({ sweep: { 'model.components': [] } }), 'sweep.model.components'],
  ['sweep list not a list', r({ sweep: { 'model.components': 4 } }), 'sweep.model.components'],
  ['a sweep value listed twice', r({ sweep: { 'model.components': [8, 4, 8] } }), 'sweep.model.components: 8 is listed twice; each value makes a cell'],
  ['a sweep object listed twice, its keys in another order', r({ sweep: { model: [{ kind: 'gmm', components: 8 }, { components: 8, kind: 'gmm' }] } }), 'sweep.model: {"components":8,"kind":"gmm"} is listed twice; each value makes a cell'],
  ['sweep to a bad value', r({ sweep: { 'model.components': [4, 'eight'] } }), 'model.components'],
  ['absurd size', { data: { kind: 'gaussian', d: 1000, n: 1000000 }, model: { kind: 'gaussian' }, policy: { kind: 'accumulate' }, generations: 100 }, 'GiB'],
  ['more MNIST digits than the training split', { data: { kind: 'mnist', n: 9500 }, model: { kind: 'gaussian' }, generations: 1 }, 'data.n'],
  ['more held-out digits than MNIST sets aside', { data: { kind: 'mnist', n: 100, heldout: 500 }, model: { kind: 'gaussian' }, generations: 1, heldout: 800 }, 'heldout'],
  ['unknown filter', r({ filter: { kind: 'oracle' } }), 'filter.kind'],
  ['filter keeping nothing', r({ filter: { kind: 'likelihood', keep: 0 } }), 'filter.keep'],
  ['mode filter without modes', { data: { kind: 'gaussian', n: 100 }, model: { kind: 'gaussian' }, generations: 1, filter: { kind: 'modes' } }, 'filter.kind'],
  ['likelihood filter for a model without one', { data: { kind: 'ring', n: 100 }, model: { kind: 'vae' }, generations: 1, filter: { kind: 'likelihood', keep: 0.5 } }, 'filter.kind'],
  ['a GMM of more components than data.n', r({ data: { kind: 'ring', n: 5 }, model: { kind: 'gmm', components: 8 } }), 'model.components: a GMM of 8 components needs at least 8 training rows, but generation 0 is fit on data.n = 5'],
  ['a GMM of more components than a generation emits', r({ model: { kind: 'gmm', components: 8 }, samplesPerGeneration: 5 }), "model.components: a GMM of 8 components needs at least 8 training rows, but under policy 'replace' a generation after 0 is fit on 5 (samplesPerGeneration)"],
  ['fresh sets too small for a KDE', { data: { kind: 'gaussian', d: 3, n: 100 }, model: { kind: 'kde' }, policy: { kind: 'fresh', nReal: 1, nSynthetic: 2 }, generations: 2 }, "a 3-dimensional KDE needs at least 4 training rows, but under policy 'fresh' a generation after 0 is fit on 3"],
  ['an RL stage refitting a GMM on fewer draws than its components', r({ model: { kind: 'gmm', components: 8 }, posttrain: [{ kind: 'rl', beta: 1, reward: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }, samples: 5 }] }), 'posttrain.0.samples: a GMM of 8 components needs at least 8 training rows, but each refit of this stage fits 5 draws'],
  ['an RL stage refitting on samplesPerGeneration draws, too few, in a one-generation run', r({ model: { kind: 'gmm', components: 8 }, generations: 1, samplesPerGeneration: 6, posttrain: [{ kind: 'rl', beta: 1, reward: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] } }] }), 'each refit of this stage fits 6 draws (samplesPerGeneration)'],
  ['a regression design of fewer rows than features', { data: { kind: 'regression', d: 20, T: 10, n: 100 }, model: { kind: 'linreg' }, generations: 2 }, 'OLS with 20 features needs a design of at least 20 rows, but data.T is 10'],
  ['a transformer context longer than the text of generation 0', { data: { kind: 'brown', n: 2 }, model: { kind: 'transformer' }, generations: 1 }, 'model.context: a transformer of context 64 needs at least 65 tokens of training text (words, and an end for each sequence), but generation 0 is fit on 2 sequences (data.n), and they hold as few as '],
  ['a transformer context longer than a generation of its own samples', { data: { kind: 'brown', n: 200 }, model: { kind: 'transformer', maxLength: 10 }, samplesPerGeneration: 3, generations: 2 }, "model.context: a transformer of context 64 needs at least 65 tokens of training text (words, and an end for each sequence), but under policy 'replace' a generation after 0 is fit on samplesPerGeneration = 3 of its sequences, at most 11 tokens each"],
  ['a transformer context longer than a generation of its own samples mixed with no real ones', { data: { kind: 'brown', n: 200 }, model: { kind: 'transformer', maxLength: 10 }, policy: { kind: 'mix', realFraction: 0.1 }, samplesPerGeneration: 4, generations: 2 }, "model.context: a transformer of context 64 needs at least 65 tokens of training text (words, and an end for each sequence), but under policy 'mix' a generation after 0 is fit on 4 of the last generation's sequences, at most 11 tokens each and no fresh real ones (realFraction × samplesPerGeneration rounds to 0)"],
  ['a transformer context longer than the synthetic part of a fresh policy without real rows', { data: { kind: 'brown', n: 200 }, model: { kind: 'transformer', maxLength: 10 }, policy: { kind: 'fresh', nReal: 0, nSynthetic: 5 }, samplesPerGeneration: 50, generations: 2 }, "model.context: a transformer of context 64 needs at least 65 tokens of training text (words, and an end for each sequence), but under policy 'fresh' a generation after 0 is fit on 5 of the last generation's sequences, at most 11 tokens each and no fresh real ones (nReal 0)"],
  ['negative retries', r({ retries: -1 }), 'retries'],
  ['warmStart as text', r({ warmStart: 'yes' }), 'warmStart'],
]

describe(`${configs.length} malformed configs`, () => {
  it('has at least 40 cases', () => expect(configs.length).toBeGreaterThanOrEqual(40))
  itRefusesConfigs(configs)
})

describe('malformed sample files for eval', () => {
  const dir = tempDir()
  const file = (name: string, content: string | Uint8Array) => {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  }
  const good = file('good.csv', 'x,y\n1,2\n3,4\n5,6\n')
  const npyHeader = (descr: string, shape: string) => {
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`
    header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n'
    const head = Buffer.alloc(10)
    head.write('\x93NUMPY', 0, 'latin1')
    head[6] = 1
    head.writeUInt16LE(header.length, 8)
    return Buffer.concat([head, Buffer.from(header, 'latin1')])
  }
  const cases: [string, string, string][] = [
    ['ragged csv rows', file('ragged.csv', '1,2\n3\n'), 'ragged'],
    ['NaN in csv', file('nan.csv', '1,2\nNaN,4\n'), 'line 2'],
    ['text in csv', file('text.csv', '1,2\n3,abc\n'), "'abc'"],
    ['empty csv', file('empty.csv', ''), 'empty.csv: empty file (0 bytes)'],
    ['csv of a header alone', file('header.csv', 'x,y\n'), 'no data rows'],
    ['empty npy', file('empty.npy', ''), 'empty.npy: empty file (0 bytes)'],
    ['hexadecimal in csv', file('hex.csv', 'x,y\n0x10,2\n'), "line 2, column 1: '0x10' is not a finite number (write numbers in decimal)"],
    ["pandas' index column in csv", file('index.csv', ',0,1\n0,0.5,0.25\n1,1.5,2\n'), "line 1, column 1: '' is not a finite number (an empty first field of line 1 is how pandas writes its index column"],
    ['semicolon-separated csv', file('semi.csv', 'x;y\n1;2\n'), "line 1 holds ';' and no ',': the file looks semicolon-separated"],
    ['ragged json rows', file('ragged.json', '[[1,2],[3]]'), 'ragged'],
    ['json not an array', file('obj.json', '{"x": 1}'), 'array'],
    ['json null value', file('null.json', '[[1,2],[null,4]]'), 'row 2'],
    ['broken json', file('broken.json', '[[1,2],'), 'broken.json: line 1, column 8: not valid JSON: unexpected end of file where a value should be\n'],
    ['npy with int dtype', file('int.npy', Buffer.concat([npyHeader('<i8', '(2, 2)'), Buffer.alloc(32)])), "dtype '<i8'"],
    ['npy with 3 dimensions', file('3d.npy', Buffer.concat([npyHeader('<f8', '(2, 2, 2)'), Buffer.alloc(64)])), 'shape'],
    ['truncated npy', file('short.npy', Buffer.concat([npyHeader('<f8', '(10, 2)'), Buffer.alloc(16)])), 'truncated'],
    ['not an npy', file('fake.npy', 'hello'), 'not a NumPy'],
    ['unsupported extension', file('data.parquet', 'x'), 'unsupported'],
    ['missing file', join(dir, 'nope.csv'), 'no such file'],
    ['a directory', dir, 'a directory, not a file'],
    ['mismatched dimensions', file('three.csv', '1,2,3\n4,5,6\n'), 'same dimension'],
  ]
  for (const [what, path, message] of cases) {
    it(`${what}: exit 2 with a clear message`, () => {
      const res = cli(['eval', '--real', good, '--generated', path, '--metrics', 'moments'])
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toContain(message)
      expect(res.stderr).not.toMatch(/\n\s+at /)
    })
  }
})

describe('config errors say what is wrong, where, and what was meant', () => {
  const dir = tempDir()
  /** Runs the config (text or object) and returns stderr (file names without the folder), after checking exit 2, no stack trace, nothing written. */
  const fails = (name: string, config: unknown): string => {
    const file = writeConfig(dir, config, `${name}.json`)
    const out = join(dir, `${name}-run`)
    const res = cli(['run', file, '--out', out])
    expect(res.status, res.stderr).toBe(2)
    expect(res.stderr).not.toMatch(/\n\s+at /)
    expect(existsSync(out), 'the run directory was created').toBe(false)
    return res.stderr.replaceAll(`${dir}/`, '')
  }

  it('says where a syntax error is in a module a plug-in imports, not only in its own file', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'plug.mjs'), "import { x } from './lib/dep.mjs'\nexport default { x }\n")
    mkdirSync(join(dir, 'lib'))
    writeFileSync(join(dir, 'lib', 'dep.mjs'), 'export const x = {\n  a: 1\n  b: 2\n}\n')
    const res = cli(['validate', writeConfig(dir, { data: { kind: 'ring', n: 50 }, model: { kind: 'kde' }, policy: { kind: 'x', module: './plug.mjs' }, generations: 1 })])
    expect(res.status, res.stderr).toBe(2)
    expect(res.stderr).toContain(`policy.module: cannot load plug-in module file://${join(dir, 'plug.mjs')}: a syntax error at ${join(dir, 'lib', 'dep.mjs')}:3:3: Unexpected identifier 'b'`)
  })

  it('refuses a plug-in whose params are not a zod schema, or whose fit is misspelt, naming the field and what the plug-in lacks', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'p1.mjs'), "export default { id: 'p1', modality: 'vectors', description: 'd', params: { s: 1 }, fit: () => ({}), sample: () => ({}) }\n")
    writeFileSync(join(dir, 's1.mjs'), "export default { id: 's1', modality: 'vectors', description: 'd', params: {}, fitt: () => ({}), sample: () => ({}) }\n")
    for (const [id, problem] of [
      ['p1', "its default export (id 'p1') has params that are not a zod schema; write them as z.strictObject({...})"],
      ['s1', "its default export (id 's1') has no function 'fit' (it has 'fitt')"],
    ]) {
      const res = cli(['validate', writeConfig(dir, { data: { kind: 'ring', n: 50 }, model: { kind: id, module: `./${id}.mjs` }, generations: 1 }, `${id}.json`)])
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toContain(`${id}.json: model.module: file://${join(dir, `${id}.mjs`)} does not export a model made with defineModel: ${problem}`)
      expect(res.stderr).not.toMatch(/\n\s+at /)
    }
  })

  it("names the config, the field and the data file where the file cannot be read or is not UTF-8", () => {
    expect(fails('missing-data', { data: { kind: 'text-file', path: 'nope.txt' }, model: { kind: 'ngram', order: 1 }, generations: 1 })).toContain('missing-data.json: data.path: nope.txt: no such file')
    writeFileSync(join(dir, 'latin1.txt'), Buffer.from([...Buffer.from('une caf'), 0xe9, ...Buffer.from('\nla gare\nle train\n')]))
    expect(fails('latin1-data', { data: { kind: 'text-file', path: 'latin1.txt' }, model: { kind: 'ngram', order: 1 }, generations: 1 })).toContain(
      'latin1-data.json: data.path: latin1.txt: line 1: byte 7 (0xe9) is not UTF-8\nhint: save the file as UTF-8',
    )
  })

  it('says a config path that is a directory is one', () => {
    const res = cli(['run', dir, '--out', join(dir, 'dir-run')])
    expect(res.status, res.stderr).toBe(2)
    expect(res.stderr).toContain(`${dir}: a directory, not a file`)
    expect(existsSync(join(dir, 'dir-run'))).toBe(false)
  })

  it("checks a model's minimum of training rows against the sets a policy plans, not only data.n", () => {
    const gmm8 = { data: { kind: 'ring', n: 100 }, model: { kind: 'gmm', components: 8 }, samplesPerGeneration: 5 }
    // accumulate's sets grow from data.n + 5; a single generation has no set after generation 0.
    for (const config of [{ ...gmm8, policy: { kind: 'accumulate' }, generations: 3 }, { ...gmm8, generations: 1 }]) {
      const res = cli(['validate', writeConfig(dir, config, 'minimum-ok.json')])
      expect(res.status, res.stderr).toBe(0)
    }
    const stderr = fails('minimum-subsample', { ...gmm8, policy: { kind: 'accumulate-subsample', size: 6 }, generations: 3 })
    // The subsample's size is not samplesPerGeneration (5), which the message leaves unnamed then.
    expect(stderr).toContain("minimum-subsample.json: model.components: a GMM of 8 components needs at least 8 training rows, but under policy 'accumulate-subsample' a generation after 0 is fit on 6\nhint: lower model.components, or raise samplesPerGeneration or the policy's sizes\n")
  })

  it('calls a required key that is absent missing', () => {
    const stderr = fails('missing', { data: { kind: 'ring', n: 100 }, model: { kind: 'gmm' } })
    expect(stderr).toContain('missing.json: generations: missing (expected a number)')
    expect(stderr).not.toContain('undefined')
  })

  it('suggests the closest key for a typo, at the top level, in a policy, and in plug-in params', () => {
    expect(fails('typo-top', r({ generatons: 3 }))).toContain('generatons: unknown key; did you mean "generations"?')
    expect(fails('typo-policy', r({ policy: { kind: 'mix', realFracton: 0.2 } }))).toContain('policy.realFracton: unknown key; did you mean "realFraction"?')
    expect(fails('typo-model', r({ model: { kind: 'gmm', componets: 3 } }))).toContain('model.componets: unknown key; did you mean "components"?')
    expect(fails('typo-data', r({ data: { kind: 'ring', n: 100, wieghts: [1, 1, 1, 1, 1, 1, 1, 1] } }))).toContain('data.wieghts: unknown key; did you mean "weights"?')
    expect(fails('typo-metric', r({ metrics: ['prdc'], metricOptions: { prdc: { kk: 3 } } }))).toContain('metricOptions.prdc.kk: unknown key; did you mean "k"?')
  })

  it('lists the known keys when nothing is close', () => {
    expect(fails('far-key', r({ sampling: { temperature: 1, beam: 4 } }))).toContain('sampling.beam: unknown key; expected one of temperature')
  })

  it('suggests the closest value for a mistyped kind or option', () => {
    expect(fails('typo-policy-kind', r({ policy: { kind: 'replce' } }))).toContain("policy.kind: unknown policy 'replce' (did you mean 'replace'?)")
    expect(fails('typo-model-kind', r({ model: { kind: 'gm' } }))).toContain("model.kind: unknown model 'gm' (did you mean 'gmm'?)")
    expect(fails('typo-estimator', r({ model: { kind: 'gaussian', estimator: 'unbaised' } }))).toContain('model.estimator: "unbaised" is not one of mle, unbiased; did you mean "unbiased"?')
    expect(fails('typo-metric-group', r({ metrics: ['modes', 'moment'] }))).toContain("metrics.1: unknown metric group 'moment' (did you mean 'moments'?)")
    const rl = (reward: unknown): Record<string, unknown> => r({ posttrain: [{ kind: 'rl', reward, steps: 2 }] })
    expect(fails('typo-reward-kind', rl({ kind: 'proxi', of: { kind: 'modes', values: [1] } }))).toContain('posttrain.0.reward.kind: "proxi" is not one of modes, point, lexicon, length, genre, digit, proxy; did you mean "proxy"?')
    expect(fails('typo-proxy-of', rl({ kind: 'proxy', of: { kind: 'mode', values: [1] } }))).toContain('posttrain.0.reward.of.kind: "mode" is not one of modes, point, lexicon, length, genre, digit; did you mean "modes"?')
  })

  it('says what a field that takes a name or a number expects, and what it got', () => {
    expect(fails('kde-bandwidth', r({ model: { kind: 'kde', bandwidth: 'scot' } }))).toContain(`model.bandwidth: expected 'scott', 'silverman' or a factor > 0, got "scot"`)
    const text = { data: { kind: 'zipf', n: 50, types: 20, length: 5 }, generations: 1 }
    expect(fails('ngram-discount', { ...text, model: { kind: 'ngram', discount: 'aut' } })).toContain(`model.discount: expected 'auto' or a number from 0 to 1, got "aut"`)
    const lexicon = { ...text, model: { kind: 'ngram' }, posttrain: [{ kind: 'rl', reward: { kind: 'lexicon', words: 'the' }, steps: 2 }] }
    expect(fails('lexicon-words', lexicon)).toContain('posttrain.0.reward.words: expected a list of words (each worth 1) or an object of words and their values, got "the"')
  })

  it('says how to write a plug-in given by its name alone, or as a list to compare', () => {
    expect(fails('policy-name', r({ policy: 'accumulate' }))).toContain('policy-name.json: policy: expected an object, got "accumulate"; write {"kind": "accumulate"}')
    expect(fails('model-name', r({ model: 'gmm' }))).toContain('model: expected an object, got "gmm"; write {"kind": "gmm"}')
    const filters = r({ filter: [null, { kind: 'modes' }] })
    expect(fails('filter-list', filters)).toContain('filter: expected an object, got [null,{"kind":"modes"}]; to compare several, give them as "sweep": {"filter": [...]}')
    // In a sweep, the cell's value is what is wrong.
    expect(fails('swept-names', r({ sweep: { policy: ['replace', { kind: 'accumulate' }] } }))).toContain('(sweep cell policy=replace): policy: expected an object, got "replace"; write {"kind": "replace"}')
  })

  it('gives line and column of malformed JSON', () => {
    // Line 3 is `  "model": {"kind": gmm},`: the g of gmm is its 21st character.
    const text = '{\n  "data": {"kind": "ring", "n": 100},\n  "model": {"kind": gmm},\n  "generations": 2\n}\n'
    expect(fails('malformed', text)).toContain("malformed.json: line 3, column 21: not valid JSON: unexpected 'gmm' where a value should be")
    // A trailing comma: the '}' closing the object is the first character of line 5.
    const trailing = '{\n  "data": {"kind": "ring", "n": 100},\n  "model": {"kind": "gmm"},\n  "generations": 2,\n}\n'
    expect(fails('trailing', trailing)).toContain('trailing.json: line 5, column 1: not valid JSON')
  })

  it('reports every problem of a config at once, core and plug-in alike', () => {
    const stderr = fails('many', { data: { kind: 'ring', n: 100, radious: 3 }, model: { kind: 'gmm', componets: 3, tol: 'tiny' }, generatons: 2 })
    const lines = stderr.trim().split('\n')
    expect(lines).toHaveLength(5)
    for (const expected of ['generations: missing', 'generatons: unknown key', 'data.radious: unknown key', 'model.componets: unknown key', 'model.tol: expected a number, got "tiny"']) {
      expect(lines.filter((l) => l.includes(expected)), expected).toHaveLength(1)
    }
  })

  it('reports a sweep path that is none of the config with the config\'s other problems, not alone', () => {
    const stderr = fails('paths', {
      data: { kind: 'ring', n: 100 },
      model: { kind: 'gmm', componets: 3 },
      policy: { kind: 'replac' },
      metrics: ['mode'],
      generations: 2,
      sweep: { 'posttrain.0.beta': [1], 'modle.kind': ['kde'] },
    })
    const lines = stderr.trim().split('\n')
    for (const expected of [
      'sweep.posttrain.0.beta: no such config path (posttrain is an empty list, with no element 0; a sweep sets values in its elements but adds none: give the element in posttrain)',
      'sweep.modle.kind: no such config path (top-level key "modle" does not exist; did you mean "model"?)',
      'model.componets: unknown key',
      "policy.kind: unknown policy 'replac'",
      "metrics.0: unknown metric group 'mode'",
    ]) {
      expect(lines.filter((l) => l.includes(expected)), `${expected} in ${stderr}`).toHaveLength(1)
    }
    expect(lines).toHaveLength(5)
    // A policy's own parameters beside a model's: both at once.
    const both = fails('both', { data: { kind: 'ring', n: 100 }, model: { kind: 'gmm', componets: 3 }, policy: { kind: 'mix', realFractoin: 0.2 }, generations: 2 })
    expect(both).toContain('model.componets: unknown key')
    expect(both).toContain('policy.realFractoin: unknown key')
  })

  it('reports every bad sweep cell, naming the swept values behind each problem', () => {
    const stderr = fails('cells', r({ sweep: { 'model.components': [2, -1, 'x'], generations: [2, 0] } }))
    const lines = stderr.trim().split('\n')
    expect(lines).toHaveLength(3)
    expect(lines[0]).toBe('error: cells.json (sweep cell generations=0): generations: must be ≥ 1, got 0')
    expect(lines).toContain('cells.json (sweep cell model.components=-1): model.components: must be ≥ 1, got -1')
    expect(lines).toContain('cells.json (sweep cell model.components=x): model.components: expected a number, got "x"')
  })

  it('reports a problem no swept value causes once, without a cell', () => {
    const stderr = fails('common', r({ model: { kind: 'gmm', componets: 3 }, sweep: { 'policy.kind': ['replace', 'accumulate', 'mix'] } }))
    expect(stderr).toBe('error: common.json: model.componets: unknown key; did you mean "components"?\n')
  })

  it('takes one number as one hidden layer of a VAE, and names the field when it is not a width', () => {
    const ok = cli(['validate', writeConfig(dir, r({ model: { kind: 'vae', hidden: 400 } }), 'vae-400.json'), '--json'])
    expect(ok.status, ok.stderr).toBe(0)
    const view = JSON.parse(ok.stdout) as { cells: { config: { model: { hidden: unknown } } }[] }
    expect(view.cells[0]!.config.model.hidden).toEqual([400])
    expect(fails('vae-0', r({ model: { kind: 'vae', hidden: 0 } }))).toContain('model.hidden')
  })
})

describe('output paths that cannot be written', () => {
  const dir = tempDir()
  const run = join(dir, 'run')
  const blocking = join(dir, 'notes.txt')
  writeFileSync(blocking, 'a file of the user\'s own\n')
  const made = cli(['run', writeConfig(dir, { ...ok, name: 'small' }), '--out', run])
  const cases: [string, string[], string][] = [
    ['run --out a file', ['run', writeConfig(dir, ok, 'a.json'), '--out', blocking], `--out: ${blocking} is a file, not a directory`],
    ['run --out under a file', ['run', writeConfig(dir, ok, 'b.json'), '--out', join(blocking, 'run')], `--out: cannot make ${join(blocking, 'run')}: ${blocking} is a file`],
    ['report --out a directory', ['report', run, '--out', dir], `--out: ${dir} is a directory`],
    ['report --out under a file', ['report', run, '--out', join(blocking, 'report.html')], `${blocking} is a file`],
    ['export --out a file', ['export', run, '--format', 'csv', '--out', blocking], `--out: ${blocking} is a file, not a directory`],
    ['new --dir a file', ['new', 'model', 'mine', '--dir', blocking], `--dir: ${blocking} is a file, not a directory`],
    ['new --dir under a file', ['new', 'model', 'mine', '--dir', join(blocking, 'mine')], `${blocking} is a file`],
  ]
  it('a damaged run.json: resume says that running the config again is the way, and that way works', () => {
    const config = writeConfig(dir, { ...ok, name: 'damaged' }, 'damaged.json')
    const damaged = join(dir, 'damaged')
    expect(cli(['run', config, '--out', damaged]).status).toBe(0)
    writeFileSync(join(damaged, 'run.json'), '{"name": "damaged", "chains": [')
    const res = cli(['resume', damaged])
    expect(res.status, res.stderr).toBe(2)
    expect(res.stderr).toContain(`${join(damaged, 'run.json')} is damaged`)
    expect(res.stderr).toContain('run the config again with --force')
    expect(res.stderr).not.toContain('resume')
    expect(cli(['run', config, '--out', damaged, '--force']).status).toBe(0)
    expect(cli(['resume', damaged]).status).toBe(0)
  })

  for (const [what, args, message] of cases) {
    it(`${what}: exit 2 naming the option and the file in the way, the file and the run untouched`, () => {
      expect(made.status, made.stderr).toBe(0)
      const before = readdirSync(run).sort()
      const res = cli(args)
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toContain(message)
      expect(res.stderr).not.toMatch(/\n\s+at /)
      expect(readFileSync(blocking, 'utf8')).toBe('a file of the user\'s own\n')
      expect(readdirSync(run).sort()).toEqual(before)
      expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([])
    })
  }

  // Root writes in any directory of a writable filesystem: only another user meets a refusal.
  it.runIf(unprivilegedPrefix() !== undefined)('a directory this user cannot write in: exit 2 naming the option and the directory, nothing written', () => {
    const locked = join(dir, 'locked')
    mkdirSync(locked)
    chmodSync(locked, 0o555)
    try {
      for (const [args, message] of [
        [['run', writeConfig(dir, ok, 'd.json'), '--out', join(locked, 'run')], `--out: cannot make ${join(locked, 'run')}: cannot write in ${locked} (permission denied)`],
        [['report', run, '--out', join(locked, 'report.html')], `--out: cannot write ${join(locked, 'report.html')}: cannot write in ${locked} (permission denied)`],
        [['export', run, '--format', 'csv', '--out', join(locked, 'csv')], `--out: cannot make ${join(locked, 'csv')}: cannot write in ${locked} (permission denied)`],
        [['export', run, '--format', 'csv', '--out', locked], `--out: cannot write in ${locked} (permission denied)`],
        [['new', 'model', 'mine', '--dir', join(locked, 'mine')], `--dir: cannot make ${join(locked, 'mine')}: cannot write in ${locked} (permission denied)`],
      ] as const) {
        const res = cliUnprivileged([...args], dir)
        expect(res.status, res.stderr).toBe(2)
        expect(res.stderr).toContain(message)
      }
      expect(readdirSync(locked)).toEqual([])
    } finally {
      chmodSync(locked, 0o755)
    }
  })

  // procfs answers "no such file" to a mkdir under /proc, where Node's recursive mkdirSync loops forever.
  it.runIf(existsSync('/proc/self'))('a directory the filesystem will not make (/proc/x): exit 2 naming the option, in seconds', () => {
    const target = join('/proc', `ouroboros-${process.pid}`, 'out')
    for (const [args, message] of [
      // Root is refused by the filesystem itself; another user already by /proc's permissions.
      [['run', writeConfig(dir, ok, 'c.json'), '--out', target], /^error: --out: cannot make \/proc\/ouroboros-\d+\/out: cannot write in \/proc \(/],
      [['new', 'model', 'mine', '--dir', target], /^error: --dir: cannot make \/proc\/ouroboros-\d+\/out: cannot write in \/proc \(/],
    ] as const) {
      const res = cli([...args], { timeoutMs: 60_000 })
      expect(res.signal, 'still running after 60 s').toBeNull()
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toMatch(message)
    }
  })

  // access(W_OK) passes for root in /proc and /sys, where every new file is refused; another user
  // is refused by their permissions. Either way: exit 2 before writing, naming the path given, and
  // no word of resuming, which is for a run's own directory.
  it.runIf(existsSync('/proc/self') && existsSync('/sys/kernel'))('export and report into /proc or /sys: exit 2 naming --out and why, without the resume hint', () => {
    expect(made.status, made.stderr).toBe(0)
    const before = readdirSync(run).sort()
    const nowhere = `ouroboros-${process.pid}`
    for (const [args, message] of [
      [['export', run, '--format', 'csv', '--out', `/proc/${nowhere}`], `error: --out: cannot make /proc/${nowhere}: cannot write in /proc (`],
      [['export', run, '--format', 'csv', '--out', `/sys/${nowhere}`], `error: --out: cannot make /sys/${nowhere}: cannot write in /sys (`],
      [['report', run, '--out', `/proc/${nowhere}.html`], `error: --out: cannot write /proc/${nowhere}.html: cannot write in /proc (`],
      [['report', run, '--out', `/sys/${nowhere}.html`], `error: --out: cannot write /sys/${nowhere}.html: cannot write in /sys (`],
    ] as const) {
      const res = cli([...args])
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toContain(message)
      expect(res.stderr.trim().split('\n')).toHaveLength(2)
      expect(res.stderr).not.toContain('resume')
      expect(res.stderr).not.toContain('no such file')
    }
    expect(readdirSync(run).sort()).toEqual(before)
  })
})

describe("a run directory's files of the wrong structure or that this user cannot use", () => {
  const dir = tempDir()
  const run = join(dir, 'run')
  const made = cli(['run', writeConfig(dir, { ...ok, name: 'small' }), '--out', run])
  const commands = (d: string) => [['report', d], ['export', d, '--format', 'csv'], ['resume', d]]
  /** A copy of the run, to damage. */
  const copy = (name: string): string => {
    const to = join(dir, name)
    cpSync(run, to, { recursive: true })
    return to
  }

  it("a run.json of the wrong structure: 'damaged' or 'not a run's run.json' naming what is wrong, exit 2, for report, export and resume", () => {
    expect(made.status, made.stderr).toBe(0)
    const info = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as Record<string, unknown>
    const cases: [string, string, string][] = [
      ['null', 'null', 'is damaged: it holds null, not an object'],
      ['chains as text', JSON.stringify({ ...info, chains: 'x' }), 'is damaged: chains is "x", not a list'],
      ['no chains', JSON.stringify({ ...info, chains: undefined }), 'is damaged: chains is missing (a list)'],
      // Said as records of a chain run.json does not list, with no way out.
      ['an empty list of chains', JSON.stringify({ ...info, chains: [] }), 'is damaged: chains is an empty list; a run has one chain at least\nhint: '],
      ['a package.json', JSON.stringify({ name: 'pkg', version: '1.0.0', dependencies: {} }), "is not a run's run.json"],
      // Where the text breaks JSON, in one line: V8's own message quoted the text after a line break.
      ['not JSON', 'not json\n', "is damaged: line 1, column 1: not valid JSON: unexpected 'not' where a value should be\nhint: "],
    ]
    for (const [what, text, message] of cases) {
      const d = copy(`shape-${what.replace(/\W/g, '-')}`)
      writeFileSync(join(d, 'run.json'), text)
      for (const args of commands(d)) {
        const res = cli(args)
        expect(res.status, `${what}, ${args[0]}: ${res.stderr}`).toBe(2)
        expect(res.stderr).toContain(`error: ${join(d, 'run.json')} ${message}`)
        expect(res.stderr).not.toContain('Cannot read properties')
      }
      expect(readFileSync(join(d, 'run.json'), 'utf8')).toBe(text)
    }
  })

  /** Every file under `d` with its size and time of change: what a command that computed nothing leaves as it was. */
  const state = (d: string): string[] =>
    readdirSync(d, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .map((f) => `${f} ${statSync(f).size} ${statSync(f).mtimeMs}`)
      .sort()

  it('a run.json missing a key the commands read: damaged, naming the key, exit 2, for report, export and resume, before anything is computed', () => {
    expect(made.status, made.stderr).toBe(0)
    const info = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as Record<string, unknown>
    // A run stopped after its first chain's first generation: a resume has a generation to compute.
    const chains = (info['chains'] as Record<string, unknown>[]).map((c, i) => (i === 0 ? { ...c, status: 'interrupted', generationsDone: 1 } : c))
    const stopped = { ...info, status: 'interrupted', finishedAt: null, chains }
    const KINDS: Record<string, string> = {
      name: 'a string',
      status: 'one of running, finished, failed, interrupted',
      startedAt: 'a string',
      finishedAt: 'a string, or null',
      seed: 'a number',
      workers: 'a whole number ≥ 0',
      backend: 'a string',
      config: 'an object',
      cells: 'a list',
      metricOptions: 'an object',
      metrics: 'a list of strings',
      modality: 'one of vectors, tokens',
      dataset: 'an object',
      packages: 'an object',
      node: 'a string',
    }
    for (const key of Object.keys(KINDS)) {
      const d = copy(`missing-${key}`)
      rmSync(join(d, 'report.html'))
      writeFileSync(join(d, 'run.json'), JSON.stringify({ ...stopped, [key]: undefined }))
      const before = state(d)
      for (const args of commands(d)) {
        const res = cli(args)
        expect(res.status, `${key}, ${args[0]}: ${res.stderr}`).toBe(2)
        expect(res.stderr, `${key}, ${args[0]}`).toBe(`error: ${join(d, 'run.json')} is damaged: ${key} is missing (${KINDS[key]})\nhint: run.json is the run's own account of itself (its resolved config, cells and chains), which nothing else in the directory holds: restore it from a copy, or run the config again with --force\n`)
      }
      expect(state(d), key).toEqual(before)
    }
  })

  const unprivileged = unprivilegedPrefix() !== undefined
  it.runIf(unprivileged)('a run.json or records.log this user cannot read: said to be unreadable, not damaged, with the permissions to fix, exit 2', () => {
    expect(made.status, made.stderr).toBe(0)
    for (const file of ['run.json', 'records.log']) {
      const d = copy(`unreadable-${file}`)
      chmodSync(d, 0o777)
      chmodSync(join(d, file), 0o000)
      for (const args of commands(d)) {
        if (file === 'records.log' && args[0] === 'resume') continue
        const res = cliUnprivileged(args, dir)
        expect(res.status, `${file}, ${args[0]}: ${res.stderr}`).toBe(2)
        expect(res.stderr).toContain(`error: cannot read ${join(d, file)}: permission denied\nhint: fix its permissions`)
        expect(res.stderr).not.toContain('damaged')
        expect(res.stderr).not.toContain('--force')
      }
    }
  })

  it.runIf(unprivileged)('a run directory this user cannot write in: export, report and resume say so with exit 2 before writing, with the permissions to fix', () => {
    expect(made.status, made.stderr).toBe(0)
    const d = copy('read-only')
    // A killed run (kill -9 leaves run.json 'running') and its lock, which a resume has to remove
    // first. A finished run needs no writing to say it has nothing to resume.
    const info = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')) as Record<string, unknown>
    writeFileSync(join(d, 'run.json'), JSON.stringify({ ...info, status: 'running', finishedAt: null }))
    writeFileSync(join(d, 'run.lock'), JSON.stringify({ pid: 2 ** 22 + 1, host: 'elsewhere', since: '2020-01-01T00:00:00.000Z' }) + '\n')
    utimesSync(join(d, 'run.lock'), new Date(0), new Date(0))
    chmodSync(d, 0o755)
    const before = readdirSync(d).sort()
    for (const [args, message] of [
      [['export', d, '--format', 'csv'], `error: cannot write in ${d} (permission denied)\nhint: fix the permissions of ${d} (this user must be able to write in it), or write elsewhere with --out\n`],
      [['report', d], `error: cannot write ${join(d, 'report.html')}: cannot write in ${d} (permission denied)\nhint: fix the permissions of ${d}`],
      [['resume', d], `error: cannot write ${join(d, 'run.lock')}: permission denied\nhint: a run writes in its directory: fix the permissions of ${d}`],
    ] as const) {
      const res = cliUnprivileged([...args], dir)
      expect(res.status, `${args[0]}: ${res.stderr}`).toBe(2)
      expect(res.stderr).toContain(message)
      expect(res.stderr).not.toContain('free space')
    }
    expect(readdirSync(d).sort()).toEqual(before)
  })
})

describe('a data file changed since its run began', () => {
  it('resume refuses it before any chain goes on, naming the file, exit 2, the run untouched; restored, it resumes', () => {
    const dir = tempDir()
    const corpus = Array.from({ length: 40 }, (_, i) => `line ${i} of the corpus`).join('\n')
    const task = Array.from({ length: 40 }, (_, i) => `task ${i} line`).join('\n')
    writeFileSync(join(dir, 'corpus.txt'), corpus)
    writeFileSync(join(dir, 'task.txt'), task)
    const config = { data: { kind: 'text-file', path: 'corpus.txt' }, model: { kind: 'ngram', order: 1 }, generations: 2, posttrain: [{ kind: 'finetune', data: { path: 'task.txt', n: 20 }, steps: 1 }] }
    const run = join(dir, 'run')
    expect(cli(['run', writeConfig(dir, config), '--out', run]).status).toBe(0)
    // As a run killed (kill -9) before it wrote that it had finished: one to resume.
    const info = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as Record<string, unknown>
    writeFileSync(join(run, 'run.json'), JSON.stringify({ ...info, status: 'running', finishedAt: null }))
    const before = ['run.json', 'metrics.ndjson'].map((f) => readFileSync(join(run, f), 'utf8'))
    for (const [file, field, text] of [['corpus.txt', 'data', corpus], ['task.txt', 'posttrain.0.data', task]] as const) {
      writeFileSync(join(dir, file), `${text}\none more line`)
      const res = cli(['resume', run])
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toMatch(new RegExp(`^error: ${field.replace(/\./g, '\\.')}\\.path: ${join(dir, file)} is not the file this run began with \\(SHA-256 [0-9a-f]{12}… then, [0-9a-f]{12}… now\\)\\n`))
      expect(res.stderr).toContain('restore the file')
      expect(['run.json', 'metrics.ndjson'].map((f) => readFileSync(join(run, f), 'utf8'))).toEqual(before)
      writeFileSync(join(dir, file), text)
    }
    expect(cli(['resume', run]).status).toBe(0)
  })
})

describe('a temporary directory that cannot be used', () => {
  it('is named, with TMPDIR, before any command runs: exit 2, no stack trace', () => {
    const dir = tempDir()
    const missing = join(dir, 'no-such-dir')
    const res = cli(['validate', writeConfig(dir, ok)], { env: { TMPDIR: missing } })
    expect(res.status).toBe(2)
    expect(res.stderr).toBe(`error: cannot make a scratch folder in ${missing} (the temporary directory, TMPDIR): no such directory\nhint: set TMPDIR to a directory this user can write\n`)
  })
})

describe('a Node.js older than package.json asks for', () => {
  it('is named with the version wanted, before any module loads: exit 2, no stack trace, nothing written', () => {
    const dir = tempDir()
    for (const version of ['18.20.8', '20.18.3']) {
      // As that Node would say of itself (an older Node fails to link the command line's modules).
      const older = join(dir, `node-${version}.cjs`)
      writeFileSync(older, `Object.defineProperty(process.versions, 'node', { value: '${version}' })\n`)
      const out = join(dir, `run-${version}`)
      const res = cli(['run', writeConfig(dir, ok), '--out', out], { env: { NODE_OPTIONS: `--require ${older}` } })
      expect(res.status).toBe(2)
      expect(res.stderr).toBe(`error: ouroboros needs Node.js 20.19 or newer (package.json's "engines"); this is Node.js ${version}, ${process.execPath}\nhint: install Node.js 20 or 22 and run the command with it\n`)
      expect(existsSync(out)).toBe(false)
    }
    // The version this test runs on (20.19 at least) passes the check.
    expect(cli(['--version']).status).toBe(0)
  })
})

describe('a metric group that cannot prepare on the data', () => {
  it("records its values as null with a warning and the run goes on, as when it fails in a generation (metricErrors 'null')", () => {
    const dir = tempDir()
    // 80 rows of 3-D points, 72 to train on: fewer than the 100 reference clusters asked for.
    const rows = Array.from({ length: 80 }, (_, i) => [Math.sin(i), Math.cos(3 * i), (i % 7) / 7].join(','))
    writeFileSync(join(dir, 'points.csv'), rows.join('\n'))
    const config = { data: { kind: 'vector-file', path: 'points.csv' }, model: { kind: 'gmm', components: 2 }, generations: 2, metricOptions: { clusters: { k: 100 } } }
    const res = cli(['run', writeConfig(dir, config), '--out', join(dir, 'run')])
    expect(res.status, res.stderr).toBe(0)
    expect(res.stderr).toContain("metric group 'clusters' failed in chain r0 at generation -1 (the real data's reference record); its values are null")
    expect(res.stderr).toContain('k = 100 clusters needs at least 100 real samples, got 72')
    const lines = readFileSync(join(dir, 'run', 'metrics.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { generation: number; metrics: Record<string, number | null> })
    expect(lines.map((r) => r.generation)).toEqual([-1, 0, 1])
    for (const r of lines) {
      expect(r.metrics['clusters_covered']).toBeNull()
      expect(r.metrics['total_variance']).toEqual(expect.any(Number))
    }
    // By default the group fits a tenth as many clusters as there are real samples: 7.
    const byDefault = cli(['run', writeConfig(dir, { ...config, metricOptions: {} }, 'default.json'), '--out', join(dir, 'default')])
    expect(byDefault.status, byDefault.stderr).toBe(0)
    expect(byDefault.stderr).not.toContain('warning')
    expect(JSON.parse(readFileSync(join(dir, 'default', 'run.json'), 'utf8')).chains[0].resolvedOptions.clusters.k).toBe(7)
    const failing = cli(['run', writeConfig(dir, { ...config, metricErrors: 'fail' }, 'fail.json'), '--out', join(dir, 'fail')])
    expect(failing.status).toBe(1)
    expect(failing.stderr).toContain("chain r0 failed at generation -1 (the real data's reference record): metric group 'clusters': clusters: k = 100 clusters needs at least 100 real samples")
  })
})

describe('ouroboros worker: a queue or a directory it cannot use', () => {
  it('says which part of its queue URL or --allow-modules is wrong, with exit 2, before looking for Redis', () => {
    const dir = tempDir()
    const config = writeConfig(dir, { data: { kind: 'gaussian' }, model: { kind: 'gaussian' } })
    for (const [args, env, says] of [
      [['--queue', 'redis://:secret@127.0.0.1:notaport'], {}, '--queue: the port (after the host and its colon) is not a number from 0 to 65535'],
      [[], { OUROBOROS_QUEUE: 'redis://:secret@127.0.0.1:notaport' }, 'OUROBOROS_QUEUE: the port (after the host and its colon) is not a number from 0 to 65535'],
      [[], { OUROBOROS_QUEUE: '' }, '--queue: not given, and OUROBOROS_QUEUE is not set'],
      [['--queue', 'redis://127.0.0.1:1', '--allow-modules', config], {}, `--allow-modules: ${config} is a file, not a directory`],
    ] as const) {
      const res = cli(['worker', ...args, '--queue-timeout', '1'], { env })
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr.startsWith(`error: ${says}`), res.stderr).toBe(true)
      expect(res.stderr).not.toContain('secret')
      expect(res.stderr).not.toMatch(/\n\s+at /)
    }
  })
})

describe('help of a command there is not', () => {
  it('names it and the commands there are, exit 2, where the whole help was printed; so does the command itself', () => {
    for (const args of [['help', 'nope'], ['nope', 'x.json']]) {
      const res = cli(args)
      expect(res.status).toBe(2)
      expect(res.stderr.trim()).toBe("error: unknown command 'nope'; the commands are run, resume, worker, report, export, validate, eval, new, list")
      expect(res.stdout).toBe('')
    }
  })
})

describe('ouroboros run and resume without --queue', () => {
  const dir = tempDir()
  const config = writeConfig(dir, { data: { kind: 'gaussian', n: 50 }, model: { kind: 'gaussian' }, generations: 2 })

  it('refuses --queue-timeout with exit 2, naming the option, and writes nothing', () => {
    for (const args of [['run', config, '--out', join(dir, 'timeout')], ['resume', join(dir, 'timeout')]]) {
      const res = cli([...args, '--queue-timeout', '5'])
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toBe('error: --queue-timeout: given without --queue; a local run has no queue to wait for\nhint: give --queue redis://… with it to run on the queue, or leave it out\n')
    }
    expect(existsSync(join(dir, 'timeout'))).toBe(false)
  })

  it('says in one line that a run is local where OUROBOROS_QUEUE is set, and how to send it to the queue', () => {
    const res = cli(['run', config, '--out', join(dir, 'local')], { env: { OUROBOROS_QUEUE: 'redis://127.0.0.1:1' } })
    expect(res.status, res.stderr).toBe(0)
    expect(res.stderr.split('\n')).toContain('ouroboros: this run is local (OUROBOROS_QUEUE is read by workers only); add --queue "$OUROBOROS_QUEUE" to send it to the queue')
    expect(cli(['run', config, '--out', join(dir, 'plain')], { env: { OUROBOROS_QUEUE: '' } }).stderr).not.toContain('OUROBOROS_QUEUE')
  })
})

describe('ouroboros worker --workers beyond the cores', () => {
  it('says that the threads beyond the cores share them, each holding a task', () => {
    const cores = availableParallelism()
    const res = cli(['worker', '--queue', 'redis://127.0.0.1:1', '--workers', String(cores + 1), '--queue-timeout', '1'])
    expect(res.status, res.stderr).toBe(2)
    expect(res.stderr).toContain(`--workers ${cores + 1}: this machine has ${cores} cores; the threads beyond them share cores`)
    expect(cli(['worker', '--queue', 'redis://127.0.0.1:1', '--workers', String(cores), '--queue-timeout', '1']).stderr).not.toContain('--workers')
  })
})
