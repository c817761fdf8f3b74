import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { HOST } from '@ouroboros/store'
import { removeAbandonedScratch } from './scratch.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('removeAbandonedScratch', () => {
  it("removes the scratch folders of ended processes of this machine, with what they hold, and keeps the others'", () => {
    const base = mkdtempSync(join(tmpdir(), 'ouroboros-scratch-test-'))
    dirs.push(base)
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout
    const gone = [`ouroboros-${HOST}-${ended}-a1B2c3`]
    const kept = [`ouroboros-${HOST}-${process.pid}-a1B2c3`, `ouroboros-${HOST}x-${ended}-a1B2c3`, `ouroboros-${HOST}-${ended}-a1B2c3-more`, 'ouroboros-a1B2c3', 'other']
    for (const name of [...gone, ...kept]) {
      mkdirSync(join(base, name, 'worker'), { recursive: true })
      writeFileSync(join(base, name, 'worker', 'scratch.npy'), 'x')
    }
    removeAbandonedScratch(base)
    expect(readdirSync(base).sort()).toEqual([...kept].sort())
  })
})
