// records.py on a run directory written here: what it prints of a run that has not finished.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const SCRIPT = fileURLToPath(new URL('./records.py', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'ouroboros-records-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('records.py', () => {
  it('lists every cell and generation asked for, saying which an interrupted run has not recorded', () => {
    const cells = [0, 1, 2].map((index) => ({ index, label: `k=${index}`, params: { k: index } }))
    // Cell 0 finished its two generations, cell 1 stopped after generation 0, cell 2 never began.
    const chains = [
      { id: 'c0-r0', cell: 0, replicate: 0, status: 'finished' },
      { id: 'c1-r0', cell: 1, replicate: 0, status: 'interrupted' },
      { id: 'c2-r0', cell: 2, replicate: 0, status: 'interrupted' },
    ]
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ status: 'interrupted', cells, chains }))
    const record = (cell, generation, v) => JSON.stringify({ chain: `c${cell}-r0`, cell, replicate: 0, generation, metrics: { m: v } })
    writeFileSync(join(dir, 'metrics.ndjson'), [record(0, 0, 1), record(0, 1, 2), record(1, 0, 3)].join('\n') + '\n')
    const r = spawnSync(PYTHON, [SCRIPT, dir, 'm', '--gens', '0,1'], { encoding: 'utf8' })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toContain('2 of 3 chains did not finish')
    expect(r.stdout).toBe(
      ['## cell 0: k=0', '| gen | m |', '| 0 | 1 |', '| 1 | 2 |', '## cell 1: k=1', '| gen | m |', '| 0 | 3 |', '| 1 | not recorded yet |', '## cell 2: k=2', 'no generation recorded yet', ''].join('\n'),
    )
  })
})
