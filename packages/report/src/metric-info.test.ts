import { describe, expect, it } from 'vitest'
import { MetricCatalog } from './metric-info.js'

describe('MetricCatalog.axisTitle', () => {
  const catalog = new MetricCatalog([
    {
      modes_covered: { title: 'modes covered', unit: 'modes' },
      modes_covered_1pct: { title: 'modes covered (≥ 1 % of samples)', unit: 'modes' },
      reward: { title: 'reward (the one optimised)' },
    },
  ])

  it('puts the unit in brackets after the title, inside the title’s own brackets where it ends in some', () => {
    expect(catalog.axisTitle('modes_covered')).toBe('modes covered (modes)')
    expect(catalog.axisTitle('modes_covered_1pct')).toBe('modes covered (≥ 1 % of samples; modes)')
    expect(catalog.axisTitle('reward')).toBe('reward (the one optimised)')
    expect(catalog.axisTitle('unknown')).toBe('unknown')
  })
})

describe('MetricCatalog.range', () => {
  const catalog = new MetricCatalog([
    {
      class_entropy: { title: 'class entropy', unit: 'nats', threshold: { direction: 'falls', kind: 'offset', value: Math.LN2 } },
      class_kl: { title: 'class KL', unit: 'nats', threshold: { direction: 'rises', kind: 'offset', value: 0.1 } },
      recall: { title: 'recall', unit: 'fraction', threshold: { direction: 'falls', kind: 'factor', value: 0.5 }, bounds: [0, 1] },
    },
  ])

  it('gives a share its bounds and an entropy 0 and above, and claims none for a KL', () => {
    expect(catalog.range('recall')).toEqual([0, 1])
    expect(catalog.range('class_entropy')).toEqual([0, Infinity])
    expect(catalog.range('class_kl')).toBeUndefined()
  })
})
