import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { settingTicks } from './comparison.js'
import { loadRun, renderReport } from './index.js'
import { MODES, embeddedPlots, ganRun, metricPlot, plotTitle, tempDir, writeReplicateTraining, writeSyntheticRun } from './runs.testutil.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function row(html: string, metric: string, cell: number): Record<string, string> {
  const m = new RegExp(`<tr data-metric="${metric}" data-cell="${cell}"[^>]*>([\\s\\S]*?)</tr>`).exec(html)
  if (m === null) throw new Error(`no row for ${metric} cell ${cell}`)
  return Object.fromEntries([...m[1]!.matchAll(/<td data-col="(\w+)"[^>]*>([\s\S]*?)<\/td>/g)].map((c) => [c[1]!, c[2]!.replace(/<[^>]+>/g, '')]))
}

describe('a run of one generation', () => {
  it('compares settings: a table and a plot per metric with replicates, their mean and spread, and the real data', () => {
    const d = tempDir('single')
    dirs.push(d)
    writeSyntheticRun(d, ganRun('gan'))
    const html = renderReport([loadRun(d)])
    // Thresholds call collapse over generations, which this page does not follow: refused, not dropped.
    expect(() => renderReport([loadRun(d)], { thresholds: { modes_covered: 0.5 } })).toThrow(/^--thresholds: this run fits one generation, and its report compares settings: it has no collapse over generations for a threshold to call$/)
    // No collapse curves of one point, no summary of 0 % changes.
    expect(html).not.toContain('id="curves"')
    expect(html).not.toContain('data-col="crossing"')
    expect(html).toContain('<section id="summary"><h2>Comparison</h2>')
    expect(html).toContain('<section id="metrics"><h2>Metrics by setting</h2>')
    // The header names both data kinds, not the first cell's.
    expect(html).toMatch(/2 settings · 3 replicates each · 1 generation · data ring, grid · model gan · started/)
    // Ring: mean of 5, 7, 2 = 4.667, SD √((0.333² + 2.333² + 2.667²)/2) = √6.333 = 2.517.
    expect(row(html, 'modes_covered', 0)).toEqual({ reference: '8', mean: '4.667', sd: '2.517', replicates: '5, 7, 2 (3)' })
    // Grid: mean 29/3, SD √((7.333² + 2.333² + 9.667²)/2) = √76.33 = 8.737.
    expect(row(html, 'modes_covered', 1)).toEqual({ reference: '25', mean: '9.667', sd: '8.737', replicates: '17, 12, 0 (3)' })

    const plot = metricPlot(html, 'modes_covered')
    const dots = plot.data.filter((t) => String(t.name) === 'data=ring' || String(t.name) === 'data=grid')
    expect(dots.map((t) => t.y)).toEqual([MODES[0], MODES[1]])
    // Spread sideways about the setting's tick, by replicate.
    expect((dots[0]!.x as number[]).map((x) => Math.round(x * 100) / 100)).toEqual([-0.08, 0, 0.08])
    const ringMean = plot.data.find((t) => t.name === 'data=ring: mean ± 1 SD')!
    expect((ringMean.y as number[])[0]).toBeCloseTo(14 / 3, 4)
    // Down 1 SD (to 2.15, above the replicate 2); up to the replicate 7, 1 SD (to 7.18) being past it.
    const ringBar = ringMean.error_y as { array: number[]; arrayminus: number[] }
    expect(ringBar.arrayminus[0]).toBeCloseTo(Math.sqrt(19 / 3), 4)
    expect(ringBar.array[0]).toBeCloseTo(7 - 14 / 3, 4)
    // Under the settings' marks, which it would hide where they meet.
    const real = plot.data[0]!
    expect(real.name).toBe('real data (generation −1)')
    expect([real.x, real.y]).toEqual([
      [0, 1],
      [8, 25],
    ])
    expect((plot.layout.xaxis as { ticktext: string[] }).ticktext).toEqual(['data=ring', 'data=grid'])
  })

  /** The comparison plot of a metric `score` whose replicates of setting c (ring, grid) are values[c], with no real-data value. */
  const scorePlot = (name: string, values: readonly (readonly number[])[]) => {
    const d = tempDir(name)
    dirs.push(d)
    writeSyntheticRun(d, { ...ganRun(name), metrics: (cell, rep, g) => ({ score: g === -1 ? null : values[cell]![rep]! }) })
    return metricPlot(renderReport([loadRun(d)]), 'score')
  }

  it('stops the ±1 SD whiskers at the farthest replicate, so that they stay inside what the metric can take', () => {
    // Setting 0: 0, 0, 3 modes have mean 1 and SD √((1 + 1 + 4)/2) = √3 = 1.732: 1 SD down is −0.73
    // modes, which no replicate (and no run) can have, so the whisker stops at 0; 1 SD up (2.73)
    // is short of the replicate 3 and kept. Setting 1: 4, 5, 6 (mean 5, SD 1) keeps both ends.
    const values = [
      [0, 0, 3],
      [4, 5, 6],
    ]
    const plot = scorePlot('whiskers', values)
    const bars = plot.data.filter((t) => String(t.name).includes(': mean')).map((t) => t.error_y as { visible: boolean; array: number[]; arrayminus: number[] })
    expect(bars.map((b) => b.visible)).toEqual([true, true])
    expect(bars[0]!.arrayminus[0]).toBeCloseTo(1, 10)
    expect(bars[0]!.array[0]).toBeCloseTo(Math.sqrt(3), 4)
    expect([bars[1]!.arrayminus[0], bars[1]!.array[0]]).toEqual([1, 1])
  })

  it('draws the whiskers on a log axis, down to the least replicate at most', () => {
    // Values spanning more than two decades take a log axis. Setting 0: 0.4, 0.5, 0.6 (mean 0.5, SD
    // 0.1) keeps its whisker; setting 1: 0.001, 0.001, 1 (mean 0.334, SD 0.577) has 1 SD down
    // below 0, where a log axis has nothing: its whisker stops at 0.001.
    const values = [
      [0.4, 0.5, 0.6],
      [0.001, 0.001, 1],
    ]
    const plot = scorePlot('log-whiskers', values)
    expect((plot.layout.yaxis as { type?: string }).type).toBe('log')
    const ticks = plot.data.filter((t) => String(t.name).includes(': mean'))
    expect(ticks.map((t) => [t.name, (t.error_y as { visible: boolean }).visible])).toEqual([
      ['data=ring: mean ± 1 SD', true],
      ['data=grid: mean ± 1 SD', true],
    ])
    expect((ticks[0]!.error_y as { array: number[] }).array[0]).toBeCloseTo(0.1, 10)
    expect((ticks[1]!.error_y as { arrayminus: number[] }).arrayminus[0]).toBeCloseTo(1.002 / 3 - 0.001, 10)
  })

  it('keeps a bounded share on a linear axis inside its bounds, where its values span decades', () => {
    const d = tempDir('share')
    dirs.push(d)
    const values = [
      [0.1, 0.5, 1],
      [50, 90, 99],
    ]
    writeSyntheticRun(d, { ...ganRun('share'), metrics: (cell, rep, g) => ({ pct_high_quality: g === -1 ? 99.5 : values[cell]![rep]! }) })
    const plot = metricPlot(renderReport([loadRun(d)]), 'pct_high_quality')
    const yaxis = plot.layout.yaxis as { type?: string; range?: [number, number] }
    expect(yaxis.type).not.toBe('log')
    // At most a sliver (2 % of the bounds) past them, so that marks at a bound stay whole.
    expect(yaxis.range![0]).toBeGreaterThanOrEqual(-2)
    expect(yaxis.range![1]).toBeLessThanOrEqual(102)
  })

  it('shows the training curves of every setting on one plot (the mean over replicates and their range), not those of metrics without a value, and the trainer’s losses', () => {
    const d = tempDir('single-training')
    dirs.push(d)
    writeSyntheticRun(d, ganRun('gan'))
    writeReplicateTraining(d)
    const html = renderReport([loadRun(d)])
    // These curves have no mode shares: no heatmap, and the note speaks of none.
    expect(html).toContain('<p class="note">Lines are means over the replicates that recorded each step, shaded bands their minimum to maximum.</p>')
    const plots = embeddedPlots(html)
    const training = plots.filter((p) => plotTitle(p).startsWith('Training'))
    expect(training.map(plotTitle)).toEqual(['Training: loss', 'Training: loss · d'])
    const mean = training[0]!.data.find((t) => t.name === 'data=grid (mean of 3)')!
    expect(mean.x).toEqual(Array.from({ length: 20 }, (_, s) => s * 10))
    ;(mean.y as number[]).forEach((y, s) => expect(y).toBeCloseTo(2 / (s * 10 + 1), 5))
    const max = training[0]!.data.find((t) => t.name === 'data=grid: max')!
    expect((max.y as number[])[3]).toBeCloseTo(3 / 31, 5)
    // The band's one legend entry says what it is, as the collapse curves' does.
    expect(training[0]!.data.filter((t) => t.showlegend !== false).map((t) => t.name)).toEqual(['data=ring (mean of 3)', 'data=grid (mean of 3)', 'shaded, in each setting’s colour: min–max over 3 replicates'])
    // The trainer's own losses (a GAN's d and g), replicate r's d at step 10 s being r + s: mean s + 1.
    const lossD = training[1]!
    expect(lossD.data.find((t) => t.name === 'data=grid (mean of 3)')!.y).toEqual(Array.from({ length: 20 }, (_, s) => s + 1))
    expect((lossD.layout.yaxis as { title: { text: string } }).title.text).toBe('training loss: d')
    // As the model describes it, where run.json records that (`lossInfo`).
    const info = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8'))
    writeFileSync(join(d, 'run.json'), JSON.stringify({ ...info, lossInfo: { d: { title: 'discriminator loss', unit: 'nats' } } }))
    const described = embeddedPlots(renderReport([loadRun(d)])).find((p) => plotTitle(p).startsWith('Training: discriminator loss · d'))!
    expect((described.layout.yaxis as { title: { text: string } }).title.text).toBe('discriminator loss (nats)')
  })

  it('marks the first cell’s mode centres only on samples of the same data kind, and draws no slider over one generation', () => {
    const d = tempDir('single-samples')
    dirs.push(d)
    writeSyntheticRun(d, ganRun('gan'))
    const html = renderReport([loadRun(d)])
    const samples = embeddedPlots(html).filter((p) => p.slider !== undefined)
    expect(samples.map((p) => p.data.some((t) => t.name === 'mode centres'))).toEqual([true, false])
    expect(html).not.toContain('type="range"')
    expect(html).toContain('generation 0: 500 of 500 points')
  })

  it('marks a cell’s own mode centres where run.json keeps its data’s facts (a sweep over data.kind)', () => {
    const d = tempDir('own-centres')
    dirs.push(d)
    // The 25 modes of the grid, at {−4, −2, 0, 2, 4}².
    const grid = [-4, -2, 0, 2, 4].flatMap((x) => [-4, -2, 0, 2, 4].flatMap((y) => [x, y]))
    writeSyntheticRun(d, { ...ganRun('gan'), cellDataset: (cell) => (cell === 1 ? { kind: 'grid', modality: 'vectors', d: 2, modes: { centers: grid, k: 25, std: 0.05 } } : undefined) })
    const samples = embeddedPlots(renderReport([loadRun(d)])).filter((p) => p.slider !== undefined)
    const centres = samples.map((p) => p.data.find((t) => t.name === 'mode centres'))
    expect(centres.map((t) => (t?.x as number[] | undefined)?.length)).toEqual([8, 25])
    expect(centres[1]!.x).toContain(-4)
    expect(centres[1]!.y).toContain(4)
  })
})

describe('the settings under a comparison plot', () => {
  it('names each setting in full while the names fit side by side', () => {
    expect(settingTicks(['data=ring', 'data=grid'])).toEqual({ text: ['data=ring', 'data=grid'] })
    expect(settingTicks(['beta=1, labels=50', 'beta=0.3, labels=50'])).toEqual({ text: ['beta=1<br>labels=50', 'beta=0.3<br>labels=50'] })
  })

  it("gives the values alone, and names the parameters under the axis, where fifteen settings' names would run into each other", () => {
    const labels = [50, 200, 1000].flatMap((n) => [1, 0.3, 0.1, 0.03, 0.01].map((b) => `beta=${b}, labels=${n}`))
    // 480 px for 15 settings is 32 px each: 'labels=1000' takes 72, '1000' 26.
    const ticks = settingTicks(labels)
    expect(ticks.title).toBe('beta, labels')
    expect(ticks.text.slice(0, 6)).toEqual(['1<br>50', '0.3<br>50', '0.1<br>50', '0.03<br>50', '0.01<br>50', '1<br>200'])
    expect(ticks.upright).toBeUndefined()
  })

  it('stands the ticks upright where even the values do not fit, or the settings name different parameters', () => {
    const long = Array.from({ length: 12 }, (_, i) => `policy=accumulate-subsample(size=${1000 + i})`)
    expect(settingTicks(long)).toMatchObject({ title: 'policy', upright: true })
    const mixed = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? `run a: beta=${i}` : `run b: anchor=${i}`))
    expect(settingTicks(mixed)).toEqual({ text: mixed.map((l) => l.replace(': ', ':<br>')), upright: true })
  })

  it('numbers the settings where even upright ticks would overlap, and keeps a spec in parentheses on one line', () => {
    const gans = Array.from({ length: 20 }, (_, i) => `model=gan(lr=${i % 2 === 0 ? '0.0001' : '0.001'}, beta1=0.5, leak=${i % 5}, loss=hinge)`)
    // 480 px for 20 settings is 24 px each; one upright line takes 14 px but is 'gan(lr=0.0001, beta1=0.5, leak=0, loss=hinge)', 45 characters or 293 px, long.
    expect(settingTicks(gans, gans.map((_, i) => i + 3))).toEqual({ text: gans.map((_, i) => String(i + 3)), title: 'setting (numbered as in the key below the plots)', numbered: true })
    expect(settingTicks(['model=gan(lr=0.1, leak=0)', 'model=gan(lr=0.2, leak=0)'])).toEqual({ text: ['model=gan(lr=0.1, leak=0)', 'model=gan(lr=0.2, leak=0)'] })
  })

  it('keys the numbered settings below the plots, and lists the first few swept values in the header', () => {
    const d = tempDir('many')
    dirs.push(d)
    const gans = Array.from({ length: 20 }, (_, i) => ({ kind: 'gan', lr: 0.0001 * (i + 1), beta1: 0.5, leak: i % 2, loss: i % 3 === 0 ? 'hinge' : 'minimax' }))
    const run = ganRun('gans')
    writeSyntheticRun(d, { ...run, base: { ...run.base, sweep: { model: gans } }, cells: gans.map((model) => ({ model })), metrics: (_c, rep, g) => ({ modes_covered: g === -1 ? 8 : rep }) })
    const html = renderReport([loadRun(d)])
    const key = /<ol class="note setting-key">([\s\S]*?)<\/ol>/.exec(html)
    expect(key).not.toBeNull()
    const items = [...key![1]!.matchAll(/<li>(.*?)<\/li>/g)].map((m) => m[1])
    expect(items).toHaveLength(20)
    // Every spec shares beta1=0.5, which the labels leave out.
    expect(items[0]).toBe('model=gan(lr=0.0001, leak=0, loss=hinge)')
    expect(metricPlot(html, 'modes_covered').layout.xaxis).toMatchObject({ ticktext: gans.map((_, i) => String(i + 1)) })
    const header = /<p class="sub">([\s\S]*?)<\/p>/.exec(html)![1]!
    expect(header).toContain('and 16 more')
    expect(header.match(/gan\(/g)).toHaveLength(4)
  })
})
