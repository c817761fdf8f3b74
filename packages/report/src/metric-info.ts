/**
 * What the report knows about each metric of METRICS.md: a readable title, the unit for the axis,
 * and which way it moves as a chain loses diversity (that sets the default collapse threshold).
 */
export type Direction = 'falls' | 'rises'

export interface MetricInfo {
  readonly title: string
  readonly unit?: string
  /** Absent where moving by a factor means nothing (logs, signed values) or collapse does not move it. */
  readonly direction?: Direction
}

const KNOWN: Readonly<Record<string, MetricInfo>> = {
  total_variance: { title: 'total variance', unit: 'data units²', direction: 'falls' },
  modes_covered: { title: 'modes covered', unit: 'modes', direction: 'falls' },
  modes_covered_1pct: { title: 'modes covered (≥ 1 % of samples)', unit: 'modes', direction: 'falls' },
  pct_high_quality: { title: 'high-quality samples', unit: '%' },
  reverse_kl: { title: 'reverse KL over modes', unit: 'nats', direction: 'rises' },
  cluster_entropy: { title: 'cluster entropy', unit: 'nats', direction: 'falls' },
  clusters_covered: { title: 'clusters covered', unit: 'clusters', direction: 'falls' },
  cluster_kl: { title: 'cluster KL', unit: 'nats', direction: 'rises' },
  precision: { title: 'precision', unit: 'fraction' },
  recall: { title: 'recall', unit: 'fraction', direction: 'falls' },
  density: { title: 'density', unit: 'ratio' },
  coverage: { title: 'coverage', unit: 'fraction', direction: 'falls' },
  log_det_cov: { title: 'log det covariance', unit: 'ln data units^(2d)' },
  log_variance: { title: 'log variance', unit: 'ln data units²' },
  w2_to_reference: { title: 'W₂² to the true Gaussian', unit: 'data units²', direction: 'rises' },
  sliced_wasserstein: { title: 'sliced Wasserstein-1', unit: 'data units', direction: 'rises' },
  mmd_rbf: { title: 'MMD² (RBF kernel)', unit: 'unitless', direction: 'rises' },
  vendi: { title: 'Vendi score', unit: 'effective number of samples', direction: 'falls' },
  copy_rate: { title: 'copy rate', unit: 'fraction' },
  nll_real: { title: 'NLL of held-out real data', unit: 'nats per sample', direction: 'rises' },
  class_entropy: { title: 'class entropy', unit: 'nats', direction: 'falls' },
  classes_covered: { title: 'classes covered', unit: 'classes', direction: 'falls' },
  class_kl: { title: 'class KL', unit: 'nats', direction: 'rises' },
  frechet_feature_distance: { title: 'Fréchet feature distance', unit: 'feature units²', direction: 'rises' },
  vocab_size: { title: 'vocabulary size', unit: 'token types', direction: 'falls' },
  unigram_entropy: { title: 'unigram entropy', unit: 'nats', direction: 'falls' },
  tail_mass: { title: 'tail mass', unit: 'fraction of tokens', direction: 'falls' },
  tail_coverage: { title: 'tail coverage', unit: 'fraction of real tail types', direction: 'falls' },
  zipf_slope: { title: 'Zipf slope', unit: 'log-log slope' },
  perplexity_real: { title: 'perplexity of held-out real text', unit: 'per token', direction: 'rises' },
  excess_test_error: { title: 'excess test error ‖ŵ − w*‖²', unit: 'squared weight error', direction: 'rises' },
  filter_kept: { title: 'share of draws the filter kept', unit: 'fraction' },
}

export function metricInfo(name: string): MetricInfo {
  const known = KNOWN[name]
  if (known !== undefined) return known
  const distinct = /^distinct_(\d+)$/.exec(name)
  if (distinct !== null) return { title: `distinct ${distinct[1]}-grams`, unit: 'fraction', direction: 'falls' }
  return { title: name }
}

export function axisTitle(name: string): string {
  const info = metricInfo(name)
  return info.unit === undefined ? info.title : `${info.title} (${info.unit})`
}

/**
 * The collapse threshold as a factor of the generation-0 value: half for metrics that fall as
 * diversity is lost, double for ones that rise; `overrides` (a factor per metric) win.
 */
export function thresholdFactor(name: string, overrides: Readonly<Record<string, number>>): number | undefined {
  const given = overrides[name]
  if (given !== undefined) return given
  const direction = metricInfo(name).direction
  return direction === 'falls' ? 0.5 : direction === 'rises' ? 2 : undefined
}
