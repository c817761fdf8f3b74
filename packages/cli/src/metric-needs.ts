import type { MetricNeed } from '@ouroboros/core'

/** A metric group's need in words, and how `ouroboros eval` can meet it (no `how`: eval cannot). */
export interface NeedWords {
  readonly what: string
  readonly how?: string
}

const NEEDS: Readonly<Record<Exclude<MetricNeed, `facet.${string}`> | 'training', NeedWords>> = {
  'model.logLikelihood': { what: 'a model with a log-likelihood' },
  'model.summary': { what: "the fitted model's state" },
  heldout: { what: 'held-out real data' },
  task: { what: 'a finetuning task' },
  training: { what: "the model's training set", how: '--training FILE' },
  'dataset.d': { what: 'vector data' },
  'dataset.modes': { what: 'mode centres', how: '--data ring or --data grid' },
  'dataset.gaussian': { what: 'the true Gaussian', how: '--data gaussian' },
  'dataset.regression': { what: 'the true weights of regression data' },
  'dataset.vocabulary': { what: 'token data', how: '.txt files' },
  'dataset.image': { what: 'images', how: '--data mnist' },
  'dataset.labelled': { what: 'labelled images', how: '--data mnist' },
  'dataset.digits': { what: 'MNIST restricted to some digits', how: `--data '{"kind":"mnist","digits":[...]}'` },
  'dataset.genres': { what: 'text in genres', how: '--data brown' },
}

/** A need in words, and how eval can meet it. */
export function needInWords(need: MetricNeed | 'training'): NeedWords {
  if (need.startsWith('facet.')) return { what: `the dataset fact '${need.slice('facet.'.length)}'`, how: '--data naming a dataset that gives it' }
  return NEEDS[need as Exclude<MetricNeed, `facet.${string}`>]
}
