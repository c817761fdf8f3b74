import type { CellCurve } from './aggregate.js'
import { evenSpread } from './even-spread.js'
import { escapeHtml, formatNumber, plotlyText } from './html.js'
import type { ChainSamples, SampleFrame, TrainingCurve } from './load.js'
import { titled, type MetricCatalog } from './metric-info.js'
import type { TheoryCurve } from './theory.js'

/** Plotly's figure for one plot div, as the page script passes it to Plotly.newPlot. */
export interface PlotSpec {
  data: Record<string, unknown>[]
  layout: Record<string, unknown>
  /** Sample plots: traces first .. first + generations.length − 1 show one generation each. */
  slider?: { first: number; generations: number[]; captions: string[]; initial: number }
  /** Selects under the plot: trace t shows where, for every control c, keys[t][c] is −1 or the option chosen. */
  choices?: Choices
}

export interface ChoiceControl {
  label: string
  options: string[]
  initial: number
  /** Layout changes per option (an axis title), applied as the option is chosen. */
  relayout?: Record<string, unknown>[]
  /** One select above a block of plots drives this control in each of them. */
  shared?: boolean
}

export interface Choices {
  controls: ChoiceControl[]
  keys: number[][]
}

/** Okabe & Ito's colour-blind-safe palette; black is kept for theory lines. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442'] as const
const DASHES = ['solid', 'dashdot', 'longdash', 'longdashdot'] as const
/** Marker shapes, for plots where a line's dash already says something (a proxy reward is dashed). */
const SYMBOLS = ['circle', 'square', 'diamond', 'triangle-up'] as const
export const THEORY_COLOR = '#000000'
export const REAL_COLOR = '#777777'

export interface SeriesStyle {
  color: string
  dash: string
  /** A plotly marker symbol with a filled and an open form (`${symbol}-open`). */
  symbol: string
}

/** Past seven series the colours repeat with another dash pattern and another marker shape. */
export function seriesStyle(index: number): SeriesStyle {
  const cycle = Math.floor(index / PALETTE.length)
  return { color: PALETTE[index % PALETTE.length]!, dash: DASHES[cycle % DASHES.length]!, symbol: SYMBOLS[cycle % SYMBOLS.length]! }
}

/** Whether a series is past the palette's seven colours: its colour is an earlier one's, its dash and marker shape are not. */
export function repeatsColour(style: Pick<SeriesStyle, 'symbol'>): boolean {
  return style.symbol !== SYMBOLS[0]
}

/** Plotly's dash patterns for a line 2 px wide (plotly scales them by the width, taken as at least 3). */
const SWATCH_DASHES: Readonly<Record<string, string>> = { solid: '', dashdot: '6 2 2 2', longdash: '10 10', longdashdot: '10 4 2 4' }
/** The marker shapes in a 26 × 12 box, centred at (13, 6). */
const SWATCH_SYMBOLS: Readonly<Record<string, string>> = {
  circle: '<circle cx="13" cy="6" r="3.5"/>',
  square: '<rect x="9.5" y="2.5" width="7" height="7"/>',
  diamond: '<polygon points="13,1.5 17.5,6 13,10.5 8.5,6"/>',
  'triangle-up': '<polygon points="13,1.5 17.5,10 8.5,10"/>',
}

/**
 * A table row's key to its series on the plots: a square of the colour while colours are unique,
 * past seven a line in the series' dash with its marker shape, which tell it from the earlier
 * series of that colour.
 */
export function swatch(style: SeriesStyle | undefined): string {
  if (style === undefined) return ''
  if (!repeatsColour(style)) return `<span class="swatch" style="background:${style.color}"></span>`
  const dash = SWATCH_DASHES[style.dash] ?? ''
  return (
    `<svg class="swatch-line" width="26" height="12" viewBox="0 0 26 12" aria-hidden="true">` +
    `<line x1="0" y1="6" x2="26" y2="6" stroke="${style.color}" stroke-width="2"${dash === '' ? '' : ` stroke-dasharray="${dash}"`}/>` +
    `<g fill="${style.color}">${SWATCH_SYMBOLS[style.symbol] ?? ''}</g></svg>`
  )
}

/** A table's setting cell: the series' key beside its label, which wraps beside the key, not under it. */
export function settingCell(style: SeriesStyle | undefined, label: string): string {
  // A label such as policy=mix(realFraction=0.1) may break after its parentheses open, so that a
  // narrow window does not scroll sideways to show it.
  return `<td class="setting"><span class="keyed">${swatch(style)}<span>${escapeHtml(label).replaceAll('(', '(<wbr>')}</span></span></td>`
}

export function rgba(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`
}

/** Six significant digits are more than a plot or its hover shows, and halve the embedded JSON. */
export function round(v: number): number {
  return Number(v.toPrecision(6))
}

/** Plotly's base64 typed-array form: 5⅓ characters a number instead of some 10 to 20 as JSON text. */
function f32(values: Float32Array): { dtype: 'f4'; bdata: string } {
  return { dtype: 'f4', bdata: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64') }
}

/** The mode bar's strip above the title: the two never overlap, however long the title. */
const MODEBAR_ROOM = 30
/** Characters of a 15 px title that fit a plot of the page's narrowest column (560 px). */
const TITLE_LINE = 62

/** Characters of a y axis title along a plot's height (about 300 px between the legend and the title). */
const AXIS_LINE = 44

/** A title broken at spaces into lines of at most `width` characters (one long word stays whole). */
export function wrapTitle(text: string, width = TITLE_LINE): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  lines.push(line)
  return lines
}

export const baseLayout = (title: string, xTitle: string, yTitle: string): Record<string, unknown> => {
  const lines = wrapTitle(title)
  const top = MODEBAR_ROOM + 20 * lines.length + 8
  return {
    title: {
      text: lines.map(plotlyText).join('<br>'),
      x: 0,
      xref: 'paper',
      xanchor: 'left',
      y: 1,
      yref: 'container',
      yanchor: 'top',
      pad: { t: MODEBAR_ROOM },
      font: { size: 15 },
    },
    xaxis: { title: { text: plotlyText(xTitle) }, zeroline: false, automargin: true },
    // A long title runs past the plot's ends, where plotly cuts it: in lines instead.
    yaxis: { title: { text: wrapTitle(yTitle, AXIS_LINE).map(plotlyText).join('<br>') }, zeroline: false, automargin: true },
    // Anchored to the figure's bottom edge, a legend of any length pushes the plot up instead of covering the axis title.
    // Shown whole: the figure's height has room for it, where plotly would scroll one past half of it.
    legend: { orientation: 'h', x: 0, xanchor: 'left', y: 0, yref: 'container', yanchor: 'bottom', maxheight: 1 },
    margin: { t: top, r: 16, b: 16, l: 16 },
    height: 412 + top,
    hovermode: 'closest',
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
  }
}

/** The layout's top margin: the room its mode bar and title take. */
function titleRoom(layout: Record<string, unknown>): number {
  return (layout.margin as { t: number }).t
}

/** Past this many replicates a curve's band spans the 5th to the 95th percentile instead of the extremes. */
export const MAX_MIN_MAX_REPLICATES = 20
/** More settings than this on one plot: their bands get no legend entries of their own. */
const MAX_SERIES_WITH_BAND_ENTRIES = 4

/**
 * The opacity of a band among `series` on one plot: past four, lighter in proportion, so that
 * where many bands overlap the means stay readable and the overlap does not turn one colour.
 */
export function bandAlpha(series: number): number {
  return series <= MAX_SERIES_WITH_BAND_ENTRIES ? 0.18 : Math.max(0.05, (0.18 * MAX_SERIES_WITH_BAND_ENTRIES) / series)
}

export interface CurveSeries {
  label: string
  style: SeriesStyle
  curve: CellCurve
  /** Replicates the cell has: a band only makes sense for more than one. */
  replicates: number
  /** A theory curve on the plot is this setting's: its mean gets ±2 standard errors to judge the gap by. */
  theory?: boolean
}

export interface Reference {
  label: string
  color: string
  value: number
}

/**
 * Collapse curve of one metric: replicate mean with a band per series (min–max over a few
 * replicates, 5–95 % over more, where the extremes of thousands say little), real data, theory.
 * Where theory is drawn for a setting, its mean also gets ±2 standard errors (over its
 * replicates), the noise to judge a gap between the mean and the theory by.
 */
export function curvesPlot(p: {
  title: string
  yTitle: string
  series: readonly CurveSeries[]
  references: readonly Reference[]
  theory: readonly { curve: TheoryCurve; color: string }[]
  /** Values the y axis must reach (the collapse levels), so that it shows how far the curves are from them. */
  reach?: readonly number[]
  /** The least span of the y axis, centred on the values: a wiggle of 0.3 % must not fill the plot. */
  minSpan?: number
  /** The metric's unit: the logarithm of a quantity in data units (ln …) takes no log axis. */
  unit?: string
  /** The values the metric can take (a share in [0, 1]): the axis stays inside them. */
  bounds?: readonly [number, number]
}): PlotSpec {
  const data: Record<string, unknown>[] = []
  const plotted: number[] = []
  let lastGeneration = 0
  // With many settings the bands' own legend entries would double a long legend: the caption
  // says what a band is, and clicking a mean's entry still hides its band (one legend group).
  const bandsInLegend = p.series.length <= MAX_SERIES_WITH_BAND_ENTRIES
  for (const s of p.series) {
    const { label, style } = s
    const curve = decimate(s.curve)
    const x = curve.generations
    lastGeneration = Math.max(lastGeneration, x[x.length - 1] ?? 0)
    const name = plotlyText(label)
    if (s.replicates > 1) {
      const quantiles = s.replicates > MAX_MIN_MAX_REPLICATES
      const [lo, hi] = quantiles ? ['5th percentile', '95th percentile'] : ['min', 'max']
      data.push({
        type: 'scatter',
        mode: 'lines',
        x,
        y: (quantiles ? curve.upper : curve.max).map(round),
        line: { width: 0, color: style.color },
        legendgroup: name,
        showlegend: false,
        name: `${name}: ${hi} over replicates`,
        hovertemplate: `generation %{x}<br>${hi} over replicates %{y:.4g}`,
      })
      data.push({
        type: 'scatter',
        mode: 'lines',
        x,
        y: (quantiles ? curve.lower : curve.min).map(round),
        fill: 'tonexty',
        fillcolor: rgba(style.color, bandAlpha(p.series.length)),
        line: { width: 0, color: style.color },
        legendgroup: name,
        ...(bandsInLegend ? {} : { showlegend: false }),
        name: `${name}: ${quantiles ? '5–95 %' : 'min–max'} over ${s.replicates} replicates`,
        hovertemplate: `generation %{x}<br>${lo} over replicates %{y:.4g}`,
      })
    }
    if (s.theory === true && s.replicates > 2) {
      const se = curve.sd.map((sd, i) => (2 * sd) / Math.sqrt(curve.count[i]!))
      data.push({
        type: 'scatter',
        mode: 'lines',
        x,
        y: curve.mean.map((m, i) => round(m + se[i]!)),
        line: { width: 0.5, color: style.color },
        legendgroup: bandsInLegend ? `${name} se` : name,
        showlegend: false,
        name: `${name}: mean + 2 standard errors`,
        hovertemplate: 'generation %{x}<br>mean + 2 SE %{y:.4g}',
      })
      data.push({
        type: 'scatter',
        mode: 'lines',
        x,
        y: curve.mean.map((m, i) => round(m - se[i]!)),
        fill: 'tonexty',
        fillcolor: rgba(style.color, 0.35),
        line: { width: 0.5, color: style.color },
        legendgroup: bandsInLegend ? `${name} se` : name,
        ...(bandsInLegend ? {} : { showlegend: false }),
        name: `${name}: mean ± 2 standard errors`,
        hovertemplate: 'generation %{x}<br>mean − 2 SE %{y:.4g}',
      })
    }
    data.push({
      type: 'scatter',
      mode: lineMode(x.length),
      x,
      y: curve.mean.map(round),
      customdata: curve.count,
      line: { color: style.color, dash: style.dash, width: 2 },
      marker: { size: 5 },
      legendgroup: name,
      name: s.replicates > 1 ? `${name} (mean)` : name,
      hovertemplate: s.replicates > 1 ? 'generation %{x}<br>mean %{y:.4g} of %{customdata} replicates' : 'generation %{x}<br>%{y:.4g}',
    })
    for (const list of s.replicates > MAX_MIN_MAX_REPLICATES ? [curve.mean, curve.lower, curve.upper] : [curve.mean, curve.min, curve.max]) for (const v of list) plotted.push(v)
  }
  if (!bandsInLegend) data.push(...bandKeys(p.series))
  for (const ref of p.references) {
    data.push({
      type: 'scatter',
      mode: 'lines',
      x: [0, Math.max(lastGeneration, 1)],
      y: [round(ref.value), round(ref.value)],
      line: { color: ref.color, dash: 'dash', width: 1.5 },
      name: plotlyText(ref.label),
      hovertemplate: 'real data %{y:.4g}',
    })
    plotted.push(ref.value)
  }
  for (const { curve, color } of p.theory) {
    const name = plotlyText(curve.name)
    if (curve.band !== undefined) {
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: curve.generations,
        y: curve.band.upper.map(round),
        line: { width: 0, color },
        legendgroup: name,
        showlegend: false,
        name: plotlyText(curve.band.name),
        hovertemplate: 'generation %{x}<br>theory +1 SD %{y:.4g}',
      })
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: curve.generations,
        y: curve.band.lower.map(round),
        fill: 'tonexty',
        fillcolor: rgba(color, 0.08),
        line: { width: 0, color },
        legendgroup: name,
        name: plotlyText(curve.band.name),
        hovertemplate: 'generation %{x}<br>theory −1 SD %{y:.4g}',
      })
    }
    data.push({
      type: 'scatter',
      mode: 'lines',
      x: curve.generations,
      y: curve.values.map(round),
      line: { color, dash: 'dot', width: 2 },
      legendgroup: name,
      name,
      hovertemplate: 'generation %{x}<br>theory %{y:.4g}',
    })
    if (curve.bound !== undefined) {
      const g = curve.generations
      data.push({
        type: 'scatter',
        mode: 'lines',
        x: [g[0] ?? 0, g[g.length - 1] ?? 1],
        y: [round(curve.bound.value), round(curve.bound.value)],
        line: { color, dash: 'longdash', width: 1 },
        name: plotlyText(curve.bound.name),
        hovertemplate: 'theory bound %{y:.4g}',
      })
    }
  }
  const layout = baseLayout(p.title, 'generation', p.yTitle)
  // Room for the legend below a plot area of a constant height, however many settings it lists.
  layout.height = titleRoom(layout) + 292 + 22 * data.filter((t) => t.showlegend !== false).length
  // A few generations get a tick each, not plotly's halves.
  if (lastGeneration <= 10) (layout.xaxis as Record<string, unknown>).dtick = 1
  // A bounded share spans orders of magnitude only on its way to 0, which a log axis would blow up.
  if (p.bounds === undefined && wantsLogAxis(plotted, p.unit)) Object.assign(layout.yaxis as Record<string, unknown>, logAxis(plotted))
  else {
    const range = sensibleRange(plotted, p.reach ?? [], p.minSpan ?? 0, p.bounds)
    if (range !== undefined) (layout.yaxis as Record<string, unknown>).range = range
  }
  return { data, layout }
}

/**
 * Legend entries that say what the shaded bands are, once for all settings, where the settings
 * are too many for a band entry each.
 */
function bandKeys(series: readonly CurveSeries[]): Record<string, unknown>[] {
  const banded = series.filter((s) => s.replicates > 1)
  if (banded.length === 0) return []
  const kinds = [...new Set(banded.map((s) => (s.replicates > MAX_MIN_MAX_REPLICATES ? '5–95 %' : 'min–max')))]
  const keys = [bandKey(banded.map((s) => s.replicates), kinds.length === 1 ? kinds[0] : `min–max (5–95 % past ${MAX_MIN_MAX_REPLICATES})`)]
  if (banded.some((s) => s.theory === true && s.replicates > 2)) keys.push(keyEntry('darker: mean ± 2 standard errors', 0.35))
  return keys
}

/**
 * The legend entry that says what the settings' shaded bands are (`spread` over the replicates of
 * each, `replicates` their counts), where the bands have no entries of their own.
 */
export function bandKey(replicates: readonly number[], spread = 'min–max'): Record<string, unknown> {
  const counts = [...new Set(replicates)]
  return keyEntry(`shaded, in each setting’s colour: ${spread} over ${counts.length === 1 ? `${counts[0]} replicates` : 'each setting’s replicates'}`, 0.18)
}

/** A legend entry of no points, grey and shaded, that only names what a kind of band is. */
function keyEntry(name: string, alpha: number): Record<string, unknown> {
  return {
    type: 'scatter',
    mode: 'lines',
    x: [null],
    y: [null],
    fill: 'toself',
    fillcolor: rgba(THEORY_COLOR, alpha),
    line: { width: 0, color: THEORY_COLOR },
    name,
    hoverinfo: 'skip',
  }
}

/** Without a collapse level to reach, the y axis spans at least this share of the metric's size. */
export const MIN_RELATIVE_SPAN = 0.1

/**
 * A y range over the values and `reach`, at least `minSpan` wide (widened about the middle, then
 * moved inside `bounds`, and kept off negative numbers where every value is ≥ 0; a constant gets
 * some span even with `minSpan` 0), padded by 5 % (by at most 2 % of the bounds beyond them);
 * undefined where plotly's own range over the values already does.
 */
export function sensibleRange(values: readonly number[], reach: readonly number[], minSpan: number, bounds?: readonly [number, number]): [number, number] | undefined {
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    if (!Number.isFinite(v)) continue
    lo = Math.min(lo, v)
    hi = Math.max(hi, v)
  }
  if (lo > hi) return undefined
  const extent = [lo, hi] as const
  const floor = Math.max(lo >= 0 ? 0 : -Infinity, bounds?.[0] ?? -Infinity)
  const ceiling = bounds?.[1] ?? Infinity
  for (const v of reach) {
    if (!Number.isFinite(v)) continue
    lo = Math.max(floor, Math.min(lo, v))
    hi = Math.min(ceiling, Math.max(hi, v))
  }
  // A constant 0 has no size to take a span from, and plotly draws a range of no width as ±1
  // about it: a tenth of the bounds, else 1.
  const need = hi > lo || minSpan > 0 ? minSpan : bounds === undefined ? 1 : (bounds[1] - bounds[0]) / 10
  if (hi - lo < need) {
    const span = Math.min(need, ceiling - floor)
    const mid = (lo + hi) / 2
    lo = Math.max(floor, Math.min(mid - span / 2, ceiling - span))
    hi = lo + span
  }
  if (lo === extent[0] && hi === extent[1] && bounds === undefined) return undefined
  const pad = 0.05 * (hi - lo)
  // Past its bounds an axis shows values the metric cannot take (120 %): only a sliver of margin.
  const margin = bounds === undefined ? Infinity : 0.02 * (bounds[1] - bounds[0])
  return [round(Math.max(lo - pad, floor - margin)), round(Math.min(hi + pad, ceiling + margin))]
}

/** Past this many generations a curve is drawn through an even spread of them: a plot has no more pixels. */
const MAX_CURVE_POINTS = 2000

function decimate(curve: CellCurve): CellCurve {
  if (curve.generations.length <= MAX_CURVE_POINTS) return curve
  const keep = evenSpread([...curve.generations.keys()], MAX_CURVE_POINTS)
  const pick = <T>(list: readonly T[]): T[] => keep.map((i) => list[i]!)
  return {
    generations: pick(curve.generations),
    mean: pick(curve.mean),
    min: pick(curve.min),
    max: pick(curve.max),
    sd: pick(curve.sd),
    lower: pick(curve.lower),
    upper: pick(curve.upper),
    count: pick(curve.count),
  }
}

/**
 * A log axis where every value is positive (a log axis would hide the rest) and they span more
 * than two orders of magnitude, unless the values are the logarithm of a quantity in data units
 * (`unit` 'ln …', log det covariance): their zero is a choice of units, and positive ones are so by
 * chance. An NLL that explodes over generations (nats per sample) keeps it.
 */
export function wantsLogAxis(values: readonly number[], unit?: string): boolean {
  if (values.length === 0 || unit?.startsWith('ln ') === true) return false
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    lo = Math.min(lo, v)
    hi = Math.max(hi, v)
  }
  return lo > 0 && hi / lo > 100
}

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹' }

/** m·10^k in plain digits, or as a power of ten. */
function logTickText(m: number, k: number, plain: boolean): string {
  if (plain) return String(Number(`${m}e${k}`))
  const power = `10${[...String(k)].map((c) => SUPERSCRIPT[c]).join('')}`
  return m === 1 ? power : `${m}×${power}`
}

/**
 * A log y axis over `values` (positive where finite). Plotly labels its ticks between decades with
 * their first digit alone (`5`, `2`, and over about two decades every digit, `1 9 8 7 … 2 0.1`),
 * which read as the values 5 and 2; these ticks carry their whole value: 1, 2 and 5 in each decade
 * over up to three decades, each decade over up to nine, every few decades beyond. They are plain
 * digits where every value lies between 0.001 and 10,000, else all powers of ten.
 */
export function logAxis(values: readonly number[]): Record<string, unknown> {
  const span = positiveSpan(values)
  if (span === undefined) return { type: 'log' }
  const { lo, hi } = span
  const first = Math.floor(Math.log10(lo))
  const last = Math.ceil(Math.log10(hi))
  const decades = Math.log10(hi / lo)
  const mantissas = decades <= 3 ? [1, 2, 5] : [1]
  const every = decades <= 9 ? 1 : Math.ceil(decades / 8)
  const plain = lo >= 1e-3 && hi <= 1e4
  const tickvals: number[] = []
  const ticktext: string[] = []
  // Plotly's range pads the values a little: one tick either side, which it hides when outside.
  for (let k = first - 1; k <= last + 1; k++) {
    if (k % every !== 0) continue
    for (const m of mantissas) {
      tickvals.push(Number(`${m}e${k}`))
      ticktext.push(logTickText(m, k, plain))
    }
  }
  return { type: 'log', tickvals, ticktext }
}

/**
 * A log axis's range (log10 units) over the positive finite values, padded by a twentieth of their
 * span either side (a step plot gives each generation its own log axis, ticks and range).
 */
export function logRange(values: readonly number[]): [number, number] | undefined {
  const span = positiveSpan(values)
  if (span === undefined) return undefined
  const { lo, hi } = span
  const pad = Math.max(0.05 * Math.log10(hi / lo), 0.05)
  return [round(Math.log10(lo) - pad), round(Math.log10(hi) + pad)]
}

/** The least and the greatest of the positive finite values, which a log axis can show. */
function positiveSpan(values: readonly number[]): { lo: number; hi: number } | undefined {
  let lo = Infinity
  let hi = -Infinity
  for (const v of values) {
    if (!Number.isFinite(v) || v <= 0) continue
    lo = Math.min(lo, v)
    hi = Math.max(hi, v)
  }
  return lo > hi ? undefined : { lo, hi }
}

/**
 * A scatter's marker size for `n` points: small where thousands overlap, larger where a few would
 * vanish (a collapsed chain's 50 samples on one spot read as an empty plot at 3 px).
 */
function markerSize(n: number): number {
  return n <= 100 ? 6 : n <= 1000 ? 4 : 3
}

/**
 * Samples of one chain with a generation slider: a scatter of the first two coordinates (a
 * histogram for 1-D data) per shown generation over the real data, mode centres marked. Axes stay
 * fixed across generations so that the slider shows the distribution change, not the zoom.
 */
export function samplesPlot(p: {
  title: string
  samples: ChainSamples
  color: string
  /** Mode centres, first two coordinates each. */
  centers: readonly (readonly [number, number])[]
  /** Share of each frame's points to embed (≤ 1), from the page's size budget. */
  keep: number
  /** 1-D data: bins shared with the run's other panels (`histogramBins` of them all), else this chain's own. */
  bins?: HistogramBins
}): PlotSpec {
  const { samples, color } = p
  const frames = samples.frames.map((f) => thin(f, samples.dims, p.keep))
  const real = samples.real === null ? null : thin(samples.real, samples.dims, p.keep)
  const initial = frames.length - 1
  // 1-D data are histograms on bins whose range is the axis's; other data take the axes of their frames.
  const bins = samples.dims === 1 ? (p.bins ?? histogramBins([samples], p.keep)) : undefined
  const ranges = bins === undefined ? axisRanges([...frames, ...(real === null ? [] : [real])], samples.dims, p.centers) : [[bins.lo, bins.hi] as [number, number]]
  const binWidth = bins === undefined ? 0 : (bins.hi - bins.lo) / bins.count
  // The axes hold the bulk of every generation, so a few points of one may fall beyond them: said.
  // Equal scales widen one axis to the plot's shape, which may show some of them after all.
  const equalScales = samples.d === 2 && samples.view === 'coordinates'
  const captions = frames.map((f, i) => {
    const source = samples.frames[i]!
    const beyond = pointsBeyond(f, samples.dims, ranges)
    return `generation ${f.generation}: ${f.points.length / samples.dims} of ${source.n} points${beyond > 0 ? `, ${equalScales ? 'up to ' : ''}${beyond} beyond the axes` : ''}${samples.dims === 1 ? narrowNote(source, binWidth) : ''}`
  })
  const data: Record<string, unknown>[] = []
  if (samples.dims === 1) {
    const [lo, hi] = ranges[0]!
    const xbins = { start: lo, end: hi, size: binWidth }
    const hist = (f: SampleFrame, name: string, colour: string, visible: boolean, opacity: number): Record<string, unknown> => ({
      type: 'histogram',
      x: f32(f.points),
      xbins,
      histnorm: 'probability density',
      marker: { color: colour },
      opacity,
      name,
      visible,
      hovertemplate: 'x %{x}<br>density %{y:.3g}',
    })
    if (real !== null) data.push(hist(real, 'real data', REAL_COLOR, true, 0.45))
    const first = data.length
    frames.forEach((f, i) => data.push(hist(f, `generation ${f.generation}`, color, i === initial, 0.6)))
    const layout = baseLayout(p.title, 'x (data units)', 'density')
    layout.barmode = 'overlay'
    ;(layout.xaxis as Record<string, unknown>).range = [lo, hi]
    return { data, layout, slider: { first, generations: frames.map((f) => f.generation), captions, initial } }
  }
  const scatter = (f: SampleFrame, name: string, colour: string, visible: boolean, opacity: number): Record<string, unknown> => {
    const [x, y] = columns(f.points)
    return {
      type: 'scatter',
      mode: 'markers',
      x: f32(x),
      y: f32(y),
      marker: { color: colour, size: markerSize(f.points.length / 2), opacity },
      name,
      visible,
      hovertemplate: '(%{x:.3g}, %{y:.3g})',
    }
  }
  // A ring around each centre, wider than a narrow mode (the ring's modes are a few pixels across),
  // so that the samples show inside it rather than under a marker; drawn first, beneath them.
  if (p.centers.length > 0) {
    data.push({
      type: 'scatter',
      mode: 'markers',
      x: p.centers.map((c) => round(c[0])),
      y: p.centers.map((c) => round(c[1])),
      marker: { symbol: 'circle-open', size: 22, color: '#555555', line: { width: 1 } },
      name: 'mode centres',
      hovertemplate: 'mode centre (%{x}, %{y})',
    })
  }
  if (samples.view === 'residuals' && samples.noise !== undefined) {
    const [lo, hi] = ranges[0]!
    const band = round(2 * samples.noise)
    data.push({
      type: 'scatter',
      mode: 'lines',
      x: [lo, hi, null, lo, hi],
      y: [band, band, null, -band, -band],
      line: { color: REAL_COLOR, dash: 'dot', width: 1 },
      name: '±2σ: the label noise',
      hoverinfo: 'skip',
    })
  }
  if (real !== null) data.push(scatter(real, 'real data', REAL_COLOR, true, 0.3))
  const first = data.length
  frames.forEach((f, i) => data.push(scatter(f, `generation ${f.generation}`, color, i === initial, 0.65)))
  const [xTitle, yTitle] =
    samples.view === 'residuals'
      ? ['x·ŵ₀, the least-squares fit to the real data', 'label − x·ŵ₀']
      : [samples.d === 2 ? 'x₁ (data units)' : `x₁, first of ${samples.d} coordinates (data units)`, 'x₂ (data units)']
  const layout = baseLayout(p.title, xTitle, yTitle)
  ;(layout.xaxis as Record<string, unknown>).range = ranges[0]
  ;(layout.yaxis as Record<string, unknown>).range = ranges[1]
  // Equal scales show a ring as a ring; beyond 2-D the first two coordinates need not share one.
  if (equalScales) (layout.yaxis as Record<string, unknown>).scaleanchor = 'x'
  return { data, layout, slider: { first, generations: frames.map((f) => f.generation), captions, initial } }
}

export interface HistogramBins {
  lo: number
  hi: number
  count: number
}

/**
 * Bins for the 1-D histograms of these chains, shared so that generations, and panels of the same
 * data side by side, compare: over the bulk of every frame and the real data, about 2√n of them
 * for the largest frame shown (10 to 60), enough to show a shape without gaps.
 */
export function histogramBins(chains: readonly ChainSamples[], keep: number): HistogramBins {
  const frames = chains.flatMap((c) => [...c.frames, ...(c.real === null ? [] : [c.real])].map((f) => thin(f, c.dims, keep)))
  const [lo, hi] = axisRanges(frames, 1, [])[0]!
  const largest = Math.max(0, ...frames.map((f) => f.points.length))
  return { lo, hi, count: Math.min(60, Math.max(10, Math.round(2 * Math.sqrt(largest)))) }
}

/** Bins this many times wider than a frame's spread draw it as one ordinary bar: the caption says how narrow it is. */
const NARROW = 10

/** `, all within 0.0005 of 0.532 (…)` where a frame's values span under a tenth of a bin; else nothing. */
function narrowNote(f: SampleFrame, binWidth: number): string {
  let lo = Infinity
  let hi = -Infinity
  for (const v of f.points) {
    if (!Number.isFinite(v)) return ''
    lo = Math.min(lo, v)
    hi = Math.max(hi, v)
  }
  if (f.points.length < 2 || (hi - lo) * NARROW >= binWidth) return ''
  return `, all within ${formatNumber((hi - lo) / 2)} of ${formatNumber((hi + lo) / 2)}, far narrower than one bar (${formatNumber(binWidth)} wide)`
}

function thin(f: SampleFrame, dims: number, keep: number): SampleFrame {
  const n = f.points.length / dims
  const m = Math.max(1, Math.ceil(n * Math.min(1, keep)))
  if (m >= n) return f
  const points = new Float32Array(m * dims)
  for (let i = 0; i < m; i++) {
    const row = Math.floor((i * n) / m)
    for (let j = 0; j < dims; j++) points[i * dims + j] = f.points[row * dims + j]!
  }
  return { generation: f.generation, n: f.n, points }
}

function columns(points: Float32Array): [Float32Array, Float32Array] {
  const n = points.length / 2
  const x = new Float32Array(n)
  const y = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    x[i] = points[2 * i]!
    y[i] = points[2 * i + 1]!
  }
  return [x, y]
}

/** A frame's points outside the axes' ranges (in the first two coordinates, which the plot shows). */
function pointsBeyond(f: SampleFrame, dims: number, ranges: readonly [number, number][]): number {
  const shown = Math.min(dims, 2)
  let beyond = 0
  for (let i = 0; i < f.points.length; i += dims) {
    for (let j = 0; j < shown; j++) {
      const v = f.points[i + j]!
      if (!(v >= ranges[j]![0] && v <= ranges[j]![1])) {
        beyond++
        break
      }
    }
  }
  return beyond
}

/**
 * Per coordinate: the 0.5–99.5 % quantiles of all shown points (one generation that diverged must
 * not shrink every other to a dot), widened to hold the mode centres, padded by 8 %.
 */
function axisRanges(frames: readonly SampleFrame[], dims: number, centers: readonly (readonly [number, number])[]): [number, number][] {
  const ranges: [number, number][] = []
  for (let j = 0; j < dims; j++) {
    const values: number[] = []
    for (const f of frames) for (let i = j; i < f.points.length; i += dims) if (Number.isFinite(f.points[i]!)) values.push(f.points[i]!)
    values.sort((a, b) => a - b)
    let lo = values.length > 0 ? values[Math.floor(0.005 * (values.length - 1))]! : -1
    let hi = values.length > 0 ? values[Math.ceil(0.995 * (values.length - 1))]! : 1
    for (const c of centers) {
      lo = Math.min(lo, c[j]!)
      hi = Math.max(hi, c[j]!)
    }
    const pad = hi > lo ? 0.08 * (hi - lo) : Math.max(1, Math.abs(lo))
    ranges.push([round(lo - pad), round(hi + pad)])
  }
  return ranges
}

/** Cividis (colour-blind safe, ordered dark to light) at t in [0, 1]; its last, yellow stretch is left out, too pale on white. */
function cividis(t: number): string {
  const stops = [
    [0x00, 0x20, 0x4d],
    [0x41, 0x4d, 0x6b],
    [0x7c, 0x7b, 0x78],
    [0xbc, 0xaf, 0x6f],
    [0xff, 0xea, 0x46],
  ] as const
  const x = 0.85 * Math.min(1, Math.max(0, t)) * (stops.length - 1)
  const i = Math.min(stops.length - 2, Math.floor(x))
  const f = x - i
  const a = stops[i]!
  const b = stops[i + 1]!
  const mix = (k: 0 | 1 | 2): number => Math.round(a[k] + f * (b[k] - a[k]))
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`
}

/** A line of a few points shows them as markers too: a single point of a line alone draws nothing. */
export function lineMode(points: number): 'lines' | 'lines+markers' {
  return points <= 40 ? 'lines+markers' : 'lines'
}

/** A trainer's loss named `loss` is the training loss; another name says which. */
export function lossAxisTitle(name: string): string {
  return name === 'loss' ? 'training loss' : `training loss: ${name}`
}

/** A model's training loss on a plot: as its model describes it, else by its name. */
export function lossLabels(losses: MetricCatalog, name: string): { title: string; axis: string } {
  if (losses.knows(name)) return { title: losses.titled(name), axis: losses.axisTitle(name) }
  return { title: titled('loss', name), axis: lossAxisTitle(name) }
}

/**
 * One training metric of one chain, or with `loss` one of its trainer's losses: a line per shown
 * generation, dark (early) to light (late).
 */
export function trainingPlot(p: { title: string; metric: string; yTitle?: string; loss?: boolean; bounds?: readonly [number, number] | undefined; curves: readonly TrainingCurve[] }): PlotSpec {
  const data: Record<string, unknown>[] = []
  const plotted: number[] = []
  const pick = (c: TrainingCurve): (number | null)[] | undefined => (p.loss === true ? c.losses : c.values)[p.metric]
  const shown = p.curves.filter((c) => pick(c) !== undefined)
  shown.forEach((c, i) => {
    const y = pick(c)!
    for (const v of y) if (v !== null) plotted.push(v)
    data.push({
      type: 'scatter',
      mode: lineMode(c.steps.length),
      x: c.steps,
      y: y.map((v) => (v === null ? null : round(v))),
      line: { color: cividis(shown.length === 1 ? 0 : i / (shown.length - 1)), width: 1.5 },
      name: `generation ${c.generation}`,
      hovertemplate: 'step %{x}<br>%{y:.4g}',
    })
  })
  const layout = baseLayout(p.title, 'training step', p.yTitle ?? p.metric)
  if (wantsLogAxis(plotted)) Object.assign(layout.yaxis as Record<string, unknown>, logAxis(plotted))
  else constantAxis(layout, plotted, p.bounds)
  return { data, layout }
}

/**
 * Plotly draws a constant as ±1 about it, where no mode covered yet would read as −1 to 1 modes:
 * the y axis of values that are all one number keeps to their side of 0 and to their bounds.
 */
export function constantAxis(layout: Record<string, unknown>, plotted: readonly number[], bounds?: readonly [number, number]): void {
  if (plotted.length === 0 || plotted.some((v) => v !== plotted[0])) return
  Object.assign(layout.yaxis as Record<string, unknown>, { range: sensibleRange(plotted, [], 0, bounds) })
}

/**
 * Which modes a generator covers at each training step of one generation: a heatmap of the share
 * of samples that are high-quality samples of each mode. A generator cycling between modes shows
 * as a bright cell moving from row to row, where the count of covered modes stays flat.
 */
export function modeProfilePlot(p: { title: string; steps: readonly number[]; shares: readonly (readonly number[] | null)[] }): PlotSpec {
  const k = Math.max(0, ...p.shares.map((s) => s?.length ?? 0))
  // In percent, as pct_high_quality beside it and the docs give the same samples.
  const z = Array.from({ length: k }, (_, mode) => p.shares.map((s) => (s === null || s[mode] === undefined ? null : round(100 * s[mode]!))))
  const layout = baseLayout(p.title, 'training step', 'mode')
  ;(layout.yaxis as Record<string, unknown>).dtick = 1
  return {
    data: [
      {
        type: 'heatmap',
        x: [...p.steps],
        y: Array.from({ length: k }, (_, mode) => mode),
        z,
        zmin: 0,
        // Plotly centres the scale of an all-zero heatmap on 0, with negative shares.
        ...(z.some((row) => row.some((v) => v !== null && v > 0)) ? {} : { zmax: 100 }),
        colorscale: 'Cividis',
        // Not the share of samples nearest the mode: only its high-quality ones count, over all samples.
        colorbar: { title: { text: 'high-quality samples<br>at the mode,<br>% of all samples' } },
        hovertemplate: 'step %{x}<br>mode %{y}<br>high-quality samples at the mode: %{z:.3g} % of all samples<extra></extra>',
      },
    ],
    layout,
  }
}
