import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

/** A unigram chain on Zipf tokens, small enough for seconds: the report overlays its vocabulary theory. */
const zipf = {
  name: 'zipf-small',
  data: { kind: 'zipf', vocabSize: 300, exponent: 1.1, n: 150 },
  model: { kind: 'ngram', order: 1, discount: 0 },
  generations: 4,
  replicates: 2,
  seed: 3,
  heldout: 0,
  metrics: ['text'],
}

describe('ouroboros report', () => {
  it('records the data parameters, defaults filled in, that the Zipf theory of the report reads', () => {
    const dir = tempDir()
    const res = cli(['run', writeConfig(dir, zipf), '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const run = JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8'))
    // length is the dataset's default, which the config leaves out.
    expect(run.dataset.params).toEqual({ vocabSize: 300, exponent: 1.1, length: 20 })
    expect(readFileSync(`${dir}/run/report.html`, 'utf8')).toContain('theory: E[vocab_size], a unigram refit on its own 3,000 tokens')
  })

  it("gives the run's own report byte for byte, whose records were aggregated on a thread of their own", () => {
    const dir = tempDir()
    // 600 replicates: past the exact quantiles, the band comes from the t-digest.
    const config = { data: { kind: 'gaussian', d: 1, n: 20 }, model: { kind: 'gaussian' }, generations: 3, replicates: 600, metrics: ['moments'], sweep: { 'model.estimator': ['mle', 'unbiased'] } }
    const res = cli(['run', writeConfig(dir, config), '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const again = cli(['report', `${dir}/run`, '--out', `${dir}/again.html`])
    expect(again.status, again.stderr).toBe(0)
    expect(readFileSync(`${dir}/again.html`, 'utf8') === readFileSync(`${dir}/run/report.html`, 'utf8')).toBe(true)
  })

  it('says in its header the replicates and generations of each setting where a sweep sets them', () => {
    const dir = tempDir()
    const config = { data: { kind: 'gaussian', d: 1, n: 20 }, model: { kind: 'gaussian' }, generations: 2, metrics: ['moments'], sweep: { replicates: [1, 3], generations: [2, 4] } }
    const res = cli(['run', writeConfig(dir, config), '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    // Said once: not again as swept values.
    expect(readFileSync(`${dir}/run/report.html`, 'utf8')).toContain('status finished · 4 settings · 1, 3 replicates each · 2, 4 generations · data gaussian · model gaussian · started ')
  })

  it('takes collapse thresholds with --thresholds, and refuses a bad one with one line, exit 2 and the old report kept', () => {
    const dir = tempDir()
    expect(cli(['run', writeConfig(dir, zipf), '--out', `${dir}/run`]).status).toBe(0)
    const before = readFileSync(`${dir}/run/report.html`, 'utf8')
    const bad = cli(['report', `${dir}/run`, '--thresholds', 'vocab_size=2'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toBe('error: --thresholds: vocab_size=2: expected a factor between 0 and 1 (it falls to that share of its baseline)\n')
    expect(readFileSync(`${dir}/run/report.html`, 'utf8')).toBe(before)
    const unknown = cli(['report', `${dir}/run`, '--thresholds', 'modes_covered=0.5'])
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toMatch(/^error: --thresholds: no metric 'modes_covered' in this run; its metrics are vocab_size, /)
    // Given twice, the lists add up (the first was dropped before).
    const good = cli(['report', `${dir}/run`, '--thresholds', 'vocab_size=0.9', '--thresholds', 'unigram_entropy=0.05'])
    expect(good.status, good.stderr).toBe(0)
    const html = readFileSync(`${dir}/run/report.html`, 'utf8')
    expect(html).toMatch(/<td data-col="threshold">≤ [0-9.]+ <span class="gen">\(0\.9 × gen 0\)<\/span><\/td>/)
    expect(html).toMatch(/<td data-col="threshold">≤ [0-9.]+ <span class="gen">\(gen 0 − 0\.05\)<\/span><\/td>/)
    const twice = cli(['report', `${dir}/run`, '--thresholds', 'vocab_size=0.9', '--thresholds', 'vocab_size=0.5'])
    expect(twice.status).toBe(2)
    expect(twice.stderr).toMatch(/^error: --thresholds: .*vocab_size/)
  })
})

describe('ouroboros report --out', () => {
  const small = { data: { kind: 'gaussian', d: 1, n: 20 }, model: { kind: 'gaussian' }, generations: 2, metrics: ['moments'] }
  const dir = tempDir()
  const [a, b] = [join(dir, 'a'), join(dir, 'b')]
  const made = [a, b].map((out) => cli(['run', writeConfig(dir, { ...small, name: 'small' }), '--out', out]))
  const snapshot = (run: string) => Object.fromEntries(readdirSync(run).filter((f) => f !== 'chains').map((f) => [f, createHash('sha256').update(readFileSync(join(run, f))).digest('hex')]))

  it("refuses a file of a run directory, the run's own or another's, even with --force: exit 2 naming it, the runs untouched", () => {
    for (const res of made) expect(res.status, res.stderr).toBe(0)
    const before = [a, b].map(snapshot)
    const cases: [string[], string][] = [
      [['report', a, '--out', join(a, 'run.json')], `--out: ${join(a, 'run.json')} is the run's own run.json in ${a}; the report would replace it`],
      [['report', a, '--out', join(b, 'records.log'), '--force'], `--out: ${join(b, 'records.log')} is the run's own records.log in ${b}; the report would replace it`],
      [['report', a, '--out', join(a, 'metrics.ndjson')], `--out: ${join(a, 'metrics.ndjson')} is the run's own metrics.ndjson in ${a}`],
      [['report', a, '--out', join(a, 'chains', 'r0', 'a.html')], `--out: ${join(a, 'chains', 'r0', 'a.html')} is inside the run's own chains folder in ${a}`],
      [['report', a, '--out', join(b, 'report.html')], `--out: ${join(b, 'report.html')} is the report of the run in ${b}, which this command does not report`],
      [['report', a, b, '--out', join(a, 'report.html'), '--force'], `--out: ${join(a, 'report.html')} is the report of the run in ${a}; the comparison of 2 runs would replace it`],
      [['report', a, '--out', ''], '--out: empty'],
      [['report', a, `${a}/`, '--out', join(dir, 'twice.html')], `${a}/: the same run as ${a}, given twice`],
    ]
    for (const [args, message] of cases) {
      const res = cli(args)
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toContain(`error: ${message}`)
      expect(res.stderr).not.toMatch(/\n\s+at /)
    }
    expect([a, b].map(snapshot)).toEqual(before)
    // Its own report, the default, is rebuilt; a report of both may go in either's directory beside its files.
    expect(cli(['report', a, '--out', join(a, 'report.html')]).status).toBe(0)
    expect(cli(['report', a, b, '--out', join(a, 'compare.html')]).status).toBe(0)
  })

  it('refuses an existing file that is not a report unless --force, and replaces a report', () => {
    const notes = join(dir, 'notes.txt')
    writeFileSync(notes, 'notes of my own\n')
    const refused = cli(['report', a, '--out', notes])
    expect(refused.status, refused.stderr).toBe(2)
    expect(refused.stderr).toBe(`error: --out: ${notes} exists and is not a report Ouroboros wrote; the report would replace it\nhint: give --out another file, or add --force to replace it\n`)
    expect(readFileSync(notes, 'utf8')).toBe('notes of my own\n')
    const forced = cli(['report', a, '--out', notes, '--force'])
    expect(forced.status, forced.stderr).toBe(0)
    expect(readFileSync(notes, 'utf8')).toMatch(/^<!doctype html>/)
    // Now a report: replaced without --force.
    const again = cli(['report', b, '--out', notes])
    expect(again.status, again.stderr).toBe(0)
    // Without --out, a page of the user's where the run's report goes is said so, not as --out's.
    writeFileSync(join(b, 'report.html'), '<p>my page</p>\n')
    const own = cli(['report', b])
    expect(own.status, own.stderr).toBe(2)
    expect(own.stderr).toBe(`error: ${join(b, 'report.html')} exists and is not a report Ouroboros wrote; the run's report would replace it\nhint: move it away, give --out another file, or add --force to replace it\n`)
    expect(readFileSync(join(b, 'report.html'), 'utf8')).toBe('<p>my page</p>\n')
    expect(cli(['report', b, '--force']).status).toBe(0)
  })
})
