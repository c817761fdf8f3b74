import { describe, expect, it } from 'vitest'
import { valueWords } from '@ouroboros/core'
import { runNames, seriesLabel } from './labels.js'

describe('setting labels', () => {
  it('write a swept spec as its kind and options, without JSON quotes', () => {
    expect(valueWords({ kind: 'replace' })).toBe('replace')
    expect(valueWords({ kind: 'mix', realFraction: 0.2 })).toBe('mix(realFraction=0.2)')
    expect(valueWords({ kind: 'proxy', of: { kind: 'genre', genre: 'romance' }, labels: 200 })).toBe('proxy(of=genre(genre=romance), labels=200)')
    expect(valueWords([1, 1, 0])).toBe('[1, 1, 0]')
    expect(valueWords({ a: 1, b: 'x' })).toBe('{a=1, b=x}')
    expect(valueWords(0.5)).toBe('0.5')
    expect(valueWords(true)).toBe('true')
    expect(valueWords(null)).toBe('null')
  })

  it('name each swept path by its last part unless two would read the same', () => {
    const cell = { index: 0, label: 'unused', params: { policy: { kind: 'mix', realFraction: 0.2 }, samplesPerGeneration: 50, 'model.components': 8, 'data.components': 3 }, config: {} }
    const other = { ...cell, index: 1, params: { ...cell.params, policy: { kind: 'replace' }, samplesPerGeneration: 100 } }
    expect(seriesLabel(cell as never, [cell, other] as never, 'run', false)).toBe('policy=mix(realFraction=0.2), samplesPerGeneration=50, model.components=8, data.components=3')
    expect(seriesLabel(cell as never, [cell] as never, 'run', false)).toBe('run')
  })

  it('name a swept stage kind by its list, not by its index', () => {
    const rl = { index: 0, label: 'unused', params: { 'posttrain.0.kind': 'rl', 'posttrain.0.beta': 1 }, config: {} }
    const dpo = { ...rl, index: 1, params: { 'posttrain.0.kind': 'dpo', 'posttrain.0.beta': 1 } }
    expect(seriesLabel(dpo as never, [rl, dpo] as never, 'run', false)).toBe('posttrain=dpo, beta=1')
    // Two stages' kinds swept read the same when short, so each keeps its path.
    const both = { index: 0, label: 'unused', params: { 'posttrain.0.kind': 'finetune', 'posttrain.1.kind': 'rl' }, config: {} }
    expect(seriesLabel(both as never, [both, { ...both, index: 1 }] as never, 'run', false)).toBe('posttrain.0.kind=finetune, posttrain.1.kind=rl')
  })

  it('write of a swept spec its kind and the options that tell it from the sweep\'s other values', () => {
    const words = Array.from({ length: 10 }, (_, i) => `w${i + 11}`)
    const filter = (per: string) => ({ kind: 'reward', reward: { kind: 'lexicon', words, per }, choices: 2 })
    const policies = [{ kind: 'replace' }, { kind: 'mix', realFraction: 0.1 }, { kind: 'mix', realFraction: 0.5 }]
    const filters = [filter('sentence'), filter('token'), null]
    const cells = filters.flatMap((f) => policies.map((p) => ({ filter: f, policy: p }))).map((params, index) => ({ index, label: 'unused', params, config: {} }))
    const labels = cells.map((c) => seriesLabel(c as never, cells as never, 'run', false))
    expect(labels.slice(0, 4)).toEqual([
      'filter=reward(reward=lexicon(per=sentence)), policy=replace',
      'filter=reward(reward=lexicon(per=sentence)), policy=mix(realFraction=0.1)',
      'filter=reward(reward=lexicon(per=sentence)), policy=mix(realFraction=0.5)',
      'filter=reward(reward=lexicon(per=token)), policy=replace',
    ])
    expect(labels[8]).toBe('filter=null, policy=mix(realFraction=0.5)')
    // Specs of different kinds keep every option: the kind alone does not say what they are.
    const models = [{ kind: 'gmm', components: 8 }, { kind: 'kde', bandwidth: 0.1 }].map((model, index) => ({ index, label: 'unused', params: { model }, config: {} }))
    expect(models.map((c) => seriesLabel(c as never, models as never, 'run', false))).toEqual(['model=gmm(components=8)', 'model=kde(bandwidth=0.1)'])
  })
})

describe('run names', () => {
  it('tell runs of one name apart by seed, else by directory, else by order', () => {
    const run = (name: string, seed: number, dir: string) => ({ name, seed, dir })
    // The three-seed recipe of docs/vae-mnist-collapse.md, beside another run.
    expect(runNames([run('vae', 0, '/r/s0'), run('vae', 1, '/r/s1'), run('gmm', 0, '/r/g')])).toEqual(['vae (seed 0)', 'vae (seed 1)', 'gmm'])
    expect(runNames([run('vae', 0, '/r/a'), run('vae', 0, '/r/b')])).toEqual(['vae (a)', 'vae (b)'])
    expect(runNames([run('vae', 0, '/x/a'), run('vae', 0, '/y/a')])).toEqual(['vae (1)', 'vae (2)'])
  })
})
