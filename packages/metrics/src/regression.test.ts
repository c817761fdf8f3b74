import { describe, expect, it } from 'vitest'
import { vectors } from '@ouroboros/core'
import { regression } from './regression.js'
import { evaluate } from '../fixtures/load.js'

describe('regression', () => {
  const x = vectors(1, 3, new Float64Array(3))
  const dataset = { kind: 'regression', modality: 'vectors' as const, regression: { weights: Float64Array.of(1, -2), sigma: 1, T: 10 } }

  it('is ‖ŵ − w*‖²', async () => {
    const model = { summary: { weights: Float64Array.of(1.5, 0) } }
    expect(await evaluate(regression, { real: x, generated: x, dataset, model })).toEqual({ excess_test_error: 0.25 + 4 })
  })

  it('is null without fitted or true weights', async () => {
    expect(await evaluate(regression, { real: x, generated: x, dataset })).toEqual({ excess_test_error: null })
    const model = { summary: { weights: Float64Array.of(1, 2) } }
    expect(await evaluate(regression, { real: x, generated: x, model })).toEqual({ excess_test_error: null })
  })

  it('rejects weights of another length', async () => {
    const model = { summary: { weights: Float64Array.of(1) } }
    await expect(evaluate(regression, { real: x, generated: x, dataset, model })).rejects.toThrow(/1 weights/)
  })
})
