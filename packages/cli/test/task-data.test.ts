import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

describe('restricted task data', () => {
  const dir = tempDir()
  const validate = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    cli(['validate', writeConfig(dir, { data, model: { kind: 'gmm', components: 2, covarianceType: 'diag' }, generations: 1, metrics: ['moments'], ...extra })])

  it('refuses more digits or sentences than the restricted pools hold, naming the field', () => {
    // 1,032 threes in MNIST, about 10 % of them held out; 1,053 humor sentences in Brown.
    const digits = validate({ kind: 'mnist', digits: [3], n: 2000 }, { heldout: 50 })
    expect(digits.status).toBe(2)
    expect(digits.stderr).toMatch(/data\.n: 2000 is more than the \d+ real samples/)
    // Without `heldout`, a run holds out all that the restricted pool does; 1,000 is more.
    expect(validate({ kind: 'mnist', digits: [3], n: 500 }).status).toBe(0)
    const heldout = validate({ kind: 'mnist', digits: [3], n: 500 }, { heldout: 1000 })
    expect(heldout.status).toBe(2)
    expect(heldout.stderr).toMatch(/heldout: 1000 is more than the \d+ held-out samples/)
    const humor = cli(['validate', writeConfig(dir, { data: { kind: 'brown', categories: ['humor'], n: 1053 }, model: { kind: 'ngram' }, generations: 1, heldout: 10 })])
    expect(humor.status).toBe(2)
    expect(humor.stderr).toMatch(/data\.n: 1053 is more than the \d+ real samples/)
    for (const res of [digits, heldout, humor]) expect(res.stderr).not.toMatch(/\n\s+at /)
  })

  it('accepts what the restricted pools hold, and names unknown categories', () => {
    expect(validate({ kind: 'mnist', digits: [3, 7], n: 1500 }, { heldout: 100 }).status).toBe(0)
    const unknown = cli(['validate', writeConfig(dir, { data: { kind: 'brown', categories: ['sports'] }, model: { kind: 'ngram' }, generations: 1 })])
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toContain("data.categories.0: unknown Brown category 'sports'")
  })
})
