import { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { closest, formatIssues } from './issues.js'

describe('closest', () => {
  it('finds a typo within two edits, an adjacent swap counting as one', () => {
    expect(closest('componets', ['components', 'tol', 'maxIter'])).toBe('components')
    expect(closest('gm', ['gaussian', 'gmm', 'kde'])).toBe('gmm')
    expect(closest('topk', ['topK', 'topP', 'order'])).toBe('topK')
    expect(closest('maxITer', ['maxIter', 'nInit'])).toBe('maxIter')
    expect(closest('tmeperature', ['temperature'])).toBe('temperature')
  })

  it('takes a plural for its singular and the other way round', () => {
    expect(closest('policies', ['policy', 'posttrain', 'sweep'])).toBe('policy')
    expect(closest('metric', ['metrics', 'metricOptions'])).toBe('metrics')
    expect(closest('replicate', ['replicates', 'retries'])).toBe('replicates')
    expect(closest('batches', ['batch', 'beta'])).toBe('batch')
    expect(closest('key', ['keys'])).toBe('keys')
    expect(closest('classes', ['class'])).toBe('class')
  })

  it('takes the start of a name, at least 3 letters and half of it, for the name', () => {
    const charlm = ['kind', 'module', 'context', 'embedding', 'hidden', 'steps', 'batch', 'lr', 'evalEvery', 'topK', 'topP', 'maxChars', 'sentencesPerStep']
    // 'embed' is 4 edits from 'embedding', more than the 2 a typo may have.
    expect(closest('embed', charlm)).toBe('embedding')
    expect(closest('hid', charlm)).toBe('hidden')
    expect(closest('Context', charlm)).toBe('context')
    // Too short a start to name one option: 'max' is a third of 'maxChars' and starts others too.
    expect(closest('max', ['maxChars', 'maxLength', 'maxVocab'])).toBeUndefined()
    expect(closest('em', charlm)).toBeUndefined()
    expect(closest('sent', charlm)).toBeUndefined()
  })

  it('suggests nothing for words that only share a letter or two', () => {
    expect(closest('k', ['n', 'd'])).toBeUndefined()
    expect(closest('beam', ['temperature'])).toBeUndefined()
    expect(closest('optimizer', ['generations', 'metrics', 'policy'])).toBeUndefined()
  })
})

describe('formatIssues', () => {
  const schema = z.strictObject({ size: z.int().min(1), kind: z.enum(['a', 'b']), opts: z.record(z.string(), z.number()).optional() })
  const format = (input: unknown) => formatIssues(schema.safeParse(input).error!.issues, 'f.json', ['x'], { input, schema })

  it('tells a missing key from a wrong value, and names the value', () => {
    expect(format({ kind: 'a' })).toBe('f.json: x.size: missing (expected a number)')
    expect(format({ size: 'big', kind: 'a' })).toBe('f.json: x.size: expected a number, got "big"')
    expect(format({ size: 0, kind: 'a' })).toBe('f.json: x.size: must be ≥ 1, got 0')
    expect(format({ size: 1, kind: 'a', opts: 3 })).toBe('f.json: x.opts: expected an object, got 3')
    // Not "got null", as JSON would write it.
    expect(format({ size: Infinity, kind: 'a' })).toBe('f.json: x.size: expected a number, got Infinity')
  })

  it('names the closest key and value', () => {
    expect(format({ siz: 1, size: 1, kind: 'a' })).toBe('f.json: x.siz: unknown key; did you mean "size"?')
    expect(format({ size: 1, kind: 'a', zzz: 1 })).toBe('f.json: x.zzz: unknown key; expected one of size, kind, opts')
    expect(format({ size: 1, kind: 'B' })).toBe('f.json: x.kind: "B" is not one of a, b; did you mean "b"?')
  })

  it('says to quote a JSON null or number that is an option as a string (metricErrors "null")', () => {
    const errors = z.strictObject({ metricErrors: z.enum(['null', 'fail']), n: z.enum(['1', '2']) })
    const input = { metricErrors: null, n: 2 }
    expect(formatIssues(errors.safeParse(input).error!.issues, 'f.json', [], { input, schema: errors })).toBe(
      'f.json: metricErrors: null is not one of null, fail; write it as a string, "null"\nf.json: n: 2 is not one of 1, 2; write it as a string, "2"',
    )
  })

  it('lists the keys of an object with many of them', () => {
    const keys = Array.from({ length: 24 }, (_, i) => `key${i}`)
    const wide = z.strictObject(Object.fromEntries(keys.map((k) => [k, z.number().optional()])))
    const input = { hidden: [64] }
    expect(formatIssues(wide.safeParse(input).error!.issues, 'f.json', ['model'], { input, schema: wide })).toBe(`f.json: model.hidden: unknown key; expected one of ${keys.join(', ')}`)
  })

  it('says which other kinds of a discriminated union take a key, rather than guess a near one', () => {
    const kinds = z.array(
      z.discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('finetune'), data: z.number(), steps: z.number().optional() }),
        z.strictObject({ kind: z.literal('rl'), beta: z.number(), steps: z.number().optional() }),
        z.strictObject({ kind: z.literal('dpo'), beta: z.number(), pairs: z.number().optional() }),
      ]),
    )
    const of = (input: unknown) => formatIssues(kinds.safeParse(input).error!.issues, 'f.json', ['stages'], { input, schema: kinds })
    // 'beta' is two edits from 'data', which a plain unknown key would suggest.
    expect(of([{ kind: 'finetune', data: 1, beta: 0.1 }])).toBe("f.json: stages.0.beta: unknown key for kind 'finetune' (kinds 'rl' and 'dpo' take it); expected one of kind, data, steps")
    expect(of([{ kind: 'rl', beta: 1, pairs: 10 }])).toBe("f.json: stages.0.pairs: unknown key for kind 'rl' (kind 'dpo' takes it); expected one of kind, beta, steps")
    // A key no kind takes is an unknown key as anywhere else.
    expect(of([{ kind: 'rl', beta: 1, step: 10 }])).toBe('f.json: stages.0.step: unknown key; did you mean "steps"?')
  })

  it("gives a plain union's own message with the value that matched none of its members", () => {
    const union = z.strictObject({ d: z.union([z.literal('auto'), z.number()], { error: "expected 'auto' or a number" }) })
    const input = { d: 'aut' }
    expect(formatIssues(union.safeParse(input).error!.issues, 'f.json', [], { input, schema: union })).toBe("f.json: d: expected 'auto' or a number, got \"aut\"")
  })

  it('says the tightest of the bounds a number breaks: an integer past its maximum and past the safe range', () => {
    const bounded = z.strictObject({ n: z.int().min(1).max(1000) })
    const input = { n: 1e308 }
    expect(formatIssues(bounded.safeParse(input).error!.issues, 'f.json', [], { input, schema: bounded })).toBe('f.json: n: must be ≤ 1000, got 1e+308')
  })

  it('falls back to the issue alone without the input', () => {
    expect(formatIssues(schema.safeParse({ kind: 'a' }).error!.issues, 'f.json')).toBe('f.json: size: Invalid input: expected number, received undefined')
  })
})
