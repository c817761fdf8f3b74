// gan_table.py on a small run written here: the cell column names the swept values as run.json's
// labels and the report do.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const SCRIPT = fileURLToPath(new URL('./gan_table.py', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'ouroboros-gan-table-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('gan_table.py', () => {
  it("gives a cell's swept values in the sweep's order, a number as JavaScript writes it and a spec in words", () => {
    const sweep = { 'model.lr': [0.00001, 0.001], 'policy': [{ kind: 'mix', realFraction: 0.2 }] }
    const cells = sweep['model.lr'].map((lr, index) => ({ index, params: { 'model.lr': lr, policy: sweep.policy[0] } }))
    const records = cells.map((c) => ({ chain: `c${c.index}-r0`, cell: c.index, replicate: 0, params: c.params, generation: 0, metrics: { modes_covered: 8 - c.index, pct_high_quality: 90, modes_covered_1pct: 7 }, timings: { fitMs: 60000 } }))
    const run = join(dir, 'gan')
    mkdirSync(run)
    writeFileSync(join(run, 'run.json'), JSON.stringify({ status: 'finished', config: { sweep }, cells, chains: records.map((r) => ({ id: r.chain, status: 'finished' })) }))
    writeFileSync(join(run, 'metrics.ndjson'), records.map((r) => JSON.stringify(r)).join('\n') + '\n')
    const r = spawnSync(PYTHON, [SCRIPT, run], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain('| gan | model.lr=0.00001, policy=mix(realFraction=0.2) | 8.0 (8) | 90.0 ± 0.0 | 7.0 (7) | 1.0 |')
    expect(r.stdout).toContain('| gan | model.lr=0.001, policy=mix(realFraction=0.2) | 7.0 (7) |')
  })
})
