import { runModelConformance } from '@ouroboros/testkit'
import { model } from './index.js'
import { VOCABULARY, toySentences } from './toy.testutil.js'

runModelConformance(model, {
  params: { context: 12, layers: 1, heads: 2, dModel: 16, ffn: 32, steps: 150, batch: 8, lr: 1e-2, warmup: 10, evalEvery: 0 },
  data: (rng) => toySentences(300, rng),
  dataset: { kind: 'toy', modality: 'tokens', vocabulary: VOCABULARY },
  spreadSamples: 500,
  badParams: [
    { params: { context: 1 }, field: 'context' },
    { params: { layers: 0 }, field: 'layers' },
    { params: { heads: 0 }, field: 'heads' },
    { params: { dModel: 0 }, field: 'dModel' },
    { params: { dModel: 10, heads: 4 }, field: 'heads' },
    { params: { ffn: 0 }, field: 'ffn' },
    { params: { maxVocab: 0 }, field: 'maxVocab' },
    { params: { steps: 0 }, field: 'steps' },
    { params: { batch: 0 }, field: 'batch' },
    { params: { lr: 0 }, field: 'lr' },
    { params: { warmup: -1 }, field: 'warmup' },
    { params: { steps: 40 }, field: 'warmup' },
    { params: { weightDecay: -0.1 }, field: 'weightDecay' },
    { params: { clip: 0 }, field: 'clip' },
    { params: { evalEvery: -1 }, field: 'evalEvery' },
    { params: { topK: 0 }, field: 'topK' },
    { params: { topP: 1.5 }, field: 'topP' },
  ],
})
