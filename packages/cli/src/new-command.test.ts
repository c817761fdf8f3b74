import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ErrorCode, type OuroborosError } from '@ouroboros/core'
import { newCommand } from './new-command.js'

const dir = mkdtempSync(join(tmpdir(), 'ouroboros-new-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('ouroboros new', () => {
  it('refuses the id of a built-in model, dataset or metric group, writing nothing', async () => {
    for (const [kind, name, what] of [
      ['model', 'gmm', 'model'],
      ['dataset', 'ring', 'dataset'],
      ['metric', 'modes', 'metric group'],
    ] as const) {
      const target = join(dir, `${kind}-${name}`)
      const err = await newCommand(kind, name, { dir: target }).then(() => undefined, (e: unknown) => e as OuroborosError)
      expect(err?.code, kind).toBe(ErrorCode.CONFIG)
      expect(err?.message).toBe(`NAME: '${name}' is the id of a built-in ${what}`)
      expect(err?.hint).toMatch(new RegExp(`^choose another NAME \\(the built-in ${what}s are .*\\b${name}\\b`))
      expect(existsSync(target)).toBe(false)
    }
  })
})
