import { appendFileSync, closeSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { OuroborosError, ErrorCode } from '@ouroboros/core'

let tmpCounter = 0

/**
 * Fault injection for the reliability tests: OUROBOROS_FAULT_ENOSPC_AFTER=N makes every write
 * after the first N of this thread fail as a full disk would.
 */
const enospcAfter = Number(process.env['OUROBOROS_FAULT_ENOSPC_AFTER'] ?? Infinity)
let writes = 0

function injectedFault(): void {
  if (++writes > enospcAfter) throw Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' })
}

/**
 * Writes a file so that readers see either the old or the new content, never a torn one:
 * write a sibling temporary file, then rename it over the target. No fsync: the failures a run
 * must survive are its own process dying (kill -9, out of memory), after which the kernel still
 * holds every completed write; an fsync per checkpoint made short chains several times slower.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[]): void {
  const tmp = `${path}.tmp-${process.pid}-${tmpCounter++}`
  try {
    injectedFault()
    mkdirSync(dirname(path), { recursive: true })
    const fd = openSync(tmp, 'w')
    try {
      const parts = typeof data === 'string' ? [Buffer.from(data)] : data instanceof Uint8Array ? [data] : data
      for (const part of parts) {
        let off = 0
        while (off < part.length) off += writeSync(fd, part, off, part.length - off)
      }
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (err) {
    throw writeError(path, err)
  }
}

/** Appends whole lines; a crash can leave at most one torn last line, which readers skip. */
export function appendText(path: string, text: string): void {
  if (text.length === 0) return
  try {
    injectedFault()
    appendFileSync(path, text)
  } catch (err) {
    throw writeError(path, err)
  }
}

export function writeError(path: string, err: unknown): OuroborosError {
  const code = (err as { code?: string }).code
  const reason = code === 'ENOSPC' ? 'the disk is full' : code === 'EACCES' ? 'permission denied' : (err as Error).message
  return new OuroborosError(ErrorCode.IO, `cannot write ${path}: ${reason}`, {
    cause: err,
    hint: 'free space or fix the directory, then finish the run with `ouroboros resume <dir>`',
  })
}

