import { createHash } from 'node:crypto'
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, cliAsync, records, signalAfterRecords, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

const faulty = fileURLToPath(new URL('./fixtures/faulty-model.mjs', import.meta.url))

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
    expect(notRun.stderr).toContain(': not a run directory (no run.json)')
    expect(readdirSync(dir)).toEqual([])
  })
})

/** Each file of a run directory (its chains aside) by its SHA-256: what must be left as it was. */
function snapshot(run: string): Record<string, string> {
  return Object.fromEntries(readdirSync(run).filter((f) => f !== 'chains').map((f) => [f, createHash('sha256').update(readFileSync(join(run, f))).digest('hex')]))
}

describe('export of a run still going', () => {
  it('refuses to write into its directory, whose record files the run writes as it ends, and writes the records so far elsewhere', () => {
    const dir = tempDir()
    const run = join(dir, 'run')
    expect(cli(['run', writeConfig(dir, gaussian), '--out', run]).status).toBe(0)
    // As while a run goes on: its lock, held by a live process of this machine (this test's).
    writeFileSync(join(run, 'run.lock'), JSON.stringify({ pid: process.pid, host: hostname().replace(/[^A-Za-z0-9_.-]/g, '_'), since: new Date().toISOString() }) + '\n')
    const before = snapshot(run)
    const inside = cli(['export', run, '--format', 'csv'])
    expect(inside.status, inside.stderr).toBe(2)
    expect(inside.stderr).toContain(`error: ${run} is being run by process ${process.pid} (since `)
    expect(inside.stderr).toContain(`: its record files are written in full when it ends\nhint: wait for it, or export the records so far elsewhere: --out ${run}-so-far\n`)
    expect(snapshot(run)).toEqual(before)
    const elsewhere = cli(['export', run, '--format', 'csv', '--out', `${run}-so-far`])
    expect(elsewhere.status, elsewhere.stderr).toBe(0)
    expect(elsewhere.stdout).toMatch(/metrics\.csv: 36 records, \d+ bytes \(the run is still going: the records written so far\)\n$/)
  })
})

describe('export --out', () => {
  it("refuses another run's directory, an empty --out and a directory where the file goes: exit 2, before anything is written", () => {
    const dir = tempDir()
    const [a, b] = [join(dir, 'a'), join(dir, 'b')]
    for (const out of [a, b]) expect(cli(['run', writeConfig(dir, gaussian), '--out', out]).status).toBe(0)
    const before = snapshot(b)
    const other = cli(['export', a, '--format', 'ndjson', '--out', b])
    expect(other.status, other.stderr).toBe(2)
    expect(other.stderr).toBe(`error: --out: ${b} is the directory of another run; the export would replace its metrics.ndjson\nhint: give --out a directory of its own, or leave --out out to write in ${a}\n`)
    expect(snapshot(b)).toEqual(before)

    const cwd = join(dir, 'cwd')
    mkdirSync(cwd)
    const empty = cli(['export', a, '--format', 'csv', '--out', ''], { cwd })
    expect(empty.status, empty.stderr).toBe(2)
    expect(empty.stderr).toContain('error: --out: empty\n')
    expect(readdirSync(cwd)).toEqual([])

    const blocked = join(dir, 'ed')
    mkdirSync(join(blocked, 'metrics.csv'), { recursive: true })
    const res = cli(['export', a, '--format', 'csv', '--out', blocked])
    expect(res.status, res.stderr).toBe(2)
    expect(res.stderr).toContain(`error: --out: cannot write ${join(blocked, 'metrics.csv')}: a directory is in the way\n`)
    expect(readdirSync(blocked)).toEqual(['metrics.csv'])
    // Its own directory, named, is as good as the default.
    expect(cli(['export', a, '--format', 'csv', '--out', a]).status).toBe(0)

    // The run's chains folder, which its next `run --force` deletes, is refused as report --out refuses it.
    for (const [out, what] of [[join(a, 'chains'), "the run's own chains folder"], [join(a, 'chains', 'r0'), "inside the run's own chains folder"], [join(a, 'chains', 'new'), "inside the run's own chains folder"]]) {
      const inside = cli(['export', a, '--format', 'csv', '--out', out!])
      expect(inside.status, inside.stderr).toBe(2)
      expect(inside.stderr).toBe(`error: --out: ${out} is ${what} in ${a}\nhint: give --out a directory of its own, or leave --out out to write in ${a}\n`)
    }
    expect(existsSync(join(a, 'chains', 'new'))).toBe(false)
    expect(existsSync(join(a, 'chains', 'metrics.csv'))).toBe(false)
  })

  it('replaces a file of that name at --out only with --force: a table of the user’s, or an export edited since, cannot be told from another', () => {
    const dir = tempDir()
    const run = join(dir, 'run')
    expect(cli(['run', writeConfig(dir, gaussian), '--out', run]).status).toBe(0)
    const out = join(dir, 'tables')
    for (const format of ['csv', 'ndjson', 'parquet']) {
      const file = join(out, `metrics.${format}`)
      expect(cli(['export', run, '--format', format, '--out', out]).status).toBe(0)
      expect(readFileSync(file)).toEqual(readFileSync(join(run, `metrics.${format}`)))
      // The export's rows, cut down and annotated by the user: it starts as an export does.
      const own = readFileSync(file).subarray(0, 200).toString('latin1') + '\nmy notes\n'
      writeFileSync(file, own, 'latin1')
      const refused = cli(['export', run, '--format', format, '--out', out])
      expect(refused.status, refused.stderr).toBe(2)
      expect(refused.stderr).toBe(`error: --out: ${file} exists; the export would replace it\nhint: give --out another directory, or add --force to replace it\n`)
      expect(readFileSync(file, 'latin1')).toBe(own)
      expect(cli(['export', run, '--format', format, '--out', out, '--force']).status).toBe(0)
      expect(readFileSync(file)).toEqual(readFileSync(join(run, `metrics.${format}`)))
      // In the run's own directory the record file is the run's, written again as it was.
      expect(cli(['export', run, '--format', format]).status).toBe(0)
    }
  })
})

describe('a record log with fewer records than run.json says were made', () => {
  it('export and report refuse it, naming records.log and what is missing, and leave the record files and the report as they were', () => {
    const dir = tempDir()
    const run = join(dir, 'run')
    expect(cli(['run', writeConfig(dir, gaussian), '--out', run]).status).toBe(0)
    const log = join(run, 'records.log')
    const whole = readFileSync(log)
    for (const damaged of [whole.subarray(0, whole.length >> 1), Buffer.from('hello\n')]) {
      writeFileSync(log, damaged)
      const before = snapshot(run)
      for (const args of [['export', run, '--format', 'ndjson'], ['export', run, '--format', 'parquet'], ['report', run]]) {
        const res = cli(args)
        expect(res.status, `${args.join(' ')}: ${res.stderr}`).toBe(2)
        expect(res.stderr).toMatch(new RegExp(`^error: ${log.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} lacks records that run\\.json says were made( \\(bytes \\d+ to ${damaged.length}, its end, are no whole record: it was cut short or written over\\))?: chain c\\d-r\\d \\(finished after 5 generations\\) has no record of generation`))
        expect(res.stderr).toContain('hint: the records cannot be recomputed from the checkpoints: restore records.log from a copy')
      }
      expect(snapshot(run)).toEqual(before)
    }
    writeFileSync(log, whole)
    expect(cli(['export', run, '--format', 'ndjson']).status).toBe(0)
    expect(statSync(join(run, 'metrics.ndjson')).size).toBeGreaterThan(0)
    // Without the log, metrics.ndjson stands in for it, as it stands: said, since an edit of it
    // passes into what is written from it.
    rmSync(log)
    for (const args of [['export', run, '--format', 'csv'], ['report', run]]) {
      const res = cli(args)
      expect(res.status, res.stderr).toBe(0)
      expect(res.stderr).toBe(`ouroboros: ${run} has no records.log; its records are read from metrics.ndjson, as that file stands\n`)
    }
  })
})

describe('a record log whose end is no whole record', () => {
  // Each fit waits 150 ms, so that the signal comes with generations left on any machine (a fast
  // model's 80 generations could all be done before it).
  const slow = { name: 'slow-records', data: { kind: 'gaussian', n: 200 }, model: { kind: 'faulty', module: faulty, fault: 'slow' }, generations: 20, replicates: 2, seed: 3, metrics: ['moments'] }

  it('zero bytes after the last frame (a power loss on ext4): resume cuts them off saying so, and gives the records of an uninterrupted run; other garbage is refused with the way out that keeps the directory', async () => {
    const dir = tempDir()
    const config = writeConfig(dir, slow)
    const whole = cli(['run', config, '--out', join(dir, 'whole')])
    expect(whole.status, whole.stderr).toBe(0)
    const run = join(dir, 'run')
    const stopped = await signalAfterRecords(cliAsync(['run', config, '--out', run]), run, 10, 'SIGINT')
    expect(stopped.code, stopped.stderr).toBe(130)
    const log = join(run, 'records.log')
    const kept = readFileSync(log)
    const garbage = join(dir, 'garbage')
    cpSync(run, garbage, { recursive: true })

    // A page of the user's where the run's report goes: refused before anything is computed, and kept.
    writeFileSync(join(run, 'report.html'), 'my notes\n')
    const refused = cli(['resume', run])
    expect(refused.status, refused.stderr).toBe(2)
    expect(refused.stderr).toBe(`error: ${join(run, 'report.html')} exists and is not a report Ouroboros wrote; the run's report, which resume writes as it ends, would replace it\nhint: move it away, then resume the run\n`)
    expect(readFileSync(join(run, 'report.html'), 'utf8')).toBe('my notes\n')
    expect(readFileSync(log)).toEqual(kept)
    rmSync(join(run, 'report.html'))

    writeFileSync(log, Buffer.concat([kept, Buffer.alloc(60)]))
    const resumed = cli(['resume', run])
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(resumed.stderr).toContain(`ouroboros: ${log} ended in zero bytes from byte ${kept.length} on, which a power loss leaves; they hold no record and were cut off\n`)
    expect(records(run)).toEqual(records(join(dir, 'whole')))

    // Text after the last frame: refused by resume, and on a finished run by report and export, never with "delete the run directory".
    const hint = 'hint: the records cannot be recomputed from the checkpoints: restore records.log from a copy, or run the config again with --force\n'
    writeFileSync(join(garbage, 'records.log'), Buffer.concat([kept, Buffer.from('a line of notes appended to the log\n')]))
    appendFileSync(join(run, 'records.log'), 'a line of notes appended to the log\n')
    for (const [d, args] of [[garbage, ['resume', garbage]], [run, ['report', run]], [run, ['export', run, '--format', 'csv']]] as const) {
      const res = cli([...args])
      expect(res.status, `${args[0]}: ${res.stderr}`).toBe(2)
      expect(res.stderr, args[0]).toMatch(new RegExp(`error: ${join(d, 'records.log').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is damaged: no frame at byte \\d+\\n${hint.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`))
    }
  })
})
