import { runPosttrainConformance } from '@ouroboros/testkit'
import { model } from './index.js'
import { VOCABULARY, toySentences } from './toy.testutil.js'

process.env['OUROBOROS_BACKEND'] = 'cpu'

runPosttrainConformance(model, {
  params: { context: 4, embedding: 4, hidden: [16], steps: 50, batch: 32, lr: 1e-2, evalEvery: 0, sentencesPerStep: 8 },
  data: (rng) => toySentences(60, rng),
  dataset: { kind: 'toy', modality: 'tokens', vocabulary: VOCABULARY },
  // fitWeighted with equal weights is fit, and drops items of weight 0: the same steps exactly.
  tolerance: 0,
})
