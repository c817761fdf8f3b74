import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { OuroborosError } from '@ouroboros/core'
import { describe, expect, it } from 'vitest'
import { loadConfigFile } from './load-config.js'

describe('a config file that is missing', () => {
  it('is named with the path it was looked for at, where it was given relative to a folder the user may not be in (pnpm runs scripts from the workspace root)', async () => {
    await expect(loadConfigFile('no-such-config.json')).rejects.toThrow(`no-such-config.json: no such file (looked for ${resolve('no-such-config.json')})`)
    await expect(loadConfigFile('/no/such/config.json')).rejects.toThrow(/^\/no\/such\/config\.json: no such file$/)
  })
})

describe("a run's run.json given as a config", () => {
  it('is said to be one, with how to finish the run or run its config again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-runjson-'))
    try {
      const file = join(dir, 'run.json')
      writeFileSync(file, JSON.stringify({ name: 'r', runId: 'abc', status: 'finished', config: { data: { kind: 'ring' } }, chains: [] }))
      const err = await loadConfigFile(file).then(() => undefined, (e: unknown) => e as OuroborosError)
      expect(err?.message).toBe(`${file}: a run's run.json, not a config (the run's config is its "config")`)
      expect(err?.hint).toBe(`ouroboros resume ${dir} finishes that run; to run its config again, save its "config" as a file of its own`)
      // A config with a key named config is still a config.
      writeFileSync(file, JSON.stringify({ data: { kind: 'ring' }, config: 1 }))
      await expect(loadConfigFile(file)).resolves.toEqual({ name: 'run', data: { kind: 'ring' }, config: 1 })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('a number beyond the range of a double', () => {
  it('is named by its field, not said to be null', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-overflow-'))
    try {
      const file = join(dir, 'c.json')
      writeFileSync(file, '{"generations": 2, "posttrain": [{"kind": "finetune", "anchor": 1e309}], "seed": -2e400}')
      const err = await loadConfigFile(file).then(() => undefined, (e: unknown) => e as OuroborosError)
      expect(err?.code).toBe('OUROBOROS_CONFIG')
      expect(err?.message).toBe(
        `${file}: posttrain.0.anchor: the number is too large for a double (beyond ±1.8e308; JSON reads it as Infinity)\n` +
          `${file}: seed: the number is too large for a double (beyond ±1.8e308; JSON reads it as Infinity)`,
      )
      expect(err?.hint).toBe('write a number within ±1.8e308')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('a config without a name', () => {
  it('is named by its file, without the extension; a name given is kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-named-'))
    try {
      writeFileSync(join(dir, 'ring sweep.json'), JSON.stringify({ data: { kind: 'ring' } }))
      await expect(loadConfigFile(join(dir, 'ring sweep.json'))).resolves.toEqual({ name: 'ring sweep', data: { kind: 'ring' } })
      writeFileSync(join(dir, 'typed.mjs'), "export default { name: process.env.NO_SUCH_VARIABLE, data: { kind: 'ring' } }\n")
      await expect(loadConfigFile(join(dir, 'typed.mjs'))).resolves.toEqual({ name: 'typed', data: { kind: 'ring' } })
      writeFileSync(join(dir, 'given.json'), JSON.stringify({ name: 'mine', data: { kind: 'ring' } }))
      await expect(loadConfigFile(join(dir, 'given.json'))).resolves.toEqual({ name: 'mine', data: { kind: 'ring' } })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
