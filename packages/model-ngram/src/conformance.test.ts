import type { Rng } from '@ouroboros/core'
import { runModelConformance, runPosttrainConformance } from '@ouroboros/testkit'
import { model } from './index.js'
import { CORPUS, VOCABULARY, tokenSamples } from './reference.testutil.js'

runModelConformance(model, {
  params: { order: 3 },
  // 400 sentences drawn from the hand-made corpus, each with a word dropped at random now and
  // then, so that seeds give different training sets.
  data: (rng) =>
    tokenSamples(
      Array.from({ length: 400 }, () => {
        const s = CORPUS[rng.int(CORPUS.length)]!
        const drop = rng.uniform() < 0.3 ? rng.int(s.length) : -1
        return s.filter((_, i) => i !== drop)
      }),
      VOCABULARY.length,
    ),
  dataset: { kind: 'toy', modality: 'tokens', vocabulary: VOCABULARY },
  badParams: [
    { params: { order: 0 }, field: 'order' },
    { params: { order: 6 }, field: 'order' },
    { params: { order: 2.5 }, field: 'order' },
    { params: { discount: 1.5 }, field: 'discount' },
    { params: { discount: 'chen-goodman' }, field: 'discount' },
    { params: { topK: 0 }, field: 'topK' },
    { params: { topP: 0 }, field: 'topP' },
    { params: { topP: 1.5 }, field: 'topP' },
    { params: { maxLength: 0 }, field: 'maxLength' },
  ],
})

const toyData = (rng: Rng) =>
  tokenSamples(
    Array.from({ length: 400 }, () => {
      const s = CORPUS[rng.int(CORPUS.length)]!
      const drop = rng.uniform() < 0.3 ? rng.int(s.length) : -1
      return s.filter((_, i) => i !== drop)
    }),
    VOCABULARY.length,
  )

runPosttrainConformance(model, {
  params: { order: 3 },
  data: toyData,
  dataset: { kind: 'toy', modality: 'tokens', vocabulary: VOCABULARY },
  tolerance: 1e-12,
})

// The exact KL is the unigram models' at discount 0 (with a discount, scoring's floor is not what sampling draws).
runPosttrainConformance(model, {
  params: { order: 1, discount: 0 },
  data: toyData,
  dataset: { kind: 'toy', modality: 'tokens', vocabulary: VOCABULARY },
  tolerance: 1e-10,
  exactKl: true,
})
