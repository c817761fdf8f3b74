import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import { HOST, processAlive } from './host.js'

/** The file that says which process runs a run directory, while one does. */
export const RUN_LOCK = 'run.lock'

interface LockHolder {
  pid: number
  host: string
  since: string
}

/**
 * A run directory held by this process: a second `run --force` or `resume` of the same directory
 * while this one runs (a batch job started again while the first is still going, a resume typed in
 * another terminal) is refused instead of computing the same chains twice into the same files. A
 * lock whose process has ended on this machine (kill -9, the machine restarted) is taken over; one
 * of another machine cannot be checked from here, and is said to be there.
 */
export class RunLock {
  private held = true
  private readonly onExit = (): void => this.release()

  private constructor(readonly path: string) {
    process.on('exit', this.onExit)
  }

  /** Holds `runDir`, which exists, for this process. */
  static acquire(runDir: string): RunLock {
    const path = join(runDir, RUN_LOCK)
    const holder: LockHolder = { pid: process.pid, host: HOST, since: new Date().toISOString() }
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(path, 'wx')
        try {
          writeSync(fd, JSON.stringify(holder) + '\n')
        } finally {
          closeSync(fd)
        }
        return new RunLock(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(path, err)
      }
      const other = lockHolder(path)
      if (other !== undefined && (other.host !== HOST || processAlive(other.pid))) throw heldError(runDir, path, other)
      if (attempt > 0) throw lockError(path, new Error('another process is taking it over at the same time'))
      // Its process is gone: the run stopped without a last word.
      rmSync(path, { force: true })
    }
  }

  /** Refuses, as acquire would, when a live process holds `runDir`; takes nothing. */
  static check(runDir: string): void {
    const path = join(runDir, RUN_LOCK)
    const other = lockHolder(path)
    if (other !== undefined && (other.host !== HOST || processAlive(other.pid))) throw heldError(runDir, path, other)
  }

  release(): void {
    if (!this.held) return
    this.held = false
    process.off('exit', this.onExit)
    const holder = lockHolder(this.path)
    if (holder?.pid === process.pid && holder.host === HOST) rmSync(this.path, { force: true })
  }
}

/** The lock's holder; undefined when there is no lock or it is unreadable (a process killed while writing it). */
function lockHolder(path: string): LockHolder | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>
    if (typeof value.pid === 'number' && typeof value.host === 'string') return { pid: value.pid, host: value.host, since: String(value.since) }
  } catch {
    // Torn: taken over like a dead holder's.
  }
  return undefined
}

function heldError(runDir: string, path: string, holder: LockHolder): OuroborosError {
  const where = holder.host === HOST ? `process ${holder.pid}` : `process ${holder.pid} on ${holder.host}`
  return new OuroborosError(ErrorCode.RUN_DIR, `${runDir} is being run by ${where} (since ${holder.since})`, {
    hint:
      holder.host === HOST
        ? `wait for it to finish, or stop it (Ctrl-C or kill) and try again; if process ${holder.pid} is not an Ouroboros run (its number taken again after a restart), delete ${path}`
        : `if no process on ${holder.host} runs it any more, delete ${path} and try again`,
  })
}

function lockError(path: string, err: unknown): OuroborosError {
  return new OuroborosError(ErrorCode.RUN_DIR, `cannot write ${path}: ${(err as Error).message}`, { cause: err })
}
