import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Rng, vectors, type VectorSamples } from '@ouroboros/core'
import { chainDir, HOST, samplesPath, writeSamples } from '@ouroboros/store'
import { gaussianLogVariance, loadRun, parseThresholds, regressionExcessError, renderReport, theoryCurves, writeReport } from './index.js'
import { formatChange, formatNumber } from './html.js'
import { collapseLevels, findCrossing } from './summary.js'
import { baseLayout, logAxis, samplesPlot, sensibleRange } from './plots.js'
import { embeddedPlots, metricPlot, ringDataset, ringRun, ringSamples, tempDir, writeSyntheticRun, type SyntheticRun } from './runs.testutil.js'

const dirs: string[] = []
function dir(prefix: string): string {
  const d = tempDir(prefix)
  dirs.push(d)
  return d
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const HOSTILE = '<img src=x onerror=alert(1)>'

/** Hand-made replicate values: means are total_variance [4, 3.2, 2.1, 1.7] and reverse_kl [0.01, 0.015, 0.025, 0.03] in cell 0. */
const HAND: Record<number, Record<number, { tv: number[]; kl: number[]; nll: number[] }>> = {
  0: {
    0: { tv: [4, 3, 2, 1.5], kl: [0.01, 0.01, 0.02, 0.03], nll: [-1, -0.5, 0, 0.5] },
    1: { tv: [4, 3.4, 2.2, 1.9], kl: [0.01, 0.02, 0.03, 0.03], nll: [-1, -0.5, 0, 0.5] },
  },
  1: {
    0: { tv: [4, 3.9, 3.8, 3.7], kl: [0.01, 0.011, 0.012, 0.013], nll: [1, 1, 1, 1] },
    1: { tv: [4, 3.9, 3.8, 3.7], kl: [0.01, 0.011, 0.012, 0.013], nll: [1, 1, 1, 1] },
  },
}

function handRun(name: string): SyntheticRun {
  return {
    name,
    dataset: ringDataset,
    base: { generations: 4, samplesPerGeneration: 100, data: { kind: 'ring', n: 100 }, model: { kind: 'gmm', components: 8 }, policy: { kind: 'replace' } },
    cells: [{ 'policy.kind': 'replace', 'model.components': 8 }, { 'policy.kind': 'accumulate', 'model.components': 8 }],
    replicates: 2,
    metrics: (cell, rep, g) => {
      if (g === -1) return { total_variance: 4.0008, reverse_kl: 0.004, log_variance: 1.386, nll_real: 0 }
      const h = HAND[cell]![rep]!
      return { total_variance: h.tv[g]!, reverse_kl: h.kl[g]!, log_variance: Math.log(h.tv[g]!), nll_real: h.nll[g]! }
    },
  }
}

function summaryCell(html: string, metric: string, cell: number | 'all', col: string): string {
  const row = new RegExp(`<tr data-metric="${metric}" data-cell="${cell}">([\\s\\S]*?)</tr>`).exec(html)
  if (row === null) throw new Error(`no summary row for ${metric} cell ${cell}`)
  const td = new RegExp(`<td data-col="${col}"[^>]*>([\\s\\S]*?)</td>`).exec(row[1]!)
  if (td === null) throw new Error(`no ${col} column`)
  return td[1]!.replace(/<[^>]+>/g, '')
}

/** ψ(n + 1/2) = −γ − 2 ln 2 + Σ_{i=1}^{n} 2/(2i−1), and ψ′(n + 1/2) = π²/2 − 4 Σ_{i=1}^{n} 1/(2i−1)². */
const EULER_GAMMA = 0.5772156649015329
function digammaHalf(n: number): number {
  let s = -EULER_GAMMA - 2 * Math.LN2
  for (let i = 1; i <= n; i++) s += 2 / (2 * i - 1)
  return s
}
function trigammaHalf(n: number): number {
  let s = (Math.PI * Math.PI) / 2
  for (let i = 1; i <= n; i++) s -= 4 / ((2 * i - 1) * (2 * i - 1))
  return s
}
/** ψ(n) = −γ + Σ_{i=1}^{n−1} 1/i for integers. */
function digammaInt(n: number): number {
  let s = -EULER_GAMMA
  for (let i = 1; i < n; i++) s += 1 / i
  return s
}

function gaussianRun(name: string, model: Record<string, unknown>, extra: Partial<SyntheticRun> = {}): SyntheticRun {
  return {
    name,
    dataset: { kind: 'gaussian', modality: 'vectors', d: 1, gaussian: { mean: 0, std: 1.5 } },
    base: { generations: 20, samplesPerGeneration: 100, data: { kind: 'gaussian', n: 100 }, model, policy: { kind: 'replace' }, sampling: { temperature: 1 } },
    cells: [{}],
    replicates: 1,
    metrics: (_c, _r, g) => ({ log_variance: 2 * Math.log(1.5) - 0.01 * (g + 1) }),
    ...extra,
  }
}

describe('renderReport', () => {
  it('shows a hostile run name, cell value and error message literally and runs none of them', () => {
    const d = dir('hostile')
    writeSyntheticRun(d, {
      ...handRun(HOSTILE),
      cells: [{ 'policy.kind': HOSTILE }, { 'policy.kind': '</script><script>alert(2)</script>' }],
      failure: (cell, rep) => (cell === 1 && rep === 1 ? { generation: 2, message: `diverged </script>${HOSTILE}`, code: 'OUROBOROS_DIVERGED' } : undefined),
    })
    const html = renderReport([loadRun(d)])
    expect(html).not.toContain('<img')
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;')
    // Exactly the page's three scripts: the data block, plotly.js and the page script, none from a file.
    expect(html.match(/<script\b[^>]*>/gi)).toEqual(['<script type="application/json" id="ouroboros-data">', '<script>', '<script>'])
    const data = /<script type="application\/json" id="ouroboros-data">([\s\S]*?)<\/script>/.exec(html)![1]!
    expect(data).not.toMatch(/[<>&\u2028\u2029]/)
    // Plotly reads entities in names as text: the legend shows the name, not markup.
    const names = embeddedPlots(html).flatMap((p) => p.data.map((t) => t.name as string))
    expect(names.some((n) => n.includes('policy=&lt;img src=x onerror=alert(1)&gt;'))).toBe(true)
    expect(html).toContain('failed at generation 2: diverged &lt;/script&gt;&lt;img')
  })

  it('lists the generations where some replicates have no value of a metric, and says when the metric has none', () => {
    const d = dir('gaps')
    const run = handRun('gaps')
    writeSyntheticRun(d, {
      ...run,
      // Replicate 1 of cell 0 has no log_variance at generations 1 and 3; replicate 1 of cell 1 stops after generation 1.
      metrics: (cell, rep, g) => ({ ...run.metrics(cell, rep, g), ...(cell === 0 && rep === 1 && (g === 1 || g === 3) ? { log_variance: null } : {}) }),
      failure: (cell, rep) => (cell === 1 && rep === 1 ? { generation: 2, message: 'diverged', code: 'OUROBOROS_DIVERGED' } : undefined),
    })
    const html = renderReport([loadRun(d)])
    const note = /<div class="note">Some values are missing[\s\S]*?<\/div>/.exec(html)?.[0]
    expect(note).toBeDefined()
    expect(note).toContain('<code>log_variance</code> is null when the samples have more than one dimension, or no variance')
    expect(note!.match(/<li>/g)).toHaveLength(1)
    expect(note).toContain('<li><code>log_variance</code>, policy=replace, components=8: generations 1 and 3</li>')
    // The mean at generation 1 stands on replicate 0 alone.
    const mean = metricPlot(html, 'log_variance').data.find((t) => t.name === 'policy=replace, components=8 (mean)')!
    expect((mean.customdata as number[]).slice(0, 4)).toEqual([2, 1, 2, 1])
    // Replicate means at the last generation stand on the replicates that reached it, and say so.
    expect(summaryCell(html, 'total_variance', 0, 'last')).toMatch(/\(gen 3\)$/)
    expect(summaryCell(html, 'total_variance', 1, 'last')).toMatch(/\(gen 3: mean of 1; gen 0: mean of 2\)$/)
    const plain = dir('no-gaps')
    writeSyntheticRun(plain, handRun('no-gaps'))
    expect(renderReport([loadRun(plain)])).not.toContain('Some values are missing')
  })

  it('says which metric groups failed, in how many chains and why, beside the values they left null', () => {
    const d = dir('group-failed')
    writeSyntheticRun(d, handRun('group-failed'))
    const info = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8'))
    info.chains[0].metricErrors = [{ group: 'spread', message: "compute: Cannot read properties of undefined (reading 'logLikelihood')", firstGeneration: -1, generations: 1 }]
    info.chains[2].metricErrors = [{ group: 'spread', message: 'other', firstGeneration: 3, generations: 2 }]
    writeFileSync(join(d, 'run.json'), JSON.stringify(info))
    const html = renderReport([loadRun(d)])
    expect(html).toContain('<strong>Metric group <code>spread</code> failed</strong> in chains of group-failed: its values are null where it failed; the reasons are under')
    const item = /<li data-group="spread">([\s\S]*?)<\/li>/.exec(html)![1]!.replace(/<[^>]+>/g, '')
    expect(item).toBe(`spread failed at 3 generations of 2 chains; first at generation −1 (the real data’s record) of ${info.chains[0].id}: compute: Cannot read properties of undefined (reading &#39;logLikelihood&#39;)`)
    const plain = dir('group-fine')
    writeSyntheticRun(plain, handRun('group-fine'))
    expect(renderReport([loadRun(plain)])).not.toContain('Failed metric groups')
  })

  it("counts a killed run's generations as far as its records go, which run.json (written at most once a second) lags", () => {
    const d = dir('killed')
    writeSyntheticRun(d, { ...handRun('killed'), status: 'running' })
    const info = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8'))
    info.chains[0] = { ...info.chains[0], status: 'running', generationsDone: 1 }
    writeFileSync(join(d, 'run.json'), JSON.stringify(info))
    const html = renderReport([loadRun(d)])
    const row = new RegExp(`<tr data-chain="${info.chains[0].id}">([\\s\\S]*?)</tr>`).exec(html)![1]!
    expect(row.replace(/<[^>]+>/g, '|')).toContain('|running||4 / 4|')
  })

  it('says a run that ended without a record recorded none, and that one still going has none yet', () => {
    const failing = (name: string, status?: 'running') => ({ ...ringRun(name, 5), ...(status === undefined ? {} : { status }), metrics: () => ({}), failure: () => ({ generation: 0, message: 'singular', code: 'OUROBOROS_MODEL' }) })
    const failed = dir('none-failed')
    writeSyntheticRun(failed, failing('none-failed'))
    const html = renderReport([loadRun(failed)])
    expect(html).toContain('<p>No metrics were recorded: every chain stopped before its first generation’s records (their errors are under <a href="#')
    expect(html).not.toContain('No metrics recorded yet')
    const running = dir('none-running')
    writeSyntheticRun(running, failing('none-running', 'running'))
    expect(renderReport([loadRun(running)])).toContain('<p>No metrics recorded yet.</p>')
  })

  it('summarises the real data, generation 0, the last generation and the change, one table for the run', () => {
    const d = dir('summary')
    writeSyntheticRun(d, handRun('summary'))
    const html = renderReport([loadRun(d)])
    expect(html.match(/<table class="summary">/g)).toHaveLength(1)
    // Cell 0 total_variance means 4, 3.2, 2.1, 1.7 over the real data's 4.0008.
    expect(summaryCell(html, 'total_variance', 0, 'reference')).toBe('4.001')
    expect(summaryCell(html, 'total_variance', 0, 'first')).toBe('4')
    expect(summaryCell(html, 'total_variance', 0, 'last')).toBe('1.7 (gen 3)')
    expect(summaryCell(html, 'total_variance', 0, 'change')).toBe('−57.5 %')
    // Halved from the lower of 4 and 4.0008, or doubled from the higher.
    expect(summaryCell(html, 'total_variance', 0, 'threshold')).toBe('≤ 2 (gen 0 ÷ 2) or ≥ 8.002 (real data × 2)')
    // Generation 3: mean 1.7 ≤ 2, band 1.5–1.9 below generation 0's 4–4.
    expect(summaryCell(html, 'total_variance', 0, 'crossing')).toBe('generation 3 (fell)')
    expect(summaryCell(html, 'total_variance', 1, 'crossing')).toBe('not by generation 3')
    // reverse_kl is measured in nats: a change is a difference, and it must rise 0.1 nats above 0.01.
    expect(summaryCell(html, 'reverse_kl', 0, 'change')).toBe('+0.02')
    expect(summaryCell(html, 'reverse_kl', 0, 'threshold')).toBe('≥ 0.11 (gen 0 + 0.1)')
    expect(summaryCell(html, 'reverse_kl', 0, 'crossing')).toBe('not by generation 3')
    // nll_real starts at −1, under the real data's 0, and must rise 1 nat above 0: 0.5 at generation 3 is not there.
    expect(summaryCell(html, 'nll_real', 0, 'threshold')).toBe('≥ 1 (real data + 1)')
    expect(summaryCell(html, 'nll_real', 0, 'crossing')).toBe('not by generation 3')
    // log_variance has no threshold, so it is no headline metric.
    expect(html).not.toContain('data-metric="log_variance"')
  })

  /**
   * Replicates built so that the right answer is plain: a count that falls by one mode a generation,
   * a variance that grows 10 % a generation, a KL that is only noise around its real-data value, a
   * coverage whose mean drops past the level while one replicate stays inside generation 0's spread.
   */
  function judgedRun(name: string): SyntheticRun {
    const noise = [0.0004, -0.0003, 0.0002, -0.0004, 0.0003, 0.0001, -0.0002]
    const coverage: Record<number, number[]> = { 0: [0.9, 0.3, 0.6], 5: [0.05, 0.35, 0.4], 6: [0.05, 0.1, 0.2] }
    return {
      name,
      dataset: ringDataset,
      base: { generations: 10, samplesPerGeneration: 100, data: { kind: 'ring', n: 100 }, model: { kind: 'kde' }, policy: { kind: 'replace' } },
      cells: [{}],
      replicates: 3,
      metrics: (_c, r, g) => {
        if (g === -1) return { modes_covered: 8, total_variance: 4, reverse_kl: 6e-4, coverage: 0.95, sliced_wasserstein: 0.01, modes_covered_1pct: 8 }
        return {
          modes_covered: 8 - g,
          // A model that never had a mode with 1 % of its samples: nothing to halve.
          modes_covered_1pct: 0,
          total_variance: 4.4 * 1.1 ** g * (1 + 0.01 * (r - 1)),
          reverse_kl: 6e-4 + noise[(g + 2 * r) % noise.length]!,
          coverage: coverage[g]?.[r] ?? coverage[0]![r]!,
          // 2 at generation 0, 2e-15 at the last: a factor, not 2e15 %.
          sliced_wasserstein: 2 * 10 ** (-(15 * g) / 9),
        }
      },
    }
  }

  it('calls collapse only past the threshold from the real data and generation 0 and beyond generation 0\'s spread', () => {
    const d = dir('judged')
    writeSyntheticRun(d, judgedRun('judged'))
    const html = renderReport([loadRun(d)])
    // 8 modes, one lost a generation: half of 8 at generation 4.
    expect(summaryCell(html, 'modes_covered', 0, 'crossing')).toBe('generation 4')
    // 4.4 × 1.1^g ≥ 2 × 4.4 first at g = 8 (1.1^7 = 1.95, 1.1^8 = 2.14): an exploding variance is a failure too.
    expect(summaryCell(html, 'total_variance', 0, 'crossing')).toBe('generation 8 (rose)')
    expect(summaryCell(html, 'total_variance', 0, 'change')).toBe('+135.8 %')
    // Noise of ±4e-4 around 6e-4 doubles the mean at times, and is not collapse.
    expect(summaryCell(html, 'reverse_kl', 0, 'crossing')).toBe('not by generation 9')
    // Generation 5: mean 0.267 ≤ 0.3 (half of generation 0's 0.6), but one replicate at 0.4 is still inside 0.3–0.9.
    expect(summaryCell(html, 'coverage', 0, 'threshold')).toBe('≤ 0.3 (0.5 × gen 0)')
    expect(summaryCell(html, 'coverage', 0, 'crossing')).toBe('generation 6')
    expect(summaryCell(html, 'sliced_wasserstein', 0, 'change')).toBe('÷1e15')
    expect(summaryCell(html, 'modes_covered_1pct', 0, 'crossing')).toBe('n/a: no factor of its baseline 0')
  })

  it('writes changes beyond a factor of 10 as factors and differences where a ratio means nothing', () => {
    expect(formatChange(1e-3, 1.45e-2, false)).toBe('×14.5')
    expect(formatChange(2, 2e-15, false)).toBe('÷1e15')
    expect(formatChange(1, 4.08e13, false)).toBe('×4.1e13')
    expect(formatChange(4, 1.7, false)).toBe('−57.5 %')
    expect(formatChange(4, 40, false)).toBe('×10')
    expect(formatChange(-1, 0.5, false)).toBe('+1.5')
    expect(formatChange(5.75, 5.25, true)).toBe('−0.5')
    expect(formatChange(null, 1, false)).toBe('—')
    expect(formatChange(8, 0, false)).toBe('−100 %')
    // Counts whole (a vocabulary of 47,558 types), other values to four significant digits.
    expect([formatNumber(47558), formatNumber(-1234567), formatNumber(47558.5), formatNumber(2.5e7)]).toEqual(['47558', '−1234567', '47560', '2.500e+7'])
    expect(formatChange(0, 0, false)).toBe('0')
  })

  it('measures the collapse levels from whichever of the real data and generation 0 is worse', () => {
    const halves = { direction: 'falls', kind: 'factor', value: 0.5 } as const
    expect(collapseLevels(halves, 8, 6)).toEqual({ below: 3 })
    expect(collapseLevels(halves, 5, 6)).toEqual({ below: 2.5 })
    expect(collapseLevels(halves, null, 6)).toEqual({ below: 3 })
    expect(collapseLevels(halves, 8, 0)).toBeNull()
    expect(collapseLevels({ direction: 'rises', kind: 'factor', value: 2 }, -1e-4, -2e-4)).toBeNull()
    expect(collapseLevels({ direction: 'rises', kind: 'offset', value: 0.1 }, 0.004, 0.0097)).toEqual({ above: 0.1097 })
    expect(collapseLevels({ direction: 'departs', kind: 'factor', value: 2 }, 4, 4.4)).toEqual({ below: 2, above: 8.8 })
  })

  it("says how many of a generation's points fall beyond the axes, which span the bulk of every generation shown", () => {
    // 400 points on a unit square's grid, and in the second generation one far off.
    const frame = (generation: number, far: boolean) => {
      const points = Float32Array.from({ length: 800 }, (_, i) => ((i >> 1) % 20) / 20 + (i & 1) * 0.01 * Math.floor(i / 40))
      if (far) points.set([30, 30], 798)
      return { generation, n: 400, points }
    }
    const plot = (d: number) => samplesPlot({ title: 's', color: '#000', centers: [], keep: 1, samples: { chain: 'r0', cell: 0, d, dims: 2, real: null, frames: [frame(0, false), frame(1, true)], saved: 2, view: 'coordinates' } })
    // Equal scales (2-D data) may widen an axis enough to show it after all; the first two of 3 coordinates do not share one.
    expect(plot(2).slider!.captions).toEqual(['generation 0: 400 of 400 points', 'generation 1: 400 of 400 points, up to 1 beyond the axes'])
    expect(plot(3).slider!.captions).toEqual(['generation 0: 400 of 400 points', 'generation 1: 400 of 400 points, 1 beyond the axes'])
  })

  it('says where generation 0 is already past the level the real data alone would give, which the levels from the worse of the two leave out', () => {
    const d = dir('starts-past')
    // A stage that narrowed generation 0 itself: 8 modes in the real data, 2 at generation 0, then 1.
    writeSyntheticRun(d, { ...ringRun('starts-past', 3), metrics: (cell, rep, g) => ({ modes_covered: g === -1 ? 8 : cell === 0 ? (g === 0 ? 2 : 1) : 8 }) })
    const html = renderReport([loadRun(d)])
    expect(summaryCell(html, 'modes_covered', 0, 'threshold')).toBe('≤ 1 (0.5 × gen 0)')
    // 1 ≤ 1 at generation 1; generation 0's 2 was already at or below the real data's half, 4.
    expect(summaryCell(html, 'modes_covered', 0, 'crossing')).toBe('generation 1 (generation 0 already ≤ 4, the threshold the real data give)')
    expect(summaryCell(html, 'modes_covered', 1, 'crossing')).toMatch(/^not by generation \d+$/)
  })

  it('does not measure collapse from a real-data record that is the training rows themselves (data of a limited pool, every row drawn), and says so', () => {
    const d = dir('pool')
    // A file of 2,000 training rows, all of them the real data: the record redrawn from them scores
    // 0 (sliced_wasserstein) and 1 (recall) against itself.
    const ring = ringRun('pool', 3)
    const file = { ...ring, base: { ...ring.base, data: { kind: 'vector-file', n: 2000 } }, dataset: { kind: 'vector-file', modality: 'vectors', d: 2, params: {}, pool: 2000 } }
    writeSyntheticRun(d, { ...file, metrics: (cell, rep, g) => ({ sliced_wasserstein: g === -1 ? 0 : 0.1 * (g + 1), recall: g === -1 ? 1 : 0.9 - 0.1 * g, coverage: g === -1 ? 0.8 : 0.9 - 0.1 * g }) })
    const html = renderReport([loadRun(d)])
    expect(summaryCell(html, 'sliced_wasserstein', 0, 'reference')).toBe('0 (the training rows)')
    // From generation 0 alone: 2 × 0.1, crossed at generation 1 (0.2); from the 0 of the record it would be 0, crossed by generation 0 itself.
    expect(summaryCell(html, 'sliced_wasserstein', 0, 'threshold')).toBe('≥ 0.2 (2 × gen 0)')
    expect(summaryCell(html, 'sliced_wasserstein', 0, 'crossing')).toBe('generation 1')
    expect(summaryCell(html, 'recall', 0, 'threshold')).toBe('≤ 0.45 (0.5 × gen 0)')
    // Below generation 0, the record still gives no level, and the label says where the level comes from.
    expect(summaryCell(html, 'coverage', 0, 'threshold')).toBe('≤ 0.45 (0.5 × gen 0)')
    expect(html).toContain('data of a limited pool of rows (a file, MNIST, Brown) have no fresh draw')
    expect(metricPlot(html, 'sliced_wasserstein').data.map((t) => t.name)).toContain('real data (generation −1): the training rows themselves')
    // Half the pool drawn each time: a redraw that shares rows, still a level.
    const half = dir('pool-half')
    writeSyntheticRun(half, { ...file, name: 'pool-half', dataset: { ...file.dataset, pool: 4000 }, metrics: (cell, rep, g) => ({ sliced_wasserstein: g === -1 ? 0.15 : 0.1 * (g + 1) }) })
    const redrawn = renderReport([loadRun(half)])
    expect(summaryCell(redrawn, 'sliced_wasserstein', 0, 'reference')).toBe('0.15')
    expect(summaryCell(redrawn, 'sliced_wasserstein', 0, 'threshold')).toBe('≥ 0.3 (2 × real data)')
    expect(metricPlot(redrawn, 'sliced_wasserstein').data.map((t) => t.name)).toContain('real data (generation −1), redrawn from the training rows')
    // Data without a limit: as before.
    const unlimited = dir('pool-none')
    writeSyntheticRun(unlimited, { ...ringRun('pool-none', 3), metrics: (cell, rep, g) => ({ sliced_wasserstein: g === -1 ? 0 : 0.1 * (g + 1) }) })
    const fresh = renderReport([loadRun(unlimited)])
    expect(fresh).not.toContain('limited pool')
    expect(summaryCell(fresh, 'sliced_wasserstein', 0, 'reference')).toBe('0')
  })

  it("says where a metric has no value after a generation while its setting goes on, instead of calling the setting held", () => {
    const d = dir('none-after')
    // reverse_kl null from generation 1 on (as an infinite value is recorded), modes_covered every generation.
    writeSyntheticRun(d, { ...ringRun('none-after', 3), metrics: (cell, rep, g) => ({ modes_covered: 8, reverse_kl: g >= 1 ? null : 0.01 + 0.001 * rep }) })
    const html = renderReport([loadRun(d)])
    // With the reason the group gives for a null.
    expect(summaryCell(html, 'reverse_kl', 0, 'crossing')).toBe('not by generation 0; no value after it (null when samples fall nearest to a mode of weight 0, where the KL is infinite; off_support_share is their share)')
    expect(/<tr data-metric="reverse_kl" data-cell="0">([\s\S]*?)<\/tr>/.exec(html)![1]).not.toContain('class="held"')
    expect(summaryCell(html, 'modes_covered', 0, 'crossing')).toMatch(/^not by generation \d+$/)
  })

  it('gives a setting whose chains recorded no generation a row that says so, rather than leaving it out of the summary', () => {
    const d = dir('unrecorded')
    // Cell 1's chains fail at generation 0: the real data's record only.
    writeSyntheticRun(d, { ...ringRun('unrecorded', 2), failure: (cell) => (cell === 1 ? { generation: 0, message: 'diverged', code: 'OUROBOROS_DIVERGED' } : undefined) })
    const html = renderReport([loadRun(d)])
    expect(summaryCell(html, 'modes_covered', 1, 'crossing')).toBe('no generation recorded')
    expect(summaryCell(html, 'modes_covered', 1, 'first')).toBe('—')
    expect(summaryCell(html, 'modes_covered', 0, 'crossing')).toMatch(/^(generation \d+|not by generation \d+)/)
  })

  it('says where a metric has no value at any generation, in one setting or in all, rather than leaving it out unsaid', () => {
    const d = dir('none-ever')
    // reverse_kl null at every generation of cell 1, as an infinite value is recorded; nll_real null in every cell.
    writeSyntheticRun(d, { ...ringRun('none-ever', 3), metrics: (cell, rep, g) => ({ modes_covered: 8, reverse_kl: cell === 1 && g >= 0 ? null : 0.01 + 0.001 * rep, nll_real: g >= 0 ? null : 3 }) })
    const html = renderReport([loadRun(d)])
    const why = ' (null when samples fall nearest to a mode of weight 0, where the KL is infinite; off_support_share is their share)'
    expect(summaryCell(html, 'reverse_kl', 1, 'crossing')).toBe(`no value at any generation${why}`)
    expect(summaryCell(html, 'reverse_kl', 1, 'last')).toBe('—')
    expect(summaryCell(html, 'reverse_kl', 0, 'crossing')).toMatch(/^not by generation \d+$/)
    expect(summaryCell(html, 'nll_real', 0, 'crossing')).toMatch(/^no value at any generation/)
    const note = /<div class="note">Some values are missing[\s\S]*?<\/div>/.exec(html)?.[0] ?? ''
    expect(note.match(/<li>/g)).toHaveLength(2)
    expect(note).toContain('<li><code>nll_real</code>: no value at any generation of any setting, so no plot</li>')
    expect(note).toMatch(/<li><code>reverse_kl<\/code>, [^<]*: no value at any generation, so no line<\/li>/)
    // reverse_kl is plotted for the setting that has values, nll_real not at all.
    expect(metricPlot(html, 'reverse_kl').data.some((t) => String(t.name).endsWith('(mean)'))).toBe(true)
    expect(() => metricPlot(html, 'nll_real')).toThrow()
  })

  it('gives a metric with no value at any generation of any setting, in runs side by side, one row rather than one per setting', () => {
    const a = dir('none-all-a')
    const b = dir('none-all-b')
    // w2_to_reference is null for 2-D data, the real data's record too.
    for (const [d, name] of [[a, 'first'], [b, 'second']] as const) {
      const run = ringRun(name, 3)
      writeSyntheticRun(d, { ...run, metrics: (cell, rep, g) => ({ ...run.metrics(cell, rep, g), w2_to_reference: null }) })
    }
    const html = renderReport([loadRun(a), loadRun(b)])
    const rows = html.match(/<tr data-metric="w2_to_reference"[^>]*>[\s\S]*?<\/tr>/g) ?? []
    expect(rows).toHaveLength(1)
    expect(rows[0]).toContain('<td class="setting">every setting (4)</td>')
    expect(summaryCell(html, 'w2_to_reference', 'all', 'crossing')).toBe('no value at any generation (null when the samples have more than one dimension)')
    // A metric with values keeps its row per setting.
    expect(html.match(/<tr data-metric="modes_covered"/g)).toHaveLength(4)
  })

  it('shows no collapse threshold an entropy cannot reach: gen 0 − ln 2 below 0 cannot be crossed', () => {
    const d = dir('entropy-floor')
    // Class entropy from generation 0's mean 0.5005 (cell 0: 0.5005 − ln 2 = −0.1926 < 0) and 2.0005 (cell 1: 2.0005 − ln 2 = 1.307), falling to 0.
    const first = [0.5, 2]
    writeSyntheticRun(d, { ...ringRun('entropy-floor', 4), metrics: (cell, rep, g) => ({ class_entropy: g < 0 ? 2.3 : Math.max(0, first[cell]! - 0.5 * g) + 0.001 * rep }) })
    const html = renderReport([loadRun(d)])
    expect(summaryCell(html, 'class_entropy', 0, 'threshold')).toBe('none it can reach (gen 0 − 0.6931 = −0.1926 is below 0, the least it can be)')
    expect(summaryCell(html, 'class_entropy', 0, 'crossing')).toBe('cannot be crossed')
    // A level within reach is the threshold as before, crossed at generation 2 (mean 1.0005 ≤ 1.307; generation 1's 1.5005 is not).
    expect(summaryCell(html, 'class_entropy', 1, 'threshold')).toBe('≤ 1.307 (gen 0 − 0.6931)')
    expect(summaryCell(html, 'class_entropy', 1, 'crossing')).toBe('generation 2')
  })

  it('tells collapse from noise by the band the plots draw: the extremes up to 20 replicates, the 5th to 95th percentile past that', () => {
    // A variance that falls tenfold in most replicates while two wild ones stay above generation 0's lowest.
    const curve = (count: number) => ({
      generations: [0, 1, 2],
      mean: [1, 0.6, 0.1],
      min: [0.8, 0.3, 0.01],
      max: [1.3, 0.9, 0.85],
      sd: [0.1, 0.1, 0.1],
      lower: [0.9, 0.4, 0.05],
      upper: [1.1, 0.6, 0.2],
      count: [count, count, count],
    })
    // Past 20 replicates the plotted band (0.05–0.2) is below generation 0's (0.9–1.1) by generation 2.
    expect(findCrossing(curve(100), 0, { below: 0.5 })).toEqual({ kind: 'crossed', generation: 2, side: 'below' })
    // Up to 20 the plot draws the extremes, and 0.85 is not below 0.8.
    expect(findCrossing(curve(20), 0, { below: 0.5 })).toEqual({ kind: 'not-crossed', through: 2 })
  })

  it("takes a threshold for a metric without one by its unit and which way is better, and refuses a factor of a baseline at or below 0", () => {
    const d = dir('given')
    writeSyntheticRun(d, {
      name: 'given',
      dataset: ringDataset,
      base: { generations: 5, samplesPerGeneration: 100, data: { kind: 'ring', n: 100 }, model: { kind: 'kde' }, policy: { kind: 'replace' } },
      cells: [{}],
      replicates: 2,
      // A post-training KL (nats, neither way better) that grows 0.5 nats a generation, a gold
      // reward (higher is better) below 0, and a Zipf slope (no better way), always below 0.
      // A log variance (ln data units², no better way) below 0 that falls 0.5 a generation.
      metrics: (_c, _r, g) =>
        g === -1 ? { kl: 0, gold_reward: -1, zipf_slope: -1.1, log_variance: -1 } : { kl: 0.5 * g, gold_reward: -1 - 0.1 * g, zipf_slope: -1.1 - 0.05 * g, log_variance: -1 - 0.5 * g },
    })
    const run = loadRun(d)
    // An amount either way on a log scale, where a factor of a baseline below 0 means nothing.
    expect(summaryCell(renderReport([run], { thresholds: { log_variance: 1 } }), 'log_variance', 0, 'crossing')).toBe('generation 2 (fell)')
    // An amount either way for the KL: 1 nat above generation 0's 0, first reached at generation 2.
    expect(summaryCell(renderReport([run], { thresholds: { kl: 1 } }), 'kl', 0, 'crossing')).toBe('generation 2 (rose)')
    expect(summaryCell(renderReport([run], { thresholds: { kl: 0.5 } }), 'kl', 0, 'crossing')).toBe('generation 1 (rose)')
    const bad: [Record<string, number>, RegExp][] = [
      [{ kl: -1 }, /--thresholds: kl=-1: expected a positive amount in nats by which it moves either way from its baseline/],
      [{ gold_reward: 2 }, /--thresholds: gold_reward=2: expected a factor between 0 and 1/],
      [{ gold_reward: 0.5 }, /--thresholds: gold_reward=0\.5: a factor of its baseline, which is −1 here \(the worse of the real data and generation 0\), where a factor needs one above 0/],
      [{ zipf_slope: 2 }, /--thresholds: zipf_slope=2: a factor of its baseline, which is −1\.1 here/],
    ]
    for (const [thresholds, message] of bad) expect(() => renderReport([run], { thresholds })).toThrow(message)
  })

  it('takes collapse thresholds per metric from the options and rejects meaningless ones', () => {
    const d = dir('thresholds')
    writeSyntheticRun(d, judgedRun('thresholds'))
    const run = loadRun(d)
    // 0.75 × 8 = 6, reached at generation 2; an amount for a KL; a factor for a metric without a default.
    const html = renderReport([run], { thresholds: parseThresholds('modes_covered=0.75, reverse_kl=0.0001') })
    expect(summaryCell(html, 'modes_covered', 0, 'threshold')).toBe('≤ 6 (0.75 × gen 0)')
    expect(summaryCell(html, 'modes_covered', 0, 'crossing')).toBe('generation 2')
    // Generation 0's mean is 6e−4 + (4 + 2 + 3)e−4 / 3 = 9e−4, above the real data's 6e−4.
    expect(summaryCell(html, 'reverse_kl', 0, 'threshold')).toBe('≥ 0.001 (gen 0 + 1.000e−4)')
    const bad: [string, RegExp][] = [
      ['modes_covered=1.5', /--thresholds: modes_covered=1\.5: expected a factor between 0 and 1/],
      ['reverse_kl=-1', /--thresholds: reverse_kl=-1: expected a positive amount in nats/],
      ['total_variance=0.5', /--thresholds: total_variance=0\.5: expected a factor above 1/],
      ['vocab_size', /--thresholds: 'vocab_size' is not metric=number/],
      ['modes_covered=0x1', /--thresholds: 'modes_covered=0x1' is not metric=number/],
      ['modes_covered=0.5,reverse_kl=0.1,modes_covered=0.75', /--thresholds: modes_covered is given twice \(0\.5 and 0\.75\)/],
    ]
    for (const [text, message] of bad) expect(() => renderReport([run], { thresholds: parseThresholds(text) })).toThrow(message)
    expect(() => renderReport([run], { thresholds: { vocab_size: 0.5 } })).toThrow(/--thresholds: no metric 'vocab_size' in this run; its metrics are modes_covered/)
    // Higher is better, with no threshold of its own: collapse is a fall.
    const precise = dir('thresholds-precision')
    writeSyntheticRun(precise, { ...judgedRun('precision'), metrics: (_c, _r, g) => ({ precision: 0.9 - 0.01 * Math.max(g, 0) }) })
    expect(() => renderReport([loadRun(precise)], { thresholds: parseThresholds('precision=1') })).toThrow(/--thresholds: precision=1: expected a factor between 0 and 1/)
    // A name that is none of the run's is said as such, whatever its value.
    expect(() => renderReport([run], { thresholds: { kll: 1 } })).toThrow(/--thresholds: no metric 'kll' in this run/)
  })

  it('shows gold_reward only where it is not reward, and points a threshold on it to reward', () => {
    // Records of generation g: reward g / 10; gold reward the same (no proxy), or half of it (a proxy's).
    const rewarded = (name: string, gold: (reward: number) => number): SyntheticRun => ({
      ...handRun(name),
      metrics: (_cell, _rep, g) => (g === -1 ? { total_variance: 4 } : { total_variance: 4 - g / 2, reward: g / 10, gold_reward: gold(g / 10), kl: g }),
    })
    const same = dir('reward-same')
    writeSyntheticRun(same, rewarded('same', (r) => r))
    const proxy = dir('reward-proxy')
    writeSyntheticRun(proxy, rewarded('proxy', (r) => r / 2))
    const html = renderReport([loadRun(same)])
    expect(summaryCell(html, 'reward', 0, 'last')).toBe('0.3 (gen 3)')
    // Neither a row of the summary nor a collapse curve.
    expect(html).not.toContain('gold_reward')
    expect(summaryCell(renderReport([loadRun(proxy)]), 'gold_reward', 0, 'last')).toBe('0.15 (gen 3)')
    expect(() => renderReport([loadRun(same)], { thresholds: { gold_reward: 0.5 } })).toThrow(/--thresholds: gold_reward is reward in this run \(a reward that is no proxy is its own gold reward\)/)
  })

  it('puts every run of a comparison in one summary table, the rows of a metric together', () => {
    const a = dir('one-table-a')
    const b = dir('one-table-b')
    writeSyntheticRun(a, handRun('first'))
    writeSyntheticRun(b, { ...handRun('second'), cells: [{}] })
    const html = renderReport([loadRun(a), loadRun(b)])
    expect(html.match(/<table class="summary">/g)).toHaveLength(1)
    const rows = [...html.matchAll(/<tr data-metric="total_variance" data-cell="(\d)" data-run="([^"]+)">[\s\S]*?<td class="setting"><span class="keyed"><span class="swatch"[^>]*><\/span><span>([^<]*)<\/span><\/span><\/td>/g)].map((m) => m[3])
    expect(rows).toEqual(['first: policy=replace, components=8', 'first: policy=accumulate, components=8', 'second'])
  })

  it('keeps a 0.3 % wiggle from filling a plot: the y axis reaches the collapse levels, shares stay within 0–100 %', () => {
    const d = dir('range')
    writeSyntheticRun(d, {
      ...handRun('range'),
      replicates: 1,
      metrics: (_c, _r, g) => ({ total_variance: g < 0 ? 4.0008 : 4 - 0.004 * (g % 2), pct_high_quality: g < 0 ? 98.9 : 98.9 - 0.2 * g }),
    })
    const html = renderReport([loadRun(d)])
    // Collapse levels 2 and 8.0016, padded by 5 % of the 6.0016 between.
    const [lo, hi] = (metricPlot(html, 'total_variance').layout.yaxis as { range: number[] }).range as [number, number]
    expect(lo).toBeCloseTo(2 - 0.30008, 4)
    expect(hi).toBeCloseTo(8.0016 + 0.30008, 4)
    // No threshold: at least 10 % of 98.9, here moved under the ceiling of 100 %.
    const [plo, phi] = (metricPlot(html, 'pct_high_quality').layout.yaxis as { range: number[] }).range as [number, number]
    expect(plo).toBeCloseTo(100 - 9.89 - 0.05 * 9.89, 2)
    expect(phi).toBeCloseTo(100 + 0.05 * 9.89, 2)
  })

  it('widens a range about its middle, inside the bounds a metric can take, and leaves a wide one to plotly', () => {
    expect(sensibleRange([1, 1.01], [], 1)).toEqual([0.505 - 0.05, 1.505 + 0.05])
    expect(sensibleRange([0.1, 0.2], [], 1)).toEqual([-0.05, 1.05])
    expect(sensibleRange([0.95, 0.99], [], 0.5, [0, 1])).toEqual([0.475, 1.02])
    // Bounds cut plotly's own padding, which would reach 120 % for shares near 100 %.
    expect(sensibleRange([1, 98], [], 0, [0, 100])).toEqual([-2, 102])
    expect(sensibleRange([1, 5], [], 1)).toBeUndefined()
    expect(sensibleRange([4, 4.01], [2, 8], 0)).toEqual([1.7, 8.3])
    // A share that stays 0 (no size to widen by): a tenth of its bounds above 0, not plotly's −1 to 1.
    expect(sensibleRange([0, 0, 0], [], 0, [0, 1])).toEqual([-0.005, 0.105])
    expect(sensibleRange([0, 0], [], 0)).toEqual([-0.05, 1.05])
  })

  it('labels every tick of a log axis with its whole value, never a lone first digit', () => {
    const ticks = (values: number[]): { tickvals: number[]; ticktext: string[] } => logAxis(values) as { tickvals: number[]; ticktext: string[] }
    // Two decades (regression-replace-vs-accumulate's excess error): 1, 2 and 5 in each decade.
    const narrow = ticks([0.031, 0.2, 6.1])
    const shown = (t: { tickvals: number[]; ticktext: string[] }, lo: number, hi: number): string[] => t.ticktext.filter((_, i) => t.tickvals[i]! >= lo && t.tickvals[i]! <= hi)
    expect(shown(narrow, 0.031, 6.1)).toEqual(['0.05', '0.1', '0.2', '0.5', '1', '2', '5'])
    // Where a tick is written in plain digits, they are its value.
    narrow.ticktext.forEach((text, i) => {
      if (!text.includes('10')) expect(Number(text)).toBe(narrow.tickvals[i])
    })
    // Four decades: each decade alone.
    expect(shown(ticks([0.0013, 6]), 0.0013, 6)).toEqual(['0.01', '0.1', '1'])
    // Twelve decades (gaussian-chain-mle's total variance): every second one, all powers of ten
    // since some values lie past 0.001.
    const wide = ticks([1e-12, 1.2])
    expect(shown(wide, 1e-12, 1.2)).toEqual(['10⁻¹²', '10⁻¹⁰', '10⁻⁸', '10⁻⁶', '10⁻⁴', '10⁻²', '10⁰'])
    // A perplexity from 7,900 to billions (brown-charlm-rl): powers of ten, 10⁴ as well as 10⁹.
    expect(shown(ticks([7931, 6e9]), 7931, 6e9)).toEqual(['10⁴', '10⁵', '10⁶', '10⁷', '10⁸', '10⁹'])
    expect(wide.tickvals).toContain(1e-12)
  })

  it('draws ±2 standard errors of the mean where theory is drawn, to judge the gap between them', () => {
    const d = dir('se')
    // Replicate r's error at generation g is (g + 1)·(0.05 + 0.02 r): mean (g + 1)·0.08, SD (g + 1)·0.02·√(5/3).
    writeSyntheticRun(d, {
      name: 'se',
      dataset: { kind: 'regression', modality: 'vectors', d: 11, regression: { sigma: 1, T: 100, d: 10 } },
      base: { generations: 5, samplesPerGeneration: 100, data: { kind: 'regression', n: 100 }, model: { kind: 'linreg' }, policy: { kind: 'replace' } },
      cells: [{}],
      replicates: 4,
      metrics: (_c, r, g) => ({ excess_test_error: g < 0 ? 0 : (g + 1) * (0.05 + 0.02 * r) }),
    })
    const html = renderReport([loadRun(d)])
    // The run's facts give the config's d, the features, beside the label each row also holds.
    expect(html).toContain('<tr><th>dataset</th><td>regression, d = 10 (rows of 10 features and a label)</td></tr>')
    const plot = metricPlot(html, 'excess_test_error')
    const lower = plot.data.find((t) => t.name === 'se: mean ± 2 standard errors')!
    const upper = plot.data.find((t) => t.name === 'se: mean + 2 standard errors')!
    for (const g of [0, 4]) {
      const se = (2 * (g + 1) * 0.02 * Math.sqrt(5 / 3)) / Math.sqrt(4)
      expect((lower.y as number[])[g]).toBeCloseTo((g + 1) * 0.08 - se, 5)
      expect((upper.y as number[])[g]).toBeCloseTo((g + 1) * 0.08 + se, 5)
    }
    // Without theory there is no such band, whatever the replicates.
    const plain = dir('se-none')
    writeSyntheticRun(plain, judgedRun('plain'))
    expect(metricPlot(renderReport([loadRun(plain)]), 'total_variance').data.some((t) => String(t.name).includes('standard errors'))).toBe(false)
  })

  it('draws theory and its ±2 standard errors only for the settings theory is for, naming them in the legend', () => {
    const d = dir('se-some')
    writeSyntheticRun(d, gaussianRun('temps', { kind: 'gaussian' }, { cells: [{ 'sampling.temperature': 1 }, { 'sampling.temperature': 0.5 }], replicates: 3 }))
    const plot = metricPlot(renderReport([loadRun(d)]), 'log_variance')
    const names = plot.data.map((t) => String(t.name))
    // The Gaussian chain's theory holds at temperature 1 only.
    expect(names.filter((n) => n.startsWith('theory'))).toEqual(['theory: ±1 SD of log σ² (temperature=1)', 'theory: ±1 SD of log σ² (temperature=1)', 'theory: E[log σ²], MLE fits of M=100 (temperature=1)'])
    expect(names.filter((n) => n.includes('standard errors'))).toEqual(['temperature=1: mean + 2 standard errors', 'temperature=1: mean ± 2 standard errors'])
  })

  it('shows regression samples as labels minus the least-squares fit to the real data, not the design every generation shares', () => {
    const d = dir('residuals')
    // Design rows x = (1, i), w* = (0.5, −1); the real labels add e_i = 0.1·(−1)^i; generation g's labels
    // are those of w* + (0, 0.1 g) with no noise.
    const T = 6
    const rows = (labels: (x: [number, number], i: number) => number): VectorSamples =>
      vectors(T, 3, Float64Array.from({ length: T * 3 }, (_, k) => {
        const i = Math.floor(k / 3)
        const x: [number, number] = [1, i]
        return k % 3 === 2 ? labels(x, i) : x[k % 3]!
      }))
    writeSyntheticRun(d, {
      name: 'residuals',
      dataset: { kind: 'regression', modality: 'vectors', d: 3, regression: { sigma: 0.1, T, d: 2 } },
      base: { generations: 3, samplesPerGeneration: T, data: { kind: 'regression', n: T }, model: { kind: 'linreg' }, policy: { kind: 'replace' } },
      cells: [{}],
      replicates: 1,
      metrics: () => ({ excess_test_error: 0 }),
      samples: (_c, _r, g) => rows((x, i) => 0.5 * x[0] - x[1] + (g === 'real' ? 0.1 * (-1) ** i : 0.1 * g * x[1])),
    })
    // ŵ₀ by hand from the 2 × 2 normal equations: Σx = (6, 15), Σx₂² = 55, Σe = 0, Σ i·e = 0.1·(0 − 1 + 2 − 3 + 4 − 5) = −0.3.
    const det = 6 * 55 - 15 * 15
    const w1 = -1 + (6 * -0.3 - 15 * 0) / det
    const w0 = 0.5 + (55 * 0 - 15 * -0.3) / det
    const plot = embeddedPlots(renderReport([loadRun(d)])).find((p) => p.slider !== undefined)!
    expect((plot.layout.yaxis as { title: { text: string } }).title.text).toBe('label − x·ŵ₀')
    const frame = plot.data.find((t) => t.name === 'generation 2')!
    const floats = (v: unknown): Float32Array => new Float32Array(Uint8Array.from(Buffer.from((v as { bdata: string }).bdata, 'base64')).buffer)
    const xs = floats(frame.x)
    const ys = floats(frame.y)
    for (let i = 0; i < T; i++) {
      const fit = w0 + w1 * i
      expect(xs[i]).toBeCloseTo(fit, 5)
      expect(ys[i]).toBeCloseTo(0.5 - i + 0.2 * i - fit, 5)
    }
    expect(plot.data.find((t) => t.name === '±2σ: the label noise')!.y).toEqual([0.2, 0.2, null, -0.2, -0.2])
  })

  it('names each swept path and its values in the header', () => {
    const d = dir('header')
    writeSyntheticRun(d, handRun('header'))
    const run = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8'))
    writeFileSync(join(d, 'run.json'), JSON.stringify({ ...run, config: { ...run.config, sweep: { 'policy.kind': ['replace', 'accumulate'], 'model.components': [8] } } }))
    // Named as the settings' labels name them.
    expect(renderReport([loadRun(d)])).toMatch(/4 generations · data ring · model gmm · policy replace \| accumulate · components 8 · started/)
    // Whole specs: each by its kind and the options the others do not share.
    const lexicon = (per: string) => ({ kind: 'reward', reward: { kind: 'lexicon', words: ['w11', 'w12', 'w13', 'w14', 'w15', 'w16'], per }, choices: 2 })
    writeFileSync(join(d, 'run.json'), JSON.stringify({ ...run, config: { ...run.config, sweep: { filter: [lexicon('sentence'), lexicon('token'), null] } } }))
    expect(renderReport([loadRun(d)])).toContain('data ring · model gmm · filter reward(reward=lexicon(per=sentence)) | reward(reward=lexicon(per=token)) | null · started')
  })

  it('names the model in the header and the run facts, a program by its file names', () => {
    const d = dir('model-named')
    const run = handRun('model-named')
    writeSyntheticRun(d, { ...run, base: { ...run.base, model: { kind: 'command', command: ['/usr/bin/python3', '/home/me/models/later.py'], params: {} } }, cells: [{}] })
    const html = renderReport([loadRun(d)])
    expect(html).toContain('4 generations · data ring · model python3 later.py · started')
    expect(html).toContain('<tr><th>model</th><td>python3 later.py</td></tr>')
  })

  it('names the swept paths in the labels as in the header, in the order of the config’s sweep', () => {
    const d = dir('order')
    // Cells that keep their parameters last path first, as runs made before the cells named them in the sweep's order do.
    const cells = [0, 100].flatMap((nReal) => [1, 0.5].map((temperature) => ({ 'sampling.temperature': temperature, 'policy.nReal': nReal })))
    writeSyntheticRun(d, {
      ...handRun('order'),
      cells,
      base: { ...handRun('order').base, sweep: { 'policy.nReal': [0, 100], 'sampling.temperature': [1, 0.5] } },
      metrics: (cell, _r, g) => ({ total_variance: g === -1 ? 4 : 4 - 0.1 * (g + 1) - 0.01 * cell }),
    })
    const html = renderReport([loadRun(d)])
    expect(html).toContain('data ring · model gmm · nReal 0 | 100 · temperature 1 | 0.5 · started')
    expect(metricPlot(html, 'total_variance').data.map((t) => t.name).filter((n) => String(n).endsWith('(mean)'))).toEqual(['nReal=0, temperature=1 (mean)', 'nReal=0, temperature=0.5 (mean)', 'nReal=100, temperature=1 (mean)', 'nReal=100, temperature=0.5 (mean)'])
  })

  it('draws one curve per cell with a min–max band, the real-data line dashed, and words for the swept values', () => {
    const d = dir('curves')
    writeSyntheticRun(d, handRun('curves'))
    const plot = metricPlot(renderReport([loadRun(d)]), 'total_variance')
    const names = plot.data.map((t) => t.name)
    expect(names).toContain('policy=replace, components=8 (mean)')
    expect(names).toContain('policy=replace, components=8: min–max over 2 replicates')
    const mean = plot.data.find((t) => t.name === 'policy=replace, components=8 (mean)')!
    expect(mean.y).toEqual([4, 3.2, 2.1, 1.7])
    const band = plot.data.find((t) => t.name === 'policy=replace, components=8: min–max over 2 replicates')!
    expect(band.y).toEqual([4, 3, 2, 1.5])
    const real = plot.data.find((t) => t.name === 'real data (generation −1)')!
    expect(real.y).toEqual([4.0008, 4.0008])
    expect((real.line as { dash: string }).dash).toBe('dash')
    expect((plot.layout.yaxis as { title: { text: string } }).title.text).toBe('total variance (data units²)')
    expect((plot.layout.yaxis as { type?: string }).type).toBeUndefined()
  })

  it("gives the bands past 4 settings one legend entry for all, each band in its mean's legend group", () => {
    const d = dir('many-settings')
    const cells = [1, 2, 3, 4, 5].map((k) => ({ 'model.components': k }))
    writeSyntheticRun(d, { ...handRun('many-settings'), cells, metrics: (c, r, g) => ({ total_variance: 4 - g * (c + 1) * 0.1 + r * 0.01 }) })
    const plot = metricPlot(renderReport([loadRun(d)]), 'total_variance')
    const listed = plot.data.filter((t) => t.showlegend !== false).map((t) => t.name)
    expect(listed).toEqual([...cells.map((_, i) => `components=${i + 1} (mean)`), 'shaded, in each setting’s colour: min–max over 2 replicates', 'real data (generation −1)'])
    const band = plot.data.find((t) => t.name === 'components=3: min–max over 2 replicates')!
    expect(band.showlegend).toBe(false)
    expect(band.legendgroup).toBe(plot.data.find((t) => t.name === 'components=3 (mean)')!.legendgroup)
  })

  it('keys a summary row past the seventh setting by its dash and marker shape, its colour being an earlier row’s', () => {
    const d = dir('nine-settings')
    const cells = Array.from({ length: 9 }, (_, k) => ({ 'model.components': k + 1 }))
    writeSyntheticRun(d, { ...handRun('nine-settings'), cells, metrics: (c, r, g) => ({ total_variance: 4 - g * (c + 1) * 0.1 + r * 0.01 }) })
    const html = renderReport([loadRun(d)])
    const key = (cell: number): string => new RegExp(`<tr data-metric="total_variance" data-cell="${cell}">[\\s\\S]*?<td class="setting"><span class="keyed">([\\s\\S]*?)<span>components=`).exec(html)![1]!
    const plot = metricPlot(html, 'total_variance')
    const line = (name: string) => plot.data.find((t) => t.name === name)!.line as { color: string; dash: string }
    // The eighth curve has the first one's colour and a dash of its own; its row says so, the first row is a plain square.
    expect(line('components=8 (mean)').color).toBe(line('components=1 (mean)').color)
    expect(line('components=8 (mean)').dash).toBe('dashdot')
    expect(key(0)).toBe(`<span class="swatch" style="background:${line('components=1 (mean)').color}"></span>`)
    expect(key(6)).toMatch(/^<span class="swatch"/)
    expect(key(7)).toContain(`stroke="${line('components=1 (mean)').color}"`)
    expect(key(7)).toContain('stroke-dasharray="6 2 2 2"')
    expect(key(7)).toContain('<rect ')
    expect(key(8)).toContain('stroke-dasharray="6 2 2 2"')
    expect(key(8)).not.toBe(key(7))
  })

  it('uses a log y axis where positive values span more than two orders of magnitude', () => {
    const d = dir('log')
    writeSyntheticRun(d, { ...handRun('log'), replicates: 1, metrics: (_c, _r, g) => ({ mmd_rbf: g < 0 ? 1e-4 : 10 ** (g - 3), vendi: 5 + g, log_det_cov: g < 0 ? 1e-4 : 10 ** (g - 3), nll_real: g < 0 ? 1 : 10 ** g }) })
    const html = renderReport([loadRun(d)])
    expect((metricPlot(html, 'mmd_rbf').layout.yaxis as { type?: string }).type).toBe('log')
    // A logarithm (ln data units) spanning decades above 0 by chance keeps a linear axis: its 0 means nothing.
    expect((metricPlot(html, 'log_det_cov').layout.yaxis as { type?: string }).type).toBeUndefined()
    // An NLL exploding over generations (nats per sample) keeps its log axis.
    expect((metricPlot(html, 'nll_real').layout.yaxis as { type?: string }).type).toBe('log')
    expect((metricPlot(html, 'vendi').layout.yaxis as { type?: string }).type).toBeUndefined()
    // A single replicate draws no band, and its legend is the cell alone.
    expect(metricPlot(html, 'vendi').data.map((t) => t.name)).toEqual(['policy=replace, components=8', 'policy=accumulate, components=8', 'real data (generation −1)'])
  })

  it('overlays the 1-D Gaussian theory, E[log σ²] = log σ₀² + k(ψ((M−1)/2) + ln 2 − ln d) ± √(k ψ′((M−1)/2))', () => {
    const d = dir('gauss')
    writeSyntheticRun(d, gaussianRun('gauss', { kind: 'gaussian' }))
    const plot = metricPlot(renderReport([loadRun(d)]), 'log_variance')
    const theory = plot.data.find((t) => String(t.name).startsWith('theory: E[log σ²]'))!
    const upper = plot.data.find((t) => t.name === 'theory: ±1 SD of log σ²' && t.fill === undefined)!
    const M = 100
    for (const g of [0, 1, 7, 19]) {
      const k = g + 1
      // (M − 1)/2 = 49.5 = 49 + 1/2; MLE divides by d = M.
      const expected = 2 * Math.log(1.5) + k * (digammaHalf(49) + Math.LN2 - Math.log(M))
      expect((theory.y as number[])[g]).toBeCloseTo(expected, 4)
      expect((upper.y as number[])[g]).toBeCloseTo(expected + Math.sqrt(k * trigammaHalf(49)), 4)
    }
    expect(theory.x).toEqual(Array.from({ length: 20 }, (_, g) => g))
  })

  it("draws each setting's Gaussian theory from its own σ₀, and names the curves apart where their names alone do not", () => {
    const d = dir('gauss-std')
    const std = [1.5, 10]
    writeSyntheticRun(d, gaussianRun('gauss-std', { kind: 'gaussian' }, {
      base: { generations: 20, samplesPerGeneration: 100, data: { kind: 'gaussian', n: 100, std: 1.5 }, model: { kind: 'gaussian' }, policy: { kind: 'replace' }, sampling: { temperature: 1 } },
      cells: [{ 'data.std': 1.5 }, { 'data.std': 10 }],
      // run.json keeps the second setting's data facts, which differ from the first's.
      cellDataset: (cell) => (cell === 1 ? { kind: 'gaussian', modality: 'vectors', d: 1, gaussian: { mean: 0, std: 10 } } : undefined),
      metrics: (cell, _r, g) => ({ log_variance: 2 * Math.log(std[cell]!) - 0.01 * (g + 1) }),
    }))
    const plot = metricPlot(renderReport([loadRun(d)]), 'log_variance')
    const theories = plot.data.filter((t) => String(t.name).startsWith('theory: E[log σ²]'))
    expect(theories.map((t) => t.name)).toEqual(['theory: E[log σ²], MLE fits of M=100 (std=1.5)', 'theory: E[log σ²], MLE fits of M=100 (std=10)'])
    expect(plot.data.filter((t) => t.name === 'theory: ±1 SD of log σ² (std=10)' && t.fill === 'tonexty')).toHaveLength(1)
    // The same drift from each setting's log σ₀²: generation 0 is one fit of 100 draws, ψ(49.5) + ln 2 − ln 100.
    std.forEach((s, i) => expect((theories[i]!.y as number[])[0]).toBeCloseTo(2 * Math.log(s) + digammaHalf(49) + Math.LN2 - Math.log(100), 4))
  })

  it('computes the Gaussian theory for the unbiased estimator, odd M, and a first fit on a different n', () => {
    // M = 101: (M − 1)/2 = 50, an integer; unbiased divides by d = M − 1 = 100.
    const unbiased = gaussianLogVariance({ sigma0: 1, nReal: 101, m: 101, estimator: 'unbiased', generations: [0, 4, 9] })
    for (const [i, g] of [0, 4, 9].entries()) {
      expect(unbiased.mean[i]).toBeCloseTo((g + 1) * (digammaInt(50) + Math.LN2 - Math.log(100)), 10)
    }
    // Generation 0 fits 1000 real samples (ψ(499.5)), each later fit 100 (ψ(49.5)).
    const mixed = gaussianLogVariance({ sigma0: 2, nReal: 1000, m: 100, estimator: 'mle', generations: [3] })
    const expected = 2 * Math.log(2) + (digammaHalf(499) + Math.LN2 - Math.log(1000)) + 3 * (digammaHalf(49) + Math.LN2 - Math.log(100))
    expect(mixed.mean[0]).toBeCloseTo(expected, 10)
    expect(mixed.sd[0]).toBeCloseTo(Math.sqrt(trigammaHalf(499) + 3 * trigammaHalf(49)), 10)
  })

  it('draws no Gaussian theory where it does not apply: accumulate, another temperature, a filter, a post-training stage, 2-D data', () => {
    for (const spec of [
      gaussianRun('acc', { kind: 'gaussian' }, { cells: [{ 'policy.kind': 'accumulate' }] }),
      gaussianRun('temp', { kind: 'gaussian' }, { cells: [{ 'sampling.temperature': 0.9 }] }),
      // A likelihood filter keeping half the samples cuts ln σ² by about 1.95 a generation, the theory 0.02.
      gaussianRun('filter', { kind: 'gaussian' }, { cells: [{ filter: { kind: 'likelihood', keep: 0.5 } }] }),
      gaussianRun('bon', { kind: 'gaussian' }, { cells: [{ posttrain: [{ kind: 'best-of-n', n: 4, reward: { kind: 'point', at: [0], scale: 1 } }] }] }),
      gaussianRun('2d', { kind: 'gaussian' }, { dataset: { kind: 'gaussian', modality: 'vectors', d: 2, gaussian: { mean: 0, std: 1 } } }),
    ]) {
      const d = dir('notheory')
      writeSyntheticRun(d, spec)
      expect(metricPlot(renderReport([loadRun(d)]), 'log_variance').data.some((t) => String(t.name).startsWith('theory'))).toBe(false)
    }
  })

  it('overlays the regression theory: replace (g+1)·c, accumulate c·Σ 1/i² under (π²/6)·c, c = σ²d/(T−d−1)', () => {
    const d = dir('regression')
    const sigma = 0.5
    const T = 50
    const dim = 10
    writeSyntheticRun(d, {
      name: 'regression',
      dataset: { kind: 'regression', modality: 'vectors', d: dim, regression: { sigma, T, d: dim } },
      base: { generations: 12, samplesPerGeneration: T, data: { kind: 'regression', n: T }, model: { kind: 'linreg' }, policy: { kind: 'replace' } },
      cells: [{ 'policy.kind': 'replace' }, { 'policy.kind': 'accumulate' }],
      replicates: 1,
      metrics: (_c, _r, g) => ({ excess_test_error: g < 0 ? 0 : 0.06 * (g + 1) }),
    })
    const plot = metricPlot(renderReport([loadRun(d)]), 'excess_test_error')
    const c = (sigma * sigma * dim) / (T - dim - 1)
    const replace = plot.data.find((t) => String(t.name).startsWith('theory (replace)'))!
    const accumulate = plot.data.find((t) => String(t.name).startsWith('theory (accumulate)'))!
    const bound = plot.data.find((t) => String(t.name).startsWith('theory bound'))!
    expect((replace.y as number[])[0]).toBeCloseTo(c, 5)
    expect((replace.y as number[])[9]).toBeCloseTo(10 * c, 5)
    // 1 + 1/4 + 1/9 = 49/36 at generation 2.
    expect((accumulate.y as number[])[2]).toBeCloseTo((c * 49) / 36, 5)
    expect((bound.y as number[])[0]).toBeCloseTo((c * Math.PI * Math.PI) / 6, 5)
    expect(regressionExcessError({ sigma, T, d: dim, policy: 'accumulate', generations: [1000] })[0]).toBeLessThan((c * Math.PI * Math.PI) / 6)

    // Chains the theory is not of: M = 25 of T = 50 (each generation adds σ²d/(M−d−1)), another
    // temperature, a filter. Each cell draws none; the plain cell still draws its own.
    const other = dir('regression-other')
    writeSyntheticRun(other, {
      name: 'regression-other',
      dataset: { kind: 'regression', modality: 'vectors', d: dim, regression: { sigma, T, d: dim } },
      base: { generations: 4, samplesPerGeneration: T, data: { kind: 'regression', n: T }, model: { kind: 'linreg' }, policy: { kind: 'replace' } },
      cells: [{}, { samplesPerGeneration: 25 }, { 'sampling.temperature': 0.5 }, { filter: { kind: 'likelihood', keep: 0.5 } }],
      replicates: 1,
      metrics: (_c, _r, g) => ({ excess_test_error: g < 0 ? 0 : 0.06 * (g + 1) }),
    })
    const info = loadRun(other).info
    expect(info.cells.map((cell) => theoryCurves(info, cell, 'excess_test_error').length)).toEqual([1, 0, 0, 0])
  })

  it('draws a million-generation theory and a long curve through at most 2000 points, first and last kept', () => {
    const d = dir('long')
    writeSyntheticRun(d, {
      name: 'long',
      dataset: { kind: 'regression', modality: 'vectors', d: 2, regression: { sigma: 1, T: 10, d: 2 } },
      base: { generations: 5000, samplesPerGeneration: 10, data: { kind: 'regression', n: 10 }, model: { kind: 'linreg' }, policy: { kind: 'accumulate' } },
      cells: [{}],
      replicates: 1,
      metrics: (_c, _r, g) => ({ excess_test_error: 0.3 + 1e-5 * g }),
    })
    const run = loadRun(d)
    const plot = metricPlot(renderReport([run]), 'excess_test_error')
    const x = plot.data[0]!.x as number[]
    expect(x.length).toBeLessThanOrEqual(2000)
    expect([x[0], x[x.length - 1]]).toEqual([0, 4999])
    const cell = { ...run.info.cells[0]!, config: { ...run.info.cells[0]!.config, generations: 1_000_000 } }
    const [theory] = theoryCurves(run.info, cell, 'excess_test_error')
    expect(theory!.generations.length).toBeLessThanOrEqual(2000)
    expect(theory!.generations[theory!.generations.length - 1]).toBe(999_999)
    // Σ_{i=1}^{N} 1/i² = π²/6 − 1/N + O(1/N²), c = 1·2/(10 − 2 − 1).
    expect(theory!.values[theory!.values.length - 1]).toBeCloseTo((2 / 7) * ((Math.PI * Math.PI) / 6 - 1e-6), 8)
  })

  it('flags an incomplete run at the top and lists each failed chain with its error and generation', () => {
    const d = dir('incomplete')
    writeSyntheticRun(d, {
      ...handRun('incomplete'),
      status: 'running',
      failure: (cell, rep) => (cell === 0 && rep === 1 ? { generation: 2, message: 'covariance not positive definite', code: 'OUROBOROS_MODEL' } : undefined),
    })
    const html = renderReport([loadRun(d)])
    const top = html.indexOf('Incomplete run')
    expect(top).toBeGreaterThan(-1)
    expect(top).toBeLessThan(html.indexOf('id="summary"'))
    expect(html).toContain('1 of 4 chains stopped before their last generation')
    expect(html).toMatch(/<li data-chain="c0-r1"><code>c0-r1<\/code> \(policy=replace, components=8, replicate 1, seed 1001\) failed at generation 2: covariance not positive definite<\/li>/)
    // The error's code is run.json's, for scripts; the reader gets the message as the terminal said it.
    expect(html).not.toContain('OUROBOROS_MODEL')
  })

  it('tells a run in progress from one that was killed by the process its run.lock names', () => {
    const d = dir('still-running')
    writeSyntheticRun(d, { ...handRun('still-running'), status: 'running' })
    // No lock (or the lock of a process that has ended): killed, and resumable.
    expect(renderReport([loadRun(d)])).toContain(`its status is still “running”, but no process runs it: it was killed (ouroboros resume ${d} finishes it)`)
    writeFileSync(join(d, 'run.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: HOST, since: new Date().toISOString() }))
    expect(renderReport([loadRun(d)])).toContain('it was killed')
    // This process holds it.
    writeFileSync(join(d, 'run.lock'), JSON.stringify({ pid: process.pid, host: HOST, since: new Date().toISOString() }))
    const html = renderReport([loadRun(d)])
    expect(html).toContain(`it is in progress (process ${process.pid} on ${HOST})`)
    expect(html).not.toContain('killed')
    // A chain short of its last generation that is running is still going; a failed one has stopped.
    const going = dir('going')
    writeSyntheticRun(going, { ...handRun('going'), status: 'running', failure: (cell, rep) => (rep === 1 ? { generation: 2, message: 'singular', code: 'OUROBOROS_MODEL' } : undefined) })
    const file = join(going, 'run.json')
    const info = JSON.parse(readFileSync(file, 'utf8'))
    const running = info.chains.findIndex((c: { replicate: number; cell: number }) => c.replicate === 1 && c.cell === 0)
    const { error: _error, ...chain } = info.chains[running]
    info.chains[running] = { ...chain, status: 'running' }
    writeFileSync(file, JSON.stringify(info))
    writeFileSync(join(going, 'run.lock'), JSON.stringify({ pid: process.pid, host: HOST, since: new Date().toISOString() }))
    const failed = info.chains.filter((c: { status: string }) => c.status === 'failed').length
    expect(renderReport([loadRun(going)])).toContain(`it is in progress (process ${process.pid} on ${HOST}); ${failed} of ${info.chains.length} chains stopped before their last generation`)
  })

  it("says how an interrupted run is finished, on its queue's workers where it ran on a queue", () => {
    const d = dir('interrupted')
    writeSyntheticRun(d, { ...handRun('interrupted'), status: 'interrupted' })
    // The run's own directory, as loaded (an absolute path), ready to copy.
    expect(renderReport([loadRun(d)])).toContain(`it was interrupted (ouroboros resume ${d} finishes it)`)
    const file = join(d, 'run.json')
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), queue: 'redis://127.0.0.1:6390' }))
    expect(renderReport([loadRun(d)])).toContain(`it was interrupted (ouroboros resume ${d} finishes it, on the queue&#39;s workers with --queue redis://127.0.0.1:6390)`)
    // A path with a space and a quote is quoted for the shell: 'DIR/it'\''s a run', its quotes escaped in the page.
    const spaced = join(d, "it's a run")
    writeSyntheticRun(spaced, { ...handRun('interrupted'), status: 'interrupted' })
    expect(renderReport([loadRun(spaced)])).toContain(`ouroboros resume &#39;${d}/it&#39;\\&#39;&#39;s a run&#39; finishes it`)
  })

  it('shows run facts: seeds, package versions, backend, node, stage timings and the escaped config', () => {
    const d = dir('facts')
    writeSyntheticRun(d, handRun('facts'))
    const html = renderReport([loadRun(d)])
    expect(html).toContain('<tr><th>run seed</th><td>7</td></tr>')
    expect(html).toContain('<tr><th>@ouroboros/core</th><td>0.1.0</td></tr>')
    expect(html).toContain('<tr><th>backend</th><td>cpu</td></tr>')
    expect(html).toContain('<tr><th>wall time</th><td>2 min 5 s</td></tr>')
    // 2 cells × 2 chains × 5 records (generations −1..3) × 10 ms of fitting.
    expect(html).toMatch(/<tr class="total"><th>total<\/th><td class="num">200 ms<\/td><td class="num">100 ms<\/td><td class="num">40 ms<\/td><\/tr>/)
    expect(html).toContain('&quot;policy&quot;: {')
  })

  it('leaves the time a resumed run stood stopped out of its wall time, and says when it was resumed', () => {
    const d = dir('resumed')
    writeSyntheticRun(d, handRun('resumed'))
    const info = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')) as Record<string, unknown>
    // Started 00:00:00, finished 00:02:05; stopped 00:00:30 to 00:01:10 and 00:01:40 to 00:01:45: 80 s running.
    info['stops'] = [
      { stoppedAt: '2025-01-01T00:00:30.000Z', resumedAt: '2025-01-01T00:01:10.000Z' },
      { stoppedAt: '2025-01-01T00:01:40.000Z', resumedAt: '2025-01-01T00:01:45.000Z' },
    ]
    writeFileSync(join(d, 'run.json'), JSON.stringify(info))
    const html = renderReport([loadRun(d)])
    expect(html).toContain('<tr><th>wall time</th><td>80.0 s</td></tr>')
    expect(html).toContain('<tr><th>resumed</th><td>2025-01-01T00:01:10.000Z, 2025-01-01T00:01:45.000Z; the 45.0 s it stood stopped is left out of the wall time</td></tr>')
  })

  it('shows the classifier accuracy that run.json records, and no classifier row without it', () => {
    const d = dir('classifier')
    writeSyntheticRun(d, handRun('classifier'))
    expect(renderReport([loadRun(d)])).not.toContain('<th>classifier</th>')
    const run = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8'))
    writeFileSync(join(d, 'run.json'), JSON.stringify({ ...run, classifier: { heldoutAccuracy: 0.9712, testItems: 1000, backend: 'cpu', hash: 'ab', cacheFile: '/c' } }))
    expect(renderReport([loadRun(d)])).toContain('<tr><th>classifier</th><td>held-out accuracy 97.12 % on 1000 digits</td></tr>')
  })

  it('shows a scatter per saved generation with the mode centres and a slider over them', () => {
    const d = dir('samples')
    const rng = Rng.from(1, 'samples')
    writeSyntheticRun(d, {
      ...handRun('samples'),
      samples: (cell, rep, g) => (rep === 0 && (g === 'real' || g % 2 === 1 || g === 0) ? ringSamples(3000, g === 'real' ? 8 : 8 - 2 * g, rng) : undefined),
    })
    const html = renderReport([loadRun(d)])
    const plots = embeddedPlots(html).filter((p) => p.slider !== undefined)
    expect(plots).toHaveLength(2)
    const p = plots[0]!
    expect(p.slider!.generations).toEqual([0, 1, 3])
    expect(p.data.map((t) => t.name)).toEqual(['mode centres', 'real data', 'generation 0', 'generation 1', 'generation 3'])
    expect(p.data.map((t) => t.visible)).toEqual([undefined, true, false, false, true])
    const frame = p.data[2]!.x as { dtype: string; bdata: string }
    expect(frame.dtype).toBe('f4')
    // 3000 points thinned to 2000, 4 bytes each.
    expect(Buffer.from(frame.bdata, 'base64').length).toBe(2000 * 4)
    expect(p.data[0]!.x).toHaveLength(8)
    expect(html).toMatch(/<input type="range" min="0" max="2" step="1" value="2" data-slider-for="\d+">/)
    expect(html).toContain('generation 3: 2000 of 3000 points')
  })

  it('draws the 1-D histograms of one run on shared bins, says where a generation is far narrower than a bar, and what the slider offers on every panel', () => {
    const d = dir('histograms')
    const column = (f: (i: number) => number): VectorSamples => vectors(100, 1, Float64Array.from({ length: 100 }, (_, i) => f(i)))
    // The same real data under both settings; the first spreads to ±10, the second collapses to 0.5 + [0, 0.00099].
    writeSyntheticRun(d, gaussianRun('histograms', { kind: 'gaussian' }, {
      base: { generations: 3, samplesPerGeneration: 100, data: { kind: 'gaussian', n: 100 }, model: { kind: 'gaussian' }, policy: { kind: 'replace' }, sampling: { temperature: 1 } },
      cells: [{ 'policy.kind': 'replace' }, { 'policy.kind': 'accumulate' }],
      samples: (cell, _r, g) => (g === 'real' ? column((i) => i / 10 - 5) : cell === 0 ? column((i) => (i / 99) * 20 - 10) : g === 2 ? column((i) => 0.5 + i * 1e-5) : column((i) => i / 10 - 5)),
    }))
    const html = renderReport([loadRun(d)])
    const plots = embeddedPlots(html).filter((p) => p.slider !== undefined)
    expect(plots).toHaveLength(2)
    const bins = plots.map((p) => (p.data[0] as { xbins: { start: number; end: number; size: number } }).xbins)
    expect(bins[1]).toEqual(bins[0])
    expect((plots[1]!.layout.xaxis as { range: number[] }).range).toEqual((plots[0]!.layout.xaxis as { range: number[] }).range)
    // Both reach past the first setting's ±10, which alone the second panel held none of.
    expect(bins[0]!.start).toBeLessThan(-9)
    expect(bins[0]!.end).toBeGreaterThan(9)
    // Stored as 32-bit floats: 0.5 and 0.5 + 99e-5 as float32.
    const [lo, hi] = [Math.fround(0.5), Math.fround(0.5 + 99e-5)]
    expect(plots[1]!.slider!.captions[2]).toBe(`generation 2: 100 of 100 points, all within ${formatNumber((hi - lo) / 2)} of ${formatNumber((hi + lo) / 2)}, far narrower than one bar (${formatNumber(bins[0]!.size)} wide)`)
    expect(plots[0]!.slider!.captions[2]).toBe('generation 2: 100 of 100 points')
    const captions = [...html.matchAll(/<figcaption>Chain <code>c\d-r0<\/code> \(replicate 0\)(.*?)<\/figcaption>/g)].map((m) => m[1])
    expect(captions).toEqual(['; the slider offers all 3 generations this chain saved samples of.', '; the slider offers all 3 generations this chain saved samples of.'])
    // Data of another spread are not the same data: their bins are their own.
    const other = dir('histograms-std')
    writeSyntheticRun(other, gaussianRun('histograms-std', { kind: 'gaussian' }, {
      base: { generations: 2, samplesPerGeneration: 100, data: { kind: 'gaussian', n: 100 }, model: { kind: 'gaussian' }, policy: { kind: 'replace' }, sampling: { temperature: 1 } },
      cells: [{ 'data.std': 1 }, { 'data.std': 10 }],
      samples: (cell, _r) => column((i) => (cell === 0 ? 1 : 10) * (i / 50 - 1)),
    }))
    const apart = embeddedPlots(renderReport([loadRun(other)])).filter((p) => p.slider !== undefined)
    const ends = apart.map((p) => (p.data[0] as { xbins: { end: number } }).xbins.end)
    expect(ends[0]).toBeLessThan(2)
    expect(ends[1]).toBeGreaterThan(9)
  })

  it('says under a filtered setting’s samples that they are the draws its filter kept, not those the metrics score', () => {
    const d = dir('filtered-samples')
    const rng = Rng.from(1, 'filtered')
    writeSyntheticRun(d, {
      ...ringRun('filtered-samples', 2),
      cells: [{ filter: null }, { filter: { kind: 'modes', qualityStds: 3 } }],
      failure: () => undefined,
      samples: (cell, rep, g) => (rep === 0 && g !== 'real' ? ringSamples(100, 8, rng) : undefined),
    })
    const captions = [...renderReport([loadRun(d)]).matchAll(/<figcaption>Chain <code>(c\d)-r0<\/code> \(replicate 0\)(.*?)<\/figcaption>/g)].map((m) => [m[1], m[2]])
    expect(captions).toEqual([
      ['c0', '; the slider offers all 2 generations this chain saved samples of.'],
      ['c1', '; the slider offers all 2 generations this chain saved samples of; these are the draws the filter (<code>modes</code>) kept, which the next generation trains on, where the metrics score the model’s draws before it.'],
    ])
  })

  it('shows training curves when a model wrote them, skipping a torn last line', () => {
    const d = dir('training')
    writeSyntheticRun(d, handRun('training'))
    const lines = Array.from({ length: 50 }, (_, step) => JSON.stringify({ step, metrics: { loss: 1 / (step + 1) } }))
    mkdirSync(chainDir(d, 'c0-r0'), { recursive: true })
    writeFileSync(join(chainDir(d, 'c0-r0'), 'gen-000001.training.ndjson'), lines.join('\n') + '\n{"step": 50, "metr')
    const html = renderReport([loadRun(d)])
    const plot = embeddedPlots(html).find((p) => (p.layout.title as { text: string }).text.startsWith('Training: loss'))!
    expect(plot.data).toHaveLength(1)
    expect(plot.data[0]!.x).toHaveLength(50)
    expect((plot.layout.yaxis as { type?: string }).type).toBeUndefined()
  })

  it('marks the points of a training curve of a few steps: a curve of one step has no line to draw', () => {
    const d = dir('training-one-step')
    writeSyntheticRun(d, handRun('training-one-step'))
    mkdirSync(chainDir(d, 'c0-r0'), { recursive: true })
    writeFileSync(join(chainDir(d, 'c0-r0'), 'gen-000000.training.ndjson'), JSON.stringify({ step: 100, losses: { loss: 6.9 }, metrics: {} }) + '\n')
    writeFileSync(join(chainDir(d, 'c0-r0'), 'gen-000001.training.ndjson'), Array.from({ length: 50 }, (_, s) => JSON.stringify({ step: s, losses: { loss: 2 / (s + 1) }, metrics: {} })).join('\n') + '\n')
    const plot = embeddedPlots(renderReport([loadRun(d)])).find((p) => (p.layout.title as { text: string }).text.startsWith('Training: loss'))!
    expect(plot.data.map((t) => [t.name, t.mode])).toEqual([
      ['generation 0', 'lines+markers'],
      ['generation 1', 'lines'],
    ])
  })

  it('titles a metric recorded in training as the collapse curves do, with its unit on the axis', () => {
    const d = dir('training-titles')
    writeSyntheticRun(d, handRun('training-titles'))
    const lines = Array.from({ length: 5 }, (_, step) => JSON.stringify({ step, metrics: { modes_covered: 8 - step } }))
    mkdirSync(chainDir(d, 'c0-r0'), { recursive: true })
    writeFileSync(join(chainDir(d, 'c0-r0'), 'gen-000001.training.ndjson'), lines.join('\n') + '\n')
    const plot = embeddedPlots(renderReport([loadRun(d)])).find((p) => (p.layout.title as { text: string }).text.startsWith('Training: '))!
    // Long titles wrap at a <br>.
    expect((plot.layout.title as { text: string }).text.replace('<br>', ' ')).toBe('Training: modes covered · modes_covered: policy=replace, components=8 (chain c0-r0)')
    expect(((plot.layout.yaxis as { title: { text: string } }).title.text)).toBe('modes covered (modes)')
  })

  it("titles a model's losses as the model describes them, and by their names where it does not", () => {
    const d = dir('training-losses')
    writeSyntheticRun(d, handRun('training-losses'))
    const curve = (losses: (step: number) => Record<string, number>): string => Array.from({ length: 5 }, (_, step) => JSON.stringify({ step, losses: losses(step), metrics: {} })).join('\n') + '\n'
    mkdirSync(chainDir(d, 'c0-r0'), { recursive: true })
    writeFileSync(join(chainDir(d, 'c0-r0'), 'gen-000001.training.ndjson'), curve((s) => ({ loss: 2 / (s + 1) })))
    mkdirSync(chainDir(d, 'c1-r0'), { recursive: true })
    writeFileSync(join(chainDir(d, 'c1-r0'), 'gen-000001.training.ndjson'), curve((s) => ({ d: 1 + s, g: 2 + s })))
    const shown = (): [string, string][] =>
      embeddedPlots(renderReport([loadRun(d)]))
        .filter((p) => (p.layout.title as { text: string }).text.startsWith('Training'))
        .map((p) => [(p.layout.title as { text: string }).text.replace('<br>', ' '), (p.layout.yaxis as { title: { text: string } }).title.text])
    expect(shown()).toEqual([
      ['Training: loss: policy=replace, components=8 (chain c0-r0)', 'training loss'],
      ['Training: loss · d: policy=accumulate, components=8 (chain c1-r0)', 'training loss: d'],
      ['Training: loss · g: policy=accumulate, components=8 (chain c1-r0)', 'training loss: g'],
    ])
    // Described in run.json by the models (`lossInfo`): their titles, and units on the axes.
    const info = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8'))
    info.lossInfo = { loss: { title: 'cross-entropy', unit: 'nats per token' }, d: { title: 'discriminator loss' } }
    writeFileSync(join(d, 'run.json'), JSON.stringify(info))
    expect(shown()).toEqual([
      ['Training: cross-entropy · loss: policy=replace, components=8 (chain c0-r0)', 'cross-entropy (nats per token)'],
      ['Training: discriminator loss · d: policy=accumulate, components=8 (chain c1-r0)', 'discriminator loss'],
      ['Training: loss · g: policy=accumulate, components=8 (chain c1-r0)', 'training loss: g'],
    ])
  })

  it('shows which modes a generator covers at each training step as a heatmap', () => {
    const d = dir('training-modes')
    writeSyntheticRun(d, handRun('training-modes'))
    mkdirSync(chainDir(d, 'c0-r0'), { recursive: true })
    // A generator cycling through 4 modes, one every 10 steps.
    const line = (step: number): string => {
      const hq_share = [0, 0, 0, 0].map((_, m) => (Math.floor(step / 10) % 4 === m ? 0.9 : 0))
      return JSON.stringify({ step, metrics: { modes_covered: 1 }, profiles: { modes: { hq_share } } })
    }
    for (const g of [0, 1, 2]) writeFileSync(join(chainDir(d, 'c0-r0'), `gen-00000${g}.training.ndjson`), Array.from({ length: 40 }, (_, s) => line(s)).join('\n') + '\n')
    const html = renderReport([loadRun(d)])
    const plots = embeddedPlots(html).filter((p) => (p.layout.title as { text: string }).text.startsWith('Modes during training'))
    // The colour is the mode's high-quality samples over all samples, not all samples nearest the mode: the bar and the caption say so.
    // In percent, as pct_high_quality is: a share of 0.9 is 90 %.
    expect((plots[0]!.data[0] as { colorbar: { title: { text: string } } }).colorbar.title.text).toBe('high-quality samples<br>at the mode,<br>% of all samples')
    expect((plots[0]!.data[0] as { hovertemplate: string }).hovertemplate).toContain('%{z:.3g} % of all samples')
    expect(html).toContain('<p class="note">The heatmaps “Modes during training” colour each mode at each step by its high-quality samples')
    // The first and the last generation.
    expect(plots.map((p) => (p.layout.title as { text: string }).text.match(/generation (\d+)/)![1])).toEqual(['0', '2'])
    const trace = plots[0]!.data[0] as { type: string; x: number[]; z: (number | null)[][] }
    expect(trace.type).toBe('heatmap')
    expect(trace.x).toHaveLength(40)
    expect(trace.z).toHaveLength(4)
    expect(trace.z[1]![15]).toBe(90)
    expect(trace.z[0]![15]).toBe(0)
    expect((trace as { zmax?: number }).zmax).toBeUndefined()
  })

  it('keeps the axes of a generator that covers no mode yet to shares and counts of 0 and above', () => {
    const d = dir('training-no-modes')
    writeSyntheticRun(d, handRun('training-no-modes'))
    mkdirSync(chainDir(d, 'c0-r0'), { recursive: true })
    const line = (step: number): string => JSON.stringify({ step, metrics: { modes_covered: 0, pct_high_quality: 0 }, profiles: { modes: { hq_share: [0, 0, 0, 0] } } })
    writeFileSync(join(chainDir(d, 'c0-r0'), 'gen-000001.training.ndjson'), Array.from({ length: 10 }, (_, s) => line(s)).join('\n') + '\n')
    const plots = embeddedPlots(renderReport([loadRun(d)]))
    const titled = (start: string) => plots.find((p) => (p.layout.title as { text: string }).text.startsWith(start))!
    // Plotly would draw each from −1 to 1, and the heatmap's scale from −0.5 to 0.5. A span of 1,
    // for a share in per cent a tenth of its bounds, padded by 5 % so that the markers at 0 show whole.
    expect((titled('Training: modes covered').layout.yaxis as { range?: number[] }).range).toEqual([-0.05, 1.05])
    expect((titled('Training: high-quality samples').layout.yaxis as { range?: number[] }).range).toEqual([-0.5, 10.5])
    expect((titled('Modes during training').data[0] as { zmin?: number; zmax?: number })).toMatchObject({ zmin: 0, zmax: 100 })
  })

  it('renders a token run, showing token ids where no vocabulary was saved', () => {
    const d = dir('tokens')
    writeSyntheticRun(d, {
      ...handRun('tokens'),
      modality: 'tokens',
      dataset: { kind: 'brown', modality: 'tokens' },
      metrics: (_c, _r, g) => ({ vocab_size: 1000 - 10 * Math.max(g, 0) }),
    })
    writeSamples(samplesPath(d, 'c0-r0', 0, 'tokens'), { modality: 'tokens', n: 1, vocabSize: 3, tokens: Int32Array.from([0, 1, 2]), offsets: Uint32Array.from([0, 3]) })
    const html = renderReport([loadRun(d)])
    expect(html).toContain('<li>#0 #1 #2</li>')
    expect(summaryCell(html, 'vocab_size', 0, 'crossing')).toBe('not by generation 3')
  })

  it('puts several runs on one page: a section each, shared curves with legends prefixed by run name', () => {
    const a = dir('multi-a')
    const b = dir('multi-b')
    writeSyntheticRun(a, handRun('baseline'))
    writeSyntheticRun(b, { ...handRun('bigger'), cells: [{}] })
    const html = renderReport([loadRun(a), loadRun(b)])
    const names = metricPlot(html, 'total_variance').data.map((t) => t.name)
    expect(names).toContain('baseline: policy=replace, components=8 (mean)')
    expect(names).toContain('bigger (mean)')
    expect(html).toContain('<h3>baseline</h3>')
    expect(html).toContain('<h3>bigger</h3>')
    const declared = Number(/<meta name="ouroboros-plots" content="(\d+)">/.exec(html)![1])
    expect(declared).toBe(embeddedPlots(html).length)
    expect(html.match(/<div class="plot" data-plot="\d+"><\/div>/g)).toHaveLength(declared)
    // A run that never measured a metric the other did has no gap in it: nothing is missing.
    const c = dir('multi-c')
    writeSyntheticRun(c, { ...handRun('fewer'), cells: [{}], metrics: (cell, rep, g) => ({ total_variance: handRun('fewer').metrics(cell, rep, g)['total_variance']! }) })
    const mixed = renderReport([loadRun(a), loadRun(c)])
    expect(mixed).not.toContain('Some values are missing')
    expect(metricPlot(mixed, 'nll_real').data.some((t) => String(t.name).startsWith('fewer'))).toBe(false)
  })

  it('gives a run of one generation on a page with a run of many no threshold and no collapse, which its chains cannot show', () => {
    const many = dir('mixed-many')
    const one = dir('mixed-one')
    writeSyntheticRun(many, handRun('many'))
    const hand = handRun('one')
    writeSyntheticRun(one, { ...hand, base: { ...hand.base, generations: 1 }, cells: [{}] })
    const html = renderReport([loadRun(many), loadRun(one)])
    const row = /<tr data-metric="total_variance" data-cell="0" data-run="one">([\s\S]*?)<\/tr>/.exec(html)![1]!
    expect(row).toContain('<td data-col="threshold">—</td><td data-col="crossing">— (one generation: settings are compared, no collapse followed)</td>')
    const other = /<tr data-metric="total_variance" data-cell="0" data-run="many">([\s\S]*?)<\/tr>/.exec(html)![1]!
    expect(other).toContain('(real data × 2)')
  })

  it("draws one real-data line per sample size where runs of the same data score samples of other sizes, each at its own runs' mean", () => {
    const runs = [100, 100, 200].map((size, i) => {
      const d = dir(`reference-${i}`)
      const hand = handRun(`size-${i}`)
      // The real data's value moves with the sample's size, and a little with the run's draw.
      const real = (size === 100 ? 4 : 3) + 0.01 * i
      writeSyntheticRun(d, { ...hand, base: { ...hand.base, samplesPerGeneration: size }, cells: [{}], metrics: (c, r, g) => (g === -1 ? { ...hand.metrics(c, r, g), total_variance: real } : hand.metrics(c, r, g)) })
      return loadRun(d)
    })
    const lines = (html: string) => metricPlot(html, 'total_variance').data.filter((t) => String(t.name).startsWith('real data')).map((t) => [t.name, (t.y as number[])[0]])
    expect(lines(renderReport(runs))).toEqual([
      ['real data: size-0; size-1', 4.005],
      ['real data: size-2', 3.02],
    ])
    expect(lines(renderReport(runs.slice(0, 2)))).toEqual([['real data (generation −1)', 4.005]])
  })

  it('loads nothing from the network: no src, href, import or fetch to another host', () => {
    const d = dir('offline')
    writeSyntheticRun(d, handRun('offline'))
    const html = renderReport([loadRun(d)])
    const tags = html.match(/<(script|link|img|iframe|object|embed|source|video|audio)\b[^>]*>/gi) ?? []
    for (const tag of tags) expect(tag).not.toMatch(/\b(src|href|data)\s*=/i)
    expect(html).not.toMatch(/<link\b/i)
    const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!
    expect(css).not.toMatch(/url\(|@import/)
    const pageScript = html.slice(html.lastIndexOf('<script>'))
    expect(pageScript).not.toMatch(/https?:\/\/|fetch\(|XMLHttpRequest|import\(/)
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-/)
  })

  it('stays under 15 MB for 4 cells × 3 replicates × 100 generations of 10,000 2-D samples', () => {
    const d = dir('size')
    const rng = Rng.from(2, 'size')
    const base = ringSamples(10_000, 8, rng)
    writeSyntheticRun(d, {
      name: 'size',
      dataset: ringDataset,
      base: { generations: 100, samplesPerGeneration: 10_000, data: { kind: 'ring', n: 10_000 }, model: { kind: 'gmm' }, policy: { kind: 'replace' } },
      cells: [0, 1, 2, 3].map((i) => ({ 'model.components': 2 ** (i + 1), 'policy.kind': i < 2 ? 'replace' : 'accumulate' })),
      replicates: 3,
      metrics: (_c, rep, g) => ({
        total_variance: 4 * 0.98 ** Math.max(g, 0) + rep * 1e-3,
        modes_covered: 8,
        reverse_kl: 0.001 * (g + 2),
        recall: 0.9 - 0.005 * Math.max(g, 0),
        coverage: 0.95 - 0.004 * Math.max(g, 0),
        vendi: 7 - 0.03 * Math.max(g, 0),
      }),
      // Every generation of replicate 0 saved: the most any run can give the page to show.
      samples: (_c, rep, g) => (rep === 0 || g === 0 || g === 99 || g === 'real' ? base : undefined),
    })
    const out = join(d, 'report.html')
    const started = Date.now()
    return writeReport([d], out).then((path) => {
      expect(path).toBe(out)
      const bytes = statSync(out).size
      console.log(`report for 4 cells × 3 replicates × 100 generations: ${(bytes / 1e6).toFixed(2)} MB in ${Date.now() - started} ms`)
      expect(bytes).toBeLessThan(15e6)
      const html = readFileSync(out, 'utf8')
      expect(html).toContain('the slider offers 25 of the 100 generations this chain saved samples of')
      // Why a chain saved every generation is said where its policy trains on them (the others here are a test's).
      expect(html.match(/saved samples of \(under accumulate a chain keeps every generation’s samples, which it trains on\)/g)).toHaveLength(2)
      expect(html.match(/the slider offers 25 of the 100 generations this chain saved samples of\./g)).toHaveLength(2)
    })
  })

  it('shows the same generations for settings side by side when one saved every generation and one only the report’s', () => {
    const d = dir('aligned')
    const base = ringSamples(50, 8, Rng.from(3, 'aligned'))
    const reported = new Set([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99])
    writeSyntheticRun(d, {
      name: 'aligned',
      dataset: ringDataset,
      base: { generations: 100, samplesPerGeneration: 50, data: { kind: 'ring', n: 50 }, model: { kind: 'gmm' }, policy: { kind: 'replace' } },
      cells: [{ 'policy.kind': 'replace' }, { 'policy.kind': 'accumulate' }],
      replicates: 1,
      metrics: () => ({ modes_covered: 8 }),
      // As a run saves them: `replace` keeps the report's generations, `accumulate` every one it trains on.
      samples: (c, _rep, g) => (g === 'real' || c === 1 || reported.has(g) ? base : undefined),
    })
    const run = loadRun(d)
    const shown = run.samples.map((s) => s.frames.map((f) => f.generation))
    expect(shown).toEqual([[...reported], [...reported]])
    expect(run.samples.map((s) => s.saved)).toEqual([11, 100])
    // 50 points a generation: markers large enough to see where they all land on one spot.
    const sizes = embeddedPlots(renderReport([run]))
      .filter((p) => p.slider !== undefined)
      .flatMap((p) => p.data.filter((t) => String(t.name).startsWith('generation')).map((t) => (t.marker as { size: number }).size))
    expect(new Set(sizes)).toEqual(new Set([6]))
  })
})

describe('plot axes', () => {
  it('break a y axis title longer than a plot is high into lines, where plotly cut it at both ends', () => {
    const long = 'cross-entropy of the training batches since the last point (nats per token)'
    const text = (baseLayout('t', 'x', long).yaxis as { title: { text: string } }).title.text
    const lines = text.split('<br>')
    expect(lines.length).toBe(2)
    expect(lines.join(' ')).toBe(long)
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(44)
    expect((baseLayout('t', 'x', 'modes covered').yaxis as { title: { text: string } }).title.text).toBe('modes covered')
  })
})

describe('writeReport', () => {
  it('writes the page atomically to the given path and says which directory is not a run', async () => {
    const d = dir('write')
    writeSyntheticRun(d, handRun('write'))
    const out = join(d, 'sub', 'report.html')
    expect(await writeReport([d], out)).toBe(out)
    expect(readFileSync(out, 'utf8').startsWith('<!doctype html>')).toBe(true)
    expect(existsSync(`${out}.tmp`)).toBe(false)
    await expect(writeReport([dir('empty')], join(d, 'x.html'))).rejects.toThrow(/: not a run directory \(no run.json\)$/)
  })

  it('reports a damaged sample file on the page instead of failing', async () => {
    const d = dir('damaged')
    writeSyntheticRun(d, { ...handRun('damaged'), samples: (_c, rep, g) => (rep === 0 && g !== 'real' && g < 2 ? vectors(2, 2, Float64Array.from([0, 0, 1, 1])) : undefined) })
    writeFileSync(samplesPath(d, 'c0-r0', 1, 'vectors'), 'not numpy')
    const html = renderReport([loadRun(d)])
    expect(html).toContain('Files that could not be read')
    expect(html).toMatch(/chains\/c0-r0\/gen-000001\.samples\.npy: .*not a NumPy \.npy file/)
  })
})

describe('failed chains', () => {
  it('lists each failed chain with its error and, where the error said what to do, its hint', () => {
    const d = tempDir('hint')
    try {
      const hint = 'a 2-dimensional Gaussian needs at least 3 points; raise data.n (generation 0) or samplesPerGeneration (the generations after it)'
      writeSyntheticRun(d, { ...ringRun('hint', 10), failure: (cell, rep) => (cell === 1 && rep === 1 ? { generation: 7, message: 'singular', code: 'OUROBOROS_INPUT', hint } : undefined) })
      const html = renderReport([loadRun(d)])
      const item = /<li data-chain="c1-r1">([\s\S]*?)<\/li>/.exec(html)![1]!
      expect(item).toContain('failed at generation 7: singular <span class="hint">(a 2-dimensional Gaussian needs at least 3 points; raise data.n')
    } finally {
      rmSync(d, { recursive: true, force: true })
    }
  })
})
