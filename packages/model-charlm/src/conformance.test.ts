import { runModelConformance } from '@ouroboros/testkit'
import { model } from './index.js'
import { VOCABULARY, toySentences } from './toy.testutil.js'

runModelConformance(model, {
  params: { context: 8, embedding: 8, hidden: [48], steps: 400, batch: 64, lr: 1e-2, evalEvery: 0 },
  data: (rng) => toySentences(300, rng),
  dataset: { kind: 'toy', modality: 'tokens', vocabulary: VOCABULARY },
  spreadSamples: 500,
  badParams: [
    { params: { context: 0 }, field: 'context' },
    { params: { embedding: 0 }, field: 'embedding' },
    { params: { hidden: [] }, field: 'hidden' },
    { params: { hidden: [16.5] }, field: 'hidden.0' },
    { params: { steps: 0 }, field: 'steps' },
    { params: { batch: 0 }, field: 'batch' },
    { params: { lr: 0 }, field: 'lr' },
    { params: { evalEvery: -1 }, field: 'evalEvery' },
    { params: { topK: 0 }, field: 'topK' },
    { params: { topP: 1.5 }, field: 'topP' },
    { params: { maxChars: 0 }, field: 'maxChars' },
    { params: { sentencesPerStep: 0 }, field: 'sentencesPerStep' },
  ],
})
