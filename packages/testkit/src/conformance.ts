import { serialize } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { ErrorCode, Rng, asVectors, memoryRows, samplesAreFinite, takeSamples } from '@ouroboros/core'
import type { DatasetInfo, FitContext, ModelPlugin, RowSource, SampleContext, Samples } from '@ouroboros/core'
import { deserializeState, serializeState } from '@ouroboros/store'
import { samplesEqual } from './samples.js'

export interface BadParams {
  /** Hyperparameters as a config would give them. */
  readonly params: unknown
  /** Dotted path of the field the schema must blame. */
  readonly field: string
}

export interface ConformanceOptions {
  /** Valid hyperparameters as a config would give them (defaults not yet applied). */
  readonly params: unknown
  /** Training data, drawn from the given generator. Keep it small: the suite fits several times. */
  readonly data: (rng: Rng) => Samples
  readonly dataset: DatasetInfo
  /** Invalid hyperparameters; an unknown key is always tried in addition to these. */
  readonly badParams: readonly BadParams[]
  /** Rows drawn when comparing sample spreads across temperatures (default 2000). */
  readonly spreadSamples?: number
  /**
   * For models whose block hooks are not exact (`blocks.exact` false): the largest absolute
   * difference allowed between a chain's samples, summary and log-likelihoods in a block and alone.
   */
  readonly blockTolerance?: number
}

const FIT_SEED = 11
const SAMPLE_SEED = 23
const UNKNOWN_KEY = 'notAParameterOfThisModel'

/**
 * Registers the checks every model package must pass (our analogue of scikit-learn's
 * `check_estimator`). Call it at the top level of a test file.
 */
export function runModelConformance<P, S>(model: ModelPlugin<P, S>, options: ConformanceOptions): void {
  const { dataset } = options
  const fitCtx = (seed: number, init?: S): FitContext<S> =>
    init === undefined ? { rng: Rng.from(seed, 'fit'), generation: 0, dataset } : { rng: Rng.from(seed, 'fit'), generation: 1, dataset, init }
  const sampleCtx = (seed: number, temperature = 1): SampleContext => ({ rng: Rng.from(seed, 'sample'), temperature, dataset })
  const training = (): Samples => options.data(Rng.from(FIT_SEED, 'data'))

  // Fitted once and shared: several checks only read the state.
  let fitted: Promise<{ params: P; data: Samples; state: S }> | undefined
  const fitOnce = (): Promise<{ params: P; data: Samples; state: S }> => {
    fitted ??= (async () => {
      const params = model.params.parse(options.params)
      const data = training()
      return { params, data, state: await model.fit(data, params, fitCtx(FIT_SEED)) }
    })()
    return fitted
  }

  describe(`model '${model.id}' conformance`, () => {
    it('declares an id, a description and a params schema that accepts the given params', () => {
      expect(model.id).toMatch(/^[a-z][a-z0-9-]*$/)
      expect(model.description.length).toBeGreaterThan(0)
      expectModality('model', model)
      const parsed = model.params.safeParse(options.params)
      expect(parsed.error?.issues ?? []).toEqual([])
    })

    it('samples n items of the training modality and dimension', async () => {
      const { data, state } = await fitOnce()
      for (const n of [0, 1, 37, data.n]) {
        const out = await model.sample(state, n, sampleCtx(SAMPLE_SEED))
        expectShape(out, n, data)
        expect(samplesAreFinite(out)).toBe(true)
      }
    })

    it('gives bit-identical fits and samples for the same seeds, and different samples for different seeds', async () => {
      const { params, state } = await fitOnce()
      const again = await model.fit(training(), params, fitCtx(FIT_SEED))
      const a = await model.sample(state, 100, sampleCtx(SAMPLE_SEED))
      const b = await model.sample(again, 100, sampleCtx(SAMPLE_SEED))
      expect(samplesEqual(a, b)).toBe(true)
      const c = await model.sample(state, 100, sampleCtx(SAMPLE_SEED + 1))
      expect(samplesEqual(a, c)).toBe(false)
    })

    it('keeps its state unchanged while sampling', async () => {
      const { state } = await fitOnce()
      const before = serialize(state)
      await model.sample(state, 100, sampleCtx(SAMPLE_SEED))
      await model.sample(state, 100, sampleCtx(SAMPLE_SEED, 0.5))
      expect(Buffer.compare(serialize(state), before)).toBe(0)
    })

    it('has a state that survives structuredClone', async () => {
      const { state } = await fitOnce()
      const copy = structuredClone(state)
      const a = await model.sample(state, 100, sampleCtx(SAMPLE_SEED))
      const b = await model.sample(copy, 100, sampleCtx(SAMPLE_SEED))
      expect(samplesEqual(a, b)).toBe(true)
    })

    it('has a state that survives a checkpoint round trip (the run directory codec, v8.serialize)', async () => {
      const { state } = await fitOnce()
      const restored = deserializeState<S>(serializeState(state))
      const a = await model.sample(state, 100, sampleCtx(SAMPLE_SEED))
      const b = await model.sample(restored, 100, sampleCtx(SAMPLE_SEED))
      expect(samplesEqual(a, b)).toBe(true)
      if (model.logLikelihood !== undefined) {
        const heldout = options.data(Rng.from(FIT_SEED + 1, 'data'))
        const la = await model.logLikelihood(state, heldout)
        const lb = await model.logLikelihood(restored, heldout)
        expect(Array.from(lb)).toEqual(Array.from(la))
      }
    })

    it('does not mutate its training data', async () => {
      const { params, state } = await fitOnce()
      const data = training()
      const before = serialize(data)
      await model.fit(data, params, fitCtx(FIT_SEED))
      expect(Buffer.compare(serialize(data), before)).toBe(0)
      // A warm start must leave both the data and the state it starts from alone.
      const init = structuredClone(state)
      const initBefore = serialize(init)
      await model.fit(data, params, fitCtx(FIT_SEED, init))
      expect(Buffer.compare(serialize(data), before)).toBe(0)
      expect(Buffer.compare(serialize(init), initBefore)).toBe(0)
    })

    it('accepts the previous state as a warm start', async () => {
      const { params, state } = await fitOnce()
      const generated = await model.sample(state, training().n, sampleCtx(SAMPLE_SEED))
      const next = await model.fit(generated, params, fitCtx(FIT_SEED + 1, state))
      const out = await model.sample(next, 50, sampleCtx(SAMPLE_SEED))
      expect(samplesAreFinite(out)).toBe(true)
    })

    const bad: BadParams[] = [...options.badParams]
    if (isPlainObject(options.params)) bad.push({ params: { ...options.params, [UNKNOWN_KEY]: 1 }, field: UNKNOWN_KEY })
    it.each(bad.map((b) => [b.field, b] as const))('rejects a bad value of %s, naming the field', (field, b) => {
      const parsed = model.params.safeParse(b.params)
      expect(parsed.success).toBe(false)
      const named = (parsed.error?.issues ?? []).flatMap(issueFields)
      expect(named).toContain(field)
    })

    if (model.logLikelihood !== undefined) {
      it('returns one finite log-likelihood per row', async () => {
        const { state } = await fitOnce()
        const heldout = options.data(Rng.from(FIT_SEED + 1, 'data'))
        const ll = await model.logLikelihood!(state, heldout)
        expect(ll).toBeInstanceOf(Float64Array)
        expect(ll.length).toBe(heldout.n)
        for (const v of ll) expect(Number.isFinite(v)).toBe(true)
      })
    }

    if (model.fitRows !== undefined) {
      it('gives the state fit gives when it reads the same rows on demand (fitRows)', async () => {
        const { params, data, state } = await fitOnce()
        const rows = memoryRows(asVectors(data, 'conformance training data'))
        // Rows come one call per row, into the caller's array, as a file source may give them.
        let reads = 0
        const source: RowSource = {
          n: rows.n,
          d: rows.d,
          read(idx, out) {
            reads++
            const one = new Float64Array(rows.d)
            for (let i = 0; i < idx.length; i++) {
              rows.read([idx[i]!], one)
              out.set(one, i * rows.d)
            }
          },
        }
        expect(await model.fitRows!(source, params, fitCtx(FIT_SEED))).toEqual(state)
        expect(reads).toBeGreaterThan(0)
      })
    }

    if (model.acceptsTemperature) {
      it('draws a smaller spread at temperature 0.25 than at 1', async () => {
        const { state } = await fitOnce()
        const n = options.spreadSamples ?? 2000
        const cold = await model.sample(state, n, sampleCtx(SAMPLE_SEED, 0.25))
        const warm = await model.sample(state, n, sampleCtx(SAMPLE_SEED, 1))
        expect(spread(cold)).toBeLessThan(spread(warm))
      })
    }

    const blocks = model.blocks
    if (blocks !== undefined) {
      it('fits, samples, summarises and scores a block of chains as each chain alone (blocks)', async () => {
        const params = model.params.parse(options.params)
        const sets = [0, 1, 2].map((c) => asVectors(options.data(Rng.from(FIT_SEED + c, 'data')), 'conformance training data'))
        const { n, d } = sets[0]!
        const data = new Float64Array(sets.length * n * d)
        sets.forEach((x, c) => data.set(x.data, c * n * d))
        const block = await blocks.fit({ chains: sets.length, n, d, data }, params, { rng: (c) => Rng.from(FIT_SEED + c, 'fit'), generation: () => 0, dataset })
        const drawn = await blocks.sample(block, 37, { rng: (c) => Rng.from(SAMPLE_SEED + c, 'sample'), temperature: 1, dataset })
        expect([drawn.chains, drawn.n, drawn.d]).toEqual([sets.length, 37, d])
        const summary = blocks.summary?.(block)
        expect(summary === undefined).toBe(model.summary === undefined)
        expect(blocks.logLikelihood === undefined).toBe(model.logLikelihood === undefined)
        const heldout = options.data(Rng.from(FIT_SEED + 9, 'data'))
        const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string): void => {
          expect(got.length, what).toBe(want.length)
          if (blocks.exact) expect(Array.from(got), what).toEqual(Array.from(want))
          else for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `${what}[${i}]`).toBeLessThanOrEqual(options.blockTolerance ?? 0)
        }
        for (const [c, x] of sets.entries()) {
          const alone = await model.fit(x, params, fitCtx(FIT_SEED + c))
          if (blocks.exact) expect(blocks.state(block, c), `chain ${c}'s state`).toEqual(alone)
          const own = asVectors(await model.sample(alone, 37, sampleCtx(SAMPLE_SEED + c)))
          close(drawn.data.subarray(c * 37 * d, (c + 1) * 37 * d), own.data, `chain ${c}'s samples`)
          for (const [name, value] of Object.entries(model.summary?.(alone) ?? {})) {
            const w = typeof value === 'number' ? 1 : value.length
            close(summary![name]!.subarray(c * w, (c + 1) * w), typeof value === 'number' ? [value] : value, `chain ${c}'s summary ${name}`)
          }
          if (blocks.logLikelihood !== undefined) {
            const out = new Float64Array(heldout.n)
            blocks.logLikelihood(block, c, heldout, out)
            close(out, await model.logLikelihood!(alone, heldout), `chain ${c}'s log-likelihood`)
          }
        }
        blocks.dispose?.(block)
      })
    }

    if (model.minimumRows !== undefined) {
      it('fits its declared minimum of rows, and refuses one row fewer with an input error (minimumRows)', async () => {
        const params = model.params.parse(options.params)
        const { rows } = model.minimumRows!(params, dataset)
        const data = training()
        expect(rows).toBeLessThanOrEqual(data.n)
        const first = (k: number): Samples => takeSamples(data, Array.from({ length: k }, (_, i) => i))
        const state = await model.fit(first(rows), params, fitCtx(FIT_SEED))
        expectShape(await model.sample(state, 5, sampleCtx(SAMPLE_SEED)), 5, data)
        if (rows > 1) await expect(Promise.resolve().then(() => model.fit(first(rows - 1), params, fitCtx(FIT_SEED)))).rejects.toMatchObject({ code: ErrorCode.INPUT })
      })
    }

    if (model.summary !== undefined) {
      it('summarises its state as finite numbers and Float64Arrays', async () => {
        const { state } = await fitOnce()
        const summary = model.summary!(state)
        for (const value of Object.values(summary)) {
          const values = typeof value === 'number' ? [value] : Array.from(value)
          for (const v of values) expect(Number.isFinite(v)).toBe(true)
        }
      })
    }
  })
}

function expectShape(out: Samples, n: number, training: Samples): void {
  expect(out.modality).toBe(training.modality)
  expect(out.n).toBe(n)
  if (out.modality === 'vectors' && training.modality === 'vectors') {
    expect(out.d).toBe(training.d)
    expect(out.data.length).toBe(n * training.d)
  } else if (out.modality === 'tokens') {
    expect(out.offsets.length).toBe(n + 1)
    expect(out.offsets[0]).toBe(0)
    expect(out.offsets[n]).toBe(out.tokens.length)
    for (let i = 0; i < n; i++) expect(out.offsets[i + 1]!).toBeGreaterThanOrEqual(out.offsets[i]!)
  }
}

/** Total variance (trace of the covariance) for vectors, unigram entropy for tokens. */
function spread(s: Samples): number {
  if (s.modality === 'vectors') {
    let total = 0
    for (let j = 0; j < s.d; j++) {
      let mean = 0
      for (let i = 0; i < s.n; i++) mean += s.data[i * s.d + j]!
      mean /= s.n
      for (let i = 0; i < s.n; i++) total += (s.data[i * s.d + j]! - mean) ** 2
    }
    return total / s.n
  }
  const counts = new Map<number, number>()
  for (const t of s.tokens) counts.set(t, (counts.get(t) ?? 0) + 1)
  let entropy = 0
  for (const c of counts.values()) {
    const p = c / s.tokens.length
    entropy -= p * Math.log(p)
  }
  return entropy
}

/**
 * Fails a plug-in whose modality is neither 'vectors' nor 'tokens': a typo ('vector') passes every
 * other check, and a run would only say that the model's and the data's modalities differ.
 */
export function expectModality(kind: string, plugin: { readonly id: string; readonly modality: unknown }): void {
  const { modality } = plugin
  expect(modality === 'vectors' || modality === 'tokens', `${kind} '${plugin.id}' has modality ${typeof modality === 'string' ? `'${modality}'` : String(modality)}; expected 'vectors' or 'tokens'`).toBe(true)
}

/** The dotted fields an issue blames; an unknown-key issue blames each key, not the parent object. */
export function issueFields(issue: { code: string; path: readonly PropertyKey[]; keys?: readonly string[] }): string[] {
  const path = issue.path.map(String)
  if (issue.code === 'unrecognized_keys' && issue.keys !== undefined) return issue.keys.map((k) => [...path, k].join('.'))
  return [path.join('.')]
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
