import { z } from 'zod'
import { asVectors, assignToModes, defineMetric, ErrorCode, OuroborosError, type MetricArgs, type MetricValues, type ModelView, type OutputInfoTable, type TaskView } from '@ouroboros/core'
import { classifierOptions, predictClasses } from './classifier.js'
import { genreClassifierFor, predictGenres } from './genres.js'
import { asTokens } from './vectors.js'

/**
 * Task quality while a model is finetuned on task data (METRICS.md "Post-training"): `task_nll`,
 * the mean negative log-likelihood of the held-out task items under the model, and `task_share`,
 * the share of generated samples that belong to the task by a verifier of the task data:
 *
 * - ring, grid (a task is a choice of mode `weights`): the sample's nearest mode has weight > 0
 *   and the sample is high quality there (within `qualityStds` standard deviations);
 * - MNIST (`digits`): the MNIST classifier of the classifier group (its options are `classifier`)
 *   calls it one of the task's digits;
 * - Brown (`categories`): the naive Bayes genre classifier calls it one of the task's genres.
 *
 * Both are null outside a finetuning stage (no `task`). Vectors and token sequences are two groups,
 * `task` and `task_text`, with the same outputs.
 */
const taskOptions = z.strictObject({
  /** The high-quality radius of the mode verifier, in mode standard deviations. */
  qualityStds: z.number().positive().default(3),
  /** Settings of the MNIST classifier (the classifier group's options; the same defaults, so the same cached classifier). */
  classifier: classifierOptions.default(classifierOptions.parse({})),
})
type TaskOptions = z.output<typeof taskOptions>

const outputInfo = {
  task_nll: { title: 'NLL of held-out task data', unit: 'nats per item', better: 'lower', taskQuality: 2 },
  task_share: { title: 'samples the task verifier accepts', unit: 'fraction', better: 'higher', bounds: [0, 1], taskQuality: 1 },
} satisfies OutputInfoTable

const nullWhen = {
  task_nll: 'the model has no log-likelihood, or the task has no held-out items',
  task_share: 'the task data have no verifier: mode centres (ring, grid), MNIST labels or Brown genres',
}

export const task = defineMetric({
  id: 'task',
  modality: 'vectors',
  description: 'Finetuning task quality: NLL of held-out task items, share of samples in the task (modes of positive weight, task digits)',
  outputs: ['task_nll', 'task_share'],
  outputInfo,
  needs: ['task'],
  nullWhen,
  options: taskOptions,
  async compute(args) {
    return taskValues(args, vectorShare)
  },
})

export const taskText = defineMetric({
  id: 'task_text',
  modality: 'tokens',
  description: 'Finetuning task quality for text: NLL of held-out task sentences, share of sentences the genre classifier puts in a task genre',
  outputs: ['task_nll', 'task_share'],
  outputInfo,
  needs: ['task'],
  nullWhen,
  options: taskOptions,
  async compute(args) {
    return taskValues(args, textShare)
  },
})

type Share = (args: MetricArgs<TaskOptions, undefined>, task: TaskView) => Promise<number | null> | number | null

async function taskValues(args: MetricArgs<TaskOptions, undefined>, share: Share): Promise<MetricValues> {
  if (args.task === undefined) return { task_nll: null, task_share: null }
  return { task_nll: await taskNll(args.task, args.model), task_share: await share(args, args.task) }
}

async function taskNll(task: TaskView, model: ModelView | undefined): Promise<number | null> {
  const items = task.heldout
  if (items.n === 0 || model?.logLikelihood === undefined) return null
  const ll = await model.logLikelihood(items)
  if (ll.length !== items.n) throw new OuroborosError(ErrorCode.MODEL, `task: logLikelihood returned ${ll.length} values for ${items.n} held-out task items`)
  let sum = 0
  for (let i = 0; i < ll.length; i++) sum += ll[i]!
  return -sum / ll.length
}

async function vectorShare(args: MetricArgs<TaskOptions, undefined>, task: TaskView): Promise<number | null> {
  const g = asVectors(args.generated, 'task: generated samples')
  if (g.n === 0) return null
  const modes = task.dataset.modes
  if (modes !== undefined) {
    const { nearest, highQuality } = assignToModes(g, modes, args.options.qualityStds, 'task: generated samples')
    let inTask = 0
    for (let i = 0; i < g.n; i++) if (highQuality[i] === 1 && modes.weights[nearest[i]!]! > 0) inTask++
    return inTask / g.n
  }
  if (task.dataset.labelled !== undefined) {
    const digits = new Set(task.dataset.digits ?? Array.from({ length: task.dataset.labelled.classes }, (_, c) => c))
    const classes = await predictClasses(task.dataset, g, args.options.classifier)
    let inTask = 0
    for (const c of classes) if (digits.has(c)) inTask++
    return inTask / g.n
  }
  return null
}

function textShare(args: MetricArgs<TaskOptions, undefined>, task: TaskView): number | null {
  const g = asTokens(args.generated, 'task_text: generated samples')
  const genres = task.dataset.genres
  if (genres === undefined || g.n === 0) return null
  const selected = new Set(genres.selected ?? genres.names.map((_, i) => i))
  let inTask = 0
  for (const c of predictGenres(genreClassifierFor(genres), g)) if (selected.has(c)) inTask++
  return inTask / g.n
}
