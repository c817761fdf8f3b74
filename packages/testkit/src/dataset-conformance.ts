import { describe, expect, it } from 'vitest'
import { Rng, samplesAreFinite, type DatasetInstance, type DatasetPlugin, type Samples } from '@ouroboros/core'
import { samplesEqual } from './samples.js'
import { expectModality, issueFields, type BadParams } from './conformance.js'

export interface DatasetConformanceOptions {
  /** Valid parameters as a config would give them under `data` (without kind, module and n). */
  readonly params: unknown
  /** Invalid parameters; an unknown key is always tried in addition to these. */
  readonly badParams: readonly BadParams[]
  /** Items drawn by the checks (default 200). */
  readonly n?: number
}

const UNKNOWN_KEY = 'notAParameterOfThisDataset'

/** Registers the checks every dataset passes. Call it at the top level of a test file. */
export function runDatasetConformance<P>(dataset: DatasetPlugin<P>, options: DatasetConformanceOptions): void {
  const n = options.n ?? 200
  const create = async (seed = 1): Promise<DatasetInstance> => dataset.create(dataset.params.parse(options.params), Rng.from(seed, 'dataset'))

  describe(`dataset '${dataset.id}' conformance`, () => {
    it('declares an id, a description and a params schema that accepts the given params', () => {
      expect(dataset.id).toMatch(/^[a-z][a-z0-9-]*$/)
      expect(dataset.description.length).toBeGreaterThan(0)
      expectModality('dataset', dataset)
      expect(dataset.params.safeParse(options.params).error?.issues ?? []).toEqual([])
    })

    it('describes itself: its kind, its modality and, for vectors, the dimension of its samples', async () => {
      const { info } = await create()
      expect(info.modality).toBe(dataset.modality)
      expect(info.kind.length).toBeGreaterThan(0)
      if (info.modality === 'vectors') expect(info.d).toBeGreaterThan(0)
      // Workers and the report receive it by structured clone: plain data and typed arrays only.
      const copy = structuredClone(info)
      expect([copy.kind, copy.modality, copy.d]).toEqual([info.kind, info.modality, info.d])
    })

    it('samples n finite items of its modality, and none for n = 0', async () => {
      const instance = await create()
      for (const count of [0, 1, n]) {
        const s = instance.sample(count, Rng.from(2, 'sample'))
        expectItems(s, count, instance)
      }
    })

    it('gives bit-identical samples for the same seeds and different ones for another seed', async () => {
      const a = (await create()).sample(n, Rng.from(2, 'sample'))
      const b = (await create()).sample(n, Rng.from(2, 'sample'))
      expect(samplesEqual(a, b)).toBe(true)
      const c = (await create()).sample(n, Rng.from(3, 'sample'))
      expect(samplesEqual(a, c)).toBe(false)
    })

    it('gives held-out items of the same shape when it sets some aside', async () => {
      const instance = await create()
      if (instance.heldout === undefined) return
      expectItems(instance.heldout(n, Rng.from(4, 'heldout')), n, instance)
    })

    it('can give as many items as its limits say', async () => {
      const limits = dataset.limits?.(dataset.params.parse(options.params))
      if (limits === undefined) return
      const instance = await create()
      expectItems(instance.sample(limits.n, Rng.from(5, 'sample')), limits.n, instance)
    })

    const bad: BadParams[] = [...options.badParams]
    if (typeof options.params === 'object' && options.params !== null && !Array.isArray(options.params)) {
      bad.push({ params: { ...options.params, [UNKNOWN_KEY]: 1 }, field: UNKNOWN_KEY })
    }
    it.each(bad.map((b) => [b.field, b] as const))('rejects a bad value of %s, naming the field', (field, b) => {
      const parsed = dataset.params.safeParse(b.params)
      expect(parsed.success).toBe(false)
      expect((parsed.error?.issues ?? []).flatMap(issueFields)).toContain(field)
    })
  })
}

function expectItems(s: Samples, n: number, instance: DatasetInstance): void {
  expect(s.modality).toBe(instance.info.modality)
  expect(s.n).toBe(n)
  expect(samplesAreFinite(s)).toBe(true)
  if (s.modality === 'vectors') {
    expect(s.d).toBe(instance.info.d)
    expect(s.data.length).toBe(n * s.d)
  } else {
    expect(s.offsets.length).toBe(n + 1)
    expect(s.offsets[n]).toBe(s.tokens.length)
    const outside = s.tokens.findIndex((t) => t < 0 || t >= s.vocabSize)
    expect(outside, 'a token id outside the vocabulary').toBe(-1)
  }
}
