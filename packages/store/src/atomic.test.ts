import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import { AtomicFile, fileFailure, makeDirectory, readError, writeError, writeFileAtomic } from './atomic.js'
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

describe('why a file could not be written or read', () => {
  const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: the system's words, open '/runs/a/metrics.csv'`), { code })

  it('is said in words, with a remedy chosen by errno', () => {
    expect(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EISDIR', 'ERR_FS_EISDIR', 'ENOTDIR', 'EIO'].map((code) => [code, fileFailure(err(code))])).toEqual([
      ['EACCES', { reason: 'permission denied', remedy: 'permissions' }],
      ['EPERM', { reason: 'permission denied', remedy: 'permissions' }],
      ['EROFS', { reason: 'a read-only filesystem', remedy: 'read-only' }],
      ['ENOSPC', { reason: 'the disk is full', remedy: 'space' }],
      ['EDQUOT', { reason: "the user's disk quota is used up", remedy: 'space' }],
      ['EISDIR', { reason: 'a directory is in the way', remedy: 'other' }],
      ['ERR_FS_EISDIR', { reason: 'a directory is in the way', remedy: 'other' }],
      ['ENOTDIR', { reason: 'a file is in the way of a directory', remedy: 'other' }],
      // A rare error keeps the system's message, which names it.
      ['EIO', { reason: "EIO: the system's words, open '/runs/a/metrics.csv'", remedy: 'other' }],
    ])
  })

  it('a failed write asks for space only where the disk is full, and names the directory to fix otherwise', () => {
    const path = '/runs/a/metrics.csv'
    const denied = writeError(path, err('EACCES'))
    expect(denied.code).toBe(ErrorCode.IO)
    expect(denied.message).toBe(`cannot write ${path}: permission denied`)
    expect(denied.hint).toMatch(/^fix the permissions of \/runs\/a \(this user must be able to write in it\), then run the command again/)
    expect(denied.hint).not.toContain('free space')
    expect(writeError(path, err('EROFS')).hint).toMatch(/^\/runs\/a is on a filesystem mounted read-only: mount it read-write, then/)
    for (const code of ['ENOSPC', 'EDQUOT']) {
      expect(writeError(path, err(code)).hint).toBe('free space, then run the command again (a run: finish it with `ouroboros resume <dir>`)')
    }
  })

  it('a failed read is a run-directory error that never calls the file damaged, and says how to fix permissions', () => {
    const path = '/runs/a/run.json'
    const denied = readError(path, err('EACCES'))
    expect(denied.code).toBe(ErrorCode.RUN_DIR)
    expect(denied.message).toBe(`cannot read ${path}: permission denied`)
    expect(denied.hint).toBe(`fix its permissions (this user must be able to read ${path} and open the directories above it), or run the command as the user who wrote it`)
    const other = readError(path, err('EISDIR'))
    expect(other.message).toBe(`cannot read ${path}: a directory is in the way`)
    expect(other.hint).toBeUndefined()
  })
})
