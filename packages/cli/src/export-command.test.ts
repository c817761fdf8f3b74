import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { exportCommand } from './export-command.js'

const dir = mkdtempSync(join(tmpdir(), 'ouroboros-export-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('export --out', () => {
  it('refuses the name of a record file, which would become a folder holding the file, before reading the run', async () => {
    await expect(exportCommand(join(dir, 'no-run'), 'csv', join(dir, 'out/metrics.csv'))).rejects.toThrow(
      `--out: ${join(dir, 'out/metrics.csv')} names a file, but --out is the directory the metrics.csv is written in`,
    )
    await expect(exportCommand(join(dir, 'no-run'), 'parquet', join(dir, 'records.ndjson'))).rejects.toThrow('names a file')
    // A folder that exists is taken as it is, whatever its name: here the run is what is missing.
    mkdirSync(join(dir, 'odd.csv'))
    await expect(exportCommand(join(dir, 'no-run'), 'csv', join(dir, 'odd.csv'))).rejects.not.toThrow('names a file')
  })
})
