import { describe, expect, it } from 'vitest'
import type { TrainingPlan } from '@ouroboros/core'
import { checkPlan } from './policy.js'

const generations = (...js: number[]): TrainingPlan => ({ parts: [{ from: 'real' }, ...js.map((generation) => ({ from: 'generation' as const, generation }))] })
const window = { kind: 'window', module: 'file:///experiments/window.mjs' }

describe("a policy's plan of generation g's training set", () => {
  it('may read the last generation, and any earlier one where the policy needs all generations', () => {
    expect(() => checkPlan({ needsAllGenerations: false }, window, generations(4), 5)).not.toThrow()
    expect(() => checkPlan({ needsAllGenerations: false }, window, { parts: [{ from: 'real' }, { from: 'fresh', n: 10 }] }, 5)).not.toThrow()
    expect(() => checkPlan({ needsAllGenerations: true }, window, generations(0, 2, 4), 5)).not.toThrow()
  })

  it('fails reading an older generation without needsAllGenerations, naming the policy and saying to set it', () => {
    const read = () => checkPlan({ needsAllGenerations: false }, window, generations(4, 3), 5)
    expect(read).toThrow(
      "policy 'window' (/experiments/window.mjs): generation 5's training set reads generation 3's samples, but the policy does not declare needsAllGenerations: true, without which a chain keeps only the last generation's (4)",
    )
    expect(read).toThrow(expect.objectContaining({ code: 'OUROBOROS_PLUGIN', hint: "set needsAllGenerations: true in its definePolicy, so that every generation's samples are kept for it" }))
  })

  it('fails reading a generation that is not an earlier one, whatever the policy needs', () => {
    for (const j of [5, 6, -1, 1.5]) {
      expect(() => checkPlan({ needsAllGenerations: true }, { kind: 'accumulate' }, generations(j), 5)).toThrow(
        `policy 'accumulate': generation 5's training set reads generation ${j}, which is not an earlier generation (0 to 4)`,
      )
    }
  })
})
