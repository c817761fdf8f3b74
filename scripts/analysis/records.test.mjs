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
  // Three generations a chain. Cell 0: replicate 0 finished them, replicate 1 stopped after
  // generation 0; cell 1 stopped after generation 0; cell 2 never began.
  const cells = [0, 1, 2].map((index) => ({ index, label: `k=${index}`, params: { k: index }, config: { generations: 3 } }))
  const chains = [
    { id: 'c0-r0', cell: 0, replicate: 0, status: 'finished' },
    { id: 'c0-r1', cell: 0, replicate: 1, status: 'interrupted' },
    { id: 'c1-r0', cell: 1, replicate: 0, status: 'interrupted' },
    { id: 'c2-r0', cell: 2, replicate: 0, status: 'interrupted' },
  ]
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ status: 'interrupted', config: { generations: 3 }, cells, chains }))
  const record = (cell, replicate, generation, v) => JSON.stringify({ chain: `c${cell}-r${replicate}`, cell, replicate, generation, metrics: { m: v } })
  writeFileSync(join(dir, 'metrics.ndjson'), [record(0, 0, 0, 1), record(0, 1, 0, 3), record(0, 0, 1, 2), record(1, 0, 0, 5)].join('\n') + '\n')
  const records = (...args) => spawnSync(PYTHON, [SCRIPT, dir, 'm', ...args], { encoding: 'utf8' })

  it('lists every cell and generation asked for, saying which an interrupted run has not recorded and of how many replicates a value is', () => {
    const r = records('--gens', '0,1,2')
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).toContain('3 of 4 chains did not finish')
    expect(r.stdout).toBe(
      [
        '## cell 0: k=0',
        '| gen | m |',
        '| 0 | 2 (1–3) |',
        '| 1 | 2 [1 of 2 replicates] |',
        '| 2 | not recorded yet |',
        '## cell 1: k=1',
        '| gen | m |',
        '| 0 | 5 |',
        '| 1 | not recorded yet |',
        '| 2 | not recorded yet |',
        '## cell 2: k=2',
        'no generation recorded yet',
        '',
      ].join('\n'),
    )
  })

  it('lines up --per-seed values by replicate, and refuses a generation past the run’s last', () => {
    const r = records('--gens', '1', '--per-seed')
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toContain('| 1 | 2/not recorded |')
    const past = records('--gens', '3')
    expect(past.status).toBe(2)
    expect(past.stderr).toContain('--gens: no record of generation 3; the records have generations 0, 1')
  })
})
