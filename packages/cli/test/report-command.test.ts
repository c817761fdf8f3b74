import { readFileSync } from 'node:fs'
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
    expect(readFileSync(`${dir}/run/report.html`, 'utf8')).toContain('status finished · 4 settings · 1, 3 replicates each · 2, 4 generations · data gaussian · started ')
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
    const good = cli(['report', `${dir}/run`, '--thresholds', 'vocab_size=0.9,unigram_entropy=0.05'])
    expect(good.status, good.stderr).toBe(0)
    const html = readFileSync(`${dir}/run/report.html`, 'utf8')
    expect(html).toMatch(/<td data-col="threshold">≤ [0-9.]+ <span class="gen">\(0\.9 × gen 0\)<\/span><\/td>/)
    expect(html).toMatch(/<td data-col="threshold">≤ [0-9.]+ <span class="gen">\(gen 0 − 0\.05\)<\/span><\/td>/)
  })
})
