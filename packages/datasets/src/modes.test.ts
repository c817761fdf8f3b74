import { describe, expect, it } from 'vitest'
import { grid, ring } from './modes.js'

describe('mode weights', () => {
  it('reports a negative weight once, at its index, and a wrong count or all zeros on the field', () => {
    const negative = ring.params.safeParse({ weights: [1, -1, 1, 1, 1, 1, 1, 1] })
    expect(negative.error?.issues.map((i) => i.path)).toEqual([['weights', 1]])
    expect(ring.params.safeParse({ weights: [1, 1] }).error?.issues.map((i) => [i.path, i.message])).toEqual([[['weights'], 'needs one weight per mode (8)']])
    expect(grid.params.safeParse({ weights: Array(25).fill(0) }).error?.issues.map((i) => i.message)).toEqual(['at least one weight must be positive'])
  })
})
