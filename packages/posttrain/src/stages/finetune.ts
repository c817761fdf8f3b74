import { concatSamples, inputError, takeSamples, type FinetuneStageConfig, type Rng, type Samples } from '@ouroboros/core'
import type { StageContext, StageResult, TaskData } from '../stage.js'
import { evalSamplesOf, isCurveStep, recordPoint } from './curve.js'
import { stageTrainer } from './trainer.js'

/**
 * Finetuning: the model's trainer continues from the stage's input state on the task data, each
 * batch holding a share `replay` of pretraining items, with the L2-SP pull `anchor` toward the
 * input state. Minibatch trainers get `batch` items a step (replay items counted in); full-batch
 * ones (EM, interpolation) all task items and a pretraining pick weighted so that the two parts
 * weigh 1 − replay and replay.
 */
export async function finetune<S>(stage: FinetuneStageConfig, index: number, ctx: StageContext<S>, input: S, task: TaskData): Promise<StageResult<S>> {
  const { model } = ctx
  if (model.trainer === undefined) throw inputError(`posttrain.${index}: model '${model.id}' has no trainer, so it cannot be finetuned`)
  const trainer = await stageTrainer(ctx, `posttrain.${index} (finetune)`, input, {
    rng: ctx.rng.derive('trainer'),
    dataset: ctx.dataset,
    ...(stage.lr === undefined ? {} : { lr: stage.lr }),
    anchor: stage.anchor,
    reference: input,
  })
  const evalSamples = evalSamplesOf(ctx as StageContext<unknown>, stage.evalSamples)
  const point = async (step: number, state: S, losses?: Record<string, number>): Promise<void> =>
    recordPoint(ctx, { stage: index, kind: 'finetune', step, ...(losses === undefined ? {} : { losses }) }, state, input, evalSamples, ctx.rng.derive('curve', step), undefined, task.view)
  try {
    await point(0, input)
    const batches = ctx.rng.derive('batches')
    const fullBatch = trainer.batch === 'all' ? fullBatchOf(task.train, ctx.pretraining, stage.replay, batches) : undefined
    for (let step = 1; step <= stage.steps; step++) {
      const { items, weights } = fullBatch ?? miniBatch(task.train, ctx.pretraining, stage.replay, trainer.batch as number, batches)
      const losses = await trainer.step(items, weights, step)
      if (isCurveStep(step, stage.steps, stage.evalEvery)) await point(step, await trainer.state(), losses)
      ctx.onStep(step, stage.steps)
    }
    return { state: await trainer.state() }
  } finally {
    trainer.dispose()
  }
}

function fullBatchOf(task: Samples, pretraining: Samples, replay: number, rng: Rng): { items: Samples; weights: Float64Array } {
  if (replay === 0) return { items: task, weights: new Float64Array(task.n).fill(1) }
  // As many pretraining items as make `replay` of the batch at equal weight, as far as there are.
  const wanted = replay === 1 ? pretraining.n : Math.round((replay / (1 - replay)) * task.n)
  const picked = takeSamples(pretraining, rng.permutation(pretraining.n).subarray(0, Math.min(pretraining.n, Math.max(1, wanted))))
  if (replay === 1) return { items: picked, weights: new Float64Array(picked.n).fill(1) }
  const items = concatSamples([task, picked])
  const total = items.n
  const weights = new Float64Array(total)
  for (let i = 0; i < task.n; i++) weights[i] = ((1 - replay) * total) / task.n
  for (let i = task.n; i < total; i++) weights[i] = (replay * total) / picked.n
  return { items, weights }
}

function miniBatch(task: Samples, pretraining: Samples, replay: number, size: number, rng: Rng): { items: Samples; weights: Float64Array } {
  // Each item comes from the pretraining data with probability `replay`.
  const fromTask: number[] = []
  const fromPretraining: number[] = []
  for (let i = 0; i < size; i++) {
    if (rng.uniform() < replay) fromPretraining.push(rng.int(pretraining.n))
    else fromTask.push(rng.int(task.n))
  }
  const parts: Samples[] = []
  if (fromTask.length > 0) parts.push(takeSamples(task, fromTask))
  if (fromPretraining.length > 0) parts.push(takeSamples(pretraining, fromPretraining))
  const items = parts.length === 1 ? parts[0]! : concatSamples(parts)
  return { items, weights: new Float64Array(items.n).fill(1) }
}
