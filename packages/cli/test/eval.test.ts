import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { samplesPath, writeSamples } from '@ouroboros/store'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, tempDir } from './helpers.js'

afterAll(cleanup)

interface Points {
  n: number
  d: number
  data: number[]
}

/** A fixture of packages/metrics (inputs and values computed with numpy / the peer's modes.py). */
function metricsFixture<T>(name: string): T[] {
  return JSON.parse(readFileSync(new URL(`../../metrics/fixtures/${name}`, import.meta.url), 'utf8')).cases
}

const dir = tempDir()

/** The points as CSV; fixture inputs have 6 decimals, so the file holds the exact values. */
function csv(name: string, p: Points): string {
  const path = join(dir, name)
  const rows: string[] = []
  for (let i = 0; i < p.n; i++) rows.push(p.data.slice(i * p.d, (i + 1) * p.d).join(','))
  writeFileSync(path, rows.join('\n') + '\n')
  return path
}

function json(res: { stdout: string }): Record<string, number | null> {
  return JSON.parse(res.stdout)
}

const vendiCases = metricsFixture<{ name: string; generated: Points; expected: number }>('vendi.json')
const normal500 = vendiCases.find((c) => c.name.includes('500 draws of a 2-D standard normal'))!
const normal = csv('normal.csv', normal500.generated)

describe('ouroboros eval', () => {
  it('scores vendi on 500 draws of a 2-D standard normal (once: QL iteration did not converge), as numpy does', () => {
    const res = cli(['eval', '--real', normal, '--generated', normal, '--metrics', 'vendi', '--json'])
    expect(res.status, res.stderr).toBe(0)
    expect(json(res).vendi).toBeCloseTo(normal500.expected, 9)
  })

  it('gives the mode metrics of the peer code with --data ring or grid, and refuses them without', () => {
    for (const c of metricsFixture<{ dataset: string; name: string; generated: Points; expected: Record<string, number> }>('modes.json')) {
      const file = csv(`${c.dataset}-${c.name}.csv`, c.generated)
      const res = cli(['eval', '--real', file, '--generated', file, '--metrics', 'modes,moments', '--data', c.dataset, '--json'])
      expect(res.status, res.stderr).toBe(0)
      const got = json(res)
      expect(got.modes_covered).toBe(c.expected['modes_covered'])
      expect(got.modes_covered_1pct).toBe(c.expected['modes_covered_1pct'])
      expect(got.pct_high_quality).toBeCloseTo(c.expected['pct_high_quality']!, 10)
      expect(got.reverse_kl).toBeCloseTo(c.expected['reverse_kl']!, 12)
      expect(got.total_variance).toBeCloseTo(c.expected['total_variance']!, 10)
    }
    const refused = cli(['eval', '--real', normal, '--generated', normal, '--metrics', 'moments,modes'])
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain("eval cannot compute 'modes': it needs mode centres")
    expect(refused.stderr).toContain('--data ring or --data grid')
    expect(refused.stdout).toBe('')
  })

  it('warns where the real file does not look like the mode data --data names, and not where it does', () => {
    const cases = metricsFixture<{ dataset: string; name: string; generated: Points }>('modes.json')
    const real = (dataset: string) => csv(`${dataset}-real-points.csv`, cases.find((c) => c.dataset === dataset && c.name === 'real')!.generated)
    const mislabelled = cli(['eval', '--real', real('grid'), '--generated', real('grid'), '--metrics', 'modes', '--data', 'ring', '--json'])
    expect(mislabelled.status, mislabelled.stderr).toBe(0)
    expect(mislabelled.stderr).toMatch(new RegExp(`^warning: --real ${real('grid').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: [\\d.]+ % of its points lie within 3 std of a mode of the 'ring' data \\(--data\\); are they of that data\\?\\n`))
    // 99.1 % of the ring's own draw: no word.
    const own = cli(['eval', '--real', real('ring'), '--generated', real('ring'), '--metrics', 'modes', '--data', 'ring', '--json'])
    expect(own.status, own.stderr).toBe(0)
    expect(own.stderr).not.toContain('warning')
  })

  it('takes --data as a JSON object with the dataset params, and checks it against the files', () => {
    const grid = metricsFixture<{ dataset: string; name: string; generated: Points; expected: Record<string, number> }>('modes.json').find(
      (c) => c.dataset === 'grid' && c.name === 'real',
    )!
    const file = csv('grid.csv', grid.generated)
    // With std 1 every sample of this grid (std 0.05) is within 3 std of its centre.
    const wide = cli(['eval', '--real', file, '--generated', file, '--metrics', 'modes', '--data', '{"kind":"grid","std":1}', '--json'])
    expect(wide.status, wide.stderr).toBe(0)
    expect(json(wide).pct_high_quality).toBe(100)
    const bad: [string[], string][] = [
      [['--data', 'nosuch'], "unknown dataset 'nosuch'; expected one of"],
      [['--data', 'rnig'], "unknown dataset 'rnig' (did you mean 'ring'?)"],
      [['--data', '{"kind":"grid","std":-1}'], '--data: std'],
      [['--data', '{"kind":"grid",'], '--data: line 1, column 16: not valid JSON: unexpected end of file where a key in double quotes should be'],
      [['--data', 'mnist'], "'mnist' data have 784 dimensions"],
      [['--data', 'brown'], "'brown' data are tokens"],
    ]
    for (const [args, message] of bad) {
      const res = cli(['eval', '--real', file, '--generated', file, '--metrics', 'moments', ...args])
      expect(res.status, args.join(' ')).toBe(2)
      expect(res.stderr).toContain(message)
      expect(res.stderr).not.toMatch(/\n\s+at /)
    }
  })

  it('refuses images whose pixels are 0–255 where the data hold them in [0, 1], and takes a model\'s stray values past 1', () => {
    // Three 28 × 28 "digits": a ramp of pixels in [0, 1], the same × 255, and one straying to 1.8.
    const ramp = Array.from({ length: 3 * 784 }, (_, i) => (i % 784) / 783)
    const digits = csv('digits.csv', { n: 3, d: 784, data: ramp })
    const bytes = csv('digits-255.csv', { n: 3, d: 784, data: ramp.map((v) => Math.round(v * 255)) })
    const stray = csv('digits-stray.csv', { n: 3, d: 784, data: ramp.map((v) => v * 1.8) })
    const refused = cli(['eval', '--real', digits, '--generated', bytes, '--data', 'mnist', '--metrics', 'moments'])
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain(`--generated: ${bytes} has values up to 255, but the data's pixels are in [0, 1]`)
    expect(refused.stderr).toContain('divide pixels of 0–255 by 255')
    expect(refused.stdout).toBe('')
    const taken = cli(['eval', '--real', digits, '--generated', stray, '--data', 'mnist', '--metrics', 'moments', '--json'])
    expect(taken.status, taken.stderr).toBe(0)
    // Without --data the files are plain vectors, whatever their scale.
    expect(cli(['eval', '--real', digits, '--generated', bytes, '--metrics', 'moments', '--json']).status).toBe(0)
  })

  it('refuses, naming it, a group that needs a model (eval has none) or that does not exist', () => {
    for (const group of ['likelihood', 'regression']) {
      const res = cli(['eval', '--real', normal, '--generated', normal, '--metrics', group])
      expect(res.status).toBe(2)
      expect(res.stderr).toContain(`eval cannot compute '${group}'`)
      expect(res.stderr).toContain('has no model')
    }
    // Regression data are scored only through a fitted model: nothing is left for eval.
    const none = cli(['eval', '--real', normal, '--generated', normal, '--data', '{"kind":"regression","d":1}'])
    expect(none.status).toBe(2)
    expect(none.stderr).toContain("no metric group that eval can compute applies to 'regression' data")
    const typo = cli(['eval', '--real', normal, '--generated', normal, '--metrics', 'moments,prcd'])
    expect(typo.status).toBe(2)
    expect(typo.stderr).toContain("--metrics: unknown metric group 'prcd' (did you mean 'prdc'?)")
  })

  it('computes copy_rate with --training, and says what it needs without', () => {
    const refused = cli(['eval', '--real', normal, '--generated', normal, '--metrics', 'copy_rate'])
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain("needs the model's training set")
    expect(refused.stderr).toContain('--training FILE')
    // Every generated point is a training point: all are copies.
    const res = cli(['eval', '--real', normal, '--generated', normal, '--training', normal, '--metrics', 'copy_rate', '--json'])
    expect(res.status, res.stderr).toBe(0)
    expect(json(res).copy_rate).toBe(1)
    const three = join(dir, 'three.csv')
    writeFileSync(three, '1,2,3\n4,5,6\n')
    const mismatched = cli(['eval', '--real', normal, '--generated', normal, '--training', three, '--metrics', 'copy_rate'])
    expect(mismatched.status).toBe(2)
    expect(mismatched.stderr).toContain('--training')
  })

  it('runs the cheap groups that apply by default; expensive ones when named', () => {
    const plain = cli(['eval', '--real', normal, '--generated', normal, '--json'])
    expect(plain.status, plain.stderr).toBe(0)
    expect(Object.keys(json(plain)).sort()).toEqual(
      ['total_variance', 'log_det_cov', 'log_variance', 'w2_to_reference', 'cluster_entropy', 'clusters_covered', 'cluster_kl', 'sliced_wasserstein'].sort(),
    )
    const named = cli(['eval', '--real', normal, '--generated', normal, '--training', normal, '--metrics', 'prdc,copy_rate', '--json'])
    expect(named.status, named.stderr).toBe(0)
    // The same set on both sides: every point lies in its own k-NN ball (coverage 1) and is a copy.
    expect(json(named)).toMatchObject({ coverage: 1, copy_rate: 1 })
    expect(cli(['list']).stdout).toMatch(/^ {2}vendi\s.*expensive: runs only when named/m)
  })

  it('gives every n/a its reason: inline, or on stderr with --json', () => {
    const text = cli(['eval', '--real', normal, '--generated', normal, '--metrics', 'moments'])
    expect(text.status, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^log_variance\s+n\/a {2}\(the samples have more than one dimension, or no variance\)$/m)
    expect(text.stdout).toMatch(/^w2_to_reference\s+n\/a {2}\(the samples have more than one dimension\)$/m)
    const asJson = cli(['eval', '--real', normal, '--generated', normal, '--metrics', 'moments', '--json'])
    expect(json(asJson).log_variance).toBeNull()
    expect(asJson.stderr).toContain('note: log_variance is null: the samples have more than one dimension')
    // In 1-D both are defined: W2² between N(m, s²) fits of the same file is 0.
    const one = csv('one.csv', { n: 5, d: 1, data: [1, 2, 3, 4, 6] })
    const oneD = json(cli(['eval', '--real', one, '--generated', one, '--metrics', 'moments', '--json']))
    expect(oneD.log_variance).toBeCloseTo(Math.log(2.96), 12)
    expect(oneD.w2_to_reference).toBe(0)
  })

  it("gives a text run's metrics to the bit from its own .tokens files, ties of the frequent types' head included", () => {
    // Zipf tokens: many types of equal count where the head of 90 % of the real tokens ends.
    const config = join(dir, 'zipf.json')
    writeFileSync(config, JSON.stringify({ data: { kind: 'zipf', vocabSize: 2000, exponent: 1.1, length: 20, n: 500 }, model: { kind: 'ngram', order: 1, discount: 0 }, generations: 5, heldout: 0, metrics: ['text'] }))
    const run = join(dir, 'zipf-run')
    expect(cli(['run', config, '--out', run]).status).toBe(0)
    const recorded = readFileSync(join(run, 'metrics.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.chain === 'r0' && r.generation === 4).metrics
    const scored = cli(['eval', '--real', join(run, 'chains/r0/real.tokens'), '--generated', join(run, 'chains/r0/gen-000004.samples.tokens'), '--json'])
    expect(scored.status, scored.stderr).toBe(0)
    expect(json(scored)).toEqual(recorded)
  })

  it("reads each cell's .tokens files with its own words where a sweep gives the cells other vocabularies, in eval and in the report", () => {
    const config = join(dir, 'zipf-sweep.json')
    writeFileSync(config, JSON.stringify({ data: { kind: 'zipf', vocabSize: 30, length: 8, n: 300 }, model: { kind: 'ngram', order: 1, discount: 0 }, generations: 2, heldout: 0, metrics: ['text'], sweep: { 'data.vocabSize': [30, 3000] } }))
    const run = join(dir, 'zipf-sweep-run')
    expect(cli(['run', config, '--out', run]).status).toBe(0)
    const words = (file: string) => JSON.parse(readFileSync(join(run, file), 'utf8')) as string[]
    expect(words('vocabulary.json')).toHaveLength(30)
    expect(words('vocabulary-c1.json')).toHaveLength(3000)
    // The second cell's ids reach far past the first cell's 30 words; its records are eval's numbers.
    const recorded = readFileSync(join(run, 'metrics.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.chain === 'c1-r0' && r.generation === 1).metrics
    const scored = cli(['eval', '--real', join(run, 'chains/c1-r0/real.tokens'), '--generated', join(run, 'chains/c1-r0/gen-000001.samples.tokens'), '--json'])
    expect(scored.status, scored.stderr).toBe(0)
    expect(json(scored)).toEqual(recorded)
    // The report's sentences are words of each cell's own table, never bare ids.
    const html = readFileSync(join(run, 'report.html'), 'utf8')
    expect(html).toMatch(/\bw(?:[3-9]\d|\d{3,4})\b/)
    expect(html).not.toMatch(/#\d+ /)
  })

  it("scores a text run's own .tokens files as it scores the same sentences as .txt", () => {
    const run = join(dir, 'text-run')
    mkdirSync(join(run, 'chains', 'c0-r0'), { recursive: true })
    const vocabulary = ['the', 'cat', 'sat', 'dog', 'on', 'mat', '.']
    writeFileSync(join(run, 'vocabulary.json'), JSON.stringify(vocabulary))
    const real = [['the', 'cat', 'sat', 'on', 'the', 'mat', '.'], ['the', 'dog', 'sat', '.'], ['cat', '.']]
    const generated = [['the', 'cat', 'sat', '.'], ['the', 'cat', 'sat', '.'], ['the', 'the', 'the']]
    const write = (name: 'real' | number, sentences: string[][]): string => {
      const path = samplesPath(run, 'c0-r0', name, 'tokens')
      const offsets = Uint32Array.from([0, ...sentences.map((_, i) => sentences.slice(0, i + 1).flat().length)])
      writeSamples(path, { modality: 'tokens', n: sentences.length, vocabSize: vocabulary.length, tokens: Int32Array.from(sentences.flat(), (w) => vocabulary.indexOf(w)), offsets })
      writeFileSync(`${path}.txt`, sentences.map((t) => t.join(' ')).join('\n') + '\n')
      return path
    }
    const realFile = write('real', real)
    const generatedFile = write(4, generated)
    const fromRun = cli(['eval', '--real', realFile, '--generated', generatedFile, '--json'])
    expect(fromRun.status, fromRun.stderr).toBe(0)
    const fromText = cli(['eval', '--real', `${realFile}.txt`, '--generated', `${generatedFile}.txt`, '--json'])
    expect(fromText.status, fromText.stderr).toBe(0)
    expect(json(fromRun)).toEqual(json(fromText))
    // the, cat, sat and . among 11 generated words; 4 distinct bigrams of 8 (the cat, cat sat, sat ., the the).
    expect(json(fromRun)).toMatchObject({ vocab_size: 4, distinct_1: 4 / 11, distinct_2: 4 / 8 })
    const mixed = cli(['eval', '--real', realFile, '--generated', normal])
    expect(mixed.status).toBe(2)
    expect(mixed.stderr).toContain("both must be token sequences (.txt, or a run's .tokens) or both vector files")
  })

  it('scores a file of a few points with as many reference clusters as a tenth of them', () => {
    // 10 real points make 1 k-means cluster, not the 25 of 2-D data, which they could not fill.
    const ten = csv('ten.csv', { n: 10, d: 2, data: normal500.generated.data.slice(0, 20) })
    const res = cli(['eval', '--real', ten, '--generated', ten, '--metrics', 'clusters,moments'])
    expect(res.status, res.stderr).toBe(0)
    expect(res.stdout).toMatch(/^clusters_covered\s+1$/m)
    expect(res.stdout).toMatch(/^cluster_entropy\s+0$/m)
    expect(res.stdout).toMatch(/^total_variance\s+\d/m)
    expect(cli(['eval', '--help']).stdout).toContain('1 when a group failed')
  })
})
