import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import { AtomicFile, makeDirectory, writeFileAtomic } from './atomic.js'
import { HOST } from './host.js'
import { endedPid, thrown } from './process.testutil.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A folder holding `report.html` as a non-empty directory, which no file can be renamed over. */
function blocked(): { dir: string; target: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-atomic-'))
  dirs.push(dir)
  const target = join(dir, 'report.html')
  mkdirSync(target)
  writeFileSync(join(target, 'keep.txt'), 'kept')
  return { dir, target }
}

describe('a write that cannot be put in place', () => {
  it('writeFileAtomic fails with an IO error naming the file and leaves no temporary file', () => {
    const { dir, target } = blocked()
    const err = thrown(() => writeFileAtomic(target, 'new content'))
    expect(err).toBeInstanceOf(OuroborosError)
    expect(err.code).toBe(ErrorCode.IO)
    expect(err.message).toContain(`cannot write ${target}`)
    expect(readdirSync(dir)).toEqual(['report.html'])
    expect(readFileSync(join(target, 'keep.txt'), 'utf8')).toBe('kept')
  })

  it('AtomicFile.commit does the same', () => {
    const { dir, target } = blocked()
    const file = new AtomicFile(target)
    file.write('new content')
    expect(readdirSync(dir).length).toBe(2)
    const err = thrown(() => file.commit())
    expect(err.code).toBe(ErrorCode.IO)
    expect(readdirSync(dir)).toEqual(['report.html'])
  })

  it('a file whose directory cannot be made fails with an IO error and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-atomic-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'plain'), 'x')
    const err = thrown(() => writeFileAtomic(join(dir, 'plain', 'run.json'), '{}'))
    expect(err.code).toBe(ErrorCode.IO)
    expect(readdirSync(dir)).toEqual(['plain'])
  })
})

describe('makeDirectory', () => {
  it('makes the missing levels, leaves an existing directory be, and fails on a file in the way', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-atomic-'))
    dirs.push(dir)
    makeDirectory(join(dir, 'a', 'b', 'c'))
    expect(statSync(join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true)
    writeFileSync(join(dir, 'a', 'b', 'c', 'kept.txt'), 'kept')
    makeDirectory(join(dir, 'a', 'b', 'c'))
    expect(readFileSync(join(dir, 'a', 'b', 'c', 'kept.txt'), 'utf8')).toBe('kept')
    expect(() => makeDirectory(join(dir, 'a', 'b', 'c', 'kept.txt', 'd'))).toThrow(/ENOTDIR/)
  })
})

describe('temporary files of a record file', () => {
  it('are removed when their process of this machine has ended, and kept while it runs or when another machine wrote them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-atomic-'))
    dirs.push(dir)
    const host = HOST
    const ended = endedPid()
    const left = [`metrics.csv.tmp-${host}-${ended}-0`, `metrics.csv.tmp-${host}-${ended}-3`, `metrics.csv.tmp-${host}-${process.pid}-99`, `metrics.csv.tmp-another-machine-${ended}-0`, `metrics.parquet.tmp-${host}-${ended}-0`, 'metrics.csv.tmp-notes']
    for (const name of left) writeFileSync(join(dir, name), 'partial')
    const file = new AtomicFile(join(dir, 'metrics.csv'))
    file.write('chain,replicate\n')
    file.commit()
    expect(readdirSync(dir).sort()).toEqual(['metrics.csv', `metrics.csv.tmp-${host}-${process.pid}-99`, `metrics.csv.tmp-another-machine-${ended}-0`, 'metrics.csv.tmp-notes', `metrics.parquet.tmp-${host}-${ended}-0`].sort())
    expect(readFileSync(join(dir, 'metrics.csv'), 'utf8')).toBe('chain,replicate\n')
  })
})
