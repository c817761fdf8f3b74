import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import { copyRate } from './copy-rate.js'
import { evaluate, gaussianSamples, readFixture, toVectors, type Points } from '../fixtures/load.js'

interface CopyCase {
  real: Points
  training: Points
  generated: Points
  threshold: number
  expected: number
}

describe('copy_rate against numpy/scipy (fixtures/copy_rate.json)', () => {
  it('counts generated points within the threshold of a training point', async () => {
    const [c] = readFixture<CopyCase>('copy_rate.json').cases
    const real = toVectors(c!.real)
    const options = copyRate.options.parse({})
    const prepared = (await copyRate.prepare!({ real, dataset: { kind: 'test', modality: 'vectors' }, options, rng: Rng.from(0) })) as { threshold: number }
    expect(prepared.threshold).toBeCloseTo(c!.threshold, 13)
    const got = await evaluate(copyRate, { real, generated: toVectors(c!.generated), training: toVectors(c!.training) })
    expect(got.copy_rate).toBeCloseTo(c!.expected, 14)
  })
})

describe('copy_rate', () => {
  const real = gaussianSamples(300, 2, Rng.from(1))
  const training = gaussianSamples(200, 2, Rng.from(2))

  it('is 1 for a copy of the training set and 0 far from it', async () => {
    expect(await evaluate(copyRate, { real, generated: training, training })).toEqual({ copy_rate: 1 })
    const far = gaussianSamples(50, 2, Rng.from(3), 50)
    expect(await evaluate(copyRate, { real, generated: far, training })).toEqual({ copy_rate: 0 })
  })

  it('is null without a training set', async () => {
    expect(await evaluate(copyRate, { real, generated: training })).toEqual({ copy_rate: null })
  })
})
