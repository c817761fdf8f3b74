import type { DatasetInfo, MetricNeed, MetricPlugin } from '@ouroboros/core'
import { classifier } from './classifier.js'
import { clusters } from './clusters.js'
import { copyRate } from './copy-rate.js'
import { genres } from './genres.js'
import { task, taskText } from './task.js'
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

export { classifierFacts, digitLogProbability, type ClassifierFacts } from './classifier.js'
export { genreClassifierFacts, genreLogProbability, type GenreClassifierFacts } from './genres.js'
export { clusters, copyRate, likelihood, mmdRbf, modes, moments, prdc, regression, slicedWasserstein, vendi }
export { genres, perplexity, task, taskText, text }

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
  genres,
  task,
  task_text: taskText,
}

/** What a run, or `ouroboros eval`, can give metric groups besides the real and generated samples. */
export interface MetricSources {
  readonly dataset: DatasetInfo
  /** The model has a log-likelihood. */
  readonly logLikelihood: boolean
  /** The model can report its fitted state (runs: always; eval: no model). */
  readonly summary: boolean
  readonly training: boolean
  readonly heldout: boolean
  readonly task: boolean
}

/** A group's needs, its training set included ('training': the plug-in's usesTraining). */
export function needsOf(plugin: MetricPlugin<any, any>): (MetricNeed | 'training')[] {
  return [...(plugin.needs ?? []), ...(plugin.usesTraining === true ? ['training' as const] : [])]
}

/** The needs of a group that these sources do not meet, in the order the group lists them. */
export function unmetNeeds(plugin: MetricPlugin<any, any>, sources: MetricSources): (MetricNeed | 'training')[] {
  return needsOf(plugin).filter((need) => {
    switch (need) {
      case 'model.logLikelihood':
        return !sources.logLikelihood
      case 'model.summary':
        return !sources.summary
      case 'training':
        return !sources.training
      case 'heldout':
        return !sources.heldout
      case 'task':
        return !sources.task
      default:
        if (need.startsWith('facet.')) return sources.dataset.facets?.[need.slice('facet.'.length)] === undefined
        return sources.dataset[need.slice('dataset.'.length) as keyof DatasetInfo] === undefined
    }
  })
}

/**
 * The metric groups a run uses when its config names none: every cheap group of this package whose
 * needs the data and the model meet (`available` says what else there is; a run has a training
 * set and held-out data, and a task only while finetuning) and that do not decline the data
 * (`byDefault`). Expensive groups run only when named.
 */
export function metricsFor(dataset: DatasetInfo, hasLogLikelihood: boolean, available: { training?: boolean; heldout?: boolean; task?: boolean } = {}): string[] {
  const sources: MetricSources = {
    dataset,
    logLikelihood: hasLogLikelihood,
    summary: true,
    training: available.training ?? true,
    heldout: available.heldout ?? true,
    task: available.task ?? false,
  }
  return Object.keys(builtinMetrics).filter((id) => {
    const plugin = builtinMetrics[id]!
    return plugin.modality === dataset.modality && (plugin.cost ?? 'cheap') === 'cheap' && unmetNeeds(plugin, sources).length === 0 && (plugin.byDefault?.(dataset) ?? true)
  })
}
