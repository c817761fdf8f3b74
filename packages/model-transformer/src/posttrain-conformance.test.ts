import { runPosttrainConformance } from '@ouroboros/testkit'
import { model } from './index.js'
import { VOCABULARY, toySentences } from './toy.testutil.js'

process.env['OUROBOROS_BACKEND'] = 'cpu'

runPosttrainConformance(model, {
  params: { context: 8, layers: 1, heads: 2, dModel: 8, ffn: 16, steps: 20, batch: 8, lr: 1e-2, warmup: 5, evalEvery: 0 },
  data: (rng) => toySentences(60, rng),
  dataset: { kind: 'toy', modality: 'tokens', vocabulary: VOCABULARY },
  tolerance: 0,
})
