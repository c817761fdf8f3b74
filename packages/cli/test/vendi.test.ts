import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, records, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

describe('vendi in runs', () => {
  it('scores every generation of ordinary 2-D Gaussian chains (their eigenvalues once failed to converge)', () => {
    const dir = tempDir()
    const config = { data: { kind: 'gaussian', d: 2, n: 500 }, model: { kind: 'gaussian' }, generations: 3, replicates: 2, metrics: ['vendi'] }
    const res = cli(['run', writeConfig(dir, config), '--out', `${dir}/run`, '--workers', '2'])
    expect(res.status, res.stderr).toBe(0)
    expect(res.stderr).not.toContain('failed')
    const run = JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8'))
    expect(run.chains.map((c: { status: string }) => c.status)).toEqual(['finished', 'finished'])
    const recs = records(`${dir}/run`).filter((r) => r.generation >= 0)
    expect(recs).toHaveLength(2 * 3)
    // The effective number of distinct samples lies between 1 (all alike) and n = 500.
    for (const r of recs) {
      expect(r.metrics['vendi']).toBeGreaterThan(1)
      expect(r.metrics['vendi']).toBeLessThan(500)
    }
  })
})
