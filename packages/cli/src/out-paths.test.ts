import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import { writeError } from '@ouroboros/store'
import { describe, expect, it } from 'vitest'
import { checkOutDir, notARunWrite, resumableFailure } from './out-paths.js'

describe('notARunWrite', () => {
  it('keeps what to fix and drops how to finish a run, for a file export or report writes again', () => {
    const err = notARunWrite(writeError('/data/out/metrics.csv', Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' })))
    expect(err).toBeInstanceOf(OuroborosError)
    expect((err as OuroborosError).message).toBe('cannot write /data/out/metrics.csv: the disk is full')
    expect((err as OuroborosError).hint).toBe('free space, then run the command again')
  })

  it('leaves any other error as it is', () => {
    const other = new Error('boom')
    expect(notARunWrite(other)).toBe(other)
  })
})

describe('resumableFailure', () => {
  const full = () => writeError('/data/run/chains/r0/gen-000002.samples.npy', Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }))

  it('names the resume of the run directory instead of running the refused command again', () => {
    const err = resumableFailure(full(), 'ouroboros resume /data/run') as OuroborosError
    expect(err.message).toBe('cannot write /data/run/chains/r0/gen-000002.samples.npy: the disk is full')
    expect(err.hint).toBe('free space, then finish the run with `ouroboros resume /data/run`')
  })

  it('fills in the directory of a hint that names resume with a placeholder', () => {
    const stopped = new OuroborosError(ErrorCode.IO, 'the run stopped: boom', { hint: 'fix the cause, then finish the run with `ouroboros resume <dir>`' })
    expect((resumableFailure(stopped, 'ouroboros resume /data/run') as OuroborosError).hint).toBe('fix the cause, then finish the run with `ouroboros resume /data/run`')
  })

  it('leaves any other error as it is', () => {
    const other = new OuroborosError(ErrorCode.IO, 'boom', { hint: 'do something else' })
    expect(resumableFailure(other, 'ouroboros resume /data/run')).toBe(other)
  })
})

describe('checkOutDir', () => {
  it('leaves nothing behind in a directory it finds writable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'out-paths-'))
    try {
      checkOutDir('--out', join(dir, 'new', 'deeper'))
      checkOutDir('--out', dir)
      expect(readdirSync(dir)).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
