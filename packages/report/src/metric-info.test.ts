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
