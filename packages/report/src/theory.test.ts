import { rmSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { loadRun, renderReport, theoryCurves } from './index.js'
import { expectedTypesChain, zipfProbabilities } from './theory.js'
import { metricPlot, tempDir, writeSyntheticRun, type SyntheticRun } from './runs.testutil.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('the vocabulary of a unigram chain on Zipf tokens', () => {
  it('is 1.5 then 1.25 types for two equally likely types and two tokens a sampling (by hand)', () => {
    // One sampling: each type is missed with probability 1/4. Two: counts (2, 0) or (0, 2) half the
    // time, which keep one type; (1, 1) half the time, which keeps 1.5 in expectation.
    const e = expectedTypesChain([0.5, 0.5], [2, 2])
    expect(e[0]).toBeCloseTo(1.5, 12)
    expect(e[1]).toBeCloseTo(1.25, 12)
  })

  it('matches an exact computation with scipy and a simulation of 40,000 chains in numpy', () => {
    // V = 300, exponent 1.1; 3,000 real tokens, then 800 a sampling. scipy: Σ_k Σ_c
    // Binom(c; 3000, p_k)·(1 − (1 − c/3000)^800) = 156.41496207780 for the second sampling.
    // numpy: 40,000 chains of multinomial resamplings (seed 12345): mean types and standard errors.
    const p = zipfProbabilities(300, 1.1)
    const e = expectedTypesChain(p, [3000, 800, 800, 800, 800, 800])
    expect(e[0]).toBeCloseTo(266.15071625643, 8)
    expect(e[1]).toBeCloseTo(156.4149620778, 7)
    const simulated = [266.15, 156.49, 125.776, 107.157, 94.242, 84.618]
    const standardError = [0.0253, 0.0347, 0.0336, 0.0321, 0.0307, 0.0295]
    simulated.forEach((mean, k) => expect(Math.abs(e[k]! - mean)).toBeLessThan(4 * standardError[k]!))
  })

  /** data/configs/zipf-unigram.json, with its generations and replicates as given. */
  function zipfRun(name: string, model: Record<string, unknown>, policy = 'replace', params: Record<string, unknown> = { vocabSize: 10000, exponent: 1.1, length: 20 }): SyntheticRun {
    return {
      name,
      modality: 'tokens',
      dataset: { kind: 'zipf', modality: 'tokens', params },
      base: { generations: 21, samplesPerGeneration: 5000, data: { kind: 'zipf', n: 5000, ...params }, model, policy: { kind: policy }, sampling: { temperature: 1 }, filter: null },
      cells: [{}],
      replicates: 1,
      metrics: (_c, _r, g) => ({ vocab_size: 6000 - 200 * g }),
    }
  }

  it('overlays the expected vocab_size of the shipped Zipf config: 6,165 at generation 0 and 1,921 at generation 20', () => {
    // docs/text-collapse.md's predictions, from packages/datasets' own propagation of the counts.
    const d = tempDir('zipf')
    dirs.push(d)
    writeSyntheticRun(d, zipfRun('zipf', { kind: 'ngram', order: 1, discount: 0 }))
    const plot = metricPlot(renderReport([loadRun(d)]), 'vocab_size')
    const theory = plot.data.find((t) => String(t.name).startsWith('theory: E[vocab_size]'))!
    const y = theory.y as number[]
    expect(y).toHaveLength(21)
    expect(Math.round(y[0]!)).toBe(6165)
    expect(Math.round(y[1]!)).toBe(5360)
    expect(Math.round(y[5]!)).toBe(3693)
    expect(Math.round(y[20]!)).toBe(1921)
  })

  it('draws no curve where the chain is not pure resampling: the default n-gram, a discount, accumulate, top-k', () => {
    for (const spec of [
      zipfRun('default', { kind: 'ngram' }),
      zipfRun('trigram', { kind: 'ngram', order: 3, discount: 0 }),
      zipfRun('discount', { kind: 'ngram', order: 1, discount: 0.75 }),
      zipfRun('topk', { kind: 'ngram', order: 1, discount: 0, topK: 50 }),
      zipfRun('accumulate', { kind: 'ngram', order: 1, discount: 0 }, 'accumulate'),
    ]) {
      const d = tempDir('zipf-none')
      dirs.push(d)
      const info = writeSyntheticRun(d, spec)
      expect(theoryCurves(info, info.cells[0]!, 'vocab_size')).toEqual([])
    }
  })

  it('reads a swept exponent from the cell, and the recorded defaults only for cells with the first cell’s data', () => {
    const d = tempDir('zipf-sweep')
    dirs.push(d)
    const info = writeSyntheticRun(d, {
      ...zipfRun('sweep', { kind: 'ngram', order: 1, discount: 0 }, 'replace', { vocabSize: 300, exponent: 1.1, length: 20 }),
      base: { generations: 3, samplesPerGeneration: 40, data: { kind: 'zipf', n: 150 }, model: { kind: 'ngram', order: 1, discount: 0 }, policy: { kind: 'replace' } },
      cells: [{}, { 'data.exponent': 0.8 }],
    })
    // Cell 0 states nothing of its data but n: run.json's recorded parameters apply.
    const [first] = theoryCurves(info, info.cells[0]!, 'vocab_size')
    expect(first!.values[0]).toBeCloseTo(expectedTypesChain(zipfProbabilities(300, 1.1), [3000, 800])[1]!, 9)
    // Cell 1 changes the data: its own config must state all three parameters, and states one.
    expect(theoryCurves(info, info.cells[1]!, 'vocab_size')).toEqual([])
  })
})
