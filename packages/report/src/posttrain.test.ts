import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadRun, renderReport } from './index.js'
import { MetricCatalog } from './metric-info.js'
import { BUILTIN_OUTPUT_INFO } from './outputs.testutil.js'
import type { Choices } from './plots.js'
import { MAX_STAGE_POINTS, parseStageCurves, sqrtKl } from './posttrain-curves.js'
import { POINT_BUDGET } from './posttrain-view.js'
import { BON_STEPS, FT_STEPS, pair, RL_STEPS, writeBestOfNRun, writeCurve, writeFinetuneRun, writeRlRun, type CurveLine } from './posttrain.testutil.js'
import { Rng } from '@ouroboros/core'
import { embeddedPlots, ganRun, plotTitle, ringSamples, tempDir, writeSyntheticRun, ringDataset, type SyntheticRun } from './runs.testutil.js'

const dirs: string[] = []
function dir(prefix: string): string {
  const d = tempDir(prefix)
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

type Plot = ReturnType<typeof embeddedPlots>[number] & { choices?: Choices }

function plot(html: string, title: string): Plot {
  const found = embeddedPlots(html).find((p) => plotTitle(p) === title)
  if (found === undefined) throw new Error(`no plot '${title}' among ${embeddedPlots(html).map(plotTitle).join(' | ')}`)
  return found as Plot
}

/** The traces shown for one option of each of the plot's controls. */
function shownAt(p: Plot, key: readonly number[]): Record<string, unknown>[] {
  if (p.choices === undefined) return p.data
  return p.data.filter((_, t) => p.choices!.keys[t]!.every((k, c) => k < 0 || k === key[c]))
}

function trace(traces: readonly Record<string, unknown>[], name: string): Record<string, unknown> {
  const found = traces.filter((t) => t.name === name)
  if (found.length !== 1) throw new Error(`${found.length} traces named '${name}' among ${traces.map((t) => String(t.name)).join(' | ')}`)
  return found[0]!
}

function expectClose(actual: unknown, expected: readonly number[]): void {
  const list = actual as number[]
  expect(list.length).toBe(expected.length)
  list.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5))
}

const point = (stage: number, kind: string, step: number, extra: Partial<CurveLine> = {}): CurveLine => ({
  stage,
  kind,
  step,
  reward: null,
  gold_reward: null,
  kl: null,
  kl_estimator: null,
  losses: {},
  metrics: {},
  ...extra,
})

/** One chain finetuned over FT_STEPS each generation, KL 0.1 · step: `records` its generations' metrics, `curve` a step's. */
function writeOneChainFinetune(d: string, name: string, generations: number, records: SyntheticRun['metrics'], curve: (generation: number, step: number) => Record<string, number>): void {
  writeSyntheticRun(d, {
    name,
    dataset: ringDataset,
    base: { generations, samplesPerGeneration: 500, data: { kind: 'ring', n: 500 }, model: { kind: 'gmm', components: 8 }, policy: { kind: 'replace' }, posttrain: [{ kind: 'finetune', steps: 10, evalEvery: 5 }] },
    cells: [{}],
    replicates: 1,
    metrics: records,
  })
  for (let g = 0; g < generations; g++) writeCurve(d, 'c0-r0', g, FT_STEPS.map((s) => point(0, 'finetune', s, { kl: 0.1 * s, metrics: curve(g, s) })))
}

describe('post-training curve files', () => {
  it('groups points by stage in step order, skips torn and malformed lines, keeps the stage’s own reward and KL over a metric of that name', () => {
    const text = [
      JSON.stringify(point(1, 'rl', 10, { reward: 0.5, gold_reward: 0.4, kl: 0.2, metrics: { kl: 99, modes_covered: 6 } })),
      JSON.stringify(point(0, 'finetune', 5, { kl: 0.3, losses: { loss: 1.5 }, metrics: { task_share: 0.7, modes_covered: null } })),
      JSON.stringify(point(1, 'rl', 0, { reward: 0.1, gold_reward: 0.1, kl: 0, metrics: { modes_covered: 8 } })),
      JSON.stringify(point(0, 'finetune', 0, { kl: 0, metrics: { task_share: 0.2, modes_covered: 8 } })),
      '{"stage": 0, "kind": "finetune"}',
      '{"stage": -1, "kind": "finetune", "step": 3}',
      '{"stage": 0, "kind": "finetune", "step": 7, "metr',
    ].join('\n')
    const [ft, rl] = parseStageCurves(text)
    expect(ft).toEqual({ stage: 0, kind: 'finetune', steps: [0, 5], values: { task_share: [0.2, 0.7], modes_covered: [8, null], reward: [null, null], gold_reward: [null, null], kl: [0, 0.3] }, losses: { loss: [null, 1.5] } })
    expect(rl!.steps).toEqual([0, 10])
    expect(rl!.values.kl).toEqual([0, 0.2])
    expect(rl!.values.modes_covered).toEqual([8, 6])
  })

  it('draws a long curve through at most MAX_STAGE_POINTS points, its first and last kept', () => {
    const lines = Array.from({ length: 5000 }, (_, s) => JSON.stringify(point(0, 'rl', s, { reward: s, gold_reward: s, kl: s })))
    const [curve] = parseStageCurves(lines.join('\n'))
    expect(curve!.steps.length).toBe(MAX_STAGE_POINTS)
    expect([curve!.steps[0], curve!.steps.at(-1)]).toEqual([0, 4999])
  })

  it('draws a KL estimate below 0 (sampling noise) at √KL = 0', () => {
    const [curve] = parseStageCurves([point(0, 'rl', 0, { kl: -0.01 }), point(0, 'rl', 1, { kl: 0.25 }), point(0, 'rl', 2)].map((p) => JSON.stringify(p)).join('\n'))
    expect([0, 1, 2].map((i) => sqrtKl(curve!, i))).toEqual([0, 0.5, null])
  })

  it('loads up to 10 replicates per setting and an even spread of 5 generations, first and last kept', () => {
    const d = dir('pt-load')
    writeSyntheticRun(d, {
      name: 'many',
      dataset: ringDataset,
      base: { generations: 7, samplesPerGeneration: 10, data: { kind: 'ring', n: 10 }, model: { kind: 'gmm' }, policy: { kind: 'replace' } },
      cells: [{}],
      replicates: 12,
      metrics: () => ({ modes_covered: 8 }),
    })
    for (let r = 0; r < 12; r++) for (let g = 0; g < 7; g++) writeCurve(d, `c0-r${r}`, g, [point(0, 'rl', 0, { kl: 0 })])
    const run = loadRun(d)
    expect(run.posttrain.map((p) => p.replicate)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(run.posttrain[0]!.generations.map((g) => g.generation)).toEqual([0, 2, 3, 5, 6])
  })
})

describe('samples of a post-trained run', () => {
  it('says that a generation’s samples come from its model after the stages, and says nothing of stages without them', () => {
    const base = { generations: 2, samplesPerGeneration: 40, data: { kind: 'ring', n: 40 }, model: { kind: 'gmm', components: 8 }, policy: { kind: 'replace' } }
    const run = (name: string, posttrain: unknown[], cells: Record<string, unknown>[] = [{}]): string => {
      const d = dir(name)
      const rng = Rng.from(5, name)
      writeSyntheticRun(d, { name, dataset: ringDataset, base: { ...base, posttrain }, cells, replicates: 1, metrics: () => ({ modes_covered: 8 }), samples: () => ringSamples(40, 8, rng) })
      return renderReport([loadRun(d)])
    }
    const staged = run('pt-samples', [{ kind: 'finetune', steps: 10 }, { kind: 'rl', steps: 5 }])
    expect(staged).toContain('<section id="samples"><h2>Samples per generation</h2>\n<p class="note">A generation’s samples are drawn from its model after its post-training stages (finetune, rl), as its metrics are.</p>')
    // A swept stage kind: each setting's samples come after its own stages, not after both kinds.
    const swept = run('pt-samples-swept', [{ kind: 'finetune', steps: 10 }, { kind: 'rl', steps: 5 }], [{ 'posttrain.1.kind': 'rl' }, { 'posttrain.1.kind': 'dpo' }])
    expect(swept).toContain('after its post-training stages (finetune then rl or finetune then dpo, by setting), as its metrics are.')
    const plain = run('plain-samples', [])
    expect(plain).toContain('<section id="samples">')
    expect(plain).not.toContain('post-training stages')
    // The stages are timed with the fit they follow.
    expect(staged).toContain('<th>setting</th><th>fit and post-training</th><th>sample</th>')
    expect(plain).toContain('<th>setting</th><th>fit</th><th>sample</th>')
  })
})

describe('the values of a post-trained setting', () => {
  it('say under the Comparison table, the plots by setting and the stage curves that these score other draws than the curves', () => {
    const d = dir('pt-scored')
    writeFinetuneRun(d, 'ft', 1)
    const html = renderReport([loadRun(d)])
    const section = (id: string): string => new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html)![1]!
    const sentence = 'score the model after all its stages on the generation’s samplesPerGeneration draws'
    for (const id of ['summary', 'metrics', 'posttrain']) expect(section(id)).toContain(sentence)
    expect(section('posttrain')).toContain('each evaluated step on the stage’s own evalSamples draws')
    const plain = dir('pt-unscored')
    writeSyntheticRun(plain, ganRun('gan'))
    expect(renderReport([loadRun(plain)])).not.toContain(sentence)
  })
})

describe('the finetuning frontier', () => {
  it('draws task quality against diversity per setting: the replicate mean along the steps, each replicate, the start starred', () => {
    const d = dir('pt-ft')
    writeFinetuneRun(d, 'ft', 1)
    const html = renderReport([loadRun(d)])
    expect(html).toContain('<section id="posttrain"><h2>Post-training</h2>')
    const frontier = plot(html, 'Finetuning: task quality against diversity')
    // One generation: selects for the quality and the diversity metric only.
    expect(frontier.choices!.controls.map((c) => [c.label, c.options])).toEqual([
      ['task quality', ['task_share', 'task_nll']],
      ['diversity', ['modes_covered', 'reverse_kl']],
    ])
    const shown = shownAt(frontier, [0, 0])
    expect(shown.every((t) => t.visible === true)).toBe(true)
    expect(frontier.data.filter((t) => t.visible === true).length).toBe(shown.length)
    // Means over replicates 0–2 (offsets −1, 0, +1 modes and −0.01, 0, +0.01 share cancel):
    // replay 0 moves 0.5 modes and 0.07 share a step, replay 0.1 half as far.
    const fast = trace(shown, 'replay=0 (mean of 3)')
    expectClose(fast.x, [8, 5.5, 3])
    expectClose(fast.y, [0.2, 0.55, 0.9])
    expect(fast.customdata).toEqual([
      [0, 3],
      [5, 3],
      [10, 3],
    ])
    const slow = trace(shown, 'replay=0.1 (mean of 3)')
    expectClose(slow.x, [8, 6.75, 5.5])
    expectClose(slow.y, [0.2, 0.375, 0.55])
    const replicate = trace(shown, 'replay=0: replicate 2')
    expectClose(replicate.x, [9, 6.5, 4])
    expectClose(replicate.y, [0.21, 0.56, 0.91])
    const star = trace(shown, 'replay=0: start')
    expect([star.x, star.y]).toEqual([[8], [0.2]])
    expect(shown.filter((t) => t.showlegend !== false).map((t) => t.name)).toEqual(['replay=0 (mean of 3)', 'replay=0.1 (mean of 3)', 'start: the model the stage starts from'])

    // The other choices: NLL (lower is better, so its axis is reversed) against reverse KL (reversed too).
    expectClose(trace(shownAt(frontier, [1, 1]), 'replay=0 (mean of 3)').x, [0, 0.5, 1])
    expectClose(trace(shownAt(frontier, [1, 1]), 'replay=0 (mean of 3)').y, [2, 1.5, 1])
    const [quality, diversity] = frontier.choices!.controls
    expect(quality!.relayout!.map((r) => r['yaxis.autorange'])).toEqual([true, 'reversed'])
    expect(diversity!.relayout!.map((r) => r['xaxis.autorange'])).toEqual([true, 'reversed'])
    // Values that vary span plotly's own range.
    expect(quality!.relayout!.map((r) => r['yaxis.range'])).toEqual([null, null])
    expect((frontier.layout.xaxis as { title: { text: string } }).title.text).toBe('modes covered (modes)')
    expect(String(diversity!.relayout![1]!['xaxis.title.text'])).toBe('reverse KL over modes (nats)<br>reversed: better is right')
    // The page's selects for those two controls.
    const id = embeddedPlots(html).findIndex((p) => plotTitle(p) === 'Finetuning: task quality against diversity')
    expect(html).toContain(`<select data-choice-for="${id}" data-control="1"><option value="0" selected>modes_covered</option><option value="1">reverse_kl</option></select>`)
  })

  it('keeps an axis of values that are all one number on their side of 0 and within their bounds, where plotly draws ±1 about it', () => {
    const d = dir('pt-ft-flat')
    writeFinetuneRun(d, 'ft', 1)
    // A stage that never made a task sample nor covered a mode; its NLL and KL move.
    for (let cell = 0; cell < 2; cell++) {
      for (let r = 0; r < 3; r++) {
        writeCurve(d, `c${cell}-r${r}`, 0, FT_STEPS.map((s) => ({ stage: 0, kind: 'finetune', step: s, reward: null, gold_reward: null, kl: 0.1 * s, losses: {}, metrics: { task_share: 0, modes_covered: 0, reverse_kl: 0.1 * s + r, task_nll: 2 - 0.1 * s } })))
      }
    }
    const frontier = plot(renderReport([loadRun(d)]), 'Finetuning: task quality against diversity')
    const [quality, diversity] = frontier.choices!.controls
    // A share in [0, 1]: a tenth of its bounds, padded by 5 %; modes have no bounds: a span of 1.
    expect(quality!.relayout![0]).toMatchObject({ 'yaxis.autorange': false, 'yaxis.range': [-0.005, 0.105] })
    expect(diversity!.relayout![0]).toMatchObject({ 'xaxis.autorange': false, 'xaxis.range': [-0.05, 1.05] })
    expect(quality!.relayout![1]).toMatchObject({ 'yaxis.autorange': 'reversed', 'yaxis.range': null })
    // The axes the page opens with are the first choices'.
    expect((frontier.layout.yaxis as { range?: number[] }).range).toEqual([-0.005, 0.105])
  })

  it('plots every quantity per step: means with min–max bands over replicates, the losses too', () => {
    const d = dir('pt-ft-steps')
    writeFinetuneRun(d, 'ft', 1)
    const html = renderReport([loadRun(d)])
    const titles = embeddedPlots(html).map(plotTitle).filter((t) => t.startsWith('Finetuning'))
    expect(titles).toEqual([
      'Finetuning: task quality against diversity',
      'Finetuning: KL to the stage’s input · kl',
      'Finetuning: samples the task verifier accepts · task_share',
      'Finetuning: NLL of held-out task data · task_nll',
      'Finetuning: modes covered · modes_covered',
      'Finetuning: reverse KL over modes · reverse_kl',
      'Finetuning: training loss · loss',
    ])
    const share = plot(html, 'Finetuning: samples the task verifier accepts · task_share')
    const mean = trace(share.data, 'replay=0 (mean of 3)')
    expect(mean.x).toEqual([0, 5, 10])
    expectClose(mean.y, [0.2, 0.55, 0.9])
    expectClose(trace(share.data, 'replay=0: max').y, [0.21, 0.56, 0.91])
    expectClose(trace(share.data, 'replay=0: min').y, [0.19, 0.54, 0.89])
    // Step 0 has no loss: the loss line starts at step 5.
    expect(trace(plot(html, 'Finetuning: training loss · loss').data, 'replay=0 (mean of 3)').x).toEqual([5, 10])
    expect((plot(html, 'Finetuning: training loss · loss').layout.yaxis as { title: { text: string } }).title.text).toBe('training loss')
  })

  it('gives a step plot a y range inside the metric\'s bounds, at least a tenth of its size wide: a constant share is not drawn with plotly\'s ±1 about it', () => {
    const d = dir('pt-ft-range')
    writeOneChainFinetune(d, 'flat', 1, (_cell, _r, g) => (g === -1 ? { modes_covered: 8 } : { task_share: 1, modes_covered: 8, kl: 1 }), (_g, s) => ({ task_share: 1, modes_covered: 8, reverse_kl: 0.5 - 0.05 * s }))
    const html = renderReport([loadRun(d)])
    const range = (title: string): [number, number] | undefined => (plot(html, title).layout.yaxis as { range?: [number, number] }).range
    // Bounds [0, 1]: a span of 0.1 below the bound, padded by 5 % and by at most 2 % of the bounds past it.
    const [lo, hi] = range('Finetuning: samples the task verifier accepts · task_share')!
    expect(lo).toBeCloseTo(0.895, 10)
    expect(hi).toBeCloseTo(1.005, 10)
    // No bounds: a span of 0.8 about the constant 8, padded by 5 % either side.
    const [mlo, mhi] = range('Finetuning: modes covered · modes_covered')!
    expect(mlo).toBeCloseTo(7.56, 10)
    expect(mhi).toBeCloseTo(8.44, 10)
    // Values that span more than a tenth of their size keep plotly's own range.
    expect(range('Finetuning: reverse KL over modes · reverse_kl')).toBeUndefined()
  })

  it('draws each generation of a step plot on an axis of its own values: linear within a decade, log across decades', () => {
    const d = dir('pt-ft-log')
    // Total variance 12, 15, 18 in generation 0; 0.001, 0.1, 10 in generation 1. Drawn on one log
    // axis, generation 0 fell between its ticks (1, 10, 100) and showed none.
    writeOneChainFinetune(d, 'log', 2, (_cell, _r, g) => (g === -1 ? { total_variance: 16 } : { task_share: 0.5, total_variance: 1, kl: 1 }), (g, s) => ({ task_share: 0.5, total_variance: g === 0 ? 12 + 0.6 * s : 10 ** (s / 2.5 - 3) }))
    const p = plot(renderReport([loadRun(d)]), 'Finetuning: total variance · total_variance')
    // Generation 0, shown first: a linear axis, plotly's own range about 12 to 18.
    expect(p.layout.yaxis).toMatchObject({ type: 'linear', autorange: true })
    expect(p.layout.yaxis).not.toHaveProperty('tickvals')
    expect(p.layout.yaxis).not.toHaveProperty('range')
    const [first, second] = p.choices!.controls[0]!.relayout!
    expect(first).toEqual({ 'yaxis.type': 'linear', 'yaxis.tickvals': null, 'yaxis.ticktext': null, 'yaxis.range': null, 'yaxis.autorange': true })
    // Generation 1: log10 of 0.001 and 10, padded by a twentieth of their span of 4 decades.
    expect(second!['yaxis.type']).toBe('log')
    expectClose(second!['yaxis.range'] as number[], [-3.2, 1.2])
    const ticks = second!['yaxis.tickvals'] as number[]
    expect(ticks.filter((v) => Math.log10(v) >= -3.2 && Math.log10(v) <= 1.2)).toEqual([0.001, 0.01, 0.1, 1, 10])
  })

  it('offers the generations of a chain with a select above the block that drives all its plots, generation 0 first', () => {
    const d = dir('pt-ft-gens')
    writeFinetuneRun(d, 'ft', 3)
    const html = renderReport([loadRun(d)])
    const plots = embeddedPlots(html)
    const frontier = plot(html, 'Finetuning: task quality against diversity')
    expect(frontier.choices!.controls.map((c) => [c.label, c.initial, c.shared ?? false])).toEqual([
      ['generation', 0, true],
      ['task quality', 0, false],
      ['diversity', 0, false],
    ])
    expect(frontier.choices!.controls[0]!.options).toEqual(['generation 0', 'generation 1', 'generation 2'])
    // Generation g adds 0.05 g to the task share.
    expectClose(trace(shownAt(frontier, [2, 0, 0]), 'replay=0 (mean of 3)').y, [0.3, 0.65, 1])
    const ids = plots.map((p, i) => [p, i] as const).filter(([p]) => plotTitle(p).startsWith('Finetuning')).map(([, i]) => i)
    expect(ids.length).toBe(7)
    expect(html).toContain(`<select data-choice-for="${ids.join(' ')}" data-control="0"><option value="0" selected>generation 0</option>`)
    // The frontier's own selects are its quality and diversity.
    expect(html).toContain(`<select data-choice-for="${ids[0]}" data-control="1">`)
    expect(html).toContain(`<select data-choice-for="${ids[0]}" data-control="2">`)
  })

  it('draws no frontier without a task metric, and no post-training section without curves', () => {
    const d = dir('pt-no-task')
    writeSyntheticRun(d, {
      name: 'no task',
      dataset: ringDataset,
      base: { generations: 1, samplesPerGeneration: 10, data: { kind: 'ring', n: 10 }, model: { kind: 'gmm' }, policy: { kind: 'replace' } },
      cells: [{}],
      replicates: 1,
      metrics: () => ({ modes_covered: 8 }),
    })
    expect(renderReport([loadRun(d)])).not.toContain('id="posttrain"')
    writeCurve(d, 'c0-r0', 0, [point(0, 'finetune', 0, { kl: 0, metrics: { modes_covered: 8 } }), point(0, 'finetune', 5, { kl: 1, metrics: { modes_covered: 2 } })])
    const titles = embeddedPlots(renderReport([loadRun(d)])).map(plotTitle)
    expect(titles.filter((t) => t.startsWith('Finetuning'))).toEqual(['Finetuning: KL to the stage’s input · kl', 'Finetuning: modes covered · modes_covered'])
    // Steps 0 and 5: a tick each, not plotly's fractions of a step.
    expect(plot(renderReport([loadRun(d)]), 'Finetuning: modes covered · modes_covered').layout.xaxis).toMatchObject({ dtick: 1 })
    // A model that cannot estimate the KL records only the start's 0 (brown-charlm-finetune): no KL plot of one point.
    writeCurve(d, 'c0-r0', 0, [point(0, 'finetune', 0, { kl: 0, metrics: { modes_covered: 8 } }), point(0, 'finetune', 5, { kl: null, metrics: { modes_covered: 2 } })])
    const unscoredHtml = renderReport([loadRun(d)])
    const unscored = embeddedPlots(unscoredHtml).map(plotTitle)
    expect(unscored.filter((t) => t.startsWith('Finetuning'))).toEqual(['Finetuning: modes covered · modes_covered'])
    // And the note says why, where the plot with a KL had no word of it.
    expect(unscoredHtml).toContain('No KL to the stage’s input was recorded')
    writeCurve(d, 'c0-r0', 0, [point(0, 'finetune', 0, { kl: 0, metrics: { modes_covered: 8 } }), point(0, 'finetune', 5, { kl: 1, metrics: { modes_covered: 2 } })])
    expect(renderReport([loadRun(d)])).not.toContain('No KL to the stage’s input was recorded')
  })

  it('shows a hostile stage kind as text', () => {
    const d = dir('pt-hostile')
    writeSyntheticRun(d, {
      name: 'hostile',
      dataset: ringDataset,
      base: { generations: 1, samplesPerGeneration: 10, data: { kind: 'ring', n: 10 }, model: { kind: 'gmm' }, policy: { kind: 'replace' } },
      cells: [{}],
      replicates: 1,
      metrics: () => ({ modes_covered: 8 }),
    })
    writeCurve(d, 'c0-r0', 0, [point(0, '<img src=x onerror=alert(1)>', 0, { kl: 0 }), point(0, '<img src=x onerror=alert(1)>', 5, { kl: 1 })])
    const html = renderReport([loadRun(d)])
    expect(html).toContain('<h3>&lt;img src=x onerror=alert(1)&gt;</h3>')
    expect(html).not.toContain('<img src=x')
  })
})

describe('rewards against √KL', () => {
  it('draws gold reward solid and the proxy dashed against √KL per setting, from the start at √KL = 0, and diversity against gold reward', () => {
    const d = dir('pt-rl')
    writeRlRun(d, 'rl')
    const html = renderReport([loadRun(d)])
    const rewards = plot(html, 'RL: gold and proxy reward against √KL')
    // KL = d² at d = 0, 1, 2; gold 0.3 + 0.2d − 0.05d²(1 + c), proxy 0.3 + 0.25d.
    const gold = trace(rewards.data, 'beta=0.1 (mean of 3)')
    expectClose(gold.x, [0, 1, 2])
    expectClose(gold.y, [0.3, 0.45, 0.5])
    expect((gold.line as { dash?: string }).dash).toBeUndefined()
    expectClose(trace(rewards.data, 'beta=1 (mean of 3)').y, [0.3, 0.4, 0.3])
    const proxy = trace(rewards.data, 'beta=0.1: proxy reward (mean of 3)')
    expectClose(proxy.x, [0, 1, 2])
    expectClose(proxy.y, [0.3, 0.55, 0.8])
    expect((proxy.line as { dash: string }).dash).toBe('dash')
    // Alike in scale, the two share one axis, so that their gap reads as it is.
    expect(proxy.yaxis).toBeUndefined()
    expect(rewards.layout.yaxis2).toBeUndefined()
    // One legend entry a setting, and one a line style, where each setting draws two rewards.
    expect(rewards.data.filter((t) => t.showlegend !== false).map((t) => t.name)).toEqual([
      'beta=0.1 (mean of 3)',
      'beta=1 (mean of 3)',
      'solid, filled markers: gold reward',
      'dashed, open markers: proxy reward',
      'start: the model the stage starts from',
      'dotted: Gao et al.’s d(α − β ln d), fitted',
    ])
    const star = trace(rewards.data, 'beta=0.1: start')
    expect([star.x, star.y]).toEqual([[0], [0.3]])
    // One generation: nothing to choose.
    expect(rewards.choices).toBeUndefined()
    // Two settings, two colours: no shapes to explain.
    expect(html).not.toContain('Past seven settings')

    const diversity = plot(html, 'RL: diversity against gold reward')
    const line = trace(diversity.data, 'beta=0.1 (mean of 3)')
    expectClose(line.x, [0.3, 0.45, 0.5])
    expectClose(line.y, [8, 6, 4])

    const perStep = plot(html, 'RL: gold and proxy reward')
    expectClose(trace(perStep.data, 'beta=0.1 (mean of 3)').y, [0.3, 0.45, 0.5])
    expectClose(trace(perStep.data, 'beta=0.1: gold: max').y, [0.31, 0.46, 0.51])
    expect(trace(perStep.data, 'beta=0.1: gold: min').fillcolor).toBe('rgba(0, 114, 178, 0.18)')
    expectClose(trace(perStep.data, 'beta=0.1: proxy (mean of 3)').y, [0.3, 0.55, 0.8])
    expect(perStep.data.filter((t) => t.showlegend !== false).map((t) => t.name)).toEqual(['beta=0.1 (mean of 3)', 'beta=1 (mean of 3)', 'solid, filled markers: gold reward', 'dashed, open markers: proxy reward', 'shaded, in each setting’s colour: min–max over 3 replicates'])
    // Steps 0 to 20: plotly's own ticks.
    expect(perStep.layout.xaxis).not.toHaveProperty('dtick')
    expectClose(trace(plot(html, 'RL: KL to the stage’s input · kl').data, 'beta=1 (mean of 3)').y, [0, 1, 4])
    // The trainer's loss on a batch weighted by advantages is named a surrogate, and the note says why; the penalised reward beside it is not called a loss.
    expect((plot(html, 'RL: the trainer’s surrogate loss · loss').layout.yaxis as { title: { text: string } }).title.text).toBe('loss of the weighted batch')
    expect(html).toContain('a surrogate whose gradient is the stage’s, so its size and sign say little')
    const penalised = plot(html, 'RL: KL-penalised reward of the training batch · penalised_reward')
    expect((penalised.layout.yaxis as { title: { text: string } }).title.text).toBe('r − β·(log π − log π_ref), batch mean')
    // β = 1: 0.3 + 0.25·d − d² at d = 1, 2 (offsets cancel in the mean).
    expectClose(trace(penalised.data, 'beta=1 (mean of 3)').y, [-0.45, -3.2])
  })

  it('puts a hacked proxy, whose values span far more than the gold reward’s, on an axis of its own at the right', () => {
    const d = dir('pt-rl-hacked')
    writeRlRun(d, 'rl', [0.1, 1])
    // The proxy climbs 100 times as far as before (0.3 to 50 where the gold reward moves by 0.2).
    for (const cell of [0, 1]) {
      for (let r = 0; r < 3; r++) {
        const file = join(d, 'chains', `c${cell}-r${r}`, 'gen-000000.posttrain.ndjson')
        const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>)
        writeFileSync(file, lines.map((l) => JSON.stringify({ ...l, reward: 100 * l['reward']! - 29.7 }) + '\n').join(''))
      }
    }
    const html = renderReport([loadRun(d)])
    for (const [title, proxyName, goldName] of [
      ['RL: gold and proxy reward against √KL', 'beta=0.1: proxy reward (mean of 3)', 'beta=0.1 (mean of 3)'],
      ['RL: gold and proxy reward', 'beta=0.1: proxy (mean of 3)', 'beta=0.1 (mean of 3)'],
    ] as const) {
      const p = plot(html, title)
      expect([trace(p.data, proxyName).yaxis, trace(p.data, goldName).yaxis]).toEqual(['y2', undefined])
      expect(p.layout.yaxis2).toMatchObject({ overlaying: 'y', side: 'right', title: { text: 'proxy reward, mean of the samples (dashed)' } })
      expect((p.layout.yaxis as { title: { text: string } }).title.text).toBe('gold reward, mean of the samples (solid)')
    }
  })

  it('draws no proxy line per step for a setting whose reward is gold itself, beside settings of a proxy', () => {
    const d = dir('pt-rl-gold-cell')
    writeRlRun(d, 'rl', [0.1, 1])
    // Cell 1 optimises its gold reward: its curves' reward is the gold one.
    for (let r = 0; r < 3; r++) {
      const file = join(d, 'chains', `c1-r${r}`, 'gen-000000.posttrain.ndjson')
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      writeFileSync(file, lines.map((l) => JSON.stringify({ ...l, reward: l['gold_reward'] }) + '\n').join(''))
    }
    const perStep = plot(renderReport([loadRun(d)]), 'RL: gold and proxy reward')
    const names = perStep.data.map((t) => t.name)
    expect(names).toContain('beta=0.1: proxy (mean of 3)')
    expect(names).toContain('beta=1 (mean of 3)')
    expect(names).not.toContain('beta=1: proxy (mean of 3)')
  })

  it('past seven settings a colour repeats with another marker shape, filled for the gold reward and open for the proxy', () => {
    const d = dir('pt-rl-many')
    const betas = [1, 0.5, 0.3, 0.2, 0.1, 0.05, 0.03, 0.01, 0.003]
    writeRlRun(d, 'rl', betas)
    const html = renderReport([loadRun(d)])
    const rewards = plot(html, 'RL: gold and proxy reward against √KL')
    const marker = (t: Record<string, unknown>) => t.marker as { color: string; symbol: string }
    const first = trace(rewards.data, 'beta=1 (mean of 3)')
    const eighth = trace(rewards.data, 'beta=0.01 (mean of 3)')
    // The palette has seven colours: the eighth setting has the first one's.
    expect(marker(eighth).color).toBe(marker(first).color)
    expect([marker(first).symbol, marker(eighth).symbol]).toEqual(['circle', 'square'])
    expect([marker(trace(rewards.data, 'beta=1: proxy reward (mean of 3)')).symbol, marker(trace(rewards.data, 'beta=0.01: proxy reward (mean of 3)')).symbol]).toEqual(['circle-open', 'square-open'])
    const perStep = plot(html, 'RL: gold and proxy reward')
    expect(marker(trace(perStep.data, 'beta=0.01 (mean of 3)')).symbol).toBe('square')
    expect(marker(trace(perStep.data, 'beta=0.01: proxy (mean of 3)')).symbol).toBe('square-open')
    // Nine bands on one plot, each lighter (0.18 · 4/9), so that their overlap stays see-through.
    expect(trace(perStep.data, 'beta=0.01: gold: min').fillcolor).toBe('rgba(0, 114, 178, 0.08)')
    expect(marker(trace(plot(html, 'RL: diversity against gold reward').data, 'beta=0.01 (mean of 3)')).symbol).toBe('square')
    expect(html).toContain('Past seven settings the colours repeat, with another marker shape.')
  })

  it('best-of-n: one reward line where the optimised reward is the gold one, n on a log axis, and the KL against ln n − (n − 1)/n', () => {
    const d = dir('pt-bon')
    writeBestOfNRun(d, 'bon')
    const html = renderReport([loadRun(d)])
    const rewards = plot(html, 'Best-of-n: reward against √KL')
    expect(rewards.data.some((t) => String(t.name).includes('proxy'))).toBe(false)
    const gold = trace(rewards.data, 'bon (mean of 2)')
    // √(ln n − (n − 1)/n) for n = 1, 2, 4, 8: ln 2 − 1/2 = 0.193147, ln 4 − 3/4 = 0.636294, ln 8 − 7/8 = 1.204442.
    expectClose(gold.x, [0, Math.sqrt(0.193147), Math.sqrt(0.636294), Math.sqrt(1.204442)])
    expectClose(gold.y, [0, 0.1, 0.2, 0.3])
    // Best-of-n starts at n = 1, the input's own draws.
    expect(trace(rewards.data, 'bon: start').customdata).toEqual([1])

    const kl = plot(html, 'Best-of-n: KL to the stage’s input · kl')
    const theory = trace(kl.data, 'theory: ln n − (n − 1)/n (a reward without ties)')
    expect(theory.x).toEqual(BON_STEPS)
    expectClose(theory.y, [0, 0.193147, 0.636294, 1.204442])
    expect(kl.layout.xaxis).toMatchObject({ type: 'log', tickvals: BON_STEPS, title: { text: 'n (draws per sample)' } })
    expect(plot(html, 'Best-of-n: reward').data.some((t) => String(t.name).includes('proxy'))).toBe(false)
  })

  it('best-of-n: the KL theory of rewards without ties only for settings whose reward has none, the caption saying why', () => {
    const tied = { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }
    const point = { kind: 'point', at: [1, 0] }
    const proxy = { kind: 'proxy', of: tied }
    const theoryNames = (html: string): string[] => plot(html, 'Best-of-n: KL to the stage’s input · kl').data.map((t) => String(t.name)).filter((n) => n.startsWith('theory'))
    const why = 'The KL has no theory curve for ‘modes’ rewards: ln n − (n − 1)/n holds for a reward without ties'

    // A reward of a few values: no theory, and the caption says why.
    const modes = dir('pt-bon-modes')
    writeBestOfNRun(modes, 'modes', [tied])
    const modesHtml = renderReport([loadRun(modes)])
    expect(theoryNames(modesHtml)).toEqual([])
    expect(modesHtml).toContain(why)

    // A continuous gold reward and a proxy (a fitted regression, continuous even of a tied gold reward): theory for both, no caveat.
    const smooth = dir('pt-bon-smooth')
    writeBestOfNRun(smooth, 'smooth', [point, proxy])
    const smoothHtml = renderReport([loadRun(smooth)])
    expect(theoryNames(smoothHtml)).toEqual(['theory: ln n − (n − 1)/n (a reward without ties)'])
    expect(smoothHtml).not.toContain('has no theory curve')

    // Both kinds swept: theory drawn, its legend naming the setting it is for; the caption names the reward it is not.
    const mixed = dir('pt-bon-mixed')
    writeBestOfNRun(mixed, 'mixed', [tied, point])
    const mixedHtml = renderReport([loadRun(mixed)])
    expect(theoryNames(mixedHtml)).toEqual(['theory: ln n − (n − 1)/n (a reward without ties): reward=point(at=[1, 0])'])
    expect(mixedHtml).toContain(why)
  })
})

describe('the size of the post-training section', () => {
  it('stays within its point budget for 2 settings × 10 replicates × 5 generations of 200-point curves with 8 diversity and task metrics', () => {
    const d = dir('pt-size')
    writeSyntheticRun(d, {
      name: 'big',
      dataset: ringDataset,
      base: { generations: 5, samplesPerGeneration: 10, data: { kind: 'ring', n: 10 }, model: { kind: 'gmm' }, policy: { kind: 'replace' } },
      cells: [0, 1].map((v) => ({ 'posttrain.0.replay': v / 10 })),
      replicates: 10,
      metrics: () => ({ modes_covered: 8 }),
    })
    const names = ['modes_covered', 'reverse_kl', 'classes_covered', 'class_entropy', 'class_kl', 'recall', 'coverage', 'vendi', 'task_share', 'task_nll']
    for (let c = 0; c < 2; c++) {
      for (let r = 0; r < 10; r++) {
        for (let g = 0; g < 5; g++) {
          const metrics = (s: number): Record<string, number> => Object.fromEntries(names.map((n, i) => [n, i + s / 1000 + r / 100]))
          writeCurve(d, `c${c}-r${r}`, g, Array.from({ length: 200 }, (_, s) => point(0, 'finetune', s, { kl: s / 100, losses: { loss: 1 / (s + 1) }, metrics: metrics(s) })))
        }
      }
    }
    const html = renderReport([loadRun(d)])
    const plots = embeddedPlots(html).filter((p) => plotTitle(p).startsWith('Finetuning'))
    const traces = plots.flatMap((p) => p.data)
    const points = traces.reduce((n, t) => n + (t.x as unknown[]).length, 0)
    // Each trace keeps at least its two ends; beyond that every one is thinned by the same factor.
    expect(points).toBeLessThanOrEqual(POINT_BUDGET + 2 * traces.length)
    expect(points).toBeGreaterThan(POINT_BUDGET / 2)
    // Six diversity metrics offered, in their order of preference.
    expect(plot(html, 'Finetuning: task quality against diversity').choices!.controls[2]!.options).toEqual(['modes_covered', 'reverse_kl', 'classes_covered', 'class_entropy', 'class_kl', 'vendi'])
    const mean = trace(plot(html, 'Finetuning: KL to the stage’s input · kl').data.filter((t) => t.visible === true), 'replay=0 (mean of 10)')
    expect([(mean.x as number[])[0], (mean.x as number[]).at(-1)]).toEqual([0, 199])
    const plotly = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!.length
    expect(html.length - plotly).toBeLessThan(3e6)
  })
})

/** The catalog's methods as plain functions, for `map`. */
function catalogFunctions(catalog: MetricCatalog) {
  return { thresholdFor: (name: string, overrides: Record<string, number>) => catalog.thresholdFor(name, overrides), betterText: (name: string) => catalog.betterText(name) }
}

describe('post-training metrics', () => {
  it('says which way rewards, task quality and genres go; no collapse threshold fires on a reward or the KL', () => {
    const { thresholdFor, betterText } = catalogFunctions(new MetricCatalog([BUILTIN_OUTPUT_INFO]))
    for (const name of ['reward', 'gold_reward', 'kl', 'filter_reward', 'filter_reward_kept', 'task_nll', 'task_share']) expect(thresholdFor(name, {})).toBeUndefined()
    expect(['reward', 'gold_reward', 'filter_reward', 'filter_reward_kept', 'task_share', 'task_nll', 'kl', 'genres_covered', 'genre_kl'].map(betterText)).toEqual([
      'higher is better',
      'higher is better',
      'higher is better',
      'higher is better',
      'higher is better',
      'lower is better',
      'a cost: neither way is better',
      'higher is better',
      'lower is better',
    ])
    expect(thresholdFor('genre_entropy', {})).toEqual({ direction: 'falls', kind: 'offset', value: Math.LN2 })
  })

  it('follows reward, gold reward and KL over generations like any metric, in the summary without a threshold', () => {
    const d = dir('pt-gens')
    writeSyntheticRun(d, {
      name: 'rl chain',
      dataset: ringDataset,
      base: { generations: 4, samplesPerGeneration: 10, data: { kind: 'ring', n: 10 }, model: { kind: 'gmm' }, policy: { kind: 'replace' } },
      cells: [{}],
      replicates: 2,
      // The reward rises 0.1 a generation, the KL doubles: neither is collapse.
      metrics: (_c, r, g) => (g === -1 ? { modes_covered: 8 } : { modes_covered: 8, reward: 0.5 + 0.1 * g + pair(r), gold_reward: 0.4, kl: 2 ** g }),
    })
    const html = renderReport([loadRun(d)])
    const titles = embeddedPlots(html).map(plotTitle)
    expect(titles).toEqual(expect.arrayContaining(['reward (the one optimised) · reward', 'gold reward · gold_reward', 'KL to the model as fit · kl']))
    const reward = plot(html, 'reward (the one optimised) · reward')
    expectClose(trace(reward.data, 'rl chain (mean)').y, [0.5, 0.6, 0.7, 0.8])
    const row = (metric: string): string => new RegExp(`<tr data-metric="${metric}" data-cell="0">([\\s\\S]*?)</tr>`).exec(html)![1]!
    expect(row('kl')).toContain('<td data-col="threshold">—</td><td data-col="crossing">—</td>')
    expect(row('reward')).toContain('<td data-col="change" class="num">+60.0 %</td>')
    expect(html).toContain('KL to the model as fit<br><code>kl</code><br><span class="gen better">a cost: neither way is better</span>')
  })
})

describe('what a stage optimised', () => {
  const rewardsOf = (html: string): string => html.match(/<h3>RL<\/h3>\n([\s\S]*?)<p class="note">/)![1]!

  it('says it once where every setting optimised the same reward, from the curves’ first points, escaped', () => {
    const d = dir('pt-reward-same')
    writeRlRun(d, 'rl', [0.1, 1], () => 'regression reward model on 50 labels, labelled by <b>value</b> of the nearest mode')
    expect(rewardsOf(renderReport([loadRun(d)]))).toBe('<p class="aims">The reward optimised: regression reward model on 50 labels, labelled by &lt;b&gt;value&lt;/b&gt; of the nearest mode.</p>\n')
  })

  it('says what a finetuning stage was trained on, from the config: its data laid over the run’s, a file by its name', () => {
    const finetuneNote = (html: string): string => html.match(/<h3>Finetuning<\/h3>\n([\s\S]*?)<p class="note">/)![1]!
    const same = dir('pt-task-same')
    writeFinetuneRun(same, 'ft', 1, () => ({ weights: [1, 1, 0, 0, 0, 0, 0, 0], n: 2000 }))
    expect(finetuneNote(renderReport([loadRun(same)]))).toBe('<p class="aims">The task data: ring: weights [1, 1, 0, 0, 0, 0, 0, 0], n 2000.</p>\n')
    const files = dir('pt-task-files')
    writeFinetuneRun(files, 'ft', 1, (cell) => ({ kind: 'text-file', path: `/data/tasks/task-${cell}.txt`, sha256: 'ab12' }))
    expect(finetuneNote(renderReport([loadRun(files)]))).toBe(
      '<p class="aims">The task data, by setting:</p>\n<ul class="aims"><li>text-file: path task-0.txt <span class="settings">(replay=0, data=text-file(path=/data/tasks/task-0.txt))</span></li><li>text-file: path task-1.txt <span class="settings">(replay=0.1, data=text-file(path=/data/tasks/task-1.txt))</span></li></ul>\n',
    )
    const own = dir('pt-task-own')
    writeFinetuneRun(own, 'ft', 1, () => ({}))
    expect(finetuneNote(renderReport([loadRun(own)]))).toBe('<p class="aims">The task data: ring, as the run’s.</p>\n')
  })

  it('titles a DPO block and says which preferences it optimised', () => {
    const d = dir('pt-dpo')
    writeRlRun(d, 'dpo', [0.1, 1], () => '200 pairs labelled by a Bradley–Terry preference', 'dpo')
    const html = renderReport([loadRun(d)])
    expect(html).toContain('<h3>DPO</h3>\n<p class="aims">The preferences optimised: 200 pairs labelled by a Bradley–Terry preference.</p>')
    expect(embeddedPlots(html).map(plotTitle)).toContain('DPO: gold and proxy reward against √KL')
    // The batch's preference loss and accuracy are named for what they are, not as training losses.
    const d2 = dir('pt-dpo-losses')
    writeRlRun(d2, 'dpo', [0.1], undefined, 'dpo')
    for (let r = 0; r < 3; r++) {
      writeCurve(d2, `c0-r${r}`, 0, RL_STEPS.map((s) => ({ stage: 0, kind: 'dpo', step: s, reward: 0.1 * s, gold_reward: 0.1 * s, kl: s, kl_estimator: 'monte-carlo', losses: s === 0 ? {} : { preference_loss: 0.6, preference_accuracy: 0.75 }, metrics: {} })))
    }
    const titles = embeddedPlots(renderReport([loadRun(d2)])).map(plotTitle)
    expect(titles).toContain('DPO: preference loss of the training batch · preference_loss')
    expect(titles).toContain('DPO: preference accuracy of the training batch · preference_accuracy')
  })

  it('says why a finetuning block has no frontier where the run did not score the task, and only there', () => {
    const scored = dir('pt-task-scored')
    writeFinetuneRun(scored, 'ft', 1)
    expect(renderReport([loadRun(scored)])).not.toContain('No frontier of task quality')
    const unscored = dir('pt-task-unscored')
    writeFinetuneRun(unscored, 'ft', 1)
    for (let cell = 0; cell < 2; cell++) {
      for (let r = 0; r < 3; r++) {
        writeCurve(unscored, `c${cell}-r${r}`, 0, FT_STEPS.map((s) => point(0, 'finetune', s, { kl: 0.1 * s, metrics: { modes_covered: 8 - 0.5 * s } })))
      }
    }
    const html = renderReport([loadRun(unscored)])
    expect(embeddedPlots(html).map(plotTitle)).not.toContain('Finetuning: task quality against diversity')
    expect(html).toContain('No frontier of task quality against diversity: the run did not score the task.')
  })

  it("titles an adaptive KL coefficient as the β the controller set, not as a training loss", () => {
    const d = dir('pt-kl-coefficient')
    writeRlRun(d, 'rl', [0.1])
    for (let r = 0; r < 3; r++) {
      writeCurve(d, `c0-r${r}`, 0, RL_STEPS.map((s) => ({ stage: 0, kind: 'rl', step: s, reward: 0.1 * s, gold_reward: 0.1 * s, kl: s, kl_estimator: 'monte-carlo', losses: s === 0 ? {} : { kl_coefficient: 0.1 * (1 + s / 100) }, metrics: {} })))
    }
    const coefficient = plot(renderReport([loadRun(d)]), 'RL: KL coefficient β, adapted toward the KL target · kl_coefficient')
    expect((coefficient.layout.yaxis as { title: { text: string } }).title.text).toBe('β')
    expectClose(trace(coefficient.data, 'rl (mean of 3)').y, [0.11, 0.12])
  })

  it('draws the KL target of an adaptive β beside the KL curve, and none without one', () => {
    const d = dir('pt-kl-target')
    writeRlRun(d, 'rl', [0.1])
    const klPlot = () => plot(renderReport([loadRun(d)]), 'RL: KL to the stage’s input · kl')
    expect(klPlot().data.some((t) => String(t.name).endsWith('KL target'))).toBe(false)
    const info = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8'))
    info.cells[0].config.posttrain = [{ kind: 'rl', reward: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }, beta: 0.1, klTarget: 0.5, steps: 20 }]
    writeFileSync(join(d, 'run.json'), JSON.stringify(info))
    const target = klPlot().data.find((t) => t.name === 'rl: KL target')!
    expect(target.y).toEqual([0.5, 0.5])
    expect(target.x).toEqual([Math.min(...RL_STEPS), Math.max(...RL_STEPS)])
  })

  it('names the settings of each reward where they differ, and says nothing for curves without a description', () => {
    const d = dir('pt-reward-swept')
    writeRlRun(d, 'rl', [0.1, 1, 3], (cell) => (cell === 1 ? 'reward B' : 'reward A'))
    expect(rewardsOf(renderReport([loadRun(d)]))).toBe(
      '<p class="aims">The rewards optimised, by setting:</p>\n<ul class="aims"><li>reward A <span class="settings">(beta=0.1; beta=3)</span></li><li>reward B <span class="settings">(beta=1)</span></li></ul>\n',
    )
    const plain = dir('pt-reward-none')
    writeRlRun(plain, 'rl')
    expect(rewardsOf(renderReport([loadRun(plain)]))).toBe('')
  })
})

describe("Gao et al.'s forms fitted to the gold reward", () => {
  /** The rows of the block's table of fits, as their cells' text. */
  const fitRows = (html: string): string[][] => {
    const table = /<table class="summary fits">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)
    if (table === null) return []
    return [...table[1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, '').trim()))
  }

  it('recovers α and β of curves on the RL form, draws the fit dotted through them, and places its peak', () => {
    const d = dir('pt-gao-rl')
    writeRlRun(d, 'rl', [0.1, 1])
    // Gold gained d(0.5 − β ln d) with β = 0.2 and 0.4 by cell, from starts 0.29, 0.3, 0.31 by replicate.
    const steps = [0, 5, 10, 15, 20]
    for (let cell = 0; cell < 2; cell++) {
      for (let r = 0; r < 3; r++) {
        writeCurve(d, `c${cell}-r${r}`, 0, steps.map((step) => {
          const x = step / 10
          const gold = 0.3 + 0.01 * (r - 1) + (x === 0 ? 0 : x * (0.5 - 0.2 * (1 + cell) * Math.log(x)))
          return { stage: 0, kind: 'rl', step, reward: gold + 0.1 * x, gold_reward: gold, kl: x * x, kl_estimator: 'monte-carlo', losses: {}, metrics: { modes_covered: 8 } }
        }))
      }
    }
    const html = renderReport([loadRun(d)])
    // setting, points, α, β, R², peak √KL, gain at the peak, largest √KL reached
    expect(fitRows(html)).toEqual([
      ['beta=0.1', '15', '0.5', '0.2', '1', '4.482 (beyond the points)', '—', '2'],
      ['beta=1', '15', '0.5', '0.4', '1', '1.284', '0.5136', '2'],
    ])
    expect(html).toContain('d(α − β ln d) (RL, as Rafailov et al. 2024 fit it to DPO too)')
    const rewards = plot(html, 'RL: gold and proxy reward against √KL')
    const fitted = trace(rewards.data, 'beta=1: d(α − β ln d) fitted')
    const x = fitted.x as number[]
    const y = fitted.y as number[]
    expect(x[0]).toBe(0)
    expect(x.at(-1)).toBeCloseTo(2, 9)
    expect(y[0]).toBeCloseTo(0.3, 9)
    expect(y.at(-1)).toBeCloseTo(0.3 + 2 * (0.5 - 0.4 * Math.log(2)), 5)
    expect(trace(rewards.data, 'dotted: Gao et al.’s d(α − β ln d), fitted').showlegend).not.toBe(false)
  })

  it('fits the best-of-n form to best-of-n, the RL form to DPO, and says where a fit keeps rising', () => {
    const bon = dir('pt-gao-bon')
    writeBestOfNRun(bon, 'bon')
    const html = renderReport([loadRun(bon)])
    expect(html).toContain('d(α − βd) (best-of-n)')
    const rows = fitRows(html)
    expect(rows).toHaveLength(1)
    // gold = log2(n)/10 rises with d = √(ln n − (n − 1)/n) faster than linearly over n = 1 to 8: β < 0.
    expect(Number(rows[0]![3]!.replace('−', '-'))).toBeLessThan(0)
    expect(rows[0]![5]).toBe('none: fit β ≤ 0, the fitted curve has no maximum')
    expect(plot(html, 'Best-of-n: reward against √KL').data.some((t) => t.name === 'bon: d(α − βd) fitted')).toBe(true)
    const dpo = dir('pt-gao-dpo')
    writeRlRun(dpo, 'dpo', [0.1], undefined, 'dpo')
    expect(renderReport([loadRun(dpo)])).toContain('d(α − β ln d) (RL, as Rafailov et al. 2024 fit it to DPO too)')
  })

  it('breaks a poor fit off where it leaves the range of the gold rewards, so that it does not stretch the axis', () => {
    const d = dir('pt-gao-cliff')
    writeRlRun(d, 'rl', [0.1])
    // A cliff: gold rises to 0.9, then falls to −1 and stays; the RL form bends through it and below −1.
    const gains = [0, 0.6, 0.9, 0.2, -1, -1, -1]
    for (let r = 0; r < 3; r++) {
      writeCurve(d, `c0-r${r}`, 0, gains.map((gain, i) => ({ stage: 0, kind: 'rl', step: 10 * i, reward: gain, gold_reward: gain, kl: (i / 2) ** 2, kl_estimator: 'monte-carlo', losses: {}, metrics: {} })))
    }
    const fitted = trace(plot(renderReport([loadRun(d)]), 'RL: reward against √KL').data, 'rl: d(α − β ln d) fitted')
    const y = fitted.y as (number | null)[]
    // Gold spans −1 to 0.9: the line is drawn within −1.19 to 1.09 and breaks off beyond.
    expect(y.every((v) => v === null || (v >= -1.19 && v <= 1.09))).toBe(true)
    expect(y.filter((v) => v === null).length).toBeGreaterThan(0)
    expect(y[0]).toBe(0)
  })

  it('says where the gain at a fit’s peak takes the gold reward past every value measured', () => {
    const d = dir('pt-gao-few')
    writeRlRun(d, 'rl', [0.1])
    // Gains 0, 1, 1, −3 at √KL 0 to 3 (each replicate): least squares (numpy's lstsq) gives α 1.6532, β 2.3021, a
    // peak at e^(α/β − 1) = 0.7544 of gain β·0.7544 = 1.737, past the most measured (1) by more
    // than a tenth of the range measured (0.4).
    const gains = [0, 1, 1, -3]
    for (let r = 0; r < 3; r++) {
      writeCurve(d, `c0-r${r}`, 0, gains.map((gain, i) => ({ stage: 0, kind: 'rl', step: 10 * i, reward: gain, gold_reward: gain, kl: i * i, kl_estimator: 'monte-carlo', losses: {}, metrics: {} })))
    }
    const [row] = fitRows(renderReport([loadRun(d)]))
    expect(row!.slice(1, 4)).toEqual(['12', '1.653', '2.302'])
    expect(row!.slice(5)).toEqual(['0.7544', '1.737 (past the gold rewards measured)', '3'])
  })

  it('has no table of fits for finetuning, which has no reward', () => {
    const d = dir('pt-gao-ft')
    writeFinetuneRun(d, 'ft', 1)
    expect(fitRows(renderReport([loadRun(d)]))).toEqual([])
  })
})

describe('post-training on a page of several runs', () => {
  it('draws the stages of every run on shared plots, legends named by run', () => {
    const a = dir('pt-a')
    const b = dir('pt-b')
    writeRlRun(a, 'first')
    writeBestOfNRun(b, 'second')
    const html = renderReport([loadRun(a), loadRun(b)])
    const names = plot(html, 'RL: gold and proxy reward against √KL').data.filter((t) => t.showlegend !== false).map((t) => t.name)
    expect(names).toContain('first: beta=0.1 (mean of 3)')
    expect(embeddedPlots(html).map(plotTitle)).toContain('Best-of-n: reward against √KL')
  })
})
