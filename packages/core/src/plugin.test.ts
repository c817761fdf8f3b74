import { describe, expect, it } from 'vitest'
import { METRIC_NEEDS, metricNeedsProblem, outputInfoProblems, outputsBreach, valuesBreach } from './plugin.js'

describe("a plug-in's output descriptions", () => {
  it('pass with thresholds on the side of 1 their direction needs', () => {
    expect(
      outputInfoProblems(
        {
          covered: { title: 'covered', threshold: { direction: 'falls', kind: 'factor', value: 0.5 }, bounds: [0, 1] },
          kl: { title: 'KL', threshold: { direction: 'rises', kind: 'offset', value: 0.1 } },
          spread: { title: 'spread', threshold: { direction: 'departs', kind: 'factor', value: 2 } },
        },
        ['covered', 'kl', 'spread', 'undescribed'],
      ),
    ).toEqual([])
    expect(outputInfoProblems(undefined)).toEqual([])
  })

  it('name each description a report would misread: a factor on the wrong side of 1, an offset ≤ 0, bounds out of order, an output that does not exist', () => {
    const problems = outputInfoProblems(
      {
        length: { title: 'length', threshold: { direction: 'departs', kind: 'factor', value: 0.5 } },
        dups: { title: 'dups', threshold: { direction: 'rises', kind: 'factor', value: 0.9 } },
        covered: { title: 'covered', threshold: { direction: 'falls', kind: 'factor', value: 2 }, bounds: [1, 0] },
        nll: { title: 'NLL', threshold: { direction: 'rises', kind: 'offset', value: 0 } },
        typo: { title: '' },
      },
      ['length', 'dups', 'covered', 'nll'],
    )
    expect(problems).toEqual([
      "outputInfo.length.threshold.value: a factor for 'departs' is above 1, a move by that factor either way (2: a halving or a doubling), got 0.5",
      "outputInfo.dups.threshold.value: a factor for 'rises' is above 1, a rise by that factor (2: a doubling), got 0.9",
      'outputInfo.covered.bounds: [1, 0] is not [low, high]',
      "outputInfo.covered.threshold.value: a factor for 'falls' is between 0 and 1 (0.5: a fall to half the baseline), got 2",
      'outputInfo.nll.threshold.value: an offset is a positive amount, got 0',
      "outputInfo.typo: describes 'typo', which is not among its outputs (length, dups, covered, nll)",
      'outputInfo.typo.title: a title is needed',
    ])
  })
})

describe("a plug-in's output descriptions, key by key", () => {
  it('pass with every key a description has', () => {
    const full = { title: 'reward', unit: 'nats', bounds: [0, 1] as const, better: 'higher' as const, diversity: 1, taskQuality: 2, nullWhen: 'no task' }
    expect(outputInfoProblems({ reward: full, kl: { title: 'KL', better: 'neither' }, nll: { title: 'NLL', better: 'lower' } })).toEqual([])
  })

  it('name a misspelt key, a value not among those allowed and a value of the wrong type, with the output and the key', () => {
    const problems = outputInfoProblems({
      a: { titel: 'a', title: 'a', better: 'up' },
      b: { title: 'b', threshold: { direction: 'up', kind: 'factor', value: 2 } },
      c: { title: 'c', threshold: { direction: 'rises', kind: 'factor', value: 2, valeu: 3 }, unit: 3, diversity: 'first' },
      d: { title: 'd', threshold: { direction: 'rises', kind: 'ratio', value: 2 }, bounds: 1 },
      e: 'e',
    } as never)
    expect(problems).toEqual([
      'outputInfo.a.titel: unknown key (did you mean \'title\'?); expected one of title, unit, threshold, bounds, better, diversity, taskQuality, nullWhen',
      "outputInfo.a.better: 'up' is not one of higher, lower, neither, raised",
      "outputInfo.b.threshold.direction: 'up' is not one of falls, rises, departs",
      'outputInfo.c.unit: 3; expected a string',
      "outputInfo.c.diversity: 'first'; expected a number, its rank (lower first)",
      "outputInfo.c.threshold.valeu: unknown key (did you mean 'value'?); expected one of direction, kind, value",
      'outputInfo.d.bounds: 1 is not [low, high]',
      "outputInfo.d.threshold.kind: 'ratio' is not one of factor, offset",
      "outputInfo.e: 'e'; expected an object with a title, as { title: '...' }",
    ])
  })
})

describe("a metric group's values against its outputs", () => {
  const outputs = ['spread_ratio', 'mean_shift']

  it('pass with a value for every output, null included, and nothing else', () => {
    expect(outputsBreach(outputs, { spread_ratio: 1, mean_shift: null })).toBeUndefined()
    expect(outputsBreach(outputs, { mean_shift: 0, spread_ratio: Number.NaN })).toBeUndefined()
  })

  it('name the outputs left out and the keys not declared', () => {
    expect(outputsBreach(outputs, { spread_ratio: 1 })).toBe("no value for 'mean_shift', which its outputs declare (null stands for no value); its outputs are 'spread_ratio', 'mean_shift'")
    expect(outputsBreach(outputs, { spread_ratio: 1, mean_shift: undefined })).toBe("no value for 'mean_shift', which its outputs declare (null stands for no value); its outputs are 'spread_ratio', 'mean_shift'")
    expect(outputsBreach(outputs, { spread_ratio: 1, mean_shift: 2, spread: 3 })).toBe("'spread', which its outputs do not declare; its outputs are 'spread_ratio', 'mean_shift'")
    expect(outputsBreach(outputs, { spread_ratio: 1, mean_shif: 2, extra: 3 })).toBe(
      "no value for 'mean_shift', which its outputs declare (null stands for no value), and 'mean_shif', 'extra', which its outputs do not declare; its outputs are 'spread_ratio', 'mean_shift'",
    )
    // A filter that declares no values of its own.
    expect(outputsBreach([], { other: 1 })).toBe("'other', which its outputs do not declare; it declares no outputs")
  })

  it('name what is not an object of values', () => {
    expect(valuesBreach(outputs, { spread_ratio: '1', mean_shift: 0 })).toBe(`'spread_ratio': string "1"; expected a number, or null for no value`)
    expect(valuesBreach(outputs, { spread_ratio: 1, mean_shift: true })).toBe("'mean_shift': boolean true; expected a number, or null for no value")
    expect(valuesBreach(outputs, { spread_ratio: Number.NaN, mean_shift: null })).toBeUndefined()
    expect(outputsBreach(outputs, undefined)).toBe('undefined, not an object with a value for each of its outputs (spread_ratio, mean_shift)')
    expect(outputsBreach(outputs, 0.5)).toBe('0.5, not an object with a value for each of its outputs (spread_ratio, mean_shift)')
  })
})

describe("a metric group's needs", () => {
  it('pass where each is a need: of the model, the held-out data, a task, a field of the dataset or a facet', () => {
    expect(metricNeedsProblem(undefined)).toBeUndefined()
    expect(metricNeedsProblem([...METRIC_NEEDS, 'facet.centres'])).toBeUndefined()
  })

  it('name the entry that is no need, the need it is near, and the needs there are', () => {
    const valid = 'the needs are model.logLikelihood, model.summary, heldout, task, dataset.d, dataset.modes, dataset.gaussian, dataset.regression, dataset.vocabulary, dataset.image, dataset.labelled, dataset.digits, dataset.genres, and facet.NAME for a dataset\'s facet'
    expect(metricNeedsProblem(['heldout', 'model.loglikelihood'])).toBe(`needs.1: 'model.loglikelihood' is not a need (did you mean 'model.logLikelihood'?); ${valid}`)
    expect(metricNeedsProblem(['dataset.modez'])).toBe(`needs.0: 'dataset.modez' is not a need (did you mean 'dataset.modes'?); ${valid}`)
    expect(metricNeedsProblem(['training'])).toBe(`needs.0: 'training' is not a need; a group that reads the training set says usesTraining: true instead; ${valid}`)
    expect(metricNeedsProblem(['facet.'])).toMatch(/^needs\.0: 'facet\.' is not a need/)
    expect(metricNeedsProblem([3])).toMatch(/^needs\.0: 3 is not a need; /)
    expect(metricNeedsProblem('heldout')).toBe(`needs: "heldout"; expected a list of what it reads besides the samples (${valid})`)
  })
})
