import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OuroborosError } from '@ouroboros/core'
import { writeError } from '@ouroboros/store'
import { describe, expect, it } from 'vitest'
import { checkOutDir, notARunWrite } from './out-paths.js'

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
