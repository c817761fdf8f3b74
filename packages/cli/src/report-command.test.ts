import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { reportCommand } from './report-command.js'

const dir = mkdtempSync(join(tmpdir(), 'ouroboros-report-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('report DIR', () => {
  it('says that a file given as the run (a config) is no run directory, not that --out cannot be written', async () => {
    const config = join(dir, 'sweep.json')
    writeFileSync(config, '{}')
    await expect(reportCommand([config], {})).rejects.toThrow(`${config}: a file, not a run directory`)
  })
})
