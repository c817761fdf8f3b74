import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { inputError, shellWord, valueWords, type OutputInfoTable } from '@ouroboros/core'
import type { CellInfo, ChainInfo, RunInfo } from '@ouroboros/store'
import type { CellCurve, RunAggregate } from './aggregate.js'
import { cellDataset, POOL_REFERENCE, referenceDraw } from './cell-data.js'
import { CLIENT_SCRIPT } from './client.js'
import { field, numberArrayField, numberField, stringField } from './fields.js'
import { escapeHtml, formatChange, formatNumber, jsonForScript, scriptText } from './html.js'
import { distinguishing, pathNames, runNames, seriesLabel } from './labels.js'
import { comparisonPlot, comparisonTable, settingTicks, settingValues, trainingComparisonPlot, type MetricRow, type Setting } from './comparison.js'
import { isSingleGeneration, type ChainSamples, type LoadedRun, type TrainingCurve } from './load.js'
import { catalogOf, lossCatalogOf, type MetricCatalog } from './metric-info.js'
import {
  curvesPlot,
  histogramBins,
  lossLabels,
  MAX_MIN_MAX_REPLICATES,
  MIN_RELATIVE_SPAN,
  REAL_COLOR,
  samplesPlot,
  seriesStyle,
  settingCell,
  THEORY_COLOR,
  trainingPlot,
  modeProfilePlot,
  type CurveSeries,
  type PlotSpec,
  type Reference,
  type SeriesStyle,
} from './plots.js'
import { posttrainSection, STAGE_SCORING } from './posttrain-view.js'
import { collapseLevels, NO_VALUE, summarize, withinRange, type SummaryRow } from './summary.js'
import { theoryCurves, type TheoryCurve } from './theory.js'

export interface ReportOptions {
  /**
   * Collapse threshold per metric in place of its default: a factor (below 1: falls to that share
   * of its baseline, above 1: rises by it), or for metrics measured in nats an amount (metric-info.ts).
   */
  thresholds?: Record<string, number>
  /**
   * How to show the metrics of runs whose run.json does not describe them (runs from before it
   * did): the built-in plug-ins' descriptions, which `ouroboros report` gives.
   */
  fallbackInfo?: OutputInfoTable
}

/**
 * Scatter points embedded over the whole page. At 2 float32 coordinates in base64 this is about
 * 4 MB, which with plotly.js (4.8 MB) keeps any page well under 15 MB.
 */
/** The reference line's legend, after its name, by how the record was drawn. */
const REFERENCE_DRAWN = { fresh: '', redraw: ', redrawn from the training rows', training: ': the training rows themselves' } as const

const SAMPLE_POINT_BUDGET = 400_000

/** Chains listed one by one in the run's facts. */
const MAX_CHAIN_ROWS = 200

interface Series {
  /** Display name of the run the cell belongs to. */
  run: string
  cell: CellInfo
  /** Legend in plots shared by every run on the page. */
  label: string
  /** Name inside the run's own sections, where the run's name would only repeat. */
  local: string
  style: SeriesStyle
}

interface RunView {
  run: LoadedRun
  name: string
  /** Anchor prefix for the run's sections. */
  anchor: string
  agg: RunAggregate
  series: Series[]
}

let plotly: { source: string; hash: string } | undefined

/** plotly.js-dist-min, read once per process, made safe to inline, with its hash for the page's CSP. */
function plotlyScript(): { source: string; hash: string } {
  if (plotly === undefined) {
    const require = createRequire(import.meta.url)
    const source = scriptText(readFileSync(require.resolve('plotly.js-dist-min'), 'utf8'))
    plotly = { source, hash: sha256Source(source) }
  }
  return plotly
}

/**
 * Reads what every page inlines (plotly.js, 4.8 MB, and its hash) ahead of the first page: a run
 * does it while the report's aggregation still runs on its own thread.
 */
export function prepareReport(): void {
  plotlyScript()
}

/** One self-contained HTML page for one or more loaded runs. Reads nothing but plotly.js. */
export function renderReport(runs: readonly LoadedRun[], options: ReportOptions = {}): string {
  if (runs.length === 0) throw inputError('renderReport: no runs given')
  const thresholds = options.thresholds ?? {}
  const catalog = catalogOf(runs, options.fallbackInfo)
  const names = runNames(runs.map((r) => ({ name: r.info.name, seed: r.info.config['seed'], dir: r.dir })))
  const several = runs.length > 1
  let seriesIndex = 0
  const views: RunView[] = runs.map((run, r) => {
    const order = sweptPaths(run.info)
    return {
      run,
      name: names[r]!,
      anchor: `run-${r + 1}`,
      agg: run.agg,
      series: run.info.cells.map((cell) => ({
        run: names[r]!,
        cell,
        label: seriesLabel(cell, run.info.cells, names[r]!, several, order),
        local: seriesLabel(cell, run.info.cells, names[r]!, false, order),
        style: seriesStyle(seriesIndex++),
      })),
    }
  })

  // Runs of one generation compare settings; a chain of generations is followed over them.
  const single = views.every((v) => isSingleGeneration(v.run.info))
  if (single && Object.keys(thresholds).length > 0) {
    throw inputError(
      `--thresholds: ${several ? 'these runs fit' : 'this run fits'} one generation, and ${several ? 'their' : 'its'} report compares settings: it has no collapse over generations for a threshold to call`,
      'leave --thresholds out; a run of two or more generations is followed over them, and its summary calls collapse by these thresholds',
    )
  }
  const present = new Set(views.flatMap((v) => v.agg.metrics))
  for (const name of Object.keys(thresholds)) {
    if (name === 'gold_reward' && !present.has(name) && present.has('reward')) throw inputError(`--thresholds: gold_reward is reward in ${several ? 'these runs' : 'this run'} (a reward that is no proxy is its own gold reward)`, 'give the threshold to reward')
    if (!present.has(name)) throw inputError(`--thresholds: no metric '${name}' in ${several ? 'these runs' : 'this run'}; its metrics are ${[...present].join(', ')}`)
  }
  // Values after names: a value suits a metric only where the metric is one of the run's.
  catalog.validateThresholds(thresholds)

  const plots: PlotSpec[] = []
  const addPlot = (spec: PlotSpec): number => plots.push(spec) - 1

  const sections: { id: string; title: string; html: string }[] = []
  if (single) {
    const { table, plots: metricPlots } = comparisonSections(views, catalog, addPlot)
    sections.push({ id: 'summary', title: 'Comparison', html: table })
    sections.push({ id: 'metrics', title: 'Metrics by setting', html: metricPlots })
  } else {
    sections.push({ id: 'summary', title: 'Summary', html: summarySection(views, thresholds, catalog) })
    sections.push({ id: 'curves', title: 'Collapse curves', html: curvesSection(views, thresholds, catalog, addPlot) })
  }
  const posttrain = posttrainSection(
    pageSettings(views).map(({ view, setting }) => ({ setting, chains: view.run.posttrain.filter((p) => p.cell === setting.cell), config: view.run.info.cells.find((c) => c.index === setting.cell)?.config })),
    catalog,
    addPlot,
  )
  if (posttrain !== '') sections.push({ id: 'posttrain', title: 'Post-training', html: posttrain })
  const samples = samplesSection(views, several, addPlot) + gallerySection(views, several)
  if (samples !== '') sections.push({ id: 'samples', title: single ? 'Samples' : 'Samples per generation', html: posttrainedNote(views) + samples })
  const losses = lossCatalogOf(runs)
  const training = single ? trainingComparisonSection(views, catalog, losses, addPlot) : trainingSection(views, several, catalog, losses, addPlot)
  if (training !== '') sections.push({ id: 'training', title: 'Training curves', html: training })
  sections.push({ id: 'facts', title: 'Run facts', html: views.map((v) => factsSection(v, several)).join('\n') })

  const title = several ? `Ouroboros: ${names.join(' vs ')}` : `Ouroboros report: ${names[0]!}`
  const body = [
    `<header><h1>${escapeHtml(title)}</h1>${views.map(headline).join('')}</header>`,
    views.map(flags).join(''),
    `<nav>${sections.map((s) => `<a href="#${s.id}">${escapeHtml(s.title)}</a>`).join(' · ')}</nav>`,
    ...sections.map((s) => `<section id="${s.id}"><h2>${escapeHtml(s.title)}</h2>\n${s.html}\n</section>`),
    '<noscript><p class="warning">The plots need JavaScript; the tables above and below do not.</p></noscript>',
  ].join('\n')

  const library = plotlyScript()
  const csp = [
    "default-src 'none'",
    `script-src ${library.hash} ${sha256Source(CLIENT_SCRIPT)}`,
    "style-src 'unsafe-inline'",
    'img-src data: blob:',
    'font-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ')
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing on the page may load from anywhere: only its own two scripts run.
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="ouroboros-plots" content="${plots.length}">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    body,
    `<script type="application/json" id="ouroboros-data">${jsonForScript({ plots })}</script>`,
    `<script>${library.source}</script>`,
    `<script>${CLIENT_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n')
}

function plotDiv(id: number): string {
  return `<div class="plot" data-plot="${id}"></div>`
}

function sha256Source(script: string): string {
  return `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`
}

function cellGenerations(cell: CellInfo | undefined): number | undefined {
  return cell === undefined ? undefined : numberField(cell.config, 'generations')
}

/** Chains that stopped before their cell's last generation (failed, killed, still running). */
function shortChains(info: RunInfo): ChainInfo[] {
  return info.chains.filter((c) => {
    const total = cellGenerations(info.cells.find((cell) => cell.index === c.cell))
    return total !== undefined && c.generationsDone < total
  })
}

function failedChains(info: RunInfo): ChainInfo[] {
  return info.chains.filter((c) => c.status === 'failed' || c.error !== undefined)
}

function headline(v: RunView): string {
  const { info } = v.run
  const gens = [...new Set(info.cells.map(cellGenerations).filter((g): g is number => g !== undefined))]
  // Per cell, since a sweep may set them.
  const replicates = [...new Set(info.cells.map((cell) => numberField(cell.config, 'replicates') ?? numberField(info.config, 'replicates')))]
  const known = replicates.every((r) => r !== undefined)
  // Each path named as the settings' labels name it.
  const swept = sweptValues(info)
  const paths = swept.map(([path]) => path)
  const names = new Map(pathNames(paths).map((name, i) => [paths[i]!, name]))
  const models = modelKinds(info)
  const parts = [
    `status ${info.status}`,
    `${info.cells.length} ${info.cells.length === 1 ? 'setting' : 'settings'}`,
    !known || replicates.length === 0 ? `${info.chains.length} chains` : `${replicates.join(', ')} ${replicates.length === 1 && replicates[0] === 1 ? 'replicate' : 'replicates'} each`,
    gens.length === 0 ? '' : `${gens.join(', ')} ${gens.length === 1 && gens[0] === 1 ? 'generation' : 'generations'}`,
    `data ${dataKinds(info).join(', ')}`,
    // A swept model is named with the other swept values, after.
    paths.includes('model') || paths.includes('model.kind') || models.length === 0 ? '' : `model ${models.join(', ')}`,
    // The data kinds, replicates and generations are listed just before.
    ...swept.filter(([path]) => !['data.kind', 'replicates', 'generations'].includes(path)).map(([path, values]) => `${names.get(path)!} ${listed(values)}`),
  ].filter((p) => p !== '')
  // The time in one piece: the header may wrap, but not inside 2026-12-07T03:22:39Z at a hyphen.
  return `<p class="sub"><strong>${escapeHtml(v.name)}</strong>: ${escapeHtml(parts.join(' · '))} · started <span class="when">${escapeHtml(info.startedAt)}</span></p>`
}

/** Swept values the header lists at most: twenty GAN specs filled seven lines, and each setting's label names its own. */
const HEADER_VALUES = 4

function listed(values: readonly string[]): string {
  if (values.length <= HEADER_VALUES + 1) return values.join(' | ')
  return `${values.slice(0, HEADER_VALUES).join(' | ')} and ${values.length - HEADER_VALUES} more`
}

/** The models of the run's cells in words, in cell order: a kind, or the program a model run as a process is. */
function modelKinds(info: RunInfo): string[] {
  const words = info.cells.map((cell) => {
    const command = field(cell.config, 'model', 'command')
    // The program and its script by their file names: their folders say little of what runs.
    if (Array.isArray(command)) return command.map((word) => String(word).split('/').pop()).join(' ')
    return stringField(cell.config, 'model', 'kind')
  })
  return [...new Set(words.filter((w): w is string => w !== undefined))]
}

/** The data kinds of the run's cells, in cell order: a sweep may cover several. */
function dataKinds(info: RunInfo): string[] {
  const kinds = info.cells.map((cell) => stringField(cell.config, 'data', 'kind')).filter((k): k is string => k !== undefined)
  return kinds.length === 0 ? [String(info.dataset.kind ?? 'unknown')] : [...new Set(kinds)]
}

/** The config's sweep: each swept path, in its order, with its list of values. */
function sweepLists(info: RunInfo): [string, unknown[]][] {
  const sweep = field(info.config, 'sweep')
  if (typeof sweep !== 'object' || sweep === null || Array.isArray(sweep)) return []
  return Object.entries(sweep as Record<string, unknown>).filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]))
}

/** The config's swept paths, in its order. */
function sweptPaths(info: RunInfo): string[] {
  return sweepLists(info).map(([path]) => path)
}

/** Each swept path with its values in words, a spec by what tells it from the others (long values cut short). */
function sweptValues(info: RunInfo): [string, string[]][] {
  return sweepLists(info).map(([path, values]) => [
    path,
    values.map((value) => {
      const text = valueWords(distinguishing(value, values))
      return text.length > 48 ? `${text.slice(0, 47)}…` : text
    }),
  ])
}

/** A cell's mode centres, from its own data's facts (none where a run before them swept the data kind). */
function cellCenters(info: RunInfo, cell: number): [number, number][] {
  const dataset = cellDataset(info, info.cells.find((c) => c.index === cell))
  return dataset === undefined ? [] : modeCenters(dataset)
}

function flags(v: RunView): string {
  const { info } = v.run
  const out: string[] = []
  const short = shortChains(info)
  if (info.status !== 'finished' || short.length > 0) {
    const reasons: string[] = []
    const queue = (info as RunInfo & { queue?: string }).queue
    const resume = `ouroboros resume ${shellWord(v.run.dir)} finishes it${queue === undefined ? '' : `, on the queue's workers with --queue ${queue}`}`
    if (info.status === 'running') {
      const { holder } = v.run
      // run.lock says whether a process still runs it: a run killed (kill -9, out of memory, a node lost) leaves "running" behind.
      reasons.push(holder === undefined ? `its status is still “running”, but no process runs it: it was killed (${resume})` : `it is in progress (process ${holder.pid} on ${holder.host})`)
    }
    if (info.status === 'interrupted') reasons.push(`it was interrupted (${resume})`)
    if (info.status === 'failed') reasons.push('it ended with failed chains')
    // In a run in progress, a chain short of its last generation that is pending or running is still going.
    const stopped = v.run.holder === undefined ? short : short.filter((c) => c.status !== 'running' && c.status !== 'pending')
    if (stopped.length > 0) reasons.push(`${stopped.length} of ${info.chains.length} chains stopped before their last generation`)
    out.push(
      `<div class="warning incomplete" role="alert"><strong>Incomplete run ${escapeHtml(v.name)}:</strong> ${escapeHtml(reasons.join('; '))}. Curves show what was recorded.</div>`,
    )
  }
  const failed = failedChains(info)
  if (failed.length > 0) {
    out.push(
      `<div class="warning" role="alert"><strong>${failed.length} ${failed.length === 1 ? 'chain' : 'chains'} of ${escapeHtml(v.name)} failed</strong>; their errors are under <a href="#${v.anchor}-facts">Run facts</a>.</div>`,
    )
  }
  const groups = failedGroups(info)
  if (groups.length > 0) {
    const names = groups.map((g) => `<code>${escapeHtml(g.group)}</code>`).join(', ')
    out.push(
      `<div class="warning" role="alert"><strong>Metric ${groups.length === 1 ? 'group' : 'groups'} ${names} failed</strong> in chains of ${escapeHtml(v.name)}: ${groups.length === 1 ? 'its' : 'their'} values are null where ${groups.length === 1 ? 'it' : 'they'} failed; the reasons are under <a href="#${v.anchor}-facts">Run facts</a>.</div>`,
    )
  }
  return out.join('\n')
}

interface FailedGroup {
  group: string
  chains: string[]
  /** Generations it failed at, over its chains. */
  generations: number
  first: { chain: string; generation: number; message: string }
}

/**
 * The metric groups that failed in some chain (metricErrors "null": the chain went on with their
 * values null), each with its chains, the generations it failed at, and the first chain's reason.
 */
function failedGroups(info: RunInfo): FailedGroup[] {
  const byGroup = new Map<string, FailedGroup>()
  for (const chain of info.chains) {
    for (const e of chain.metricErrors ?? []) {
      const known = byGroup.get(e.group)
      if (known === undefined) byGroup.set(e.group, { group: e.group, chains: [chain.id], generations: e.generations, first: { chain: chain.id, generation: e.firstGeneration, message: e.message } })
      else {
        known.chains.push(chain.id)
        known.generations += e.generations
      }
    }
  }
  return [...byGroup.values()]
}

/** What a section without metrics says: a run still going may record some; one that ended did not. */
function noMetrics(views: readonly RunView[]): string {
  if (views.some((v) => v.run.info.status === 'running' || v.run.info.status === 'interrupted')) return '<p>No metrics recorded yet.</p>'
  return `<p>No metrics were recorded: every chain stopped before its first generation’s records (their errors are under ${views.map((v) => `<a href="#${v.anchor}-facts">Run facts</a>`).join(', ')}).</p>`
}

/**
 * The word as a heading of the summary table, with the places it may break: "generation", the
 * longest word of three headings, would set their columns' least width in a narrow window.
 */
const GENERATION = 'gen&shy;er&shy;a&shy;tion'

/** One table for every run on the page: the rows of a metric sit together, run after run. */
function summarySection(views: readonly RunView[], overrides: Readonly<Record<string, number>>, catalog: MetricCatalog): string {
  const byMetric = new Map<string, { row: SummaryRow; series: Series | undefined }[]>()
  const draws = views.map((v) => v.series.map((s) => referenceDraw(v.run.info, s.cell)))
  for (const [vi, v] of views.entries()) {
    const trainingReference = new Set(v.series.filter((_, si) => draws[vi]![si] === 'training').map((s) => s.cell.index))
    for (const row of summarize(v.agg, v.series.map((s) => s.cell.index), overrides, catalog, trainingReference)) {
      const list = byMetric.get(row.metric) ?? []
      list.push({ row, series: v.series.find((s) => s.cell.index === row.cell) })
      byMetric.set(row.metric, list)
    }
  }
  if (byMetric.size === 0) return noMetrics(views)
  const body: string[] = []
  let single = false
  for (const [metric, list] of byMetric) {
    const heading = `<th scope="rowgroup">${catalog.heading(metric)}</th>`
    // A metric null at every generation of every setting (one that does not apply to the data) is
    // one row: a row per setting would repeat the same nothing once per setting.
    const noValue = (row: SummaryRow): boolean => row.crossing.kind === 'none' && row.crossing.reason === NO_VALUE && row.reference === null
    if (list.length > 1 && list.every(({ row }) => noValue(row))) {
      const why = list[0]!.row.noneAfter?.why
      body.push(
        `<tr data-metric="${escapeHtml(metric)}" data-cell="all">${heading}<td class="setting">every setting (${list.length})</td>` +
          `<td data-col="crossing" colspan="6">${NO_VALUE}${why === undefined ? '' : ` <span class="gen">(null when ${escapeHtml(why)})</span>`}</td></tr>`,
      )
      continue
    }
    list.forEach(({ row, series }, i) => {
      if (row.replicates === 1) single = true
      const additive = row.threshold?.kind === 'offset'
      const metricCell = i === 0 ? `<th scope="rowgroup" rowspan="${list.length}">${catalog.heading(metric)}</th>` : ''
      body.push(
        `<tr data-metric="${escapeHtml(metric)}" data-cell="${row.cell}"${views.length > 1 ? ` data-run="${escapeHtml(series?.run ?? '')}"` : ''}>${metricCell}` +
          settingCell(series?.style, series?.label ?? `cell ${row.cell}`) +
          `<td data-col="reference" class="num">${formatNumber(row.reference)}${row.referenceIsTraining === true ? ' <span class="gen">(the training rows)</span>' : ''}</td>` +
          `<td data-col="first" class="num">${formatNumber(row.first)}</td>` +
          `<td data-col="last" class="num">${formatNumber(row.last)}${row.lastGeneration === null ? '' : ` <span class="gen">(gen ${row.lastGeneration}${row.lastReplicates < row.replicates ? `: mean of ${row.lastReplicates}; gen 0: mean of ${row.replicates}` : ''})</span>`}</td>` +
          `<td data-col="change" class="num">${formatChange(row.first, row.last, additive)}</td>` +
          // A setting of one generation beside chains of many (a page of several runs) has no collapse to call.
          (numberField(series?.cell.config, 'generations') === 1 ? '<td data-col="threshold">—</td><td data-col="crossing">— (one generation: settings are compared, no collapse followed)</td>' : `<td data-col="threshold">${thresholdText(row)}</td>` + crossingCell(row)) +
          '</tr>',
      )
    })
  }
  return `<table class="summary">
<thead><tr><th>metric</th><th>setting</th><th>real data</th><th>${GENERATION} 0</th><th>last ${GENERATION}</th><th>change</th><th>col&shy;lapse thresh&shy;old</th><th>first ${GENERATION} past it</th></tr></thead>
<tbody>
${body.join('\n')}
</tbody></table>
<p class="note">Replicate means; “real data” is the metric on fresh real data (generation −1)${draws.flat().some((d) => d !== 'fresh') ? `, where the data have no limit; ${POOL_REFERENCE} (marked “the training rows”: the thresholds are then measured from generation 0 alone)` : ''}. A setting has collapsed at the first generation where its mean is past the threshold, measured from whichever of the real data and generation 0 is already worse, and its replicate band, as the plots draw it (minimum to maximum; the 5th to the 95th percentile past ${MAX_MIN_MAX_REPLICATES} replicates), lies beyond generation 0’s: a change within the spread of generation 0 is noise. Where generation 0 is itself past the level the real data alone would give (a model that misfits, a post-training stage that narrowed it), the last column says so. Counts, coverage and diversity scores halve, distances and errors double, entropies fall by ln 2, KLs over modes, clusters or classes rise by 0.1 nats, the held-out NLL by 1 nat, and total variance halves or doubles; a level past the values a metric can take (an entropy below 0) cannot be crossed, and is not given as a threshold. Set other thresholds per metric with <code>ouroboros report DIR --thresholds name=value,…</code> (a factor, or an amount for those measured in nats or on a log scale).${single ? ' With one replicate there is no spread: noise cannot be told from collapse.' : ''}</p>`
}

/** The levels, and what they were measured from. */
function thresholdText(row: SummaryRow): string {
  const t = row.threshold
  const levels = row.levels
  if (t === undefined || levels === null || row.first === null) return '—'
  // The training rows themselves are no level: the thresholds come from generation 0 (see referenceDraw).
  const reference = row.referenceIsTraining === true ? null : row.reference
  const lowerFrom = reference !== null && reference < row.first ? 'real data' : 'gen 0'
  const upperFrom = reference !== null && reference > row.first ? 'real data' : 'gen 0'
  const rule = (side: 'below' | 'above'): string => {
    const from = side === 'below' ? lowerFrom : upperFrom
    if (t.kind === 'offset') return `${from} ${side === 'below' ? '−' : '+'} ${formatNumber(t.value)}`
    if (t.direction === 'departs') return `${from} ${side === 'below' ? '÷' : '×'} ${formatNumber(t.value)}`
    return `${formatNumber(t.value)} × ${from}`
  }
  const parts: string[] = []
  if (levels.below !== undefined) parts.push(`≤ ${formatNumber(levels.below)} <span class="gen">(${escapeHtml(rule('below'))})</span>`)
  if (levels.above !== undefined) parts.push(`≥ ${formatNumber(levels.above)} <span class="gen">(${escapeHtml(rule('above'))})</span>`)
  // A level the metric cannot reach is no threshold: said with why, rather than shown as one.
  for (const { side, level, limit } of row.outOfRange ?? []) {
    const beyond = side === 'below' ? `below ${formatNumber(limit)}, the least it can be` : `above ${formatNumber(limit)}, the most it can be`
    parts.push(`${parts.length === 0 ? 'none it can reach' : `none ${side === 'below' ? 'below' : 'above'}`} <span class="gen">(${escapeHtml(rule(side))} = ${formatNumber(level)} is ${beyond})</span>`)
  }
  return parts.join(' or ')
}

function crossingCell(row: SummaryRow): string {
  const c = row.crossing
  const past = row.startsPast === undefined ? '' : ` <span class="gen">(generation 0 already ${row.startsPast.side === 'below' ? '≤' : '≥'} ${formatNumber(row.startsPast.level)}, the threshold the real data give)</span>`
  if (c.kind === 'crossed') {
    const how = row.threshold?.direction === 'departs' ? (c.side === 'below' ? ' (fell)' : ' (rose)') : ''
    return `<td data-col="crossing" data-generation="${c.generation}" class="crossed">generation ${c.generation}${how}${past}</td>`
  }
  if (c.kind === 'not-crossed') {
    // A value that ends before the setting does (an infinite perplexity is null) is not a setting that held.
    const after = row.noneAfter
    if (after !== undefined) return `<td data-col="crossing">not by generation ${c.through}; no value after it${after.why === undefined ? '' : ` <span class="gen">(null when ${escapeHtml(after.why)})</span>`}${past}</td>`
    return `<td data-col="crossing" class="held">not by generation ${c.through}${past}</td>`
  }
  const after = row.noneAfter
  if (after === undefined) return `<td data-col="crossing">${escapeHtml(c.reason)}</td>`
  const why = after.why === undefined ? '' : ` <span class="gen">(null when ${escapeHtml(after.why)})</span>`
  // Why no crossing is found (no threshold: '—'), and where the values end where they ever began.
  const parts = after.generation < 0 ? [c.reason] : [...(c.reason === '—' ? [] : [c.reason]), `no value after generation ${after.generation}`]
  return `<td data-col="crossing">${escapeHtml(parts.join('; '))}${why}</td>`
}


/**
 * Whose real data a reference line of several is: a run by its name where the line is every
 * setting of it on the plot, else the settings' labels.
 */
function referenceMembers(members: readonly { view: RunView; label: string }[], plotted: readonly CurveSeries[]): string {
  const views = [...new Set(members.map((m) => m.view))]
  const own = (view: RunView) => view.series.filter((s) => plotted.some((p) => p.label === s.label))
  return views
    .flatMap((view) => {
      const labels = members.filter((m) => m.view === view).map((m) => m.label)
      return labels.length === own(view).length && labels.length > 1 ? [view.name] : labels
    })
    .join('; ')
}

function curvesSection(views: readonly RunView[], overrides: Readonly<Record<string, number>>, catalog: MetricCatalog, addPlot: (spec: PlotSpec) => number): string {
  const metrics = [...new Set(views.flatMap((v) => v.agg.metrics))]
  const out: string[] = []
  const gaps: Gap[] = []
  /** Metrics with no value at any generation of any setting: no plot. */
  const never: string[] = []
  const recordedByCell = new Map<ReadonlyMap<string, CellCurve>, Map<number, number>>()
  for (const metric of metrics) {
    const threshold = catalog.thresholdFor(metric, overrides)
    const reach: number[] = []
    let size = 0
    const series: CurveSeries[] = []
    const refGroups = new Map<string, { members: { view: RunView; label: string }[]; color: string; values: number[]; drawn: keyof typeof REFERENCE_DRAWN }>()
    const theory = new Map<string, { curve: TheoryCurve; color: string; labels: string[] }>()
    for (const v of views) {
      // A run on the page that never measured the metric (another model, other groups) has no gap.
      if (!v.agg.metrics.includes(metric)) continue
      for (const s of v.series) {
        const cellCurves = v.agg.curves.get(s.cell.index)
        const curve = cellCurves?.get(metric)
        if (cellCurves === undefined || cellCurves.size === 0) continue
        if (curve === undefined) {
          // A setting whose other metrics have values and this one none: no line, said in the note.
          gaps.push({ metric, label: s.label, missing: [] })
          continue
        }
        const curves = theoryCurves(v.run.info, s.cell, metric)
        series.push({ label: s.label, style: s.style, curve, replicates: v.agg.replicates.get(s.cell.index) ?? 1, theory: curves.length > 0 })
        let recorded = recordedByCell.get(cellCurves)
        if (recorded === undefined) recordedByCell.set(cellCurves, (recorded = recordedReplicates(cellCurves)))
        const missing = missingGenerations(curve, recorded)
        if (missing.length > 0) gaps.push({ metric, label: s.label, missing })
        const ref = v.agg.reference.get(s.cell.index)?.get(metric)
        const drawn = referenceDraw(v.run.info, s.cell)
        const i0 = curve.generations.indexOf(0)
        if (i0 !== -1) {
          const first = curve.mean[i0]!
          size = Math.max(size, Math.abs(first), Math.abs(ref ?? 0))
          // The training rows themselves are no level (see referenceDraw), and a level the metric cannot reach is not one for the axis to reach.
          const level = drawn === 'training' ? null : (ref ?? null)
          const found = threshold === undefined ? null : collapseLevels(threshold, level, first)
          const levels = found === null ? null : withinRange(found, catalog.range(metric)).reachable
          if (levels?.below !== undefined) reach.push(levels.below)
          if (levels?.above !== undefined) reach.push(levels.above)
        }
        if (ref !== undefined) {
          // Cells whose real-data records measure the same thing share one reference line, the
          // mean of theirs: the same data, scored as samples of the same size against the same
          // held-out set with the same options. A metric of 100 sentences is not one of 200
          // (distinct n-grams, a Zipf slope), and a line at their mean is neither's.
          const key = JSON.stringify(['data', 'samplesPerGeneration', 'heldout', 'metricOptions'].map((k) => field(s.cell.config, k) ?? null))
          const group = refGroups.get(key) ?? { members: [], color: s.style.color, values: [], drawn }
          group.values.push(ref)
          group.members.push({ view: v, label: s.label })
          refGroups.set(key, group)
        }
        for (const t of curves) {
          const key = JSON.stringify([t.name, t.values])
          const entry = theory.get(key) ?? { curve: t, color: s.style.color, labels: [] }
          entry.labels.push(s.label)
          theory.set(key, entry)
        }
      }
    }
    if (series.length === 0) {
      if (gaps.some((g) => g.metric === metric)) never.push(metric)
      continue
    }
    const groups = [...refGroups.values()]
    const references: Reference[] = groups.map((g) => ({
      label: `${groups.length === 1 ? 'real data (generation −1)' : `real data: ${referenceMembers(g.members, series)}`}${REFERENCE_DRAWN[g.drawn]}`,
      color: groups.length === 1 ? REAL_COLOR : g.color,
      value: g.values.reduce((a, b) => a + b, 0) / g.values.length,
    }))
    // One theory curve is black; several take their settings' colours. Where their names alone do
    // not tell them apart (the same M for two initial variances), or theory holds for only some of
    // the settings (a temperature of 1, not 0.5), each names the settings it is drawn for.
    const names = [...theory.values()].map((t) => t.curve.name)
    const named = new Set(names).size === names.length && series.every((s) => s.theory === true)
    const theories = [...theory.values()].map((t) => ({
      curve: named ? t.curve : labelledTheory(t.curve, t.labels.join('; ')),
      color: theory.size === 1 ? THEORY_COLOR : t.color,
    }))
    const info = catalog.info(metric)
    const spec = curvesPlot({
      title: catalog.titled(metric),
      yTitle: catalog.axisTitle(metric),
      series,
      references,
      theory: theories,
      reach,
      minSpan: MIN_RELATIVE_SPAN * size,
      ...(info.unit === undefined ? {} : { unit: info.unit }),
      ...(info.bounds === undefined ? {} : { bounds: info.bounds }),
    })
    out.push(plotDiv(addPlot(spec)))
  }
  if (out.length === 0) return noMetrics(views)
  return `<p class="note">Lines are replicate means; shaded bands span the minimum to the maximum over replicates, or past ${MAX_MIN_MAX_REPLICATES} replicates the 5th to the 95th percentile (and, for the settings theory is drawn for, darker bands ±2 standard errors of the mean); dashed lines are the metric on the real data (generation −1); dotted lines are theory. Each y axis reaches the collapse threshold of the summary, so that a curve’s distance from it reads at a glance.</p>
${gapsNote(gaps, never, catalog)}<div class="grid">
${out.join('\n')}
</div>`
}

/** The data's kind and dimension; regression rows are d features and their label, d as the config gives it. */
function datasetFact(dataset: Record<string, unknown>): string {
  const features = numberField(dataset, 'regression', 'd')
  const d = features === undefined ? (dataset.d === undefined ? '' : `, d = ${String(dataset.d)}`) : `, d = ${features} (rows of ${features} features and a label)`
  return `${String(dataset.kind ?? 'unknown')}${d}`
}

/** A theory curve whose legend entries (curve, band, bound) name the setting it is drawn for. */
function labelledTheory(curve: TheoryCurve, label: string): TheoryCurve {
  const named = (name: string): string => `${name} (${label})`
  return {
    ...curve,
    name: named(curve.name),
    ...(curve.band === undefined ? {} : { band: { ...curve.band, name: named(curve.band.name) } }),
    ...(curve.bound === undefined ? {} : { bound: { ...curve.bound, name: named(curve.bound.name) } }),
  }
}

/**
 * How many of a cell's replicates recorded each generation: the most that have a value of any one
 * of its metrics there, so that the generations an interrupted chain never reached do not count.
 */
function recordedReplicates(curves: ReadonlyMap<string, CellCurve>): Map<number, number> {
  const recorded = new Map<number, number>()
  for (const c of curves.values()) c.generations.forEach((g, i) => recorded.set(g, Math.max(recorded.get(g) ?? 0, c.count[i]!)))
  return recorded
}

/**
 * Generations where some replicates that recorded the generation have no value of the metric of
 * `curve` (null in the records): its mean there is over fewer replicates, or missing.
 */
function missingGenerations(curve: CellCurve, recorded: ReadonlyMap<number, number>): number[] {
  const has = new Map(curve.generations.map((g, i) => [g, curve.count[i]!]))
  return [...recorded.entries()].filter(([g, n]) => (has.get(g) ?? 0) < n).map(([g]) => g).sort((a, b) => a - b)
}

/** Generations as runs of consecutive ones: 'generations 3, 11–14 and 20'. */
function generationList(generations: readonly number[]): string {
  const runs: string[] = []
  for (let i = 0; i < generations.length; ) {
    let j = i
    while (j + 1 < generations.length && generations[j + 1] === generations[j]! + 1) j++
    runs.push(j === i ? `${generations[i]}` : `${generations[i]}–${generations[j]}`)
    i = j + 1
  }
  const list = runs.length === 1 ? runs[0]! : `${runs.slice(0, -1).join(', ')} and ${runs[runs.length - 1]}`
  return `generation${generations.length === 1 ? '' : 's'} ${list}`
}

/**
 * A curve whose mean stands on fewer replicates than its setting has at some generations, or a
 * setting with no value of the metric at any generation (`missing` empty).
 */
interface Gap {
  metric: string
  label: string
  missing: number[]
}

/** Where curves' means stand on fewer replicates than their settings have, and why a value can be missing. */
function gapsNote(gaps: readonly Gap[], never: readonly string[], catalog: MetricCatalog): string {
  if (gaps.length === 0) return ''
  const reasons = [...new Set(gaps.map((g) => g.metric))].flatMap((m) => {
    const why = catalog.info(m).nullWhen
    return why === undefined ? [] : [`<code>${escapeHtml(m)}</code> is null when ${escapeHtml(why)}`]
  })
  const items = [
    ...never.map((m) => `<li><code>${escapeHtml(m)}</code>: no value at any generation of any setting, so no plot</li>`),
    ...gaps.filter((g) => !never.includes(g.metric)).map((g) => `<li><code>${escapeHtml(g.metric)}</code>, ${escapeHtml(g.label)}: ${g.missing.length === 0 ? 'no value at any generation, so no line' : generationList(g.missing)}</li>`),
  ]
  return `<div class="note">Some values are missing (null in the records)${reasons.length === 0 ? '' : `: ${reasons.join('; ')}`}. A mean is over the replicates that have a value (its tooltip says how many), and a generation where none has one is left out of the line:<ul>${items.join('')}</ul></div>
`
}

function samplesSection(views: readonly RunView[], several: boolean, addPlot: (spec: PlotSpec) => number): string {
  let points = 0
  for (const v of views) {
    for (const s of v.run.samples) {
      for (const f of [...s.frames, ...(s.real === null ? [] : [s.real])]) points += f.points.length / s.dims
    }
  }
  const keep = points > SAMPLE_POINT_BUDGET ? SAMPLE_POINT_BUDGET / points : 1
  // One grid for every run on the page: the settings being compared sit side by side.
  const blocks: string[] = []
  for (const v of views) {
    // Histograms of one run's settings of the same data share their bins and range, so that the same
    // real data look the same side by side; a sweep of the data itself (its spread) keeps its own.
    const dataOf = (s: ChainSamples): string => `${JSON.stringify(field(v.run.info.cells.find((c) => c.index === s.cell)?.config, 'data') ?? null)} ${s.view}`
    const oneD = v.run.samples.filter((s) => s.dims === 1)
    const bins = new Map([...new Set(oneD.map(dataOf))].map((data) => [data, histogramBins(oneD.filter((s) => dataOf(s) === data), keep)]))
    for (const s of v.run.samples) {
      const series = v.series.find((x) => x.cell.index === s.cell)
      const label = (several ? series?.label : series?.local) ?? `cell ${s.cell}`
      const spec = samplesPlot({
        title: `Samples: ${label}`,
        samples: s,
        color: series?.style.color ?? REAL_COLOR,
        centers: s.dims === 2 ? cellCenters(v.run.info, s.cell) : [],
        keep,
        ...(s.dims === 1 ? { bins: bins.get(dataOf(s))! } : {}),
      })
      const slider = spec.slider!
      const id = addPlot(spec)
      const replicate = v.run.info.chains.find((c) => c.id === s.chain)?.replicate
      const spread = savedShown(s.frames.length, s.saved, slider.generations.length > 1, v.run.info, s.cell)
      blocks.push(`<figure class="samples">
${plotDiv(id)}
<div class="slider">${slider.generations.length > 1 ? `<label>generation <input type="range" min="0" max="${slider.generations.length - 1}" step="1" value="${slider.initial}" data-slider-for="${id}"></label>\n` : ''}<output data-slider-for="${id}">${escapeHtml(slider.captions[slider.initial]!)}</output></div>
<figcaption>Chain <code>${escapeHtml(s.chain)}</code>${replicate === undefined ? '' : ` (replicate ${replicate})`}${escapeHtml(spread)}${sampleView(s)}${filteredView(v.run.info, s.cell)}.</figcaption>
</figure>`)
    }
  }
  return blocks.length === 0 ? '' : `<div class="grid">\n${blocks.join('\n')}\n</div>`
}

/** The kinds of a run's post-training stages, in config order, as its config lists them. */
function stageKinds(config: unknown): string[] {
  const stages = field(config, 'posttrain')
  return Array.isArray(stages) ? stages.map((stage) => field(stage, 'kind')).filter((kind): kind is string => typeof kind === 'string') : []
}

/**
 * Which model a post-trained run's samples are drawn from: a generation's model as fit is not its
 * model. Each setting's stages are its own (a swept stage kind), so several lists are named apart.
 */
function posttrainedNote(views: readonly RunView[]): string {
  const lists = [...new Set(views.flatMap((v) => v.run.info.cells.map((cell) => stageKinds(cell.config).join(', '))).filter((list) => list !== ''))]
  if (lists.length === 0) return ''
  const stages = lists.length === 1 ? lists[0]! : `${lists.map((list) => list.replaceAll(', ', ' then ')).join(' or ')}, by setting`
  return `<p class="note">A generation’s samples are drawn from its model after its post-training stages (${escapeHtml(stages)}), as its metrics are.</p>\n`
}

/**
 * A filtered setting's sample files hold the draws its filter kept, while its metrics score the
 * model's draw before the filter: a verifier's samples all sit on the modes whatever its metrics say.
 */
function filteredView(info: RunInfo, cell: number): string {
  const kind = field(info.cells.find((c) => c.index === cell)?.config, 'filter', 'kind')
  if (typeof kind !== 'string') return ''
  return `; these are the draws the filter (<code>${escapeHtml(kind)}</code>) kept, which the next generation trains on, where the metrics score the model’s draws before it`
}

/**
 * Which of the generations a chain saved samples of its panel shows, in the same words on every
 * panel; under a policy that trains on earlier generations (accumulate) a chain saves them all,
 * which beside a panel of another policy's chain needs saying.
 */
function savedShown(shown: number, saved: number, slider: boolean, info: RunInfo, cell: number): string {
  const policy = field(info.cells.find((c) => c.index === cell)?.config, 'policy', 'kind')
  const why = shown < saved && (policy === 'accumulate' || policy === 'accumulate-subsample') ? ` (under ${policy} a chain keeps every generation’s samples, which it trains on)` : ''
  const which = shown < saved ? `${shown} of the ${saved} generations this chain saved samples of${why}` : `all ${saved} generations this chain saved samples of`
  if (slider) return `; the slider offers ${which}`
  return shown < saved ? `; ${which}` : ''
}

function sampleView(s: ChainSamples): string {
  if (s.view === 'residuals') return `; each point is a row’s label minus x·ŵ₀, the least-squares fit to this chain’s real data, against that fit: the design x is the same in every generation, so the labels are what a chain changes`
  return s.d > 2 ? `; the first 2 of ${s.d} coordinates` : ''
}

/** Image grids or sentences per saved generation, one chain per cell, as small multiples. */
function gallerySection(views: readonly RunView[], several: boolean): string {
  const out: string[] = []
  for (const v of views) {
    if (v.run.galleries.length === 0) continue
    const blocks = v.run.galleries.map((g) => {
      const label = v.series.find((x) => x.cell.index === g.cell)?.local ?? `cell ${g.cell}`
      const frames = [...(g.real === null ? [] : [g.real]), ...g.frames].map((f) => {
        const title = f.generation < 0 ? 'real data' : `generation ${f.generation}`
        const body =
          f.png !== undefined
            ? `<img src="data:image/png;base64,${f.png}" alt="${escapeHtml(`samples of the ${title}`)}">`
            : `<ol class="sentences">${(f.sentences ?? []).map((t) => (t === '' ? '<li class="empty">(an empty sequence: the model ended it before its first token)</li>' : `<li>${escapeHtml(t)}</li>`)).join('')}</ol>`
        return `<div class="frame" data-generation="${f.generation}"><div class="frame-title">${escapeHtml(title)}</div>${body}</div>`
      })
      const replicate = v.run.info.chains.find((c) => c.id === g.chain)?.replicate
      const spread = savedShown(g.frames.length, g.saved, false, v.run.info, g.cell)
      // The caption heads its frames: galleries stack down the page, and a caption below one would
      // read as the heading of the next.
      return `<figure class="gallery ${g.kind}">
<figcaption>${escapeHtml(label)}: chain <code>${escapeHtml(g.chain)}</code>${replicate === undefined ? '' : ` (replicate ${replicate})`}${escapeHtml(spread)}${filteredView(v.run.info, g.cell)}.</figcaption>
<div class="frames">${frames.join('\n')}</div>
</figure>`
    })
    out.push(`${several ? `<h3>${escapeHtml(v.name)}</h3>` : ''}${blocks.join('\n')}`)
  }
  return out.join('\n')
}

function modeCenters(dataset: Record<string, unknown>): [number, number][] {
  const flat = numberArrayField(dataset, 'modes', 'centers')
  const k = numberField(dataset, 'modes', 'k')
  if (flat === undefined || k === undefined || k < 1) return []
  const d = flat.length / k
  if (!Number.isInteger(d) || d < 2) return []
  return Array.from({ length: k }, (_, i) => [flat[i * d]!, flat[i * d + 1]!])
}

/** The profile the mode heatmaps show: the share of samples that are high-quality samples of each mode. */
const MODE_PROFILE = 'modes.hq_share'

/** What a mode heatmap's colour is: not every sample nearest the mode, only its high-quality ones. */
const MODE_HEATMAP_NOTE =
  'The heatmaps “Modes during training” colour each mode at each step by its high-quality samples (those near its centre, as pct_high_quality counts them) in percent of all samples: a mode whose samples are many but poor stays dark.'

/** The settings of every run on the page, in page order. */
function pageSettings(views: readonly RunView[]): { view: RunView; series: Series; setting: Setting }[] {
  return views
    .flatMap((view, run) => view.series.map((series) => ({ view, series, run })))
    .map(({ view, series, run }, i) => ({ view, series, setting: { run, cell: series.cell.index, label: series.label, number: i + 1, ...series.style } }))
}

/** Single-generation runs: one table and one plot per metric over every setting on the page. */
function comparisonSections(views: readonly RunView[], catalog: MetricCatalog, addPlot: (spec: PlotSpec) => number): { table: string; plots: string } {
  const settings = pageSettings(views)
  const perRun = new Map(views.map((v) => [v, settingValues(v.run.firstRecords)]))
  const metrics = [...new Set(views.flatMap((v) => perRun.get(v)!.metrics.filter((m) => v.agg.metrics.includes(m))))]
  const rows = (metric: string): MetricRow[] =>
    settings.flatMap(({ view, setting }) => {
      const entry = perRun.get(view)!.values.get(metric)?.get(setting.cell)
      return entry === undefined || entry.values.length === 0 ? [] : [{ setting, entry }]
    })
  const shown = metrics.filter((m) => rows(m).length > 0)
  const pooled = views.some((v) => v.series.some((s) => referenceDraw(v.run.info, s.cell) !== 'fresh'))
  // Post-trained settings' values are not their stages' last curve points: the caption says why.
  const staged = views.some((v) => v.run.info.cells.some((cell) => stageKinds(cell.config).length > 0)) ? `\n<p class="note">${escapeHtml(STAGE_SCORING)}</p>` : ''
  const table = shown.length === 0 ? noMetrics(views) : comparisonTable(shown, rows, catalog, pooled) + staged
  const divs = shown.map((metric) => plotDiv(addPlot(comparisonPlot({ metric, rows: rows(metric), catalog }))))
  // Settings too many and too long to name under the axis are numbered there and named here.
  const numbered = shown.some((metric) => settingTicks(rows(metric).map((r) => r.setting.label)).numbered === true)
  const key = numbered ? `\n<p class="note">The settings as numbered under the plots' axes:</p>\n<ol class="note setting-key">${settings.map(({ setting }) => `<li>${escapeHtml(setting.label)}</li>`).join('')}</ol>` : ''
  const plots =
    divs.length === 0
      ? noMetrics(views)
      : `<p class="note">Dots are replicates, the wide tick with whiskers their mean ± 1 standard deviation, stopped at the farthest replicate, the grey tick the metric on fresh real data (generation −1).</p>
<div class="grid">
${divs.join('\n')}
</div>${key}${staged}`
  return { table, plots }
}

/** Single-generation runs: each training metric with every setting on one plot, then the mode heatmaps. */
function trainingComparisonSection(views: readonly RunView[], catalog: MetricCatalog, losses: MetricCatalog, addPlot: (spec: PlotSpec) => number): string {
  const settings = pageSettings(views)
    .map(({ view, setting }) => ({ view, setting, chains: view.run.training.filter((t) => t.cell === setting.cell) }))
    .filter((s) => s.chains.length > 0)
  const curves = settings.flatMap((s) => s.chains.flatMap((t) => t.curves))
  const lines = [
    ...recorded(curves, 'values').map((metric) => plotDiv(addPlot(trainingComparisonPlot({ metric, settings, catalog })))),
    ...recorded(curves, 'losses').map((metric) => plotDiv(addPlot(trainingComparisonPlot({ metric, loss: true, settings, catalog: losses })))),
  ]
  const heatmaps: string[] = []
  for (const { setting, chains } of settings) {
    const t = chains[0]!
    const c = t.curves.find((curve) => curve.profiles[MODE_PROFILE]?.some((share) => share !== null))
    if (c === undefined) continue
    const title = `Modes during training: ${setting.label} (chain ${t.chain})`
    heatmaps.push(plotDiv(addPlot(modeProfilePlot({ title, steps: c.steps, shares: c.profiles[MODE_PROFILE]! }))))
  }
  if (lines.length + heatmaps.length === 0) return ''
  return `<p class="note">Lines are means over the replicates that recorded each step, shaded bands their minimum to maximum${heatmaps.length > 0 ? `; the heatmaps show the first replicate of each setting. ${MODE_HEATMAP_NOTE}` : '.'}</p>
<div class="grid">
${[...lines, ...heatmaps].join('\n')}
</div>`
}

/**
 * The training metrics, or losses, with a value at some step: a metric that does not apply to the
 * data (`reverse_kl_uniform` with modes of equal weight) is recorded as null at every step.
 */
function recorded(curves: readonly TrainingCurve[], kind: 'values' | 'losses'): string[] {
  const names = new Set<string>()
  for (const c of curves) for (const [name, values] of Object.entries(c[kind])) if (values.some((v) => v !== null)) names.add(name)
  return [...names]
}

function trainingSection(views: readonly RunView[], several: boolean, catalog: MetricCatalog, losses: MetricCatalog, addPlot: (spec: PlotSpec) => number): string {
  const out: string[] = []
  let heatmaps = false
  for (const v of views) {
    const blocks: string[] = []
    // The lowest replicate of each cell: a chain's generations are what these plots follow.
    const shown = v.run.training.filter((t, i, all) => all.findIndex((u) => u.cell === t.cell) === i)
    for (const t of shown) {
      const label = v.series.find((x) => x.cell.index === t.cell)?.local ?? `cell ${t.cell}`
      for (const metric of recorded(t.curves, 'values')) {
        // Titled as the collapse curves are: the metric's title, its name, and its unit on the axis.
        blocks.push(plotDiv(addPlot(trainingPlot({ title: `Training: ${catalog.titled(metric)}: ${label} (chain ${t.chain})`, metric, yTitle: catalog.axisTitle(metric), bounds: catalog.info(metric).bounds, curves: t.curves }))))
      }
      for (const metric of recorded(t.curves, 'losses')) {
        const { title, axis } = lossLabels(losses, metric)
        blocks.push(plotDiv(addPlot(trainingPlot({ title: `Training: ${title}: ${label} (chain ${t.chain})`, metric, yTitle: axis, loss: true, curves: t.curves }))))
      }
      // Which modes, step by step: the first and the last generation shown.
      const profiled = t.curves.filter((c) => c.profiles[MODE_PROFILE]?.some((s) => s !== null))
      for (const c of new Set([profiled[0], profiled.at(-1)])) {
        if (c === undefined) continue
        const title = `Modes during training: ${label}, generation ${c.generation} (chain ${t.chain})`
        blocks.push(plotDiv(addPlot(modeProfilePlot({ title, steps: c.steps, shares: c.profiles[MODE_PROFILE]! }))))
        heatmaps = true
      }
    }
    if (blocks.length > 0) out.push(`${several ? `<h3>${escapeHtml(v.name)}</h3>` : ''}<div class="grid">\n${blocks.join('\n')}\n</div>`)
  }
  if (heatmaps) out.unshift(`<p class="note">${MODE_HEATMAP_NOTE}</p>`)
  return out.join('\n')
}

function factsSection(v: RunView, several: boolean): string {
  const { info, timings, problems, dir } = v.run
  const cellLabel = (cell: number): string => v.series.find((s) => s.cell.index === cell)?.local ?? `cell ${cell}`
  const out: string[] = [`<div id="${v.anchor}-facts">`]
  if (several) out.push(`<h3>${escapeHtml(v.name)}</h3>`)

  const failed = failedChains(info)
  if (failed.length > 0) {
    const items = failed.map((c) => {
      const e = c.error
      const where = e === undefined ? `after ${c.generationsDone} generations` : `at generation ${e.generation}`
      // The message as the terminal said it; its code stays in run.json for scripts, not for a reader.
      const what = e === undefined ? 'no error recorded' : e.message
      const hint = e?.hint === undefined ? '' : ` <span class="hint">(${escapeHtml(e.hint)})</span>`
      return `<li data-chain="${escapeHtml(c.id)}"><code>${escapeHtml(c.id)}</code> (${escapeHtml(cellLabel(c.cell))}, replicate ${c.replicate}, seed ${c.seed}) failed ${escapeHtml(where)}: ${escapeHtml(what)}${hint}</li>`
    })
    out.push(`<div class="warning failed-chains" role="alert"><strong>Failed chains</strong><ul>${items.join('')}</ul></div>`)
  }
  const groups = failedGroups(info)
  if (groups.length > 0) {
    const items = groups.map(({ group, chains, generations, first }) => {
      const at = first.generation === -1 ? 'generation −1 (the real data’s record)' : `generation ${first.generation}`
      const chainsText = chains.length === 1 ? `chain <code>${escapeHtml(chains[0]!)}</code>` : `${chains.length} chains`
      return `<li data-group="${escapeHtml(group)}"><code>${escapeHtml(group)}</code> failed at ${generations} ${generations === 1 ? 'generation' : 'generations'} of ${chainsText}; first at ${escapeHtml(at)} of <code>${escapeHtml(first.chain)}</code>: ${escapeHtml(first.message)}</li>`
    })
    out.push(`<div class="warning failed-groups" role="alert"><strong>Failed metric groups</strong> (their values are null where they failed; the chains went on, as <code>metricErrors</code> "null" says)<ul>${items.join('')}</ul></div>`)
  }
  if (problems.length > 0) {
    out.push(`<div class="warning" role="alert"><strong>Files that could not be read</strong><ul>${problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul></div>`)
  }

  const started = Date.parse(info.startedAt)
  const finished = info.finishedAt === null ? NaN : Date.parse(info.finishedAt)
  const stops = info.stops ?? []
  const stopped = stops.reduce((sum, s) => sum + Math.max(0, Date.parse(s.resumedAt) - Date.parse(s.stoppedAt)), 0)
  // A distributed run ran on whichever workers served its queue (run.json shows it without a password).
  const queue = (info as RunInfo & { queue?: string }).queue
  const facts: [string, string][] = [
    ['status', info.status],
    ['directory', dir],
    ['started', info.startedAt],
    ['finished', info.finishedAt ?? '—'],
    ['wall time', Number.isFinite(finished - started) ? formatDuration(finished - started - stopped) : '—'],
    ...(stops.length === 0 ? [] : [['resumed', `${stops.map((s) => s.resumedAt).join(', ')}; the ${formatDuration(stopped)} it stood stopped is left out of the wall time`] as [string, string]]),
    ['run seed', String(info.seed)],
    ['workers', queue === undefined ? String(info.workers) : `those of the queue ${queue}`],
    ['backend', info.backend],
    ['node', info.node],
    ['modality', info.modality],
    ['dataset', dataKinds(info).length > 1 ? dataKinds(info).join(', ') : datasetFact(info.dataset)],
    ['model', modelKinds(info).join(', ') || '—'],
    ['metric groups', info.metrics.join(', ')],
    ...classifierFacts(info),
  ]
  out.push(`<table class="facts">${facts.map(([k, val]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(val)}</td></tr>`).join('')}</table>`)

  const all = { fit: 0, sample: 0, evaluate: 0 }
  const timingRows = [...timings].map(([cell, t]) => {
    all.fit += t.fit
    all.sample += t.sample
    all.evaluate += t.evaluate
    return `<tr><td>${escapeHtml(cellLabel(cell))}</td><td class="num">${formatDuration(t.fit)}</td><td class="num">${formatDuration(t.sample)}</td><td class="num">${formatDuration(t.evaluate)}</td></tr>`
  })
  // A generation's post-training stages run between its fit and its sample, and are timed with its fit.
  const fitHead = info.cells.some((cell) => stageKinds(cell.config).length > 0) ? 'fit and post-training' : 'fit'
  out.push(`<h4>Time per stage (summed over chains and generations)</h4>
<table class="timings"><thead><tr><th>setting</th><th>${fitHead}</th><th>sample</th><th>evaluate</th></tr></thead><tbody>
${timingRows.join('\n')}
<tr class="total"><th>total</th><td class="num">${formatDuration(all.fit)}</td><td class="num">${formatDuration(all.sample)}</td><td class="num">${formatDuration(all.evaluate)}</td></tr>
</tbody></table>`)

  // The page stays a few MB whatever the number of chains: the first ones, and every one that did not finish.
  const listed = info.chains.filter((c, i) => i < MAX_CHAIN_ROWS || c.status !== 'finished')
  const chainRows = listed.map((c) => {
    const total = cellGenerations(info.cells.find((cell) => cell.index === c.cell))
    return `<tr data-chain="${escapeHtml(c.id)}"><td><code>${escapeHtml(c.id)}</code></td><td>${escapeHtml(cellLabel(c.cell))}</td><td class="num">${c.replicate}</td><td class="num">${c.seed}</td><td>${escapeHtml(c.status)}</td><td class="num">${c.generationsDone}${total === undefined ? '' : ` / ${total}`}</td></tr>`
  })
  out.push(`<details${info.chains.length <= 24 ? ' open' : ''}><summary>Chains and seeds (${info.chains.length})</summary>
<table class="chains"><thead><tr><th>chain</th><th>setting</th><th>replicate</th><th>seed</th><th>status</th><th>generations done</th></tr></thead><tbody>
${chainRows.join('\n')}
</tbody></table>${listed.length < info.chains.length ? `<p class="note">and ${info.chains.length - listed.length} more finished chains (run.json lists them all)</p>` : ''}</details>`)

  const packages = Object.entries(info.packages)
  out.push(
    packages.length === 0
      ? '<p>Package versions: none recorded.</p>'
      : `<details open><summary>Package versions</summary><table class="packages">${packages.map(([name, version]) => `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(version)}</td></tr>`).join('')}</table></details>`,
  )
  // The run's own defaults are in the config; a model's and a dataset's are each setting's, below.
  out.push(jsonBlock('Config, with the run’s defaults filled in', info.config))
  out.push(
    `<details><summary>Config per setting, every default filled in (the model’s and the data’s too)</summary>${info.cells
      .map((cell) => `<h4>${escapeHtml(cellLabel(cell.index))}</h4><pre>${escapeHtml(JSON.stringify(cell.config, null, 2))}</pre>`)
      .join('')}</details>`,
  )
  out.push(jsonBlock('Metric options', info.metricOptions))
  out.push(jsonBlock(dataKinds(info).length > 1 ? 'Dataset facts (of the first setting’s data)' : 'Dataset', info.dataset))
  out.push('</div>')
  return out.join('\n')
}

/**
 * The held-out accuracy of the classifier behind the class metrics, which `ouroboros run` records in
 * run.json for runs with the classifier group: a low one would make those metrics meaningless.
 */
function classifierFacts(info: RunInfo): [string, string][] {
  const recorded = info.classifier
  if (typeof recorded?.heldoutAccuracy !== 'number') return []
  return [['classifier', `held-out accuracy ${(100 * recorded.heldoutAccuracy).toFixed(2)} % on ${recorded.testItems} digits`]]
}

function jsonBlock(title: string, value: unknown): string {
  return `<details><summary>${escapeHtml(title)}</summary><pre>${escapeHtml(JSON.stringify(value, null, 2) ?? 'null')}</pre></details>`
}

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms < 7_200_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`
}

/** System fonts only: the page loads nothing. */
const CSS = `
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; margin: 0 auto; max-width: 1320px; padding: 0 20px 48px; }
header h1 { font-size: 1.6em; margin: 20px 0 4px; overflow-wrap: anywhere; }
.sub { margin: 2px 0; color: #444; overflow-wrap: anywhere; }
.sub .when { white-space: nowrap; }
nav { margin: 12px 0 4px; padding: 8px 0; border-bottom: 1px solid #ddd; }
nav a { color: #0060a0; }
h2 { margin-top: 32px; border-bottom: 2px solid #0072B2; padding-bottom: 4px; }
h3 { margin-top: 24px; overflow-wrap: anywhere; }
.warning { background: #fff4e0; border: 1px solid #E69F00; border-left: 6px solid #D55E00; padding: 10px 14px; margin: 10px 0; border-radius: 4px; overflow-wrap: anywhere; }
.warning ul { margin: 6px 0 0; padding-left: 20px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
@media (max-width: 640px) { .grid { grid-template-columns: 1fr; } }
.plot { min-height: 460px; border: 1px solid #e4e4e4; border-radius: 4px; }
figure.samples { margin: 0; }
figure.gallery { margin: 0 0 16px; }
figure.gallery figcaption { font-weight: 600; margin-bottom: 6px; overflow-wrap: anywhere; }
figure.gallery .frames { display: flex; flex-wrap: wrap; gap: 12px; }
figure.gallery .frame-title { font-size: 0.85em; color: #444; margin-bottom: 2px; }
figure.gallery.images img { image-rendering: pixelated; width: 287px; border: 1px solid #ccc; }
figure.gallery.text .frame { flex: 1 1 420px; }
ol.sentences { margin: 0; padding-left: 1.4em; font-size: 0.9em; }
ol.sentences li.empty { color: #777; font-style: italic; }
figure.samples figcaption { color: #444; font-size: 0.9em; margin-top: 4px; overflow-wrap: anywhere; }
.slider { display: flex; align-items: center; flex-wrap: wrap; gap: 6px 16px; margin-top: 6px; }
.slider label { display: flex; align-items: center; gap: 8px; }
.slider input { width: 260px; }
.slider output { font-variant-numeric: tabular-nums; }
figure.choices { margin: 0; }
div.choices { display: flex; flex-wrap: wrap; gap: 6px 16px; margin-top: 6px; }
div.choices select { font: inherit; }
/* A table wider than the window scrolls on its own, not the page (a window half a laptop screen wide). */
table { border-collapse: collapse; margin: 8px 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #f3f6f9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary td.setting { min-width: 14em; }
@media (max-width: 1100px) { table.summary td.setting { min-width: 9em; } table.summary td.num .gen { display: block; white-space: normal; } }
@media (max-width: 900px) { table.summary { font-size: 0.9em; } table.summary td.setting { min-width: 0; } table.summary th, table.summary td { padding: 4px; } }
@media (max-width: 760px) { table.summary { font-size: 0.85em; } table.summary th, table.summary td { padding: 3px; } }
table.summary td.crossed { background: #fde3cf; font-weight: 600; }
table.summary td.held { color: #245; }
.gen { color: #666; font-size: 0.85em; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
.keyed { display: flex; align-items: flex-start; }
.keyed > .swatch, .keyed > .swatch-line { flex: none; margin: 0.2em 6px 0 0; }
table:has(.swatch-line) .keyed > .swatch { margin-left: 7px; margin-right: 13px; }
.note { color: #555; font-size: 0.9em; }
.aims { margin: 6px 0; }
ul.aims { padding-left: 1.4em; }
ul.aims .settings { color: #555; font-size: 0.9em; }
pre { background: #f7f7f7; padding: 10px; overflow: auto; max-height: 420px; font-size: 0.85em; }
details { margin: 8px 0; }
summary { cursor: pointer; font-weight: 600; }
code { font-size: 0.9em; }
`
