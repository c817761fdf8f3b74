import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, records, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

const gaussian = {
  name: 'gaussian-records',
  data: { kind: 'gaussian', d: 1, n: 40 },
  model: { kind: 'gaussian' },
  generations: 5,
  replicates: 3,
  seed: 4,
  metrics: ['moments'],
  sweep: { 'model.estimator': ['mle', 'unbiased'] },
}

describe('record files', () => {
  it('records.text false leaves the text files out; export writes them as a text run does', () => {
    const dir = tempDir()
    const text = cli(['run', writeConfig(dir, gaussian), '--out', `${dir}/text`])
    expect(text.status, text.stderr).toBe(0)
    const bare = cli(['run', writeConfig(dir, { ...gaussian, records: { text: false } }, 'bare.json'), '--out', `${dir}/bare`])
    expect(bare.status, bare.stderr).toBe(0)
    expect(readdirSync(`${dir}/bare`).filter((f) => f.startsWith('metrics.'))).toEqual(['metrics.parquet'])
    expect(existsSync(`${dir}/text/metrics.parquet`)).toBe(true)

    const csv = cli(['export', `${dir}/bare`, '--format', 'csv'])
    expect(csv.status, csv.stderr).toBe(0)
    expect(csv.stdout).toMatch(/metrics\.csv: 36 records, \d+ bytes/)
    // The CSV has no timings: byte for byte the text run's, swept parameter included.
    expect(readFileSync(`${dir}/bare/metrics.csv`, 'utf8')).toBe(readFileSync(`${dir}/text/metrics.csv`, 'utf8'))
    expect(readFileSync(`${dir}/bare/metrics.csv`, 'utf8').split('\n')[0]).toBe('chain,replicate,generation,metric,value,cell,model.estimator')
    expect(cli(['export', `${dir}/bare`, '--format', 'ndjson']).status).toBe(0)
    expect(records(`${dir}/bare`)).toEqual(records(`${dir}/text`))
  })

  it('export refuses a bad format or a directory that is not a run, with one line and exit 2, writing nothing', () => {
    const dir = tempDir()
    const bad = cli(['export', dir, '--format', 'xlsx'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain("--format: expected one of csv, ndjson, parquet, got 'xlsx'")
    expect(bad.stderr).not.toMatch(/\n\s+at /)
    const notRun = cli(['export', dir, '--format', 'csv'])
    expect(notRun.status).toBe(2)
    expect(notRun.stderr).toContain('is not a run directory')
    expect(readdirSync(dir)).toEqual([])
  })
})
