import { serialize } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { asVectors, outputInfoProblems, Rng, type DatasetInfo, type MetricArgs, type MetricPlugin, type MetricValues, type Samples } from '@ouroboros/core'
import { expectModality, issueFields, type BadParams } from './conformance.js'

export interface MetricConformanceOptions {
  /** Valid options as a config would give them under `metricOptions` (defaults not yet applied). */
  readonly options: unknown
  /** Real and generated samples of the group's modality, drawn from the given generator. */
  readonly real: (rng: Rng) => Samples
  readonly generated: (rng: Rng) => Samples
  readonly dataset: DatasetInfo
  /** What else compute may read (held-out data, a model view, the training set), if the group needs it. */
  readonly extra?: Partial<Pick<MetricArgs<unknown, unknown>, 'heldout' | 'training' | 'model' | 'task'>>
  /** Invalid options; an unknown key is always tried in addition to these. */
  readonly badOptions: readonly BadParams[]
}

const UNKNOWN_KEY = 'notAnOptionOfThisGroup'

/** Registers the checks every metric group passes. Call it at the top level of a test file. */
export function runMetricConformance<O, Prep>(metric: MetricPlugin<O, Prep>, options: MetricConformanceOptions): void {
  const compute = async (seed: number, real: Samples, generated: Samples): Promise<MetricValues> => {
    const parsed = metric.options.parse(options.options)
    const prepared = (await metric.prepare?.({ real, dataset: options.dataset, options: parsed, rng: Rng.from(seed, 'prepare') })) as Prep
    return metric.compute({ real, generated, options: parsed, dataset: options.dataset, prepared, rng: Rng.from(seed, 'compute'), ...options.extra })
  }
  const real = () => options.real(Rng.from(1, 'real'))
  const generated = () => options.generated(Rng.from(2, 'generated'))

  describe(`metric group '${metric.id}' conformance`, () => {
    it('declares an id, a description, its outputs and an options schema that accepts the given options', () => {
      expect(metric.id).toMatch(/^[a-z][a-z0-9_-]*$/)
      expect(metric.description.length).toBeGreaterThan(0)
      expectModality('metric group', metric)
      expect(metric.outputs.length).toBeGreaterThan(0)
      expect(new Set(metric.outputs).size).toBe(metric.outputs.length)
      for (const name of Object.keys(metric.nullWhen ?? {})) expect(metric.outputs).toContain(name)
      expect(metric.options.safeParse(options.options).error?.issues ?? []).toEqual([])
    })

    it('describes only its own outputs, each with a title, bounds in order and a threshold on the side of 1 its direction needs', () => {
      expect(outputInfoProblems(metric.outputInfo, metric.outputs)).toEqual([])
    })

    it('returns exactly its outputs, each a finite number or null where nullWhen allows it', async () => {
      const values = await compute(3, real(), generated())
      expect(Object.keys(values).sort()).toEqual([...metric.outputs].sort())
      for (const [name, value] of Object.entries(values)) {
        if (value === null) expect(metric.nullWhen?.[name], `${name} is null but nullWhen does not say when`).toBeDefined()
        else expect(Number.isFinite(value), `${name} = ${value}`).toBe(true)
        const bounds = metric.outputInfo?.[name]?.bounds
        if (bounds !== undefined && value !== null) expect(value >= bounds[0] && value <= bounds[1], `${name} = ${value} outside its bounds`).toBe(true)
      }
    })

    it('gives identical values for the same seed and inputs, and leaves its inputs alone', async () => {
      const r = real()
      const g = generated()
      const before = [serialize(r), serialize(g)]
      const a = await compute(3, r, g)
      expect(await compute(3, real(), generated())).toEqual(a)
      expect([serialize(r), serialize(g)]).toEqual(before)
    })

    if (metric.computeBlock !== undefined) {
      it('scores a block of chains as each chain alone, bit for bit (computeBlock)', async () => {
        const parsed = metric.options.parse(options.options)
        const chains = [0, 1, 2].map((c) => ({ real: options.real(Rng.from(1 + c, 'real')), generated: asVectors(options.generated(Rng.from(20 + c, 'generated'))) }))
        const prepared = await Promise.all(chains.map(async (c, i) => (await metric.prepare?.({ real: c.real, dataset: options.dataset, options: parsed, rng: Rng.from(40 + i, 'prepare') })) as Prep))
        const { n, d } = chains[0]!.generated
        const data = new Float64Array(chains.length * n * d)
        chains.forEach((c, i) => data.set(c.generated.data, i * n * d))
        const model = options.extra?.model
        // Every chain's model is the same here, so the block's summary repeats it.
        const summary = model?.summary === undefined ? undefined : Object.fromEntries(Object.entries(model.summary).map(([name, v]) => [name, repeat(v, chains.length)]))
        const { heldout } = options.extra ?? {}
        const columns = await metric.computeBlock!({
          chains: chains.length,
          real: chains.map((c) => c.real),
          generated: { chains: chains.length, n, d, data },
          options: parsed,
          dataset: options.dataset,
          ...(heldout === undefined ? {} : { heldout: chains.map(() => heldout) }),
          ...(model === undefined
            ? {}
            : {
                model: {
                  ...(summary === undefined ? {} : { summary }),
                  ...(model.logLikelihood === undefined ? {} : { logLikelihood: async (_c: number, x: Samples, out: Float64Array) => out.set(await model.logLikelihood!(x)) }),
                },
              }),
          prepared,
          rng: (c) => Rng.from(60 + c, 'compute'),
        })
        for (const [i, c] of chains.entries()) {
          const alone = await metric.compute({ real: c.real, generated: c.generated, options: parsed, dataset: options.dataset, prepared: prepared[i]!, rng: Rng.from(60 + i, 'compute'), ...options.extra })
          for (const name of metric.outputs) {
            const value = alone[name]
            const got = columns[name]![i]!
            expect(value === null || value === undefined || !Number.isFinite(value) ? NaN : value, `chain ${i}'s ${name}`).toBe(got)
          }
        }
      })
    }

    const bad: BadParams[] = [...options.badOptions]
    if (typeof options.options === 'object' && options.options !== null && !Array.isArray(options.options)) {
      bad.push({ params: { ...options.options, [UNKNOWN_KEY]: 1 }, field: UNKNOWN_KEY })
    }
    it.each(bad.map((b) => [b.field, b] as const))('rejects a bad value of option %s, naming it', (field, b) => {
      const parsed = metric.options.safeParse(b.params)
      expect(parsed.success).toBe(false)
      expect((parsed.error?.issues ?? []).flatMap(issueFields)).toContain(field)
    })
  })
}

/** A summary value once per chain, one chain's after another. */
function repeat(value: number | Float64Array, chains: number): Float64Array {
  const one = typeof value === 'number' ? Float64Array.of(value) : value
  const out = new Float64Array(one.length * chains)
  for (let c = 0; c < chains; c++) out.set(one, c * one.length)
  return out
}
