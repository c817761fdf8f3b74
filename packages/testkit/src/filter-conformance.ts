import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { outputInfoProblems, Rng, type FilterInputs, type FilterPlugin, type FilterResult, type FilterRun, type Samples } from '@ouroboros/core'
import { issueFields, type BadParams } from './conformance.js'
import { samplesEqual } from './samples.js'

export interface FilterConformanceOptions {
  /** Valid parameters as a config would give them under `filter` (without kind and module). */
  readonly params: unknown
  /** Invalid parameters; an unknown key is always tried in addition to these. */
  readonly badParams: readonly BadParams[]
  /** The data and the generating model of a run the filter can curate. */
  readonly run: FilterRun
  /** The generating model's draws: n samples from the given stream. */
  readonly draw: (n: number, rng: Rng) => Samples
  /** The generating model's per-item log-likelihood, for filters that read it. */
  readonly logLikelihood?: (s: Samples) => Float64Array
  /** Runs the filter's check refuses, and the field its message names ('filter.kind'). */
  readonly refuses?: readonly { readonly run: FilterRun; readonly field: string }[]
  /** The most samples a generation emits in the checks (default 300). */
  readonly maxN?: number
}

const UNKNOWN_KEY = 'notAParameterOfThisFilter'
/** fast-check's seed: the checks draw the same generations on every run. */
const SEED = 20240612

/** Each item as text, to find the kept ones among the draws. */
function itemKeys(s: Samples): string[] {
  if (s.modality === 'vectors') return Array.from({ length: s.n }, (_, i) => Array.from(s.data.subarray(i * s.d, (i + 1) * s.d)).join(','))
  return Array.from({ length: s.n }, (_, i) => Array.from(s.tokens.subarray(s.offsets[i]!, s.offsets[i + 1]!)).join(','))
}

/**
 * Registers the checks every filter passes. Call it at the top level of a test file. Generation
 * sizes and seeds are drawn by fast-check.
 */
export function runFilterConformance<P>(filter: FilterPlugin<P>, options: FilterConformanceOptions): void {
  const params = (): P => filter.params.parse(options.params)
  const model = (n: number, seed: number, batch: number): Samples => options.draw(n, Rng.from(seed, 'sample', batch))
  /** The inputs of one generation; every batch the filter draws is appended to `drawn`. */
  const inputs = (n: number, seed: number, drawn: Drawn[]): FilterInputs => {
    const first = model(n, seed, 0)
    drawn.push({ samples: first, n, batch: 0 })
    const { logLikelihood } = options
    return {
      n,
      first,
      async draw(m, batch) {
        const s = model(m, seed, batch)
        drawn.push({ samples: s, n: m, batch })
        return s
      },
      ...(logLikelihood === undefined ? {} : { logLikelihood: async (s: Samples) => logLikelihood(s) }),
      dataset: options.run.dataset,
      rng: Rng.from(seed, 'filter'),
    }
  }
  const generation = fc.record({ n: fc.integer({ min: 1, max: options.maxN ?? 300 }), seed: fc.nat() })

  describe(`filter '${filter.id}' conformance`, () => {
    it('declares an id, a description and a params schema that accepts the given params, which survive run.json', () => {
      expect(filter.id).toMatch(/^[a-z][a-z0-9-]*$/)
      expect(filter.description.length).toBeGreaterThan(0)
      expect(filter.params.safeParse(options.params).error?.issues ?? []).toEqual([])
      const p = params()
      expect(JSON.parse(JSON.stringify(p))).toEqual(p)
      expect(outputInfoProblems(filter.outputInfo)).toEqual([])
    })

    it('keeps exactly n of the samples it drew, counts at least n draws, and records only the values it describes', async () => {
      const p = params()
      await fc.assert(
        fc.asyncProperty(generation, async ({ n, seed }) => {
          const drawn: Drawn[] = []
          const result = await filter.apply(p, inputs(n, seed, drawn))
          const first = drawn[0]!.samples
          expect(result.kept.n).toBe(n)
          expect(result.kept.modality).toBe(first.modality)
          if (result.kept.modality === 'vectors' && first.modality === 'vectors') expect(result.kept.d).toBe(first.d)
          expect(Number.isInteger(result.draws)).toBe(true)
          expect(result.draws).toBeGreaterThanOrEqual(n)
          expect(result.draws).toBeLessThanOrEqual(drawn.reduce((a, d) => a + d.n, 0))
          const pool = new Set(drawn.flatMap((d) => itemKeys(d.samples)))
          for (const key of itemKeys(result.kept)) expect(pool.has(key), 'a kept sample that was never drawn').toBe(true)
          for (const [name, value] of Object.entries(result.values ?? {})) {
            expect(filter.outputInfo?.[name], `${name} is recorded but not described`).toBeDefined()
            expect(Number.isFinite(value), `${name} = ${value}`).toBe(true)
          }
        }),
        { seed: SEED, numRuns: 25 },
      )
    })

    it('gives the same result for the same seeds, leaves the draws alone, and its result survives structured cloning', async () => {
      const p = params()
      await fc.assert(
        fc.asyncProperty(generation, async ({ n, seed }) => {
          const drawn: Drawn[] = []
          const a = await filter.apply(p, inputs(n, seed, drawn))
          expect(sameResult(a, await filter.apply(p, inputs(n, seed, [])))).toBe(true)
          // Every batch is still as the model gave it.
          for (const d of drawn) expect(samplesEqual(d.samples, model(d.n, seed, d.batch)), `batch ${d.batch}`).toBe(true)
          const copy = structuredClone(a)
          expect(sameResult(copy, a)).toBe(true)
          expect(p).toEqual(params())
        }),
        { seed: SEED, numRuns: 10 },
      )
    })

    it('accepts the run it is given, and refuses the others naming the field', async () => {
      const p = params()
      await expect(Promise.resolve(filter.check?.(p, options.run, 'filter'))).resolves.toBeUndefined()
      for (const { run, field } of options.refuses ?? []) {
        await expect(Promise.resolve().then(() => filter.check?.(p, run, 'filter')), `a run on ${run.dataset.kind} data`).rejects.toThrow(`${field}:`)
      }
    })

    const bad: BadParams[] = [...options.badParams]
    if (typeof options.params === 'object' && options.params !== null && !Array.isArray(options.params)) bad.push({ params: { ...options.params, [UNKNOWN_KEY]: 1 }, field: UNKNOWN_KEY })
    it.each(bad.map((b) => [b.field, b] as const))('rejects a bad value of parameter %s, naming it', (_field, b) => {
      const parsed = filter.params.safeParse(b.params)
      expect(parsed.success).toBe(false)
      expect((parsed.error?.issues ?? []).flatMap(issueFields)).toContain(b.field)
    })
  })
}

/** A batch the filter drew: its samples, its size and its stream. */
interface Drawn {
  readonly samples: Samples
  readonly n: number
  readonly batch: number
}

function sameResult(a: FilterResult, b: FilterResult): boolean {
  return samplesEqual(a.kept, b.kept) && a.draws === b.draws && JSON.stringify(a.values ?? {}) === JSON.stringify(b.values ?? {})
}
