import { describe, expect, it } from 'vitest'
import { resolveRun } from './resolve.js'

describe('the data facts a run keeps', () => {
  it('keeps a cell’s own facts where its data differ from the first cell’s, and no copy where they do not', async () => {
    const base = { name: 'kinds', data: { kind: 'ring', n: 200 }, model: { kind: 'gmm', components: 8 }, generations: 1 }
    const kinds = await resolveRun({ ...base, sweep: { 'data.kind': ['ring', 'grid'] } }, 'kinds.json')
    expect(kinds.dataset.kind).toBe('ring')
    expect(kinds.cells[0]!.dataset).toBeUndefined()
    const grid = kinds.cells[1]!.dataset as { kind: string; modes: { k: number; centers: number[] } }
    expect(grid.kind).toBe('grid')
    // The grid's 25 modes at {−4, −2, 0, 2, 4}², as datasets define it.
    expect(grid.modes.k).toBe(25)
    const centres = new Set(Array.from({ length: 25 }, (_, i) => `${grid.modes.centers[2 * i]},${grid.modes.centers[2 * i + 1]}`))
    for (const x of [-4, -2, 0, 2, 4]) for (const y of [-4, -2, 0, 2, 4]) expect(centres.has(`${x},${y}`)).toBe(true)
    const policies = await resolveRun({ ...base, sweep: { 'policy.kind': ['replace', 'accumulate'] } }, 'policies.json')
    expect(policies.cells.map((c) => c.dataset)).toEqual([undefined, undefined])
  })
})
