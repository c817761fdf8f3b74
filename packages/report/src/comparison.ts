/**
 * The view of single-generation runs (every cell fits once: a GAN loss against another, a
 * post-training stage): there is no chain to draw, so each metric is compared across settings,
 * replicates as dots with their mean and spread, and the training curves per setting.
 */
import type { MetricRecord } from '@ouroboros/store'
import { POOL_REFERENCE } from './cell-data.js'
import { escapeHtml, formatNumber, plotlyText } from './html.js'
import type { ChainTraining } from './load.js'
import type { MetricCatalog } from './metric-info.js'
import { bandAlpha, bandKey, baseLayout, constantAxis, lineMode, logAxis, lossLabels, REAL_COLOR, rgba, round, sensibleRange, settingCell, wantsLogAxis, type PlotSpec, type SeriesStyle } from './plots.js'

/** A setting as the page names and draws it (its series' style). */
export interface Setting extends SeriesStyle {
  /** Index of the run on the page. */
  run: number
  cell: number
  label: string
  /** The setting's place on the page from 1, which a comparison plot's axis shows where labels do not fit. */
  number: number
}

export interface SettingValues {
  /** Generation-0 values, one per replicate, in replicate order. */
  values: number[]
  replicates: number[]
  /** Mean over the setting's chains of the real-data record (generation −1). */
  reference: number | null
}

/** metric -> "run:cell" -> values, from the records of one run. */
export function settingValues(records: readonly MetricRecord[]): { metrics: string[]; values: Map<string, Map<number, SettingValues>> } {
  const metrics: string[] = []
  const seen = new Set<string>()
  const out = new Map<string, Map<number, SettingValues>>()
  const refs = new Map<string, Map<number, number[]>>()
  const sorted = [...records].sort((a, b) => a.cell - b.cell || a.replicate - b.replicate)
  for (const r of sorted) {
    if (r.generation !== 0 && r.generation !== -1) continue
    for (const [name, v] of Object.entries(r.metrics)) {
      if (!seen.has(name)) {
        seen.add(name)
        metrics.push(name)
      }
      if (typeof v !== 'number' || !Number.isFinite(v)) continue
      if (r.generation === -1) {
        const byCell = refs.get(name) ?? new Map<number, number[]>()
        refs.set(name, byCell)
        byCell.set(r.cell, [...(byCell.get(r.cell) ?? []), v])
        continue
      }
      const byCell = out.get(name) ?? new Map<number, SettingValues>()
      out.set(name, byCell)
      const entry = byCell.get(r.cell) ?? { values: [], replicates: [], reference: null }
      entry.values.push(v)
      entry.replicates.push(r.replicate)
      byCell.set(r.cell, entry)
    }
  }
  for (const [name, byCell] of refs) {
    for (const [cell, list] of byCell) {
      const metric = out.get(name) ?? new Map<number, SettingValues>()
      out.set(name, metric)
      const entry = metric.get(cell) ?? { values: [], replicates: [], reference: null }
      entry.reference = mean(list)
      metric.set(cell, entry)
    }
  }
  return { metrics, values: out }
}

export function mean(list: readonly number[]): number {
  let s = 0
  for (const v of list) s += v
  return s / list.length
}

/** Sample standard deviation (n − 1); 0 for one value. */
export function sd(list: readonly number[]): number {
  if (list.length < 2) return 0
  const m = mean(list)
  let ss = 0
  for (const v of list) ss += (v - m) * (v - m)
  return Math.sqrt(ss / (list.length - 1))
}

export interface MetricRow {
  setting: Setting
  entry: SettingValues
}

/** Replicates listed by value in the table up to this many; more are summed up by their range. */
const LISTED_REPLICATES = 10

/** One table: a row per metric and setting. */
export function comparisonTable(metrics: readonly string[], rows: (metric: string) => MetricRow[], catalog: MetricCatalog, pooled = false): string {
  const body: string[] = []
  for (const metric of metrics) {
    const list = rows(metric)
    list.forEach(({ setting, entry }, i) => {
      const metricCell = i === 0 ? `<th scope="rowgroup" rowspan="${list.length}">${catalog.heading(metric)}</th>` : ''
      const n = entry.values.length
      const listed = n <= LISTED_REPLICATES ? entry.values.map((v) => formatNumber(v)).join(', ') : `${formatNumber(Math.min(...entry.values))} to ${formatNumber(Math.max(...entry.values))}`
      body.push(
        `<tr data-metric="${escapeHtml(metric)}" data-cell="${setting.cell}" data-run="${setting.run}">${metricCell}` +
          settingCell(setting, setting.label) +
          `<td data-col="reference" class="num">${formatNumber(entry.reference)}</td>` +
          `<td data-col="mean" class="num">${n === 0 ? '—' : formatNumber(mean(entry.values))}</td>` +
          `<td data-col="sd" class="num">${n < 2 ? '—' : formatNumber(sd(entry.values))}</td>` +
          `<td data-col="replicates" class="num">${n === 0 ? '—' : `${listed} <span class="gen">(${n})</span>`}</td>` +
          '</tr>',
      )
    })
  }
  return `<table class="summary comparison">
<thead><tr><th>metric</th><th>setting</th><th>real data</th><th>mean</th><th>standard deviation</th><th>replicates</th></tr></thead>
<tbody>
${body.join('\n')}
</tbody></table>
<p class="note">Every setting fits one generation, so settings are compared rather than followed over generations: the mean and standard deviation over replicates of the model’s metrics, and the metric on fresh real data (generation −1), the value a perfect model would reach up to sampling noise${pooled ? `, where the data have no limit; ${POOL_REFERENCE}` : ''}.</p>`
}

/** The width a comparison plot's x axis has at least (the report's grid gives a plot 560 px or more), and a tick character's. */
const AXIS_PX = 480
const CHAR_PX = 6.5
/** A tick line's height, and the most an upright tick may reach below the axis before it crowds the plot. */
const LINE_PX = 14
const UPRIGHT_PX = 210

/** A label's parts: after its run's name and at commas outside parentheses, so that `gan(lr=0.1, leak=0)` stays one part. */
function labelParts(label: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < label.length; i++) {
    const c = label[i]
    if (c === '(') depth++
    else if (c === ')') depth--
    const comma = c === ',' && label[i + 1] === ' '
    const afterName = c === ' ' && label[i - 1] === ':'
    if (depth === 0 && (comma || afterName)) {
      parts.push(label.slice(start, i))
      start = i + (comma ? 2 : 1)
    }
  }
  parts.push(label.slice(start))
  return parts
}

/**
 * The settings' ticks under a comparison plot: each label broken into lines after its run's name
 * and at its commas (`beta=0.1<br>labels=200`). Where these do not fit side by side and every
 * label names the same parameters in the same order (one run's sweep), the ticks are the values
 * alone, one parameter a line, and the axis title names the parameters: fifteen settings of
 * `beta=0.03, labels=1000` ran into each other. Ticks that still do not fit stand upright, and
 * where even upright ones would overlap or reach far below the plot (twenty GAN specs) the ticks
 * are the settings' `numbers`, which the page keys to their labels.
 */
export function settingTicks(labels: readonly string[], numbers: readonly number[] = labels.map((_, i) => i + 1)): { text: string[]; title?: string; upright?: boolean; numbered?: boolean } {
  const lines = labels.map(labelParts)
  const slot = AXIS_PX / Math.max(1, labels.length)
  const longest = (rows: readonly (readonly string[])[]): number => Math.max(...rows.flat().map((line) => line.length)) * CHAR_PX
  const fits = (rows: readonly (readonly string[])[]): boolean => longest(rows) <= slot
  const standsUp = (rows: readonly (readonly string[])[]): boolean => Math.max(...rows.map((row) => row.length)) * LINE_PX <= slot && longest(rows) <= UPRIGHT_PX
  const show = (rows: readonly (readonly string[])[]): string[] => rows.map((row) => row.map(plotlyText).join('<br>'))
  const numbered = { text: numbers.map(String), title: 'setting (numbered as in the key below the plots)', numbered: true }
  if (fits(lines)) return { text: show(lines) }
  const pairs = lines.map((row) => row.map((part) => /^([^=:(]+)=(.+)$/.exec(part)))
  const names = pairs[0]!.map((m) => m?.[1])
  const shared = names.every((name) => name !== undefined) && pairs.every((row) => row.length === names.length && row.every((m, i) => m?.[1] === names[i]))
  if (!shared) return standsUp(lines) ? { text: show(lines), upright: true } : numbered
  const values = pairs.map((row) => row.map((m) => m![2]!))
  if (fits(values)) return { text: show(values), title: names.join(', ') }
  return standsUp(values) ? { text: show(values), title: names.join(', '), upright: true } : numbered
}

/** Replicates of one setting spread sideways by this much at most, so that equal values stay visible. */
const JITTER = 0.24

/**
 * One metric across settings: replicates as dots, their mean as a wide tick with ±1 standard
 * deviation whiskers (stopped at the farthest replicate), the real data as a grey tick.
 */
export function comparisonPlot(p: { metric: string; rows: readonly MetricRow[]; catalog: MetricCatalog }): PlotSpec {
  const info = p.catalog.info(p.metric)
  const data: Record<string, unknown>[] = []
  const plotted = p.rows.flatMap(({ entry }) => [...entry.values, ...(entry.reference === null ? [] : [entry.reference])])
  // A bounded share spans orders of magnitude only on its way to 0, which a log axis would blow up
  // (and run past its bound: a percentage to 200 %), as in the collapse curves.
  const log = info.bounds === undefined && wantsLogAxis(plotted, info.unit)
  const ref = { x: [] as number[], y: [] as number[] }
  p.rows.forEach(({ setting, entry }, i) => {
    const n = entry.values.length
    const step = n > 1 ? Math.min(0.08, JITTER / (n - 1)) : 0
    data.push({
      type: 'scatter',
      mode: 'markers',
      x: entry.values.map((_, j) => round(i + (j - (n - 1) / 2) * step)),
      y: entry.values.map(round),
      customdata: entry.replicates,
      marker: { color: rgba(setting.color, 0.75), size: 8, line: { width: 1, color: setting.color } },
      name: plotlyText(setting.label),
      showlegend: false,
      hovertemplate: `${plotlyText(setting.label)}<br>replicate %{customdata}: %{y:.4g}<extra></extra>`,
    })
    const m = mean(entry.values)
    const spread = sd(entry.values)
    // A few replicates' SD can reach past every one of them, and past what the metric can take
    // (modes covered below 0, or on a log axis below 0): the whiskers stop at the farthest replicate.
    const low = Math.max(m - spread, Math.min(...entry.values))
    const high = Math.min(m + spread, Math.max(...entry.values))
    const whisker = n > 1
    if (n > 0) {
      data.push({
        type: 'scatter',
        mode: 'markers',
        x: [i],
        y: [round(m)],
        error_y: { type: 'data', symmetric: false, array: [round(high - m)], arrayminus: [round(m - low)], visible: whisker, color: setting.color, thickness: 2, width: 10 },
        marker: { symbol: 'line-ew-open', size: 34, color: setting.color, line: { width: 3, color: setting.color } },
        name: `${plotlyText(setting.label)}: mean${whisker ? ' ± 1 SD' : ''}`,
        showlegend: false,
        hovertemplate: `${plotlyText(setting.label)}<br>mean %{y:.4g} of ${n}${n > 1 ? `, SD ${formatNumber(spread)}` : ''}<extra></extra>`,
      })
    }
    if (entry.reference !== null) {
      ref.x.push(i)
      ref.y.push(round(entry.reference))
    }
  })
  // Drawn first, so that a setting whose marks sit at the real data's value stays visible over it.
  if (ref.x.length > 0) {
    data.unshift({
      type: 'scatter',
      mode: 'markers',
      x: ref.x,
      y: ref.y,
      marker: { symbol: 'line-ew', size: 48, color: REAL_COLOR, line: { width: 2, color: REAL_COLOR } },
      name: 'real data (generation −1)',
      hovertemplate: 'real data %{y:.4g}<extra></extra>',
    })
  }
  const layout = baseLayout(p.catalog.titled(p.metric), '', p.catalog.axisTitle(p.metric))
  const xaxis = layout.xaxis as Record<string, unknown>
  xaxis.tickvals = p.rows.map((_, i) => i)
  const ticks = settingTicks(
    p.rows.map((r) => r.setting.label),
    p.rows.map((r) => r.setting.number),
  )
  xaxis.ticktext = ticks.text
  if (ticks.title !== undefined) xaxis.title = { text: plotlyText(ticks.title) }
  xaxis.range = [-0.6, p.rows.length - 0.4]
  xaxis.showgrid = false
  // Level labels broken into lines read better than rotated ones, which plotly may also thin out.
  xaxis.tickangle = ticks.upright === true ? -90 : 0
  xaxis.tickfont = { size: 11 }
  const yaxis = layout.yaxis as Record<string, unknown>
  if (log) Object.assign(yaxis, logAxis(plotted))
  else {
    const size = Math.max(0, ...plotted.map(Math.abs))
    const range = sensibleRange(plotted, [], 0.1 * size, info.bounds)
    if (range !== undefined) yaxis.range = range
  }
  return { data, layout }
}

/**
 * One training metric, or with `loss` one of the trainer's losses, every setting: the mean over
 * replicates at each recorded step, with a min–max band where there are several. `catalog`
 * describes the metrics, or with `loss` the models' losses.
 */
export function trainingComparisonPlot(p: { metric: string; loss?: boolean; settings: readonly { setting: Setting; chains: readonly ChainTraining[] }[]; catalog: MetricCatalog }): PlotSpec {
  const data: Record<string, unknown>[] = []
  const plotted: number[] = []
  // The replicates of the settings drawn with a band, for the legend's one entry saying what the bands are.
  const banded: number[] = []
  for (const { setting, chains } of p.settings) {
    const byStep = new Map<number, number[]>()
    for (const chain of chains) {
      const curve = chain.curves.find((c) => c.generation === 0) ?? chain.curves[0]
      const values = curve === undefined ? undefined : (p.loss === true ? curve.losses : curve.values)[p.metric]
      if (curve === undefined || values === undefined) continue
      curve.steps.forEach((step, i) => {
        const v = values[i]
        if (v === null || v === undefined) return
        const list = byStep.get(step) ?? []
        list.push(v)
        byStep.set(step, list)
      })
    }
    if (byStep.size === 0) continue
    const steps = [...byStep.keys()].sort((a, b) => a - b)
    const lists = steps.map((s) => byStep.get(s)!)
    const name = plotlyText(setting.label)
    const replicates = Math.max(...lists.map((l) => l.length))
    if (replicates > 1) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: steps,
        y: lists.map((l) => round(Math.max(...l))),
        line: { width: 0, color: setting.color },
        legendgroup: name,
        showlegend: false,
        name: `${name}: max`,
        hovertemplate: 'step %{x}<br>max %{y:.4g}',
      })
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: steps,
        y: lists.map((l) => round(Math.min(...l))),
        fill: 'tonexty',
        fillcolor: rgba(setting.color, bandAlpha(p.settings.length)),
        line: { width: 0, color: setting.color },
        legendgroup: name,
        showlegend: false,
        name: `${name}: min`,
        hovertemplate: 'step %{x}<br>min %{y:.4g}',
      })
    }
    data.push({
      type: 'scatter',
      mode: lineMode(steps.length),
      x: steps,
      y: lists.map((l) => round(mean(l))),
      customdata: lists.map((l) => l.length),
      line: { color: setting.color, width: 2, dash: setting.dash },
      legendgroup: name,
      name: replicates > 1 ? `${name} (mean of ${replicates})` : name,
      hovertemplate: 'step %{x}<br>mean %{y:.4g} of %{customdata}',
    })
    for (const l of lists) for (const v of l) plotted.push(v)
    if (replicates > 1) banded.push(replicates)
  }
  if (banded.length > 0) data.push(bandKey(banded))
  const info = p.catalog.info(p.metric)
  const { title, axis } = p.loss === true ? lossLabels(p.catalog, p.metric) : { title: p.catalog.titled(p.metric), axis: p.catalog.axisTitle(p.metric) }
  const layout = baseLayout(`Training: ${title}`, 'training step', axis)
  layout.height = (layout.margin as { t: number }).t + 292 + 22 * data.filter((t) => t.showlegend !== false).length
  if (wantsLogAxis(plotted, info.unit)) Object.assign(layout.yaxis as Record<string, unknown>, logAxis(plotted))
  else constantAxis(layout, plotted, info.bounds)
  return { data, layout }
}
