import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import { PairTable } from './pair-table.js'

describe('PairTable', () => {
  it('numbers pairs densely in order of first insertion and keeps every pair through its growth', () => {
    const table = new PairTable(1)
    const rng = Rng.from(1)
    const pairs: [number, number][] = []
    const ids = new Map<string, number>()
    for (let k = 0; k < 20_000; k++) {
      const ctx = rng.int(300)
      const word = rng.int(300)
      const id = table.intern(ctx, word)
      const key = `${ctx} ${word}`
      if (!ids.has(key)) {
        ids.set(key, pairs.length)
        pairs.push([ctx, word])
      }
      expect(id).toBe(ids.get(key))
    }
    expect(table.size).toBe(pairs.length)
    pairs.forEach(([ctx, word], id) => {
      expect(table.ctxOf(id)).toBe(ctx)
      expect(table.wordOf(id)).toBe(word)
      expect(table.intern(ctx, word)).toBe(id)
    })
  })
})
