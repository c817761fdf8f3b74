// Large accumulated training sets reach the neural models as rows read from the sample files;
// the records must not depend on whether that happened.
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, records, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

describe('streamed training sets', () => {
  it.each([
    ['vae', { kind: 'vae', epochs: 1, hidden: [16], batch: 64 }],
    ['gan', { kind: 'gan', steps: 30, generator: [16], discriminator: [16], batch: 32 }],
  ])('%s on an accumulated history read from disk gives the records it gives in memory', (_name, model) => {
    const dir = tempDir()
    const file = writeConfig(dir, {
      data: { kind: 'ring', n: 300 },
      model,
      policy: { kind: 'accumulate' },
      generations: 3,
      metrics: ['modes', 'copy_rate'],
      heldout: 0,
    })
    const env = { OUROBOROS_BACKEND: 'cpu' }
    const inMemory = cli(['run', file, '--out', `${dir}/memory`, '--workers', '1'], { env })
    expect(inMemory.status, inMemory.stderr).toBe(0)
    // 0 MiB: every training set after generation 0 is read from the sample files.
    const streamed = cli(['run', file, '--out', `${dir}/streamed`, '--workers', '1'], { env: { ...env, OUROBOROS_STREAM_ABOVE_MIB: '0' } })
    expect(streamed.status, streamed.stderr).toBe(0)
    const a = records(`${dir}/memory`)
    expect(a.filter((r) => r.generation >= 0).every((r) => r.metrics['copy_rate'] !== null)).toBe(true)
    expect(records(`${dir}/streamed`)).toEqual(a)
  })

  it('are named in `ouroboros list` for the models that read them', () => {
    const res = cli(['list'])
    expect(res.status, res.stderr).toBe(0)
    const line = (kind: string) => res.stdout.split('\n').find((l) => l.trimStart().startsWith(`${kind} `)) ?? ''
    for (const kind of ['vae', 'gan']) expect(line(kind)).toContain('large training sets read from disk')
    for (const kind of ['gaussian', 'gmm', 'kde', 'ngram']) expect(line(kind)).not.toContain('read from disk')
  })

  it('refuses a stream threshold that is not a size', () => {
    const dir = tempDir()
    const file = writeConfig(dir, { data: { kind: 'ring', n: 100 }, model: { kind: 'gaussian' }, generations: 1 })
    const res = cli(['run', file, '--out', `${dir}/run`], { env: { OUROBOROS_STREAM_ABOVE_MIB: 'lots' } })
    expect(res.status).toBe(2)
    expect(res.stderr).toContain("OUROBOROS_STREAM_ABOVE_MIB: expected a number of MiB ≥ 0, got 'lots'")
  })
})
