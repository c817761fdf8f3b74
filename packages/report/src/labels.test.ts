import { describe, expect, it } from 'vitest'
import { valueWords } from '@ouroboros/core'
import { seriesLabel } from './labels.js'

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
    expect(seriesLabel(cell as never, 4, 'run', false)).toBe('policy=mix(realFraction=0.2), samplesPerGeneration=50, model.components=8, data.components=3')
    expect(seriesLabel(cell as never, 1, 'run', false)).toBe('run')
  })
})
