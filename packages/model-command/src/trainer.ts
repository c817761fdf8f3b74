import { rmSync } from 'node:fs'
import { checkWeights, inputError, vectors, type Modality, type ModelTrainer, type Samples, type TrainerOptions } from '@ouroboros/core'
import { removeFiles, vocabularyFile, writeData } from './arrays.js'
import { besideModel, checked, saveModel, summaryAfter, type CommandParams, type CommandState } from './model.js'
import { childFor, holding } from './pool.js'
import type { ModelProcess } from './process.js'

/** Snapshots saved by this thread's trainers, to name their folders. */
let snapshots = 0

/**
 * The trainer of a model in another process (finetune and policy-gradient rl stages): the child
 * loads a copy of the saved model beside the one it serves and updates it with `train_step`
 * requests. A snapshot (`state()`) saves the copy beside the model training started from; it
 * lives until the trainer's next snapshot, which removes it, so that a stage of many steps
 * leaves one trained model on disk, the last, which is the stage's result.
 */
export async function commandTrainer(modality: Modality, start: CommandState, spec: CommandParams, options: TrainerOptions<CommandState>): Promise<ModelTrainer<CommandState>> {
  // The child's anchor is the parameters it starts from, so the reference must be that model.
  if (options.reference.model !== start.model) throw inputError(`model.command trainer: its anchor's reference ${options.reference.model} is not the model training starts from (${start.model})`)
  const { child, summarises } = await childFor(spec, start.dir, start.model)
  const owner = {}
  const reply = await child.exclusive(async () => {
    child.serving = start.dir
    const begun = await child.send({ op: 'train_begin', path: start.model, seed: options.rng.nextUint32(), lr: options.lr ?? null, anchor: options.anchor }, `'train_begin' from ${start.model}`)
    child.trainee = owner
    return begun
  })
  const batch = reply['batch']
  if (!(batch === 'all' || (typeof batch === 'number' && Number.isInteger(batch) && batch >= 1))) {
    child.trainee = undefined
    throw child.failed(`'train_begin': its train_batch is ${JSON.stringify(batch)}; expected a whole number ≥ 1 or "all"`)
  }
  const signedWeights = reply['signed_weights'] === true
  const vocabulary = modality === 'tokens' && options.dataset.vocabulary !== undefined ? { vocabulary: vocabularyFile(options.dataset.vocabulary) } : {}
  let latest = start
  let stepped = false
  let steps = 0

  /** The child, still training this trainer's copy. */
  const own = (what: string): ModelProcess => {
    if (child.trainee !== owner) throw child.failed(`${what}: the process no longer holds this stage's model in training`)
    return child
  }

  return {
    batch,
    signedWeights,
    async step(items: Samples, weights: Float64Array) {
      const x = checked(modality, items, 'model.command training step data')
      if (weights.length !== x.n) throw inputError(`model.command training step: got ${weights.length} weights for ${x.n} items`)
      if (!signedWeights) checkWeights(weights, x.n, 'model.command training step')
      if (x.modality === 'tokens' && x.vocabSize > start.vocabSize!) throw inputError(`model.command training step data have a vocabulary of ${x.vocabSize} words, the model ${start.vocabSize}`)
      const what = `'train_step' ${++steps}`
      const answer = await child.exclusive(async () => {
        own(what).serving = start.dir
        const sent = writeData(child, start.dir, 'train', x)
        const weighted = writeData(child, start.dir, 'weights', vectors(weights.length, 1, weights))
        try {
          const sizes = x.modality === 'tokens' ? { vocab_size: x.vocabSize, ...vocabulary } : {}
          return await child.send({ op: 'train_step', ...sent.fields, ...sizes, weights: weighted.fields['data']! }, what)
        } finally {
          removeFiles(sent)
          removeFiles(weighted)
        }
      })
      stepped = true
      const losses = answer['losses'] ?? {}
      if (typeof losses !== 'object' || losses === null || Array.isArray(losses) || !Object.values(losses).every((v) => typeof v === 'number')) {
        throw child.failed(`${what}: train_step returned ${JSON.stringify(losses).slice(0, 100)}; expected {name: number} or None`)
      }
      return { losses: losses as Record<string, number> }
    },
    async state() {
      if (!stepped) return latest
      const path = besideModel(start.model, 'train', snapshots++)
      const snapshot = await child.exclusive(async () => {
        own(`'train_save' after step ${steps}`).serving = start.dir
        await saveModel(child, 'train_save', path, `after step ${steps}`)
        // What comes next is sampling or scoring this snapshot: the child holds it already.
        await holding(child, path)
        const summary = await summaryAfter(child, summarises, `after step ${steps}`)
        const { summary: _, ...rest } = start
        return { ...rest, model: path, ...(summary === undefined ? {} : { summary }) }
      })
      if (latest !== start) rmSync(latest.model, { recursive: true, force: true })
      latest = snapshot
      stepped = false
      return snapshot
    },
    dispose() {
      if (child.trainee !== owner) return
      child.trainee = undefined
      // Frees the child's copy; a child that has died meanwhile has nothing to free.
      child.request({ op: 'train_end' }, "'train_end'").catch(() => undefined)
    },
  }
}
