import { describe, expect, it } from 'vitest'
import { model } from './index.js'

describe('vae params', () => {
  it('reads one number for hidden as one layer of that width', () => {
    expect(model.params.parse({ hidden: 400 }).hidden).toEqual([400])
    expect(model.params.parse({ hidden: [400, 200] }).hidden).toEqual([400, 200])
    expect(model.params.parse({}).hidden).toEqual([128, 128])
  })

  it('rejects a width that is not a positive integer, given alone or in a list', () => {
    for (const hidden of [0, 16.5, -3, [0], 'wide']) expect(model.params.safeParse({ hidden }).success, JSON.stringify(hidden)).toBe(false)
  })
})
