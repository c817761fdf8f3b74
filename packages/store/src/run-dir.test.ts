import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { HOST } from './host.js'
import { endedPid } from './process.testutil.js'
import { chainDir, checkpointGenerations, samplesPath, statePath } from './run-dir.js'

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
