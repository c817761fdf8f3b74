import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { definePolicy, type ChainSizes, type PolicyPlugin, type TrainingPlan } from '@ouroboros/core'
import { checkPlan, declaredSizesProblem } from './policy.js'

const generations = (...js: number[]): TrainingPlan => ({ parts: [{ from: 'real' }, ...js.map((generation) => ({ from: 'generation' as const, generation }))] })
const window = { kind: 'window', module: 'file:///experiments/window.mjs' }
const sizes: ChainSizes = { n: 100, samplesPerGeneration: 50, generations: 10 }

/** A policy that declares room for every plan of these tests: the real data and all earlier generations. */
const roomy = (needsAllGenerations: boolean, declared: Partial<PolicyPlugin<unknown>> = {}): PolicyPlugin<unknown> =>
  definePolicy({
    id: 'window',
    description: 'plans what a test gives it',
    params: z.strictObject({}),
    needsAllGenerations,
    largestTrainingSet: (_p, s) => s.n + s.samplesPerGeneration * (s.generations - 1),
    trainingSet: () => ({ parts: [] }),
    ...declared,
  })

describe("a policy's plan of generation g's training set", () => {
  it('may read the last generation, and any earlier one where the policy needs all generations', () => {
    expect(() => checkPlan(roomy(false, { freshPerGeneration: () => 10 }), window, generations(4), 5, sizes)).not.toThrow()
    expect(() => checkPlan(roomy(false, { freshPerGeneration: () => 10 }), window, { parts: [{ from: 'real' }, { from: 'fresh', n: 10 }] }, 5, sizes)).not.toThrow()
    expect(() => checkPlan(roomy(true), window, generations(0, 2, 4), 5, sizes)).not.toThrow()
    expect(() => checkPlan(roomy(true), window, { parts: [{ from: 'generation', generation: 4, head: 10 }], pick: Uint32Array.of(9, 0, 9) }, 5, sizes)).not.toThrow()
  })

  it('fails reading an older generation without needsAllGenerations, naming the policy and saying to set it', () => {
    const read = () => checkPlan(roomy(false), window, generations(4, 3), 5, sizes)
    expect(read).toThrow(
      "policy 'window' (/experiments/window.mjs): generation 5's training set reads generation 3's samples, but the policy does not declare needsAllGenerations: true, without which a chain keeps only the last generation's (4)",
    )
    expect(read).toThrow(expect.objectContaining({ code: 'OUROBOROS_PLUGIN', hint: "set needsAllGenerations: true in its definePolicy, so that every generation's samples are kept for it" }))
  })

  it('fails reading a generation that is not an earlier one, whatever the policy needs', () => {
    for (const j of [5, 6, -1, 1.5]) {
      expect(() => checkPlan(roomy(true), { kind: 'accumulate' }, generations(j), 5, sizes)).toThrow(
        `policy 'accumulate': generation 5's training set reads generation ${j}, which is not an earlier generation (0 to 4)`,
      )
    }
  })

  it('fails a plan of the wrong shape, naming the policy, the part and the field, where the scheduler would fail in words about its own code', () => {
    const name = "policy 'window' (/experiments/window.mjs)"
    const plan = (value: unknown) => () => checkPlan(roomy(true), window, value, 1, sizes)
    expect(plan([{ from: 'real' }])).toThrow(`${name}: trainingSet returned an array for generation 1; expected a plan, { parts: [...] }`)
    expect(plan(undefined)).toThrow(`${name}: trainingSet returned undefined for generation 1; expected a plan, { parts: [...] }`)
    expect(plan({ parts: [] })).toThrow(`${name}: trainingSet's plan for generation 1: parts: an empty list; expected a list of one part or more`)
    expect(plan({ part: [{ from: 'real' }] })).toThrow(`${name}: trainingSet's plan for generation 1: parts: undefined; expected a list of one part or more`)
    expect(plan({ parts: [{ from: 'reel' }] })).toThrow(`${name}: trainingSet's plan for generation 1: parts.0.from: "reel" is not one of real, fresh, generation`)
    expect(plan({ parts: [{ from: 'real' }, 'real'] })).toThrow(`${name}: trainingSet's plan for generation 1: parts.1: "real"; expected an object with from: 'real', 'fresh' or 'generation'`)
    // A string is not the generation it spells: the message shows it quoted.
    expect(plan({ parts: [{ from: 'generation', generation: '0' }] })).toThrow(`${name}: trainingSet's plan for generation 1: parts.0.generation: "0"; expected a number, an earlier generation (0 to 0)`)
    expect(plan({ parts: [{ from: 'generation', generation: 0, head: -1 }] })).toThrow(`${name}: trainingSet's plan for generation 1: parts.0.head: -1; expected`)
    expect(plan({ parts: [{ from: 'fresh', n: 2.5 }] })).toThrow(`${name}: trainingSet's plan for generation 1: parts.0.n: 2.5; expected the number of fresh real samples, an integer ≥ 0`)
    expect(plan({ parts: [{ from: 'real' }], pick: Uint32Array.of(0, 99999) })).toThrow(`${name}: trainingSet's plan for generation 1: pick.1: 99999 is not a row of its parts, whose 100 rows are 0 to 99`)
    expect(plan({ parts: [{ from: 'real' }], pick: '0' })).toThrow(`${name}: trainingSet's plan for generation 1: pick: "0"; expected a list of row indices (a Uint32Array)`)
    expect(plan({ parts: [{ from: 'real' }], pick: [] })).toThrow(`${name}: trainingSet's plan for generation 1: pick: no rows; a model cannot be fit on none`)
    expect(plan({ parts: [{ from: 'real' }] })).not.toThrow()
    expect(plan(undefined)).toThrow(expect.objectContaining({ code: 'OUROBOROS_PLUGIN', hint: expect.stringContaining("a policy's trainingSet(params, inputs) returns { parts, pick }") }))
  })

  it('fails a plan that breaks the sizes the policy declared, which the run checked the memory, the pool and the model against', () => {
    const name = "policy 'window' (/experiments/window.mjs)"
    const words = 'n 100, samplesPerGeneration 50, generations 10'
    const tight = roomy(true, { largestTrainingSet: (_p, s) => s.n })
    expect(() => checkPlan(tight, window, generations(0), 1, sizes)).toThrow(
      `${name}: generation 1's training set has 150 rows, but largestTrainingSet gave 100 for these sizes (${words}), against which the run checked the memory before it started`,
    )
    expect(() => checkPlan(roomy(true, { smallestTrainingSet: () => 200 }), window, generations(0), 1, sizes)).toThrow(`${name}: generation 1's training set has 150 rows, but smallestTrainingSet gave 200 for these sizes (${words})`)
    expect(() => checkPlan(roomy(true), window, { parts: [{ from: 'fresh', n: 10 }] }, 1, sizes)).toThrow(
      `${name}: generation 1's training set has 10 fresh real samples, but the policy has no freshPerGeneration, against which the run checked the data's pool before it started`,
    )
  })
})

describe('the sizes a policy declares', () => {
  it('are whole numbers, the largest at least n and the smallest at most the largest, or the problem names the hook', () => {
    expect(declaredSizesProblem(roomy(true), {}, sizes)).toBeUndefined()
    expect(declaredSizesProblem(roomy(true, { largestTrainingSet: () => NaN }), {}, sizes)).toBe(
      'largestTrainingSet gave NaN for these sizes (n 100, samplesPerGeneration 50, generations 10); expected a whole number at least n (100), since generation 0 trains on the real data: largestTrainingSet(params, sizes) gives the rows of the largest training set the policy plans',
    )
    expect(declaredSizesProblem(roomy(true, { largestTrainingSet: () => 99 }), {}, sizes)).toMatch(/^largestTrainingSet gave 99 for these sizes/)
    // Accumulate's smallest set, generation 1's, is above its largest where there is no generation 1.
    expect(declaredSizesProblem(roomy(true, { largestTrainingSet: (_p, s) => s.n, smallestTrainingSet: (_p, s) => s.n + s.samplesPerGeneration }), {}, { ...sizes, generations: 1 })).toBeUndefined()
    expect(declaredSizesProblem(roomy(true, { largestTrainingSet: (_p, s) => s.n, smallestTrainingSet: (_p, s) => s.n + s.samplesPerGeneration }), {}, sizes)).toMatch(/^smallestTrainingSet gave 150 for these sizes/)
    expect(declaredSizesProblem(roomy(true, { smallestTrainingSet: () => 0 }), {}, sizes)).toMatch(/^smallestTrainingSet gave 0 for these sizes .*; expected a whole number from 1 to largestTrainingSet's 550/)
    expect(declaredSizesProblem(roomy(true, { freshPerGeneration: () => -1 }), {}, sizes)).toMatch(/^freshPerGeneration gave -1 for these sizes .*; expected a whole number ≥ 0/)
  })
})
