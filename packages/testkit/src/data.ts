import { Rng, asVectors, type DatasetInfo, type DatasetInstance, type VectorSamples } from '@ouroboros/core'
import { ring } from '@ouroboros/datasets'

/** The ring as a run draws it; `weights` as the config's `data.weights` (a finetuning task on some modes). */
function ringInstance(weights?: readonly number[]): DatasetInstance {
  const made = ring.create(ring.params.parse(weights === undefined ? {} : { weights }), Rng.from(0, 'ring'))
  if (made instanceof Promise) throw new TypeError('the ring dataset is expected to be created synchronously')
  return made
}

const instance = ringInstance()

/** What a run knows about the ring (8 modes at radius 2, std 0.02): its mode centres, std and weights. */
export const ringDataset: DatasetInfo = instance.info

/** n samples of the ring, for model tests. */
export function ringSamples(n: number, rng: Rng): VectorSamples {
  return asVectors(instance.sample(n, rng), 'ring samples')
}

/** The ring with per-mode weights, e.g. [1, 1, 0, 0, 0, 0, 0, 0]: a finetuning task on two modes. */
export function ringTask(weights: readonly number[]): { readonly dataset: DatasetInfo; sample(n: number, rng: Rng): VectorSamples } {
  const task = ringInstance(weights)
  return { dataset: task.info, sample: (n, rng) => asVectors(task.sample(n, rng), 'ring task samples') }
}
