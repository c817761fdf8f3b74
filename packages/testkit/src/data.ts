import { Rng, asVectors, type DatasetInfo, type DatasetInstance, type VectorSamples } from '@ouroboros/core'
import { ring } from '@ouroboros/datasets'

/** The ring benchmark of METRICS.md (8 modes at radius 2, std 0.02) exactly as a run draws it. */
function ringInstance(): DatasetInstance {
  const made = ring.create(ring.params.parse({}), Rng.from(0, 'ring'))
  if (made instanceof Promise) throw new TypeError('the ring dataset is expected to be created synchronously')
  return made
}

const instance = ringInstance()

/** What a run knows about the ring: its mode centres, std and weights. */
export const ringDataset: DatasetInfo = instance.info

/** n samples of the ring, for model tests. */
export function ringSamples(n: number, rng: Rng): VectorSamples {
  return asVectors(instance.sample(n, rng), 'ring samples')
}
