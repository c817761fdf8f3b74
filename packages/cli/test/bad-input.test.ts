import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { OuroborosError } from '@ouroboros/core'
import { resolveRun } from '@ouroboros/cli'
import { cleanup, cli, tempDir } from './helpers.js'

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
  ['options for a metric not run', r({ metrics: ['modes'], metricOptions: { prdc: { k: 3 } } }), 'metricOptions.prdc'],
  ['bad metric option', r({ metrics: ['prdc'], metricOptions: { prdc: { k: 0 } } }), 'metricOptions.prdc.k'],
  ['sweep over a missing path', r({ sweep: { 'optimizer.lr': [1, 2] } }), 'optimizer.lr'],
  ['sweep through a scalar', r({ sweep: { 'generations.max': [1, 2] } }), 'generations'],
  ['empty sweep list', r({ sweep: { 'model.components': [] } }), 'sweep.model.components'],
  ['sweep list not a list', r({ sweep: { 'model.components': 4 } }), 'sweep.model.components'],
  ['sweep to a bad value', r({ sweep: { 'model.components': [4, 'eight'] } }), 'model.components'],
  ['absurd size', { data: { kind: 'gaussian', d: 1000, n: 1000000 }, model: { kind: 'gaussian' }, policy: { kind: 'accumulate' }, generations: 100 }, 'GiB'],
  ['more MNIST digits than the training split', { data: { kind: 'mnist', n: 9500 }, model: { kind: 'gaussian' }, generations: 1 }, 'data.n'],
  ['a reference draw larger than MNIST', { data: { kind: 'mnist', n: 100 }, model: { kind: 'gaussian' }, generations: 1, samplesPerGeneration: 9500 }, 'samplesPerGeneration'],
  ['a reference draw larger than the Brown training split', { data: { kind: 'brown', n: 100 }, model: { kind: 'ngram' }, generations: 1, samplesPerGeneration: 60000 }, 'samplesPerGeneration'],
  ['more held-out digits than MNIST sets aside', { data: { kind: 'mnist', n: 100, heldout: 500 }, model: { kind: 'gaussian' }, generations: 1, heldout: 800 }, 'heldout'],
  ['unknown filter', r({ filter: { kind: 'reward' } }), 'filter.kind'],
  ['filter keeping nothing', r({ filter: { kind: 'likelihood', keep: 0 } }), 'filter.keep'],
  ['mode filter without modes', { data: { kind: 'gaussian', n: 100 }, model: { kind: 'gaussian' }, generations: 1, filter: { kind: 'modes' } }, 'filter.kind'],
  ['likelihood filter for a model without one', { data: { kind: 'ring', n: 100 }, model: { kind: 'vae' }, generations: 1, filter: { kind: 'likelihood', keep: 0.5 } }, 'filter.kind'],
  ['negative retries', r({ retries: -1 }), 'retries'],
  ['warmStart as text', r({ warmStart: 'yes' }), 'warmStart'],
]

describe(`${configs.length} malformed configs`, () => {
  it('has at least 40 cases', () => expect(configs.length).toBeGreaterThanOrEqual(40))
  for (const [what, config, field] of configs) {
    it(`${what}: a config error naming ${field}`, async () => {
      const err = await resolveRun(config, 'bad.json').then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err, `${what} was accepted`).toBeInstanceOf(OuroborosError)
      const e = err as OuroborosError
      expect(e.isUsageError, e.message).toBe(true)
      expect(e.message).toContain(field)
      expect(e.message).toContain('bad.json')
    })
  }
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
    ['empty csv', file('empty.csv', ''), 'no data rows'],
    ['ragged json rows', file('ragged.json', '[[1,2],[3]]'), 'ragged'],
    ['json not an array', file('obj.json', '{"x": 1}'), 'array'],
    ['json null value', file('null.json', '[[1,2],[null,4]]'), 'row 2'],
    ['broken json', file('broken.json', '[[1,2],'), 'not valid JSON'],
    ['npy with int dtype', file('int.npy', Buffer.concat([npyHeader('<i8', '(2, 2)'), Buffer.alloc(32)])), "dtype '<i8'"],
    ['npy with 3 dimensions', file('3d.npy', Buffer.concat([npyHeader('<f8', '(2, 2, 2)'), Buffer.alloc(64)])), 'shape'],
    ['truncated npy', file('short.npy', Buffer.concat([npyHeader('<f8', '(10, 2)'), Buffer.alloc(16)])), 'truncated'],
    ['not an npy', file('fake.npy', 'hello'), 'not a NumPy'],
    ['unsupported extension', file('data.parquet', 'x'), 'unsupported'],
    ['missing file', join(dir, 'nope.csv'), 'no such file'],
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
