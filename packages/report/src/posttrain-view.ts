/**
 * The post-training views: what finetuning trades (task quality against diversity, Pareto-style,
 * step by step) and what a reward buys and costs (gold and proxy reward against √KL, Gao et al.
 * 2023; diversity against gold reward), then every recorded quantity per step. Plots follow the
 * data present rather than the stage kind: a stage with task metrics gets the frontier, one with a
 * reward and a KL the reward views.
 */
import { basename } from 'node:path'
import type { Setting } from './comparison.js'
import { evenSpread } from './even-spread.js'
import { fitGao, gaoCurve, type GaoFit, type GaoForm } from './gao-fit.js'
import { escapeHtml, formatNumber, plotlyText } from './html.js'
import type { MetricCatalog } from './metric-info.js'
import { bandAlpha, bandKey, baseLayout, logAxis, logRange, lossAxisTitle, MIN_RELATIVE_SPAN, repeatsColour, rgba, round, sensibleRange, settingCell, THEORY_COLOR, wantsLogAxis, type ChoiceControl, type PlotSpec } from './plots.js'
import { named, namedLoss, pairedMeans, pairs, sqrtKl, valuesByStep, type ChainPosttrain, type Quantity, type StageCurve } from './posttrain-curves.js'

/** A setting of the page with the post-training curves of its chains. */
export interface PosttrainSetting {
  setting: Setting
  chains: readonly ChainPosttrain[]
  /** The setting's resolved config, where the run says it: a finetuning stage's task is its `data`. */
  config?: unknown
}

/** One replicate's curve of a stage. */
interface ReplicateCurve {
  replicate: number
  curve: StageCurve
}

/** One stage of one setting, its replicates' curves by generation. */
interface StageSeries {
  label: string
  color: string
  /** The mean's marker; a proxy reward's is its open form. Dashes are taken: a proxy reward is dashed. */
  symbol: string
  /** The setting's dash elsewhere on the page, for its swatch in a table. */
  dash: string
  byGeneration: Map<number, ReplicateCurve[]>
  /** What the stage trained toward, in words: a reward stage's reward (from its curves), a finetuning stage's task data (from the config). */
  aim?: string
  /** The KL an RL stage's adaptive β aims at (its config's `klTarget`). */
  klTarget?: number
  /** The kind of the stage's reward in its config ('proxy' for a learned one), where the config says it. */
  rewardKind?: string
}

/** How a block names what its stages trained toward, one and several. */
interface AimWords {
  one: string
  several: string
}

const REWARD_WORDS: AimWords = { one: 'The reward optimised', several: 'The rewards optimised, by setting' }
const TASK_WORDS: AimWords = { one: 'The task data', several: 'The task data, by setting' }
const PREFERENCE_WORDS: AimWords = { one: 'The preferences optimised', several: 'The preferences optimised, by setting' }

/** How the page names a stage kind and its steps; a kind it does not know is named as it is. */
interface KindInfo {
  title: string
  step: string
  /** How its block names what its stages trained toward. */
  aims: AimWords
  logStep?: boolean
  /** The KL a stage reaches at each step where theory gives it; `tieFree`: only for rewards without ties. */
  klTheory?: { name: string; at(step: number): number; tieFree?: boolean }
  /** Gao et al.'s form of the gold reward gained against √KL, fitted to each setting's points. */
  gao?: GaoForm
  /** The stage trains on weighted batches (signed weights, or a loss's gradient as weights): its trainer's losses are surrogates. */
  surrogate?: boolean
  /** The stage has a task whose quality the frontier plots, where the run scored it. */
  task?: boolean
}

const KINDS: Readonly<Record<string, KindInfo>> = {
  finetune: { title: 'Finetuning', step: 'finetuning step', aims: TASK_WORDS, task: true },
  rl: { title: 'RL', step: 'RL step', aims: REWARD_WORDS, gao: 'rl', surrogate: true },
  // Rafailov et al. 2024 find direct alignment's over-optimisation follows the RL form too.
  dpo: { title: 'DPO', step: 'DPO step', aims: PREFERENCE_WORDS, gao: 'rl', surrogate: true },
  'best-of-n': {
    title: 'Best-of-n',
    step: 'n (draws per sample)',
    aims: REWARD_WORDS,
    logStep: true,
    gao: 'best-of-n',
    // Stiennon et al. 2020: the rank of the best of n continuous rewards; ties make it smaller.
    klTheory: { name: 'theory: ln n − (n − 1)/n (a reward without ties)', at: (n) => Math.log(n) - (n - 1) / n, tieFree: true },
  },
}

/**
 * Gold rewards of a few discrete values: many of n draws tie for the best, so best-of-n moves the
 * distribution far less than ln n − (n − 1)/n. The others (a distance, a classifier's
 * log-probability, a proxy's fitted regression) are continuous.
 */
const TIED_REWARDS: ReadonlySet<string> = new Set(['modes', 'lexicon', 'length'])

function kindInfo(kind: string): KindInfo {
  return KINDS[kind] ?? { title: kind, step: 'step', aims: REWARD_WORDS }
}

/**
 * Why a stage's last point need not match its generation's metrics, said under both: they score
 * different draws, and with few of them settings can rank otherwise.
 */
export const STAGE_SCORING =
  'The stage curves score each evaluated step on the stage’s own evalSamples draws (by default min(samplesPerGeneration, 2000)); the tables and plots by setting or generation score the model after all its stages on the generation’s samplesPerGeneration draws: other draws, so a curve’s last point and the table’s value differ by sampling noise, which with few draws can reorder the settings.'

/** The post-training section: a block per stage kind, in config order. Empty without curves. */
export function posttrainSection(settings: readonly PosttrainSetting[], catalog: MetricCatalog, addPlot: (spec: PlotSpec) => number): string {
  const kinds = stageSeries(settings)
  const blocks: string[] = []
  const blockPlots: { info: KindInfo; plots: { role: Role; spec: PlotSpec }[]; shapes: boolean; aims: string; fits: string; untasked: boolean; tied: string[]; noKl: boolean }[] = []
  for (const [kind, series] of kinds) {
    const info = kindInfo(kind)
    const { plots, tasked, tied, noKl } = kindPlots(info, series, catalog)
    if (plots.length === 0) continue
    const fits = plots.some((p) => p.role === 'reward-kl') ? gaoTable(info, series) : ''
    const untasked = info.task === true && !tasked
    blockPlots.push({ info, plots, shapes: series.some(repeatsColour), aims: aimsNote(series, info.aims), fits, untasked, tied, noKl })
  }
  thinToBudget(blockPlots.flatMap((b) => b.plots.map((p) => p.spec)), POINT_BUDGET)
  for (const { info, plots, shapes, aims, fits, untasked, tied, noKl } of blockPlots) {
    const ids = plots.map((p) => addPlot(p.spec))
    const shared = plots[0]!.spec.choices?.controls.find((c) => c.shared === true)
    blocks.push(`<h3>${escapeHtml(info.title)}</h3>
${aims}<p class="note">${escapeHtml(kindNote(plots.map((p) => p.role), shapes, untasked, tied, noKl))}</p>
${shared === undefined ? '' : `<div class="choices">${select(shared, ids.join(' '), 0)}</div>`}
<div class="grid">
${plots.map((p, i) => plotFigure(ids[i]!, p.spec)).join('\n')}
</div>
${fits}`)
  }
  return blocks.join('\n')
}

/**
 * Points the section's plots may embed in all: every choice of every select is a set of traces of
 * its own, so many metrics, generations and replicates multiply. At some 20 characters a point this
 * keeps the section under about 2.5 MB; beyond it every trace is drawn through an even spread of its
 * points.
 */
export const POINT_BUDGET = 120_000

/** Most diversity metrics a select offers: the first in the order of their descriptions' ranks. */
const MAX_DIVERSITY_CHOICES = 6

/** Thins every trace of `specs` by one factor (first and last points kept) until their points fit `budget`. */
function thinToBudget(specs: readonly PlotSpec[], budget: number): void {
  const points = (t: Record<string, unknown>): number => (Array.isArray(t.x) ? t.x.length : 0)
  const total = specs.reduce((sum, spec) => sum + spec.data.reduce((n, t) => n + points(t), 0), 0)
  if (total <= budget) return
  const keep = budget / total
  for (const spec of specs) {
    for (const t of spec.data) {
      const n = points(t)
      const m = Math.max(2, Math.floor(n * keep))
      if (n <= m) continue
      const picked = evenSpread([...Array(n).keys()], m)
      for (const key of ['x', 'y', 'customdata'] as const) {
        const list = t[key]
        if (Array.isArray(list) && list.length === n) t[key] = picked.map((i) => list[i] as unknown)
      }
    }
  }
}

/**
 * What the block's stages trained toward: one sentence where every setting's stage had the same
 * aim, else a line per aim naming its settings (a swept reward or task, or runs side by side,
 * where `reward` means a different thing in each).
 */
function aimsNote(series: readonly StageSeries[], words: AimWords): string {
  const bySetting = new Map<string, string[]>()
  for (const s of series) {
    if (s.aim === undefined) continue
    bySetting.set(s.aim, [...(bySetting.get(s.aim) ?? []), s.label])
  }
  if (bySetting.size === 0) return ''
  const all = [...bySetting.values()].flat().length === series.length
  if (bySetting.size === 1 && all) return `<p class="aims">${words.one}: ${escapeHtml([...bySetting.keys()][0]!)}.</p>\n`
  const named = (labels: readonly string[]): string =>
    labels.length > MAX_NAMED_SETTINGS ? `${labels.slice(0, MAX_NAMED_SETTINGS).join('; ')} and ${labels.length - MAX_NAMED_SETTINGS} more` : labels.join('; ')
  const items = [...bySetting].map(([aim, labels]) => `<li>${escapeHtml(aim)} <span class="settings">(${escapeHtml(named(labels))})</span></li>`)
  return `<p class="aims">${words.several}:</p>\n<ul class="aims">${items.join('')}</ul>\n`
}

/**
 * A finetuning stage's task data in words, from its config: its `data` laid over the run's
 * (`ring: weights [1, 1, 0, …]`, `text-file: path task.txt`), and its sizes where given.
 */
function taskOf(config: unknown, stage: number): string | undefined {
  const record = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined)
  const run = record(config)
  const spec = record(record((Array.isArray(run?.posttrain) ? run.posttrain : [])[stage])?.data)
  if (spec === undefined) return undefined
  const { kind = record(run?.data)?.kind, module: _module, sha256: _sha256, ...rest } = spec
  const value = (k: string, v: unknown): string => (k === 'path' && typeof v === 'string' ? basename(v) : Array.isArray(v) ? `[${v.join(', ')}]` : typeof v === 'object' ? JSON.stringify(v) : String(v))
  const settings = Object.entries(rest).map(([k, v]) => `${k} ${value(k, v)}`)
  const named = typeof kind === 'string' ? kind : 'the run’s data'
  return settings.length === 0 ? `${named}, as the run’s` : `${named}: ${settings.join(', ')}`
}

/** The kind of a stage's reward ('proxy' for a learned one), where its config sets one. */
function rewardKindOf(config: unknown, stage: number): string | undefined {
  const stages = typeof config === 'object' && config !== null ? (config as { posttrain?: unknown }).posttrain : undefined
  const reward = Array.isArray(stages) ? (stages[stage] as { reward?: unknown } | undefined)?.reward : undefined
  const kind = typeof reward === 'object' && reward !== null ? (reward as { kind?: unknown }).kind : undefined
  return typeof kind === 'string' ? kind : undefined
}

/** A stage's `klTarget`, where its config sets one. */
function klTargetOf(config: unknown, stage: number): number | undefined {
  const stages = typeof config === 'object' && config !== null ? (config as { posttrain?: unknown }).posttrain : undefined
  const target = Array.isArray(stages) ? (stages[stage] as { klTarget?: unknown } | undefined)?.klTarget : undefined
  return typeof target === 'number' && Number.isFinite(target) ? target : undefined
}

const MAX_NAMED_SETTINGS = 6

interface StageEntry {
  kind: string
  byGeneration: Map<number, ReplicateCurve[]>
  aim?: string | undefined
}

/** Series by stage kind, kinds in the order the first setting's config lists them. */
function stageSeries(settings: readonly PosttrainSetting[]): Map<string, StageSeries[]> {
  const kinds = new Map<string, StageSeries[]>()
  for (const { setting, chains, config } of settings) {
    const stages = new Map<number, StageEntry>()
    for (const chain of chains) {
      for (const { generation, stages: curves } of chain.generations) {
        for (const curve of curves) {
          const entry: StageEntry = stages.get(curve.stage) ?? { kind: curve.kind, byGeneration: new Map() }
          stages.set(curve.stage, entry)
          entry.aim ??= curve.kind === 'finetune' ? taskOf(config, curve.stage) : curve.rewardDescription
          const list = entry.byGeneration.get(generation) ?? []
          list.push({ replicate: chain.replicate, curve })
          entry.byGeneration.set(generation, list)
        }
      }
    }
    const order = [...stages.keys()].sort((a, b) => a - b)
    for (const stage of order) {
      const { kind, byGeneration, aim } = stages.get(stage)!
      const sameKind = order.filter((s) => stages.get(s)!.kind === kind).length
      const list = kinds.get(kind) ?? []
      const klTarget = klTargetOf(config, stage)
      const rewardKind = rewardKindOf(config, stage)
      list.push({
        label: sameKind > 1 ? `${setting.label} · stage ${stage}` : setting.label,
        color: setting.color,
        symbol: setting.symbol,
        dash: setting.dash,
        byGeneration,
        ...(aim === undefined ? {} : { aim }),
        ...(klTarget === undefined ? {} : { klTarget }),
        ...(rewardKind === undefined ? {} : { rewardKind }),
      })
      kinds.set(kind, list)
    }
  }
  return kinds
}

type Role = 'frontier' | 'reward-kl' | 'diversity-reward' | 'steps' | 'surrogate'

/**
 * The block's plots, whether its curves score a task's quality, the reward kinds with ties for
 * which a theory of rewards without ties was left out of the KL plot, and whether no KL was recorded.
 */
function kindPlots(info: KindInfo, series: readonly StageSeries[], catalog: MetricCatalog): { plots: { role: Role; spec: PlotSpec }[]; tasked: boolean; tied: string[]; noKl: boolean } {
  const gens = [...new Set(series.flatMap((s) => [...s.byGeneration.keys()]))].sort((a, b) => a - b)
  const curves = series.flatMap((s) => [...s.byGeneration.values()].flat().map((r) => r.curve))
  const present = (q: Quantity, from = 0): boolean => curves.some((c) => c.steps.some((_, i) => i >= from && q(c, i) !== null))
  // The KL is 0 at a stage's start by definition: a model that cannot estimate it (one that does
  // not score its own samples, as the charlm) records nothing after, and gets no KL plot.
  const names = [...new Set(curves.flatMap((c) => Object.keys(c.values)))].filter((name) => present(named(name), name === 'kl' ? 1 : 0))
  const quality = catalog.taskQuality(names)
  const diversity = catalog.diversity(names).slice(0, MAX_DIVERSITY_CHOICES)
  const out: { role: Role; spec: PlotSpec }[] = []
  if (quality.length > 0 && diversity.length > 0) out.push({ role: 'frontier', spec: frontierPlot(info.title, series, gens, quality, diversity, catalog) })
  const rewarded = names.includes('gold_reward') && names.includes('kl')
  const ownProxyAxis = proxyDwarfsGold(curves)
  if (rewarded) out.push({ role: 'reward-kl', spec: rewardKlPlot(info, series, gens, ownProxyAxis) })
  if (names.includes('gold_reward') && diversity.length > 0) out.push({ role: 'diversity-reward', spec: diversityRewardPlot(info.title, series, gens, diversity, catalog) })
  // Per step: the reward, the KL, task quality, diversity, the rest of the metrics, the losses.
  const stepped = (spec: PlotSpec): void => void out.push({ role: 'steps', spec })
  if (names.includes('gold_reward') || names.includes('reward')) stepped(rewardStepPlot(info, series, gens, ownProxyAxis))
  const { theory: klTheory, tied } = theoryFor(info, series, names.includes('kl'))
  const first = ['kl', ...quality, ...diversity]
  for (const name of [...first, ...names.filter((n) => !first.includes(n) && n !== 'reward' && n !== 'gold_reward')]) {
    if (!names.includes(name)) continue
    const theory = name === 'kl' ? klTheory : undefined
    const line: StepLine = { quantity: named(name), dash: 'solid', band: true, suffix: '', ...(name === 'kl' ? { target: 'klTarget' as const } : {}) }
    stepped(stepPlot(info, series, gens, [line], stepTitle(info.title, name, catalog), stepAxisTitle(name, catalog), theory, catalog.info(name).bounds, catalog.info(name).unit))
  }
  const losses = [...new Set(curves.flatMap((c) => Object.keys(c.losses)))].filter((name) => present(namedLoss(name)))
  for (const name of losses) {
    const own = STAGE_QUANTITIES[name]
    const surrogate = own === undefined && info.surrogate === true
    const title = `${info.title}: ${own?.title ?? (surrogate ? 'the trainer’s surrogate loss' : 'training loss')} · ${name}`
    const spec = stepPlot(info, series, gens, [{ quantity: namedLoss(name), dash: 'solid', band: true, suffix: '' }], title, own?.axis ?? (surrogate ? 'loss of the weighted batch' : lossAxisTitle(name)))
    out.push({ role: surrogate ? 'surrogate' : 'steps', spec })
  }
  return { plots: out, tasked: quality.length > 0, tied, noKl: !names.includes('kl') }
}

/**
 * The KL theory of the block, for the settings it holds for: a theory of rewards without ties is
 * left out for settings whose reward has ties (a stage whose config does not say is given it), and
 * named with its settings where only some get it. `tied`: the reward kinds it was left out for.
 */
function theoryFor(info: KindInfo, series: readonly StageSeries[], hasKl: boolean): { theory?: { name: string; at(step: number): number }; tied: string[] } {
  const theory = info.klTheory
  if (theory === undefined || !hasKl) return { tied: [] }
  if (theory.tieFree !== true) return { theory, tied: [] }
  const isTied = (s: StageSeries): boolean => s.rewardKind !== undefined && TIED_REWARDS.has(s.rewardKind)
  const tied = [...new Set(series.filter(isTied).map((s) => s.rewardKind!))]
  const held = series.filter((s) => !isTied(s))
  if (held.length === 0) return { tied }
  if (tied.length === 0) return { theory, tied }
  const labels = held.length > MAX_NAMED_SETTINGS ? [...held.slice(0, MAX_NAMED_SETTINGS).map((s) => s.label), `${held.length - MAX_NAMED_SETTINGS} more`] : held.map((s) => s.label)
  return { theory: { name: `${theory.name}: ${labels.join('; ')}`, at: theory.at }, tied }
}

/** What a stage records beside its trainer's losses: not a loss, so named for what it is. */
const STAGE_QUANTITIES: Readonly<Record<string, { title: string; axis: string }>> = {
  penalised_reward: { title: 'KL-penalised reward of the training batch', axis: 'r − β·(log π − log π_ref), batch mean' },
  kl_coefficient: { title: 'KL coefficient β, adapted toward the KL target', axis: 'β' },
  preference_loss: { title: 'preference loss of the training batch', axis: 'loss of the margin Δ, batch mean' },
  preference_accuracy: { title: 'preference accuracy of the training batch', axis: 'share of pairs with Δ > 0' },
}

/**
 * `untasked`: a finetuning block whose run did not score its task; `tied`: reward kinds with ties,
 * left without the KL's theory; `noKl`: no KL to the stage's input was recorded.
 */
function kindNote(roles: readonly Role[], shapes: boolean, untasked: boolean, tied: readonly string[], noKl: boolean): string {
  const parts: string[] = []
  if (roles.includes('frontier')) {
    parts.push(
      'The frontier: task quality against global diversity, one line per setting along the stage’s steps, from the star at its start (the model the stage starts from: the pretrained model for a first stage); up is better task quality, and where lower values of a metric are better its axis is reversed, so that right is always more diverse.',
    )
  }
  if (untasked) {
    parts.push(
      'No frontier of task quality against diversity: the run did not score the task. A run with a finetuning stage scores it by default, with the metric group ‘task’ (‘task_text’ on text); a config whose ‘metrics’ list leaves it out gets no task quality.',
    )
  }
  if (roles.includes('reward-kl')) {
    parts.push(
      'Rewards against √KL to the stage’s input, Gao et al.’s axis: the gold reward solid, the reward the stage optimises dashed where it is a proxy (a proxy rising while the gold reward falls is reward hacking); the star is the start (step 0; best-of-n: n = 1), at √KL = 0. KL estimates below 0 (sampling noise about a KL of 0) are drawn at 0.',
    )
  }
  if (roles.includes('diversity-reward')) parts.push('Diversity against gold reward shows what the reward is bought with.')
  if (noKl) {
    parts.push(
      'No KL to the stage’s input was recorded, so there is no √KL axis and no fit of Gao et al.’s forms: the model’s log-likelihood does not score its samples as it draws them (a character model’s made-up words come back as <unk>; an n-gram with a discount gives a uniform floor that its sampling leaves out).',
    )
  }
  if (tied.length > 0) {
    const kinds = tied.map((k) => `‘${k}’`).join(' and ')
    parts.push(`The KL has no theory curve for ${kinds} rewards: ln n − (n − 1)/n holds for a reward without ties, and one of a few values ties often among n draws, which keeps the KL far lower.`)
  }
  if (roles.includes('surrogate')) {
    parts.push('The trainer’s own loss is that of a batch weighted by advantages or by the preference loss’s gradient: a surrogate whose gradient is the stage’s, so its size and sign say little; the stage’s own quantities (reward, KL, the preference loss) are the ones to read.')
  }
  parts.push('Lines are means over the replicates at each evaluated step; thin lines and shaded bands (minimum to maximum) show the replicates.')
  parts.push(STAGE_SCORING)
  if (shapes) parts.push('Past seven settings the colours repeat, with another marker shape.')
  return parts.join(' ')
}

/**
 * Traces keyed by their option in each of the plot's dimensions (generation, metric), visible
 * where every key is the dimension's initial option. Only dimensions of several options get a select.
 */
class Traces {
  readonly data: Record<string, unknown>[] = []
  private readonly keys: number[][] = []
  private readonly shown: ChoiceControl[]

  constructor(private readonly dims: readonly ChoiceControl[]) {
    this.shown = dims.filter((d) => d.options.length > 1)
  }

  /** `at`: the trace's option in each dimension, −1 for a trace shown under every option. */
  add(trace: Record<string, unknown>, at: readonly number[]): void {
    const visible = at.every((option, d) => option < 0 || option === this.dims[d]!.initial)
    this.data.push({ ...trace, visible })
    this.keys.push(at.filter((_, d) => this.dims[d]!.options.length > 1))
  }

  spec(layout: Record<string, unknown>): PlotSpec {
    // Room for the legend below a plot area of a constant height: the entries the first choice shows.
    const entries = this.data.filter((t) => t.visible === true && t.showlegend !== false).length
    layout.height = (layout.margin as { t: number }).t + 292 + 22 * entries
    for (const d of this.dims) setPaths(layout, d.relayout?.[d.initial] ?? {})
    // In the order drawn: plotly would reverse it for the filled bands.
    ;(layout.legend as Record<string, unknown>).traceorder = 'normal'
    return this.shown.length === 0 ? { data: this.data, layout } : { data: this.data, layout, choices: { controls: this.shown, keys: this.keys } }
  }
}

/** Plotly's dotted relayout keys ('xaxis.title.text') set on a layout, as Plotly.relayout would (null unsets). */
function setPaths(layout: Record<string, unknown>, changes: Record<string, unknown>): void {
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.')
    let node = layout
    for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>
    if (value === null) delete node[keys.at(-1)!]
    else node[keys.at(-1)!] = value
  }
}

/** Every plot of a block has it first, so that the block's one select drives them all. */
function generationDimension(gens: readonly number[]): ChoiceControl {
  return { label: 'generation', options: gens.map((g) => `generation ${g}`), initial: Math.max(0, gens.indexOf(0)), shared: true }
}

/** An axis showing a metric, reversed where lower values are better so that better is up or right. */
function metricAxis(axis: 'xaxis' | 'yaxis', name: string, catalog: MetricCatalog, values: readonly number[]): Record<string, unknown> {
  const reversed = catalog.betterOf(name) === 'lower'
  const where = axis === 'xaxis' ? 'right' : 'up'
  // Plotly draws values that are all one number as ±1 about it: no mode covered at any step read
  // as −1 to 1 modes. They get a span on their side of 0 and within their bounds.
  const constant = values.length > 0 && values.every((v) => v === values[0]) ? sensibleRange(values, [], 0, catalog.range(name)) : undefined
  return {
    [`${axis}.title.text`]: `${plotlyText(catalog.axisTitle(name))}${reversed ? `<br>reversed: better is ${where}` : ''}`,
    [`${axis}.autorange`]: constant !== undefined ? false : reversed ? 'reversed' : true,
    [`${axis}.range`]: constant === undefined ? null : reversed ? [constant[1], constant[0]] : constant,
  }
}

/** `series`: what the plot draws, whose values of each metric an axis spans. */
function metricDimension(label: string, axis: 'xaxis' | 'yaxis', names: readonly string[], catalog: MetricCatalog, series: readonly StageSeries[]): ChoiceControl {
  return { label, options: [...names], initial: 0, relayout: names.map((n) => metricAxis(axis, n, catalog, stageValues(series, n))) }
}

/** Every value of a metric on the stage's curves, every generation's, replicate's and step's. */
function stageValues(series: readonly StageSeries[], metric: string): number[] {
  const of = named(metric)
  const out: number[] = []
  for (const s of series) {
    for (const reps of s.byGeneration.values()) {
      for (const { curve } of reps) {
        curve.steps.forEach((_, i) => {
          const v = of(curve, i)
          if (v !== null && Number.isFinite(v)) out.push(v)
        })
      }
    }
  }
  return out
}

const STAR = { symbol: 'star', size: 15, line: { width: 1, color: '#000000' } }

/** A mean of more steps than this draws this many of its markers (plotly's maxdisplayed). */
const MAX_MARKERS = 60

/**
 * A mean's markers show its evaluated steps; on a long curve they would cover the line, so only
 * series whose colour repeats an earlier one's keep them there.
 */
function meanMode(points: number, s: StageSeries): 'lines' | 'lines+markers' {
  return points <= MAX_MARKERS || repeatsColour(s) ? 'lines+markers' : 'lines'
}

/** Mean line, replicate lines and the start star of one series along (x, y); whether it drew a start. */
function pathTraces(traces: Traces, at: readonly number[], s: StageSeries, reps: readonly ReplicateCurve[], fx: Quantity, fy: Quantity, hover: string): boolean {
  const name = plotlyText(s.label)
  if (reps.length > 1) {
    for (const { replicate, curve } of reps) {
      const p = pairs(curve, fx, fy)
      if (p.x.length === 0) continue
      traces.add(
        {
          type: 'scatter',
          mode: 'lines',
          x: p.x.map(round),
          y: p.y.map(round),
          customdata: p.steps,
          line: { color: rgba(s.color, 0.35), width: 1 },
          legendgroup: name,
          showlegend: false,
          name: `${name}: replicate ${replicate}`,
          hovertemplate: `${name}, replicate ${replicate}<br>step %{customdata}<br>${hover}<extra></extra>`,
        },
        at,
      )
    }
  }
  const m = pairedMeans(
    reps.map((r) => r.curve),
    fx,
    fy,
  )
  if (m.steps.length === 0) return false
  traces.add(
    {
      type: 'scatter',
      mode: meanMode(m.steps.length, s),
      x: m.x.map(round),
      y: m.y.map(round),
      customdata: m.steps.map((step, i) => [step, m.count[i]!]),
      line: { color: s.color, width: 2.5 },
      marker: { size: 6, color: s.color, symbol: s.symbol, maxdisplayed: MAX_MARKERS },
      legendgroup: name,
      name: reps.length > 1 ? `${name} (mean of ${reps.length})` : name,
      hovertemplate: `${name}<br>step %{customdata[0]}<br>${hover}<br>mean of %{customdata[1]}<extra></extra>`,
    },
    at,
  )
  // A stage's curve starts where the stage starts: step 0, or best-of-n's n = 1 (its input's own draws).
  traces.add(
    {
      type: 'scatter',
      mode: 'markers',
      x: [round(m.x[0]!)],
      y: [round(m.y[0]!)],
      marker: { ...STAR, color: s.color },
      legendgroup: 'start',
      showlegend: false,
      customdata: [m.steps[0]!],
      name: `${name}: start`,
      hovertemplate: `${name}: start, step %{customdata}<br>${hover}<extra></extra>`,
    },
    at,
  )
  return true
}

/** The stars' one legend entry, in a neutral colour, where any series of a choice has a start. */
function startLegend(traces: Traces, at: readonly number[]): void {
  traces.add(
    {
      type: 'scatter',
      mode: 'markers',
      x: [null],
      y: [null],
      marker: { ...STAR, color: '#ffffff' },
      legendgroup: 'start',
      name: 'start: the model the stage starts from',
      hoverinfo: 'skip',
    },
    at,
  )
}

/** Task quality against diversity along the finetuning steps, a select for each axis with several metrics and for the generation. */
function frontierPlot(title: string, series: readonly StageSeries[], gens: readonly number[], quality: readonly string[], diversity: readonly string[], catalog: MetricCatalog): PlotSpec {
  const dims = [generationDimension(gens), metricDimension('task quality', 'yaxis', quality, catalog, series), metricDimension('diversity', 'xaxis', diversity, catalog, series)]
  const traces = new Traces(dims)
  quality.forEach((q, qi) =>
    diversity.forEach((d, di) =>
      gens.forEach((g, gi) => {
        let started = false
        for (const s of series) {
          const reps = s.byGeneration.get(g) ?? []
          if (pathTraces(traces, [gi, qi, di], s, reps, named(d), named(q), `${plotlyText(d)} %{x:.4g}<br>${plotlyText(q)} %{y:.4g}`)) started = true
        }
        if (started) startLegend(traces, [gi, qi, di])
      }),
    ),
  )
  const layout = baseLayout(`${title}: task quality against diversity`, '', '')
  return traces.spec(layout)
}

/**
 * Gold reward (solid) and the optimised reward (dashed, where it is a proxy) against √KL, with Gao
 * et al.'s form fitted to each setting's gold reward (dotted) where the kind has one; titled for a
 * proxy only where there is one.
 */
/** `own`: the proxy on an axis of its own (proxyDwarfsGold). */
function rewardKlPlot(info: KindInfo, series: readonly StageSeries[], gens: readonly number[], own: boolean): PlotSpec {
  const traces = new Traces([generationDimension(gens)])
  let anyProxy = false
  gens.forEach((g, gi) => {
    let started = false
    let fitted = false
    let proxied = false
    for (const s of series) {
      const reps = s.byGeneration.get(g) ?? []
      const proxy = reps.some(({ curve }) => curve.steps.some((_, i) => isProxy(curve, i)))
      if (pathTraces(traces, [gi], s, reps, sqrtKl, named('gold_reward'), '√KL %{x:.3g}<br>gold reward %{y:.4g}')) started = true
      if (info.gao !== undefined && gaoTrace(traces, [gi], s, reps, info.gao)) fitted = true
      if (!proxy) continue
      proxied = true
      const name = plotlyText(s.label)
      const m = pairedMeans(
        reps.map((r) => r.curve),
        sqrtKl,
        named('reward'),
      )
      traces.add(
        {
          type: 'scatter',
          mode: 'lines+markers',
          x: m.x.map(round),
          y: m.y.map(round),
          customdata: m.steps.map((step, i) => [step, m.count[i]!]),
          line: { color: s.color, width: 2, dash: 'dash' },
          marker: { size: 6, color: s.color, symbol: `${s.symbol}-open` },
          legendgroup: name,
          showlegend: false,
          name: `${name}: proxy reward${reps.length > 1 ? ` (mean of ${reps.length})` : ''}`,
          hovertemplate: `${name}<br>step %{customdata[0]}<br>√KL %{x:.3g}<br>proxy reward %{y:.4g}<br>mean of %{customdata[1]}<extra></extra>`,
          ...(own ? { yaxis: 'y2' } : {}),
        },
        [gi],
      )
    }
    if (proxied) {
      anyProxy = true
      styleKey(traces, [gi], GOLD_KEY, 'solid')
      styleKey(traces, [gi], PROXY_KEY, 'dash')
    }
    if (started) startLegend(traces, [gi])
    if (fitted) gaoLegend(traces, [gi], info.gao!)
  })
  const layout = baseLayout(`${info.title}: ${anyProxy ? 'gold and proxy reward' : 'reward'} against √KL`, '√KL to the stage’s input (√nats)', own ? GOLD_AXIS : 'mean reward of the samples')
  if (own) layout.yaxis2 = rightAxis(PROXY_AXIS)
  return traces.spec(layout)
}

/** The forms as the page writes them. */
const GAO_FORMULA: Readonly<Record<GaoForm, string>> = { 'best-of-n': 'd(α − βd)', rl: 'd(α − β ln d)' }

/**
 * A setting's points for the fit, every replicate's pooled: (√KL, gold reward − the replicate's
 * gold reward at the stage's start), the start itself included, as Gao et al. fit each run's.
 */
function gaoPoints(reps: readonly ReplicateCurve[]): { d: number[]; gain: number[]; start: number; low: number; high: number } | undefined {
  const d: number[] = []
  const gain: number[] = []
  let starts = 0
  let sum = 0
  let low = Infinity
  let high = -Infinity
  const gold = named('gold_reward')
  for (const { curve } of reps) {
    const start = curve.steps.length > 0 ? gold(curve, 0) : null
    if (start === null) continue
    starts++
    sum += start
    curve.steps.forEach((_, i) => {
      const x = sqrtKl(curve, i)
      const y = gold(curve, i)
      if (x === null || y === null) return
      d.push(x)
      gain.push(y - start)
      low = Math.min(low, y)
      high = Math.max(high, y)
    })
  }
  return starts === 0 ? undefined : { d, gain, start: sum / starts, low, high }
}

/** The fit of a setting at one generation and the mean gold reward at its start. */
function gaoFitOf(reps: readonly ReplicateCurve[], form: GaoForm): { fit: GaoFit; start: number; reach: number; low: number; high: number } | undefined {
  const points = gaoPoints(reps)
  if (points === undefined) return undefined
  const fit = fitGao(form, points.d, points.gain)
  return fit === undefined ? undefined : { fit, start: points.start, reach: Math.max(...points.d), low: points.low, high: points.high }
}

/**
 * Whether a gold reward `y` of a setting's fitted curve lies within the gold rewards its points
 * measured, give or take a tenth of their range: past that a poor fit (of few points) is no
 * longer read off the data.
 */
function nearMeasured(fitted: { low: number; high: number }, y: number): boolean {
  const margin = 0.1 * (fitted.high - fitted.low)
  return y >= fitted.low - margin && y <= fitted.high + margin
}

/** Points of a fitted curve, from the start to the largest √KL the setting reached. */
const FIT_POINTS = 40

/**
 * A setting's fitted form, dotted in its colour, over the √KL its points reach; whether it drew one.
 * Where a poor fit leaves the range of the setting's gold rewards (by more than a tenth of it) the
 * line breaks off, so that it does not stretch the axis the data are read on.
 */
function gaoTrace(traces: Traces, at: readonly number[], s: StageSeries, reps: readonly ReplicateCurve[], form: GaoForm): boolean {
  const fitted = gaoFitOf(reps, form)
  if (fitted === undefined) return false
  const { fit, start, reach } = fitted
  const within = (y: number): number | null => (nearMeasured(fitted, y) ? round(y) : null)
  const x = Array.from({ length: FIT_POINTS + 1 }, (_, i) => (reach * i) / FIT_POINTS)
  const name = plotlyText(s.label)
  traces.add(
    {
      type: 'scatter',
      mode: 'lines',
      x: x.map(round),
      y: x.map((d) => within(start + gaoCurve(fit, d))),
      line: { color: s.color, width: 1.5, dash: 'dot' },
      legendgroup: name,
      showlegend: false,
      name: `${name}: ${GAO_FORMULA[form]} fitted`,
      hovertemplate: `${name}: fitted ${GAO_FORMULA[form]}, α ${formatNumber(fit.alpha)}, β ${formatNumber(fit.beta)}<br>√KL %{x:.3g}<br>gold reward %{y:.4g}<extra></extra>`,
    },
    at,
  )
  return true
}

/** The legend's word for the style of each of two rewards drawn by setting. */
const GOLD_KEY = 'solid, filled markers: gold reward'
const PROXY_KEY = 'dashed, open markers: proxy reward'

/** A legend entry, in a neutral colour, for a line style every setting draws one quantity in. */
function styleKey(traces: Traces, at: readonly number[], name: string, dash: 'solid' | 'dash'): void {
  traces.add(
    {
      type: 'scatter',
      mode: 'lines+markers',
      x: [null],
      y: [null],
      line: { color: '#555555', width: 2, dash },
      marker: { size: 6, color: '#555555', symbol: dash === 'dash' ? 'circle-open' : 'circle' },
      legendgroup: name,
      name,
      hoverinfo: 'skip',
    },
    at,
  )
}

/** The fitted curves' one legend entry, in a neutral colour. */
function gaoLegend(traces: Traces, at: readonly number[], form: GaoForm): void {
  traces.add(
    {
      type: 'scatter',
      mode: 'lines',
      x: [null],
      y: [null],
      line: { color: '#555555', width: 1.5, dash: 'dot' },
      legendgroup: 'gao',
      name: `dotted: Gao et al.’s ${GAO_FORMULA[form]}, fitted`,
      hoverinfo: 'skip',
    },
    at,
  )
}

/** Most rows of a block's table of fits: settings by generation. */
const MAX_FIT_ROWS = 60

/** The coefficients of each setting's fit, by generation where there are several. */
function gaoTable(info: KindInfo, series: readonly StageSeries[]): string {
  if (info.gao === undefined) return ''
  const form = info.gao
  const gens = [...new Set(series.flatMap((s) => [...s.byGeneration.keys()]))].sort((a, b) => a - b)
  const rows: string[] = []
  for (const s of series) {
    for (const g of gens) {
      const fitted = gaoFitOf(s.byGeneration.get(g) ?? [], form)
      if (fitted === undefined) continue
      const { fit, start, reach } = fitted
      // A peak beyond the points is an extrapolation: its place says the fit still rises there, its
      // height little. A height past every gold reward measured is the fit's, not the data's.
      const peak =
        fit.peak === undefined
          ? '<td colspan="2">none: fit β ≤ 0, the fitted curve has no maximum</td>'
          : fit.peak.d > reach
            ? `<td class="num">${formatNumber(fit.peak.d)} <span class="gen">(beyond the points)</span></td><td class="num">—</td>`
            : `<td class="num">${formatNumber(fit.peak.d)}</td><td class="num">${formatNumber(fit.peak.gain)}${nearMeasured(fitted, start + fit.peak.gain) ? '' : ' <span class="gen">(past the gold rewards measured)</span>'}</td>`
      rows.push(
        `<tr>${settingCell(s, s.label)}${gens.length > 1 ? `<td class="num">${g}</td>` : ''}<td class="num">${fit.points}</td><td class="num">${formatNumber(fit.alpha)}</td><td class="num">${formatNumber(fit.beta)}</td><td class="num">${formatNumber(fit.r2)}</td>${peak}<td class="num">${formatNumber(reach)}</td></tr>`,
      )
    }
  }
  if (rows.length === 0) return ''
  const shown = rows.slice(0, MAX_FIT_ROWS)
  const more = rows.length > shown.length ? ` The first ${shown.length} of ${rows.length} are listed.` : ''
  return `<p class="note">Gao et al.’s form of the gold reward gained against d = √KL, ${escapeHtml(GAO_FORMULA[form])} (${form === 'best-of-n' ? 'best-of-n' : 'RL, as Rafailov et al. 2024 fit it to DPO too'}), fitted by least squares to every replicate’s points of a setting together (each replicate’s gain measured from its own start). The form has no intercept, so R² (about the points’ mean) falls below 0 where it fits worse than a constant, and is 1 where the points hold only two √KL above 0, since a curve of the form passes through any two. A positive fit β gives the fitted curve a peak: the √KL past which, by the fit, more optimisation loses gold reward. A gain at the peak that takes the gold reward past the values measured (by more than a tenth of their range) is the fit’s extrapolation, likeliest with few points; the dotted curve breaks off there.${more}</p>
<table class="summary fits">
<thead><tr><th>setting</th>${gens.length > 1 ? '<th>generation</th>' : ''}<th>points</th><th>fit α</th><th>fit β</th><th>R²</th><th>peak √KL</th><th>gain at the peak</th><th>largest √KL reached</th></tr></thead>
<tbody>
${shown.join('\n')}
</tbody></table>`
}

/** A reward the stage optimised that is not the gold one (a proxy) at point i. */
function isProxy(curve: StageCurve, i: number): boolean {
  const r = curve.values.reward?.[i]
  const g = curve.values.gold_reward?.[i]
  return r !== null && r !== undefined && g !== null && g !== undefined && Math.abs(r - g) > 1e-9 * Math.max(1, Math.abs(g))
}

/** Diversity against gold reward along the stage's steps. */
function diversityRewardPlot(title: string, series: readonly StageSeries[], gens: readonly number[], diversity: readonly string[], catalog: MetricCatalog): PlotSpec {
  const dims = [generationDimension(gens), metricDimension('diversity', 'yaxis', diversity, catalog, series)]
  const traces = new Traces(dims)
  diversity.forEach((d, di) =>
    gens.forEach((g, gi) => {
      let started = false
      for (const s of series) {
        if (pathTraces(traces, [gi, di], s, s.byGeneration.get(g) ?? [], named('gold_reward'), named(d), `gold reward %{x:.4g}<br>${plotlyText(d)} %{y:.4g}`)) started = true
      }
      if (started) startLegend(traces, [gi, di])
    }),
  )
  const layout = baseLayout(`${title}: diversity against gold reward`, 'gold reward (mean over samples)', '')
  return traces.spec(layout)
}

interface StepLine {
  quantity: Quantity
  dash: 'solid' | 'dash'
  /** A min–max band over the replicates. */
  band: boolean
  /** After the series' name, in its hover and (without a `key`) its legend entry. */
  suffix: string
  /**
   * Where several quantities share a plot: the legend names each setting once, by its first line,
   * and this entry, in a neutral colour, says which quantity this line's style draws.
   */
  key?: string
  /** Drawn only for the series whose curves this holds of (a proxy's line where the reward is one). */
  when?: (curves: readonly StageCurve[]) => boolean
  /** A level the series' stage config sets for this quantity, drawn beside it (the KL target). */
  target?: 'klTarget'
  /** On a second y axis, at the right, titled so (a proxy reward, whose scale can dwarf the gold reward's). */
  rightAxis?: string
}

function stepTitle(kind: string, name: string, catalog: MetricCatalog): string {
  if (name === 'kl') return `${kind}: KL to the stage’s input · kl`
  return `${kind}: ${catalog.titled(name)}`
}

function stepAxisTitle(name: string, catalog: MetricCatalog): string {
  return name === 'kl' ? 'KL to the stage’s input (nats)' : catalog.axisTitle(name)
}

/** Gold reward with its band and the optimised reward dashed, where it is a proxy. */
/** `ownAxis`: the proxy on an axis of its own (proxyDwarfsGold, which holds only where there is a proxy). */
function rewardStepPlot(info: KindInfo, series: readonly StageSeries[], gens: readonly number[], ownAxis: boolean): PlotSpec {
  const all = series.flatMap((s) => [...s.byGeneration.values()].flat())
  const proxied = (curves: readonly StageCurve[]): boolean => curves.some((curve) => curve.steps.some((_, i) => isProxy(curve, i)))
  const proxy = proxied(all.map(({ curve }) => curve))
  const lines: StepLine[] = [{ quantity: named('gold_reward'), dash: 'solid', band: true, suffix: proxy ? ': gold' : '', ...(proxy ? { key: GOLD_KEY } : {}) }]
  // A setting whose reward is gold itself (beside proxies in a sweep) has no proxy line: it would lie on its gold one.
  if (proxy) lines.push({ quantity: named('reward'), dash: 'dash', band: false, suffix: ': proxy', key: PROXY_KEY, when: proxied, ...(ownAxis ? { rightAxis: PROXY_AXIS } : {}) })
  return stepPlot(info, series, gens, lines, `${info.title}: ${proxy ? 'gold and proxy reward' : 'reward'}`, ownAxis ? GOLD_AXIS : 'mean reward of the samples')
}

/**
 * A proxy reward whose values span far more than the gold reward's (hacked, it climbs to hundreds
 * while the gold reward moves by a few units) goes on an axis of its own, which on one axis would
 * draw the gold reward flat. Where the two are alike in scale they share one, so that their gap
 * reads as it is.
 */
const OWN_AXIS_SPAN = 5

function proxyDwarfsGold(curves: readonly StageCurve[]): boolean {
  const span = (values: number[]): number => (values.length === 0 ? 0 : Math.max(...values) - Math.min(...values))
  const gold: number[] = []
  const proxy: number[] = []
  for (const curve of curves) {
    curve.steps.forEach((_, i) => {
      const g = curve.values.gold_reward?.[i]
      if (g !== null && g !== undefined && Number.isFinite(g)) gold.push(g)
      const r = curve.values.reward?.[i]
      if (isProxy(curve, i) && Number.isFinite(r)) proxy.push(r!)
    })
  }
  return proxy.length > 0 && span(proxy) > OWN_AXIS_SPAN * span(gold)
}

const GOLD_AXIS = 'gold reward, mean of the samples (solid)'
const PROXY_AXIS = 'proxy reward, mean of the samples (dashed)'

function rightAxis(title: string): Record<string, unknown> {
  return { title: { text: plotlyText(title) }, overlaying: 'y', side: 'right', zeroline: false, showgrid: false, automargin: true }
}

/** Quantities per step: the mean over replicates of each series, with a min–max band. */
function stepPlot(
  info: { step: string; logStep?: boolean },
  series: readonly StageSeries[],
  gens: readonly number[],
  lines: readonly StepLine[],
  title: string,
  yTitle: string,
  theory?: { name: string; at(step: number): number },
  bounds?: readonly [number, number],
  unit?: string,
): PlotSpec {
  const generation = generationDimension(gens)
  const traces = new Traces([generation])
  // Per generation: each is drawn on an axis of its own values (a collapsed chain's are far below the first's).
  const plotted: number[][] = gens.map(() => [])
  const plottedRight: number[][] = gens.map(() => [])
  let right: string | undefined
  const steps = new Set<number>()
  // The keyed lines drawn at each generation, and the replicates of the settings drawn with a band.
  const keyed = gens.map(() => new Set<StepLine>())
  const banded = gens.map((): number[] => [])
  gens.forEach((g, gi) => {
    for (const s of series) {
      const curves = (s.byGeneration.get(g) ?? []).map((r) => r.curve)
      const name = plotlyText(s.label)
      let listed = false
      for (const line of lines) {
        if (line.when !== undefined && !line.when(curves)) continue
        const { steps: x, lists } = valuesByStep(curves, line.quantity)
        if (x.length === 0) continue
        for (const step of x) steps.add(step)
        const replicates = Math.max(...lists.map((l) => l.length))
        if (line.band && replicates > 1) {
          banded[gi]!.push(replicates)
          traces.add(
            { type: 'scatter', mode: 'lines', x, y: lists.map((l) => round(Math.max(...l))), line: { width: 0, color: s.color }, legendgroup: name, showlegend: false, name: `${name}${line.suffix}: max`, hovertemplate: 'step %{x}<br>max %{y:.4g}' },
            [gi],
          )
          traces.add(
            {
              type: 'scatter',
              mode: 'lines',
              x,
              y: lists.map((l) => round(Math.min(...l))),
              fill: 'tonexty',
              fillcolor: rgba(s.color, bandAlpha(series.length)),
              line: { width: 0, color: s.color },
              legendgroup: name,
              showlegend: false,
              name: `${name}${line.suffix}: min`,
              hovertemplate: 'step %{x}<br>min %{y:.4g}',
            },
            [gi],
          )
        }
        const means = lists.map((l) => l.reduce((a, b) => a + b, 0) / l.length)
        traces.add(
          {
            type: 'scatter',
            mode: meanMode(x.length, s),
            x,
            y: means.map(round),
            customdata: lists.map((l) => l.length),
            line: { color: s.color, width: 2, dash: line.dash },
            marker: { size: 6, color: s.color, symbol: line.dash === 'dash' ? `${s.symbol}-open` : s.symbol, maxdisplayed: MAX_MARKERS },
            legendgroup: name,
            ...(listed ? { showlegend: false } : {}),
            // A setting's legend entry, where keys say which line is which, is the setting alone.
            name: `${name}${listed || line.key === undefined ? line.suffix : ''}${replicates > 1 ? ` (mean of ${replicates})` : ''}`,
            hovertemplate: `${name}${line.suffix}<br>step %{x}<br>mean %{y:.4g} of %{customdata}<extra></extra>`,
            ...(line.rightAxis === undefined ? {} : { yaxis: 'y2' }),
          },
          [gi],
        )
        listed = true
        if (line.key !== undefined) keyed[gi]!.add(line)
        if (line.rightAxis !== undefined) right = line.rightAxis
        for (const l of lists) for (const v of l) (line.rightAxis === undefined ? plotted : plottedRight)[gi]!.push(v)
      }
    }
    for (const line of lines) if (keyed[gi]!.has(line)) styleKey(traces, [gi], line.key!, line.dash)
    if (banded[gi]!.length > 0) traces.add(bandKey(banded[gi]!), [gi])
  })
  // The KL an adaptive β aims at, in its setting's colour: the curve should settle on it.
  const targets = lines.some((l) => l.target === 'klTarget') ? series.filter((s) => s.klTarget !== undefined) : []
  if (targets.length > 0 && steps.size > 0) {
    const ends = [Math.min(...steps), Math.max(...steps)]
    for (const s of targets) {
      for (const values of plotted) values.push(s.klTarget!)
      traces.add(
        { type: 'scatter', mode: 'lines', x: ends, y: [s.klTarget!, s.klTarget!], line: { color: s.color, dash: 'longdash', width: 1 }, name: `${plotlyText(s.label)}: KL target`, hovertemplate: 'KL target %{y:.4g}<extra></extra>' },
        [-1],
      )
    }
  }
  if (theory !== undefined && steps.size > 0) {
    const x = [...steps].sort((a, b) => a - b)
    const y = x.map((step) => theory.at(step))
    for (const values of plotted) values.push(...y)
    traces.add(
      { type: 'scatter', mode: 'lines', x, y: y.map(round), line: { color: THEORY_COLOR, dash: 'dot', width: 2 }, name: plotlyText(theory.name), hovertemplate: 'step %{x}<br>theory %{y:.4g}<extra></extra>' },
      [-1],
    )
  }
  const layout = baseLayout(title, info.step, yTitle)
  const xaxis = layout.xaxis as Record<string, unknown>
  if (info.logStep === true && [...steps].every((s) => s > 0)) {
    xaxis.type = 'log'
    xaxis.tickvals = [...steps].sort((a, b) => a - b)
  } else if (Math.max(...steps) <= 10) {
    // A few steps get a tick each, not plotly's fifths of a step (a refit's steps 0 and 1).
    xaxis.dtick = 1
  }
  if (right !== undefined) layout.yaxis2 = rightAxis(right)
  generation.relayout = plotted.map((values, gi) => ({ ...stepYAxis(values, bounds, unit), ...(right === undefined ? {} : stepYAxis(plottedRight[gi]!, undefined, undefined, 'yaxis2')) }))
  return traces.spec(layout)
}

/**
 * A step plot's y axis for one generation's values, as relayout keys that also undo another
 * generation's axis: log where they span orders of magnitude (a share only does on its way to 0,
 * which a log axis would blow up), else linear and, as the generation curves, at least a tenth of
 * the values' size (a constant is not drawn as noise, or with plotly's ±1 about it), with no room
 * for values the metric cannot take.
 */
function stepYAxis(values: readonly number[], bounds: readonly [number, number] | undefined, unit: string | undefined, axis = 'yaxis'): Record<string, unknown> {
  if (bounds === undefined && wantsLogAxis(values, unit)) {
    const { tickvals, ticktext } = logAxis(values) as { tickvals?: number[]; ticktext?: string[] }
    const range = logRange(values)
    return { [`${axis}.type`]: 'log', [`${axis}.tickvals`]: tickvals ?? null, [`${axis}.ticktext`]: ticktext ?? null, [`${axis}.range`]: range ?? null, [`${axis}.autorange`]: range === undefined }
  }
  const size = values.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0)
  const range = sensibleRange(values, [], MIN_RELATIVE_SPAN * size, bounds)
  return { [`${axis}.type`]: 'linear', [`${axis}.tickvals`]: null, [`${axis}.ticktext`]: null, [`${axis}.range`]: range ?? null, [`${axis}.autorange`]: range === undefined }
}

/** A select for control `index` of the plots `ids` (space-separated). */
function select(control: ChoiceControl, ids: string, index: number): string {
  const options = control.options.map((o, j) => `<option value="${j}"${j === control.initial ? ' selected' : ''}>${escapeHtml(o)}</option>`).join('')
  return `<label>${escapeHtml(control.label)} <select data-choice-for="${ids}" data-control="${index}">${options}</select></label>`
}

/** A plot div with the selects of its own controls (the block's select drives the shared one). */
function plotFigure(id: number, spec: PlotSpec): string {
  const div = `<div class="plot" data-plot="${id}"></div>`
  const own = (spec.choices?.controls ?? []).map((c, i) => (c.shared === true ? '' : select(c, String(id), i))).filter((html) => html !== '')
  return own.length === 0 ? div : `<figure class="choices">${div}<div class="choices">${own.join('\n')}</div></figure>`
}
