import { inputError } from '@ouroboros/core'
import { escapeHtml } from './html.js'

/**
 * What the report knows about each metric of METRICS.md: a readable title, the unit for the axis,
 * and which way it moves as a chain degrades, with how far it must move to count as collapsed.
 *
 * - `falls`: higher is better (modes covered, recall, entropy); collapse is a fall.
 * - `rises`: lower is better (KL, distances to the real data, NLL); collapse is a rise.
 * - `departs`: the real data's value is the right one (total variance), and moving away from it
 *   either way is a failure: a shrinking distribution collapses, an exploding one diverges.
 */
export type Direction = 'falls' | 'rises' | 'departs'

/**
 * How far past its baseline a metric must move: a `factor` of it (below 1 for `falls`, above 1 for
 * `rises`; for `departs` both ×factor and ÷factor), or an `offset` in the metric's own unit, for
 * metrics on an additive scale (nats) where a factor of a value near zero means nothing.
 */
export interface Threshold {
  direction: Direction
  kind: 'factor' | 'offset'
  value: number
}

export interface MetricInfo {
  readonly title: string
  readonly unit?: string
  /** Absent where collapse does not move the metric one known way (a precision, a copy rate). */
  readonly threshold?: Threshold
  /** The values the metric can take, where bounded (a share): plots keep their axes inside. */
  readonly bounds?: readonly [number, number]
  /**
   * Which way is better where the metric has no threshold to say so (`betterOf`): a reward rises
   * with what post-training is for, not against collapse. `neither`: a cost paid for something
   * else (the KL to the model as fit), which no level turns into a failure.
   */
  readonly better?: 'higher' | 'lower' | 'neither'
}

const SHARE = [0, 1] as const

const HALVES: Threshold = { direction: 'falls', kind: 'factor', value: 0.5 }
const DOUBLES: Threshold = { direction: 'rises', kind: 'factor', value: 2 }
/** An entropy down by ln 2: the effective number of categories (e^H) halved, as HALVES for counts. */
const ENTROPY_HALVES: Threshold = { direction: 'falls', kind: 'offset', value: Math.LN2 }
/**
 * A KL over categories up by 0.1 nats: about one mode of eight lost (ln 8/7 = 0.13). The real
 * data's own value is sampling noise ((K−1)/2n), so a factor of it would count noise as collapse.
 */
const KL_RISES: Threshold = { direction: 'rises', kind: 'offset', value: 0.1 }

const KNOWN: Readonly<Record<string, MetricInfo>> = {
  total_variance: { title: 'total variance', unit: 'data units²', threshold: { direction: 'departs', kind: 'factor', value: 2 } },
  modes_covered: { title: 'modes covered', unit: 'modes', threshold: HALVES },
  modes_covered_1pct: { title: 'modes covered (≥ 1 % of samples)', unit: 'modes', threshold: HALVES },
  pct_high_quality: { title: 'high-quality samples', unit: '%', bounds: [0, 100] },
  reverse_kl: { title: 'reverse KL over modes', unit: 'nats', threshold: KL_RISES },
  reverse_kl_uniform: { title: 'reverse KL to uniform mode weights', unit: 'nats', threshold: KL_RISES },
  off_support_share: { title: 'share of samples at modes of weight 0', unit: 'fraction', bounds: SHARE },
  cluster_entropy: { title: 'cluster entropy', unit: 'nats', threshold: ENTROPY_HALVES },
  clusters_covered: { title: 'clusters covered', unit: 'clusters', threshold: HALVES },
  cluster_kl: { title: 'cluster KL', unit: 'nats', threshold: KL_RISES },
  precision: { title: 'precision', unit: 'fraction', bounds: SHARE },
  recall: { title: 'recall', unit: 'fraction', threshold: HALVES, bounds: SHARE },
  density: { title: 'density', unit: 'ratio' },
  coverage: { title: 'coverage', unit: 'fraction', threshold: HALVES, bounds: SHARE },
  log_det_cov: { title: 'log det covariance', unit: 'ln data units^(2d)' },
  log_variance: { title: 'log variance', unit: 'ln data units²' },
  w2_to_reference: { title: 'W₂² to the true Gaussian', unit: 'data units²', threshold: DOUBLES },
  sliced_wasserstein: { title: 'sliced Wasserstein-1', unit: 'data units', threshold: DOUBLES },
  mmd_rbf: { title: 'MMD² (RBF kernel)', unit: 'unitless', threshold: DOUBLES },
  vendi: { title: 'Vendi score', unit: 'effective number of samples', threshold: HALVES },
  copy_rate: { title: 'copy rate', unit: 'fraction', bounds: SHARE },
  // One nat per sample: the held-out data became e times less likely each.
  nll_real: { title: 'NLL of held-out real data', unit: 'nats per sample', threshold: { direction: 'rises', kind: 'offset', value: 1 } },
  class_entropy: { title: 'class entropy', unit: 'nats', threshold: ENTROPY_HALVES },
  classes_covered: { title: 'classes covered', unit: 'classes', threshold: HALVES },
  class_kl: { title: 'class KL', unit: 'nats', threshold: KL_RISES },
  frechet_feature_distance: { title: 'Fréchet feature distance', unit: 'feature units²', threshold: DOUBLES },
  vocab_size: { title: 'vocabulary size', unit: 'token types', threshold: HALVES },
  unigram_entropy: { title: 'unigram entropy', unit: 'nats', threshold: ENTROPY_HALVES },
  tail_mass: { title: 'tail mass', unit: 'fraction of tokens', threshold: HALVES, bounds: SHARE },
  tail_coverage: { title: 'tail coverage', unit: 'fraction of real tail types', threshold: HALVES, bounds: SHARE },
  zipf_slope: { title: 'Zipf slope', unit: 'log-log slope' },
  perplexity_real: { title: 'perplexity of held-out real text', unit: 'per token', threshold: DOUBLES },
  excess_test_error: { title: 'excess test error ‖ŵ − w*‖²', unit: 'squared weight error', threshold: DOUBLES },
  filter_kept: { title: 'share of draws the filter kept', unit: 'fraction', bounds: SHARE },
  // Post-training: rewards and task quality move where post-training pushes them, so no level of them is collapse.
  reward: { title: 'reward (the one optimised)', better: 'higher' },
  gold_reward: { title: 'gold reward', better: 'higher' },
  kl: { title: 'KL to the model as fit', unit: 'nats', better: 'neither' },
  filter_reward: { title: 'reward of the model’s own draws', better: 'higher' },
  filter_reward_kept: { title: 'reward of the samples the filter kept', better: 'higher' },
  task_nll: { title: 'NLL of held-out task data', unit: 'nats per item', better: 'lower' },
  task_share: { title: 'samples the task verifier accepts', unit: 'fraction', better: 'higher', bounds: SHARE },
  genre_entropy: { title: 'genre entropy', unit: 'nats', threshold: ENTROPY_HALVES },
  genres_covered: { title: 'genres covered', unit: 'genres', threshold: HALVES },
  genre_kl: { title: 'genre KL', unit: 'nats', threshold: KL_RISES },
}

/**
 * Global diversity, in the order the post-training views pick their default from: finetuning
 * trades it for task quality, and a reward optimised too far narrows it.
 */
export const DIVERSITY_METRICS: readonly string[] = [
  'modes_covered',
  'reverse_kl',
  'classes_covered',
  'class_entropy',
  'class_kl',
  'genre_entropy',
  'genres_covered',
  'genre_kl',
  'distinct_2',
  'distinct_1',
  'distinct_3',
  'distinct_4',
  'unigram_entropy',
  'vocab_size',
  'tail_coverage',
  'perplexity_real',
  'clusters_covered',
  'cluster_entropy',
  'cluster_kl',
  'vendi',
  'recall',
  'coverage',
  'modes_covered_1pct',
  'reverse_kl_uniform',
]

/** Task quality while finetuning, preferred first: the verifier's share reads at a glance. */
export const TASK_QUALITY_METRICS: readonly string[] = ['task_share', 'task_nll']

export function metricInfo(name: string): MetricInfo {
  const known = KNOWN[name]
  if (known !== undefined) return known
  const distinct = /^distinct_(\d+)$/.exec(name)
  if (distinct !== null) return { title: `distinct ${distinct[1]}-grams`, unit: 'fraction', threshold: HALVES, bounds: SHARE }
  return { title: name }
}

/** Which way is better: the metric's own word, else its threshold's direction ('departs': none). */
export function betterOf(name: string): 'higher' | 'lower' | 'neither' | undefined {
  const info = metricInfo(name)
  if (info.better !== undefined) return info.better
  const direction = info.threshold?.direction
  return direction === 'falls' ? 'higher' : direction === 'rises' ? 'lower' : undefined
}

/** The direction in words, for tables: undefined where none is known. */
export function betterText(name: string): string | undefined {
  if (metricInfo(name).threshold?.direction === 'departs') return 'the real data’s value is best'
  const better = betterOf(name)
  if (better === 'neither') return 'a cost: neither way is better'
  return better === undefined ? undefined : `${better} is better`
}

/** A metric's row heading in the tables: its title, its name, and which way is better. */
export function metricHeading(name: string): string {
  const better = betterText(name)
  return `${escapeHtml(metricInfo(name).title)}<br><code>${escapeHtml(name)}</code>${better === undefined ? '' : `<br><span class="gen better">${escapeHtml(better)}</span>`}`
}

export function axisTitle(name: string): string {
  const info = metricInfo(name)
  return info.unit === undefined ? info.title : `${info.title} (${info.unit})`
}

/** The metric's collapse threshold, with `overrides` (one number per metric) in place of the default value. */
export function thresholdFor(name: string, overrides: Readonly<Record<string, number>>): Threshold | undefined {
  const known = metricInfo(name).threshold
  const given = overrides[name]
  if (given === undefined) return known
  if (known !== undefined) return { ...known, value: given }
  return { direction: given < 1 ? 'falls' : 'rises', kind: 'factor', value: given }
}

/** The numbers `thresholdFor` would accept; the message names the metric and what it expects. */
export function validateThresholds(overrides: Readonly<Record<string, number>>): void {
  for (const [name, value] of Object.entries(overrides)) {
    const known = metricInfo(name).threshold
    const fail = (expected: string): never => {
      throw inputError(`--thresholds: ${name}=${String(value)}: expected ${expected}`)
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) fail('a number')
    if (known === undefined) {
      if (!(value > 0) || value === 1) fail('a positive factor other than 1 (below 1: collapse is a fall to that share of the baseline; above 1: a rise)')
    } else if (known.kind === 'offset') {
      const unit = metricInfo(name).unit
      if (!(value > 0)) fail(`a positive amount${unit === undefined ? '' : ` in ${unit}`} by which it ${known.direction === 'falls' ? 'falls' : 'rises'} from its baseline`)
    } else if (known.direction === 'falls') {
      if (!(value > 0 && value < 1)) fail('a factor between 0 and 1 (it falls to that share of its baseline)')
    } else if (!(value > 1)) {
      fail(`a factor above 1 (it ${known.direction === 'rises' ? 'rises' : 'moves'} by that factor from its baseline)`)
    }
  }
}

/**
 * `name=value,name=value` as the command line gives it; the message names the bad entry.
 */
export function parseThresholds(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const entry of text.split(',')) {
    const m = /^\s*([A-Za-z0-9_.:-]+)\s*=\s*([^=\s]+)\s*$/.exec(entry)
    const value = m === null ? NaN : Number(m[2])
    if (m === null || !Number.isFinite(value)) throw inputError(`--thresholds: '${entry.trim()}' is not metric=number (for example vocab_size=0.25,reverse_kl=0.2)`)
    out[m[1]!] = value
  }
  validateThresholds(out)
  return out
}
