import { describe, expect, it } from 'vitest'
import { expectModality } from './conformance.js'

describe("the conformance suites' check of a plug-in's modality", () => {
  it("fails a modality other than 'vectors' or 'tokens', naming it", () => {
    expect(() => expectModality('model', { id: 's2', modality: 'vector' })).toThrow("model 's2' has modality 'vector'; expected 'vectors' or 'tokens'")
    expect(() => expectModality('metric group', { id: 'spread', modality: undefined })).toThrow("metric group 'spread' has modality undefined; expected 'vectors' or 'tokens'")
    expectModality('dataset', { id: 'zipf', modality: 'tokens' })
    expectModality('model', { id: 'gaussian', modality: 'vectors' })
  })
})
