import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import { AtomicFile, writeFileAtomic } from './atomic.js'

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

function thrown(f: () => void): OuroborosError {
  try {
    f()
  } catch (err) {
    return err as OuroborosError
  }
  throw new Error('expected a throw')
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
