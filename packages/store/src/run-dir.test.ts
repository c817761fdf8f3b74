import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { HOST } from './host.js'
import { OuroborosError } from '@ouroboros/core'
import { endedPid, thrown } from './process.testutil.js'
import { chainDir, checkpointGenerations, readRunInfo, samplesPath, statePath, WHOLE_RUN } from './run-dir.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('checkpointGenerations', () => {
  it('lists the generations with both a state and samples, newest first, from the files the run writes', () => {
    const run = mkdtempSync(join(tmpdir(), 'ouroboros-run-dir-'))
    dirs.push(run)
    const dir = chainDir(run, 'c0-r1')
    mkdirSync(dir, { recursive: true })
    const touch = (path: string): void => writeFileSync(path, '')
    for (const g of [3, 12, 1_000_001]) {
      touch(statePath(run, 'c0-r1', g))
      touch(samplesPath(run, 'c0-r1', g, 'vectors'))
    }
    // A state saved as a directory (a neural model's weights) counts as a state.
    mkdirSync(statePath(run, 'c0-r1', 7))
    touch(samplesPath(run, 'c0-r1', 7, 'vectors'))
    touch(statePath(run, 'c0-r1', 5))
    touch(samplesPath(run, 'c0-r1', 4, 'vectors'))
    touch(samplesPath(run, 'c0-r1', 9, 'tokens'))
    touch(statePath(run, 'c0-r1', 9))
    touch(samplesPath(run, 'c0-r1', 'real', 'vectors'))
    touch(join(dir, 'gen-000002.training.ndjson'))
    touch(join(dir, 'gen-0000011.state'))
    touch(join(dir, 'gen-0000011.samples.npy'))
    expect(basename(statePath(run, 'c0-r1', 1_000_001))).toBe('gen-1000001.state')
    expect(checkpointGenerations(run, 'c0-r1', 'vectors')).toEqual([1_000_001, 12, 7, 3])
    expect(checkpointGenerations(run, 'c0-r1', 'tokens')).toEqual([9])
    expect(checkpointGenerations(run, 'c0-r2', 'vectors')).toEqual([])
  })

  it('removes the partial checkpoint files a stopped process of this machine left, and no others', () => {
    const run = mkdtempSync(join(tmpdir(), 'ouroboros-run-dir-'))
    dirs.push(run)
    const dir = chainDir(run, 'r0')
    mkdirSync(dir, { recursive: true })
    const host = HOST
    const ended = endedPid()
    const names = {
      complete: ['gen-000004.state', 'gen-000004.samples.npy'],
      abandoned: [`gen-000005.samples.npy.tmp-${host}-${ended}-17`, `gen-000005.state.tmp-${host}-${ended}-18`],
      kept: [`gen-000005.state.tmp-${host}-${process.pid}-2`, `gen-000005.state.tmp-other-host-${ended}-18`],
    }
    for (const name of Object.values(names).flat()) writeFileSync(join(dir, name), '')
    expect(checkpointGenerations(run, 'r0', 'vectors')).toEqual([4])
    expect(readdirSync(dir).sort()).toEqual([...names.complete, ...names.kept].sort())
  })
})

describe('readRunInfo', () => {
  const chain = { id: 'r0', cell: 0, replicate: 0, seed: 7, status: 'finished', generationsDone: 2 }
  const cell = { index: 0, label: '', params: {}, config: { generations: 2 } }
  const run = { name: 'a', status: 'finished', config: { generations: 2 }, cells: [cell], chains: [chain] }

  function written(value: unknown): string {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-run-info-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'run.json'), typeof value === 'string' ? value : JSON.stringify(value))
    return dir
  }

  it('returns a well-formed run.json as it is', () => {
    expect(readRunInfo(written(run), ['cells', 'config'])).toEqual(run)
  })

  it('says what is wrong with a run.json of the wrong structure, naming the field, with exit 2', () => {
    const cases: [string, unknown, string][] = [
      ['null', null, 'is damaged: it holds null, not an object'],
      ['a list', [run], 'is damaged: it holds a list, not an object'],
      ['chains as text', { ...run, chains: 'x' }, 'is damaged: chains is "x", not a list'],
      ['no chains', { ...run, chains: undefined }, 'is damaged: chains is missing (a list)'],
      ['an empty list of chains', { ...run, chains: [] }, 'is damaged: chains is an empty list; a run has one chain at least'],
      ['a chain that is null', { ...run, chains: [chain, null] }, 'is damaged: chains[1] is null, not an object'],
      ['a chain without an id', { ...run, chains: [{ ...chain, id: 3 }] }, 'is damaged: chains[0].id is 3, not a string'],
      ['a fractional generationsDone', { ...run, chains: [{ ...chain, generationsDone: 1.5 }] }, 'is damaged: chains[0].generationsDone is 1.5, not a whole number ≥ 0'],
      ['an unknown chain status', { ...run, chains: [{ ...chain, status: 'done' }] }, 'is damaged: chains[0].status is "done", not one of pending, running, finished, failed, interrupted'],
      ['cells as an object', { ...run, cells: {} }, 'is damaged: cells is an object, not a list'],
      ['a cell without params', { ...run, cells: [{ ...cell, params: null }] }, 'is damaged: cells[0].params is null, not an object'],
      ['no cells where they are needed', { ...run, cells: undefined }, 'is damaged: cells is missing (a list)'],
      ['config as text', { ...run, config: 'x' }, 'is damaged: config is "x", not an object'],
      ['an unknown run status', { ...run, status: 7 }, 'is damaged: status is 7, not one of running, finished, failed, interrupted'],
      ['a package.json', { name: 'some-package', version: '1.0.0', dependencies: {} }, "is not a run's run.json (it has none of chains, cells, config, runId, startedAt, metricOptions)"],
    ]
    for (const [what, value, message] of cases) {
      const dir = written(value)
      const err = thrown(() => readRunInfo(dir, ['cells']))
      expect(err, what).toBeInstanceOf(OuroborosError)
      expect(err.isUsageError, what).toBe(true)
      expect(err.message, what).toBe(`${join(dir, 'run.json')} ${message}`)
    }
  })

  it('needs only the chains of a reader that reads nothing else (a queue worker)', () => {
    const dir = written({ name: 'a', runId: 'x', chains: [chain] })
    expect(readRunInfo(dir).chains).toEqual([chain])
    expect(thrown(() => readRunInfo(dir, ['config'])).message).toContain('is damaged: config is missing (an object)')
  })

  // Every key that `report`, `export` or `resume` reads: one missing failed inside them, as a TypeError.
  const whole = {
    ...run,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
    seed: 3,
    workers: 2,
    backend: 'cpu',
    metricOptions: {},
    metrics: ['moments'],
    modality: 'vectors',
    dataset: { modes: [] },
    packages: { '@ouroboros/core': '0.1.0' },
    node: 'v22.0.0',
  }

  it('asks of a whole run every key a run writes, each of its kind', () => {
    expect(readRunInfo(written(whole), WHOLE_RUN)).toEqual(whole)
    expect([...WHOLE_RUN].sort()).toEqual(Object.keys(whole).filter((k) => k !== 'chains').sort())
    for (const key of WHOLE_RUN) {
      const dir = written({ ...whole, [key]: undefined })
      const err = thrown(() => readRunInfo(dir, WHOLE_RUN))
      expect(err.isUsageError, key).toBe(true)
      expect(err.message, key).toMatch(new RegExp(`^${join(dir, 'run.json')} is damaged: ${key} is missing \\((a|an|one of) [^)]+\\)$`))
      expect(err.hint, key).toContain('run the config again with --force')
    }
    const wrong: [string, unknown, string][] = [
      ['name', 7, 'name is 7, not a string'],
      ['finishedAt', 0, 'finishedAt is 0, not a string or null'],
      ['seed', '3', 'seed is "3", not a number'],
      ['workers', -1, 'workers is -1, not a whole number ≥ 0'],
      ['metrics', 'moments', 'metrics is "moments", not a list of strings'],
      ['metrics', [null], 'metrics is a list, not a list of strings'],
      ['modality', 'images', 'modality is "images", not one of vectors, tokens'],
      ['dataset', null, 'dataset is null, not an object'],
      ['packages', [], 'packages is a list, not an object'],
      // Keys of some runs only: checked where they are there.
      ['stops', {}, 'stops is an object, not a list'],
      ['metricInfo', 'x', 'metricInfo is "x", not an object'],
      ['cellSpecs', {}, 'cellSpecs is an object, not a list'],
    ]
    for (const [key, value, message] of wrong) {
      const dir = written({ ...whole, [key]: value })
      expect(thrown(() => readRunInfo(dir, WHOLE_RUN)).message, key).toBe(`${join(dir, 'run.json')} is damaged: ${message}`)
    }
    // A whole run has a cell for every chain; the scheduler's own runs, read for their records, need none.
    const cellless = written({ ...whole, cells: [] })
    expect(thrown(() => readRunInfo(cellless, WHOLE_RUN)).message).toBe(`${join(cellless, 'run.json')} is damaged: cells is an empty list; a run has one cell at least`)
    expect(readRunInfo(cellless, ['cells']).cells).toEqual([])
    const orphan = written({ ...whole, chains: [{ ...chain, cell: 99 }] })
    expect(thrown(() => readRunInfo(orphan, WHOLE_RUN)).message).toBe(`${join(orphan, 'run.json')} is damaged: chains[0].cell is 99, which no cell of cells has`)
  })

  it('tells a run.json it cannot read from a damaged one: the remedy is not to replace it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-run-info-'))
    dirs.push(dir)
    mkdirSync(join(dir, 'run.json'))
    const err = thrown(() => readRunInfo(dir))
    expect(err.message).toBe(`cannot read ${join(dir, 'run.json')}: a directory is in the way`)
    expect(err.hint ?? '').not.toContain('--force')
    // A path that is nothing, a file, and a folder of something else: each said as what it is.
    expect(thrown(() => readRunInfo(join(dir, 'missing'))).message).toBe(`${join(dir, 'missing')}: no such directory`)
    writeFileSync(join(dir, 'config.json'), '{}')
    expect(thrown(() => readRunInfo(join(dir, 'config.json'))).message).toBe(`${join(dir, 'config.json')}: a file, not a run directory`)
    mkdirSync(join(dir, 'other'))
    expect(thrown(() => readRunInfo(join(dir, 'other'))).message).toBe(`${join(dir, 'other')}: not a run directory (no run.json)`)
  })
})
