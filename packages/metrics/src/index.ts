import type { DatasetInfo, MetricPlugin } from '@ouroboros/core'
import { classifier } from './classifier.js'
import { clusters } from './clusters.js'
import { copyRate } from './copy-rate.js'
import { likelihood } from './likelihood.js'
import { mmdRbf } from './mmd.js'
import { modes } from './modes.js'
import { moments } from './moments.js'
import { perplexity } from './perplexity.js'
import { prdc } from './prdc.js'
import { regression } from './regression.js'
import { slicedWasserstein } from './sliced-wasserstein.js'
import { text } from './text.js'
import { vendi } from './vendi.js'

export { classifierFacts, type ClassifierFacts } from './classifier.js'
export { clusters, copyRate, likelihood, mmdRbf, modes, moments, prdc, regression, slicedWasserstein, vendi }
export { perplexity, text }

/** The built-in metric groups by id (the names a config's `metrics` list uses). */
export const builtinMetrics: Readonly<Record<string, MetricPlugin<any, any>>> = {
  modes,
  moments,
  likelihood,
  regression,
  prdc,
  clusters,
  sliced_wasserstein: slicedWasserstein,
  mmd_rbf: mmdRbf,
  vendi,
  copy_rate: copyRate,
  classifier,
  text,
  perplexity,
}

/**
 * The metric groups a run uses when its config names none: every group of this package that means
 * something for the data and the model. Regression data is scored only by its weight error: its
 * samples are rows (x, y) on a design fixed per chain, whose spread is not diversity. Token data
 * gets the text groups. Labelled data (MNIST) also gets the classifier group, which needs the labels.
 */
export function metricsFor(dataset: DatasetInfo, hasLogLikelihood: boolean): string[] {
  if (dataset.modality === 'tokens') return ['text', ...(hasLogLikelihood ? ['perplexity'] : [])]
  const likelihoodGroup = hasLogLikelihood ? ['likelihood'] : []
  if (dataset.regression !== undefined) return ['regression', ...likelihoodGroup]
  return [
    ...(dataset.modes === undefined ? [] : ['modes']),
    'moments',
    ...likelihoodGroup,
    'prdc',
    'clusters',
    'sliced_wasserstein',
    'mmd_rbf',
    'vendi',
    'copy_rate',
    ...(dataset.labelled === undefined ? [] : ['classifier']),
  ]
}
