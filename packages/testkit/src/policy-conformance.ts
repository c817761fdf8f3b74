import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Rng, type ChainSizes, type PolicyPlugin, type TrainingPlan } from '@ouroboros/core'
import { issueFields, type BadParams } from './conformance.js'

export interface PolicyConformanceOptions {
  /** Valid parameters as a config would give them under `policy` (without kind and module). */
  readonly params: unknown
  /** Invalid parameters; an unknown key is always tried in addition to these. */
  readonly badParams: readonly BadParams[]
  /** Chain sizes the property checks draw from: up to this many real samples and samples per generation (default 2000). */
  readonly maxSize?: number
}

const UNKNOWN_KEY = 'notAParameterOfThisPolicy'
/** fast-check's seed: the checks draw the same chains on every run. */
const SEED = 20240611

/** Rows of a plan's part: what the scheduler builds for it. */
function partRows(part: TrainingPlan['parts'][number], sizes: ChainSizes): number {
  if (part.from === 'real') return sizes.n
  if (part.from === 'fresh') return part.n
  return Math.min(part.head ?? sizes.samplesPerGeneration, sizes.samplesPerGeneration)
}

/**
 * Registers the checks every data policy passes. Call it at the top level of a test file. The
 * chain sizes are drawn by fast-check; those the policy's own check refuses are skipped, and that
 * check must name one of its parameters.
 */
export function runPolicyConformance<P>(policy: PolicyPlugin<P>, options: PolicyConformanceOptions): void {
  const maxSize = options.maxSize ?? 2000
  const params = (): P => policy.params.parse(options.params)
  const sizes = fc.record({ n: fc.integer({ min: 1, max: maxSize }), samplesPerGeneration: fc.integer({ min: 1, max: maxSize }), generations: fc.integer({ min: 2, max: 12 }) })
  const plan = (p: P, s: ChainSizes, generation: number, seed: number): TrainingPlan =>
    policy.trainingSet(p, { generation, samplesPerGeneration: s.samplesPerGeneration, realN: s.n, rng: Rng.from(seed, 'policy', generation) })
  const runnable = (p: P, s: ChainSizes): boolean => policy.check?.(p, s) === undefined

  describe(`policy '${policy.id}' conformance`, () => {
    it('declares an id, a description and a params schema that accepts the given params, which survive run.json', () => {
      expect(policy.id).toMatch(/^[a-z][a-z0-9-]*$/)
      expect(policy.description.length).toBeGreaterThan(0)
      expect(policy.params.safeParse(options.params).error?.issues ?? []).toEqual([])
      const p = params()
      expect(JSON.parse(JSON.stringify(p))).toEqual(p)
    })

    it('plans generation g from the real data, fresh draws and generations before g only, within the sizes it declares', () => {
      const p = params()
      fc.assert(
        fc.property(sizes, fc.nat(), (s, seed) => {
          fc.pre(runnable(p, s))
          const largest = policy.largestTrainingSet(p, s)
          // Generation 0 is fit on the real data, so the largest training set holds it.
          expect(largest, `largestTrainingSet gave ${largest} for sizes ${JSON.stringify(s)}; generation 0 trains on the n = ${s.n} real rows, so it is at least n (Math.max(sizes.n, …))`).toBeGreaterThanOrEqual(s.n)
          const fresh = policy.freshPerGeneration?.(p, s) ?? 0
          let fewest = Infinity
          for (let g = 1; g < s.generations; g++) {
            const { parts, pick } = plan(p, s, g, seed)
            expect(parts.length).toBeGreaterThan(0)
            let freshRows = 0
            for (const part of parts) {
              if (part.from === 'generation') {
                expect(Number.isInteger(part.generation) && part.generation >= 0 && part.generation < g, `generation ${part.generation} in the plan of ${g}`).toBe(true)
                // Without needsAllGenerations only the last generation is at hand.
                if (!policy.needsAllGenerations) {
                  const why = `generation ${g}'s plan reads generation ${part.generation}, but the policy does not declare needsAllGenerations: true, without which a chain keeps only the last generation's samples (${g - 1}): set it`
                  expect(part.generation, why).toBe(g - 1)
                }
                if (part.head !== undefined) expect(Number.isInteger(part.head) && part.head >= 0).toBe(true)
              }
              if (part.from === 'fresh') {
                expect(Number.isInteger(part.n) && part.n >= 0).toBe(true)
                freshRows += part.n
              }
            }
            expect(freshRows, 'fresh draws beyond freshPerGeneration').toBeLessThanOrEqual(fresh)
            const rows = parts.reduce((a, part) => a + partRows(part, s), 0)
            if (pick !== undefined) {
              for (const i of pick) expect(Number.isInteger(i) && i >= 0 && i < rows, `pick ${i} of ${rows} rows`).toBe(true)
            }
            const planned = pick?.length ?? rows
            expect(planned).toBeGreaterThan(0)
            expect(planned, `generation ${g}: rows beyond largestTrainingSet`).toBeLessThanOrEqual(largest)
            fewest = Math.min(fewest, planned)
          }
          // The run checks a model's minimum against it, so it must be the smallest set planned, not a bound.
          if (policy.smallestTrainingSet !== undefined && s.generations > 1) expect(fewest, 'the smallest set planned against smallestTrainingSet').toBe(policy.smallestTrainingSet(p, s))
        }),
        { seed: SEED, numRuns: 60 },
      )
    })

    it('gives the same plan for the same seed, leaves its inputs alone, and plans survive structured cloning', () => {
      const p = params()
      fc.assert(
        fc.property(sizes, fc.nat(), (s, seed) => {
          fc.pre(runnable(p, s))
          const g = s.generations - 1
          const before = structuredClone({ p, s })
          const a = plan(p, s, g, seed)
          expect(plan(p, s, g, seed)).toEqual(a)
          expect(structuredClone(a)).toEqual(a)
          expect({ p, s }).toEqual(before)
        }),
        { seed: SEED, numRuns: 30 },
      )
    })

    it('names one of its parameters when it refuses a chain’s sizes', () => {
      const p = params()
      const shape = (policy.params as { shape?: Record<string, unknown> }).shape
      const known = new Set([...Object.keys(shape ?? {}), ...Object.keys(p as object), ...Object.keys(options.params as object)])
      fc.assert(
        fc.property(sizes, (s) => {
          const problem = policy.check?.(p, s)
          if (problem === undefined) return
          expect(known.has(problem.param.split('.')[0]!), `'${problem.param}' is not a parameter`).toBe(true)
          expect(problem.message.length).toBeGreaterThan(0)
        }),
        { seed: SEED, numRuns: 60 },
      )
    })

    const bad: BadParams[] = [...options.badParams]
    if (typeof options.params === 'object' && options.params !== null && !Array.isArray(options.params)) bad.push({ params: { ...options.params, [UNKNOWN_KEY]: 1 }, field: UNKNOWN_KEY })
    it.each(bad.map((b) => [b.field, b] as const))('rejects a bad value of parameter %s, naming it', (_field, b) => {
      const parsed = policy.params.safeParse(b.params)
      expect(parsed.success).toBe(false)
      expect((parsed.error?.issues ?? []).flatMap(issueFields)).toContain(b.field)
    })
  })
}
