import { z } from 'zod'
import { defineMetric, ErrorCode, OuroborosError } from '@ouroboros/core'
import { DOUBLES } from './outputs.js'

/**
 * excess_test_error (METRICS.md "Regression") = ‖ŵ − w*‖², the expected excess squared error on a
 * fresh x ~ N(0, I). ŵ is the model's `weights` summary, w* the dataset's true weights; null when
 * either is missing.
 */
export const regression = defineMetric({
  id: 'regression',
  modality: 'vectors',
  description: 'Excess test error ‖ŵ − w*‖² of the fitted regression weights',
  outputs: ['excess_test_error'],
  outputInfo: {
    excess_test_error: { title: 'excess test error ‖ŵ − w*‖²', unit: 'squared weight error', threshold: DOUBLES },
  },
  needs: ['dataset.regression', 'model.summary'],
  nullWhen: { excess_test_error: "the model's summary has no fitted `weights`" },
  options: z.strictObject({}),
  compute({ dataset, model }) {
    const truth = dataset.regression?.weights
    const fitted = model?.summary?.['weights']
    if (truth === undefined || fitted === undefined) return { excess_test_error: null }
    const w = typeof fitted === 'number' ? Float64Array.of(fitted) : fitted
    if (w.length !== truth.length) {
      throw new OuroborosError(ErrorCode.MODEL, `regression: the model has ${w.length} weights but the dataset's w* has ${truth.length}`)
    }
    let s = 0
    for (let j = 0; j < w.length; j++) s += (w[j]! - truth[j]!) ** 2
    return { excess_test_error: s }
  },
})
