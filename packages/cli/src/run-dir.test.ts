import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import type { ChainSpec } from '@ouroboros/scheduler'
import { HOST } from '@ouroboros/store'
import { claimDefaultDir, folderName, isRunEntry, pathsRead, prepareRunDir, removeStartedRun } from './run-dir.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-run-dir-'))
  dirs.push(dir)
  return dir
}

const endedPid = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout)

/** A finished run's entries, as a run writes them, beside a user's own files. */
function earlierRun(dir: string, own: Record<string, string>): void {
  mkdirSync(join(dir, 'chains', 'r0'), { recursive: true })
  writeFileSync(join(dir, 'chains', 'r0', 'real.npy'), 'npy')
  for (const f of ['run.json', 'records.log', 'metrics.ndjson', 'metrics.csv', 'metrics.parquet', 'report.html', 'vocabulary.json', `metrics.csv.tmp-${HOST}-${endedPid}-0`]) writeFileSync(join(dir, f), f)
  for (const [f, text] of Object.entries(own)) writeFileSync(join(dir, f), text)
}

function thrown(f: () => void): OuroborosError {
  try {
    f()
  } catch (err) {
    return err as OuroborosError
  }
  throw new Error('expected a throw')
}

/** prepareRunDir with stderr captured. */
function prepare(runDir: string, force: boolean, reads: { what: string; path: string }[] = []): { made: boolean; said: string } {
  const writes: string[] = []
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (writes.push(String(s)), true))
  try {
    return { made: prepareRunDir(runDir, force, reads), said: writes.join('') }
  } finally {
    spy.mockRestore()
  }
}

describe('isRunEntry', () => {
  it("knows a run's own entries and their temporary copies, and nothing else", () => {
    for (const name of ['run.json', 'records.log', 'metrics.ndjson', 'metrics.csv', 'metrics.parquet', 'report.html', 'chains', 'vocabulary.json', 'run.lock', 'metrics.csv.tmp-h-1-0', 'report.html.tmp-h-12-3']) expect(isRunEntry(name), name).toBe(true)
    for (const name of ['my-config.json', 'mydata.csv', 'analysis.ipynb', 'run.json.bak', 'chains2', 'notes.tmp-h-1-0', '.tmp-h-1-0', 'metrics.csv~']) expect(isRunEntry(name), name).toBe(false)
  })
})

describe('prepareRunDir', () => {
  it("with --force deletes the earlier run's entries, keeps the user's own files and names them", () => {
    const dir = tempDir()
    earlierRun(dir, { 'my-config.json': '{"name":"g"}', 'mydata.csv': 'x\n1\n', 'analysis.ipynb': '{}' })
    const { made, said } = prepare(dir, true)
    expect(made).toBe(false)
    expect(readdirSync(dir).sort()).toEqual(['analysis.ipynb', 'my-config.json', 'mydata.csv'])
    expect(readFileSync(join(dir, 'mydata.csv'), 'utf8')).toBe('x\n1\n')
    expect(said).toBe(`--force: deleting the earlier run in ${dir}; keeping analysis.ipynb, my-config.json, mydata.csv, which no run writes\n`)
  })

  it('refuses a non-empty directory without --force, and one that holds no run with it, deleting nothing', () => {
    const dir = tempDir()
    earlierRun(dir, { 'notes.txt': 'mine' })
    const before = readdirSync(dir).sort()
    const err = thrown(() => prepare(dir, false))
    expect(err.isUsageError).toBe(true)
    expect(err.message).toBe(`--out: ${dir} already exists and is not empty`)
    expect(readdirSync(dir).sort()).toEqual(before)

    const other = tempDir()
    writeFileSync(join(other, 'notes.txt'), 'mine')
    writeFileSync(join(other, 'metrics.csv'), 'mine too')
    const refused = thrown(() => prepare(other, true))
    expect(refused.code).toBe(ErrorCode.RUN_DIR)
    expect(refused.message).toContain(`${other} is not a run directory (no run.json)`)
    expect(readdirSync(other).sort()).toEqual(['metrics.csv', 'notes.txt'])
  })

  it('with --force refuses, deleting nothing, where the config or a path it reads lies in what it would delete', () => {
    const dir = tempDir()
    earlierRun(dir, { 'my-config.json': '{}' })
    const before = readdirSync(dir).sort()
    const cases: [{ what: string; path: string }, string][] = [
      [{ what: 'data.path', path: join(dir, 'chains', 'r0', 'real.npy') }, join(dir, 'chains')],
      [{ what: 'model.cwd', path: join(dir, 'chains') }, join(dir, 'chains')],
      [{ what: 'the config file', path: join(dir, 'metrics.csv') }, join(dir, 'metrics.csv')],
    ]
    for (const [read, entry] of cases) {
      const err = thrown(() => prepare(dir, true, [{ what: 'data.path', path: join(dir, 'my-config.json') }, read]))
      expect(err.isUsageError, read.what).toBe(true)
      expect(err.message).toBe(`--force: ${read.what} ${read.path} is in ${entry}, which --force deletes with the earlier run`)
      expect(err.hint).toContain(`copy it out of ${dir}`)
      expect(readdirSync(dir).sort()).toEqual(before)
    }
    // Named through a link to the run directory, it is the same file.
    const link = join(tempDir(), 'link')
    symlinkSync(dir, link)
    expect(thrown(() => prepare(dir, true, [{ what: 'data.path', path: join(link, 'chains', 'r0', 'real.npy') }])).message).toContain(`is in ${join(dir, 'chains')}`)
    expect(readdirSync(dir).sort()).toEqual(before)
  })

  it('with --force replaces a start that left only the lock of an ended process; a live holder is refused', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'run.lock'), JSON.stringify({ pid: endedPid, host: HOST, since: '2026-01-01T00:00:00.000Z' }))
    writeFileSync(join(dir, 'my-config.json'), '{}')
    expect(thrown(() => prepare(dir, false)).message).toContain('already exists')
    const { said } = prepare(dir, true)
    expect(said).toContain('keeping my-config.json')
    expect(readdirSync(dir)).toEqual(['my-config.json'])

    const held = tempDir()
    writeFileSync(join(held, 'run.lock'), JSON.stringify({ pid: process.pid, host: HOST, since: '2026-01-01T00:00:00.000Z' }))
    expect(thrown(() => prepare(held, true)).message).toContain(`is being run by process ${process.pid}`)
    expect(readdirSync(held)).toEqual(['run.lock'])
  })

  it('makes a missing directory and says so', () => {
    const dir = join(tempDir(), 'a', 'b')
    expect(prepare(dir, false).made).toBe(true)
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('claimDefaultDir', () => {
  it('takes the next free name where the name is taken, empty or not', () => {
    const parent = join(tempDir(), 'runs')
    expect(claimDefaultDir(parent, 'g-20261206-174950')).toBe(join(parent, 'g-20261206-174950'))
    expect(claimDefaultDir(parent, 'g-20261206-174950')).toBe(join(parent, 'g-20261206-174950-2'))
    writeFileSync(join(parent, 'g-20261206-174950-2', 'run.json'), '{}')
    mkdirSync(join(parent, 'g-20261206-174950-3'))
    expect(claimDefaultDir(parent, 'g-20261206-174950')).toBe(join(parent, 'g-20261206-174950-4'))
    expect(readFileSync(join(parent, 'g-20261206-174950-2', 'run.json'), 'utf8')).toBe('{}')
  })
})

describe('removeStartedRun', () => {
  it("removes a start's lock and vocabulary, and the directory where the start made it, but not what others put there", () => {
    const made = join(tempDir(), 'run')
    mkdirSync(made)
    writeFileSync(join(made, 'run.lock'), '{}')
    writeFileSync(join(made, 'vocabulary.json'), '[]')
    removeStartedRun(made, true)
    expect(existsSync(made)).toBe(false)

    const given = tempDir()
    writeFileSync(join(given, 'run.lock'), '{}')
    writeFileSync(join(given, 'my-config.json'), '{}')
    removeStartedRun(given, false)
    expect(readdirSync(given)).toEqual(['my-config.json'])
    writeFileSync(join(given, 'run.lock'), '{}')
    removeStartedRun(given, true)
    expect(readdirSync(given)).toEqual(['my-config.json'])
  })

  it('removes the default runs folder where the start made it, unless another run is in it', () => {
    const runs = join(tempDir(), 'runs')
    const [first, second] = [join(runs, 'a-1'), join(runs, 'a-2')]
    mkdirSync(first, { recursive: true })
    mkdirSync(second)
    writeFileSync(join(first, 'run.lock'), '{}')
    removeStartedRun(first, true, true)
    expect(readdirSync(runs)).toEqual(['a-2'])
    removeStartedRun(second, true, true)
    expect(existsSync(runs)).toBe(false)
  })
})

describe('pathsRead', () => {
  it('finds the config file, the data, model.cwd and local modules among the chains, once per cell', () => {
    const chain = (cell: number, dataPath: string): ChainSpec =>
      ({
        cell,
        config: { data: { kind: 'vector-file', path: dataPath, n: 4 }, model: { kind: 'command', cwd: '/work/model' }, posttrain: [{ data: { path: '/work/task.csv' } }], name: 'g' },
        modelModule: pathToFileURL('/work/lab/model.mjs').href,
        datasetModule: 'file:///opt/ouroboros/datasets/dist/index.js',
        metrics: [{ id: 'balance', module: pathToFileURL('/work/lab/metric.mjs').href, options: {} }],
        tasks: [],
      }) as unknown as ChainSpec
    const reads = pathsRead('cfg.json', [chain(0, '/work/a.csv'), chain(0, '/work/never.csv'), chain(1, '/work/b.csv')])
    expect(reads).toEqual([
      { what: 'the config file', path: join(process.cwd(), 'cfg.json') },
      { what: 'data.path', path: '/work/a.csv' },
      { what: 'model.cwd', path: '/work/model' },
      { what: 'posttrain.0.data.path', path: '/work/task.csv' },
      { what: 'model.module', path: '/work/lab/model.mjs' },
      { what: 'data.module', path: '/opt/ouroboros/datasets/dist/index.js' },
      { what: 'metrics (balance) module', path: '/work/lab/metric.mjs' },
      { what: 'data.path', path: '/work/b.csv' },
    ])
  })
})

describe('folderName', () => {
  it('keeps a plain name, and makes a folder that is neither hidden nor a step up of the others', () => {
    expect(folderName('ring-gmm_collapse.v2')).toBe('ring-gmm_collapse.v2')
    expect(folderName('a b/c')).toBe('a_b_c')
    expect(folderName('.')).toBe('_')
    expect(folderName('..')).toBe('_.')
    expect(folderName('.hidden')).toBe('_hidden')
  })

  it('keeps letters of any script, composed, where only ASCII ones stayed', () => {
    expect(folderName('коллапс')).toBe('коллапс')
    expect(folderName('模型 崩溃')).toBe('模型_崩溃')
    // "é" as e and a combining accent, as macOS names files: one letter.
    expect(folderName('re\u0301sume\u0301')).toBe('r\u00e9sum\u00e9')
    expect(folderName('a\u00a0b\u200bc$(x)')).toBe('a_b_c_x_')
  })
})
