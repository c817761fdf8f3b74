import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { OuroborosError, ErrorCode } from '@ouroboros/core'
import { HOST, processAlive } from './host.js'

let tmpCounter = 0

/**
 * Makes `dir` and the directories above it that are missing, one level at a time: Node 20's
 * recursive mkdirSync never returns where a filesystem answers "no such file" under a directory
 * that exists (procfs: `run --out /proc/x` spun at full CPU), where this fails with that error.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = []
  for (let p = resolve(dir); !existsSync(p); p = dirname(p)) {
    missing.push(p)
    if (dirname(p) === p) break
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p)
    } catch (err) {
      // Made meanwhile by another process or thread (two chains' first files): as good.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
}

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
  const tmp = `${path}.tmp-${HOST}-${process.pid}-${tmpCounter++}`
  try {
    injectedFault()
    const fd = openCreating(tmp)
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
    removeLeftover(tmp)
    throw writeError(path, err)
  }
}

/** Opens a new file for writing, making its directory only when it is missing: a chain's files mostly go where the last one went. */
function openCreating(path: string): number {
  try {
    return openSync(path, 'w')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    makeDirectory(dirname(path))
    return openSync(path, 'w')
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

/**
 * A file written a piece at a time and renamed into place by `commit`, so that readers see the old
 * file or the whole new one (the streaming counterpart of writeFileAtomic).
 */
export class AtomicFile {
  private readonly tmp: string
  private fd: number
  private closed = false
  bytes = 0

  constructor(readonly path: string) {
    this.tmp = `${path}.tmp-${HOST}-${process.pid}-${tmpCounter++}`
    try {
      injectedFault()
      makeDirectory(dirname(path))
      removeAbandoned(dirname(path), readdirSync(dirname(path)), basename(path))
      this.fd = openSync(this.tmp, 'w')
    } catch (err) {
      throw writeError(path, err)
    }
  }

  write(data: string | Uint8Array): void {
    if (data.length === 0) return
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    try {
      injectedFault()
      let off = 0
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off)
      this.bytes += buf.length
    } catch (err) {
      this.abort()
      throw writeError(this.path, err)
    }
  }

  commit(): void {
    try {
      this.closed = true
      closeSync(this.fd)
      renameSync(this.tmp, this.path)
    } catch (err) {
      removeLeftover(this.tmp)
      throw writeError(this.path, err)
    }
  }

  /** Drops the temporary file; the old file, if any, stays. */
  abort(): void {
    if (!this.closed) {
      this.closed = true
      closeSync(this.fd)
    }
    removeLeftover(this.tmp)
  }
}

/** Appends bytes (whole record-log frames); a crash can leave at most one torn last frame, which readers skip. */
export function appendBytes(path: string, data: Uint8Array): void {
  if (data.length === 0) return
  try {
    injectedFault()
    appendFileSync(path, data)
  } catch (err) {
    throw writeError(path, err)
  }
}

/**
 * Removes the temporary files among `names`, the listing of `dir` (of `file` only, when given), that
 * processes of this machine no longer running left behind: a Ctrl-C or kill during `ouroboros
 * export` of millions of records left hundreds of megabytes beside the record files, and a killed
 * run a checkpoint's partial copy in a chain's folder. A process of another machine may be alive:
 * its files are left alone.
 */
export function removeAbandoned(dir: string, names: readonly string[], file?: string): void {
  const tag = `.tmp-${HOST}-`
  for (const name of names) {
    const at = name.lastIndexOf(tag)
    if (at <= 0 || (file !== undefined && name.slice(0, at) !== file)) continue
    const pid = Number(/^(\d+)-\d+$/.exec(name.slice(at + tag.length))?.[1])
    if (Number.isInteger(pid) && !processAlive(pid)) removeLeftover(join(dir, name))
  }
}

/** A failed write's temporary file, removed so that the failure leaves nothing behind; one that cannot be removed is left. */
function removeLeftover(tmp: string): void {
  try {
    rmSync(tmp, { force: true })
  } catch {
    // Its directory is missing or is a file: there is no temporary file.
  }
}

/**
 * Why a file could not be read or written, in words, and what kind of remedy it asks for: chosen by
 * errno, since the remedies differ (freeing space does nothing for a permission, and a directory
 * that cannot be read is not damaged).
 */
export function fileFailure(err: unknown): FileFailure {
  const code = (err as { code?: unknown } | null)?.code
  return (typeof code === 'string' ? FILE_FAILURES[code] : undefined) ?? { reason: err instanceof Error ? err.message : String(err), remedy: 'other' }
}

export interface FileFailure {
  reason: string
  remedy: 'permissions' | 'read-only' | 'space' | 'other'
}

const denied: FileFailure = { reason: 'permission denied', remedy: 'permissions' }
const directory: FileFailure = { reason: 'a directory is in the way', remedy: 'other' }
/** By errno; a rare one keeps the system's message, which names it. */
const FILE_FAILURES: Record<string, FileFailure> = {
  EACCES: denied,
  EPERM: denied,
  EROFS: { reason: 'a read-only filesystem', remedy: 'read-only' },
  ENOSPC: { reason: 'the disk is full', remedy: 'space' },
  EDQUOT: { reason: "the user's disk quota is used up", remedy: 'space' },
  EISDIR: directory,
  // Node's own code for rmSync of a directory.
  ERR_FS_EISDIR: directory,
  ENOTDIR: { reason: 'a file is in the way of a directory', remedy: 'other' },
  ENOENT: { reason: 'no such file or directory', remedy: 'other' },
}

/**
 * How a failed write's hint ends: what to run once it is fixed. A queue's worker puts the resume
 * command through its queue in its place.
 */
export const RUN_AGAIN = 'then run the command again (a run: finish it with `ouroboros resume <dir>`)'

/** A failed write: stops a run, resumable, and says what would let it go on. */
export function writeError(path: string, err: unknown): OuroborosError {
  const { reason, remedy } = fileFailure(err)
  const fix =
    remedy === 'space'
      ? 'free space'
      : remedy === 'permissions'
        ? `fix the permissions of ${dirname(path)} (this user must be able to write in it)`
        : remedy === 'read-only'
          ? `${dirname(path)} is on a filesystem mounted read-only: mount it read-write`
          : 'clear what is in the way'
  return new OuroborosError(ErrorCode.IO, `cannot write ${path}: ${reason}`, { cause: err, hint: `${fix}, ${RUN_AGAIN}` })
}

/**
 * A file of a run directory that could not be read (as opposed to one that was read and is
 * damaged): nothing is wrong with its content, so the way out is never to replace it.
 */
export function readError(path: string, err: unknown): OuroborosError {
  const { reason, remedy } = fileFailure(err)
  const hint =
    remedy === 'permissions'
      ? `fix its permissions (this user must be able to read ${path} and open the directories above it), or run the command as the user who wrote it`
      : undefined
  return new OuroborosError(ErrorCode.RUN_DIR, `cannot read ${path}: ${reason}`, hint === undefined ? { cause: err } : { cause: err, hint })
}
