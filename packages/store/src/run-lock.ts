import { closeSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import { fileFailure } from './atomic.js'
import { HOST, processAlive } from './host.js'

/** The file that says which process runs a run directory, while one does. */
export const RUN_LOCK = 'run.lock'

/** How often the holder renews its lock (its modification time), and how old a lock of another machine may be before it counts as abandoned. */
export const LOCK_RENEW_MS = 30_000
export const LOCK_STALE_MS = 5 * LOCK_RENEW_MS

interface LockHolder {
  pid: number
  host: string
  since: string
  /** Milliseconds since the holder last renewed the lock. */
  age: number
}

/**
 * A run directory held by this process: a second `run --force` or `resume` of the same directory
 * while this one runs (a batch job started again while the first is still going, a resume typed in
 * another terminal) is refused instead of computing the same chains twice into the same files.
 * The lock of a process that has ended on this machine (kill -9, out of memory) is taken over at
 * once. Another machine's process cannot be asked: its lock counts while it is renewed, and is
 * taken over once it has not been for LOCK_STALE_MS (a job killed on one node and started again on
 * another goes on by itself).
 */
export class RunLock {
  private held = true
  private readonly onExit = (): void => this.release()
  private readonly renew: NodeJS.Timeout

  private constructor(readonly path: string) {
    process.on('exit', this.onExit)
    this.renew = setInterval(() => {
      try {
        const now = new Date()
        utimesSync(path, now, now)
      } catch {
        // Gone (the run directory deleted under the run): nothing to renew.
      }
    }, LOCK_RENEW_MS)
    this.renew.unref()
  }

  /** Holds `runDir`, which exists, for this process. */
  static acquire(runDir: string): RunLock {
    const path = join(runDir, RUN_LOCK)
    const holder = { pid: process.pid, host: HOST, since: new Date().toISOString() }
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
      if (other !== undefined && holds(other)) throw heldError(runDir, path, other)
      if (attempt > 0) throw lockError(path, new Error('another process is taking it over at the same time'))
      if (other !== undefined && other.host !== HOST) process.stderr.write(`ouroboros: taking over ${path} of process ${other.pid} on ${other.host}, not renewed for ${Math.round(other.age / 1000)} s\n`)
      try {
        rmSync(path, { force: true })
      } catch (err) {
        throw lockError(path, err)
      }
    }
  }

  /** The error acquire would throw while a live process holds `runDir` (it runs there), or undefined; takes nothing. */
  static held(runDir: string): OuroborosError | undefined {
    const path = join(runDir, RUN_LOCK)
    const other = lockHolder(path)
    return other !== undefined && holds(other) ? heldError(runDir, path, other) : undefined
  }

  /** Refuses, as acquire would, when a live process holds `runDir`; takes nothing. */
  static check(runDir: string): void {
    const held = RunLock.held(runDir)
    if (held !== undefined) throw held
  }

  /**
   * The process the lock of `runDir` names while it runs: undefined without a lock, or with the
   * lock of a process of this machine that has ended. A process of another machine is taken at
   * the lock's word, whatever its age (which two machines' clocks measure).
   */
  static heldBy(runDir: string): { pid: number; host: string } | undefined {
    const holder = lockHolder(join(runDir, RUN_LOCK))
    if (holder === undefined || (holder.host === HOST && !processAlive(holder.pid))) return undefined
    return { pid: holder.pid, host: holder.host }
  }

  release(): void {
    if (!this.held) return
    this.held = false
    clearInterval(this.renew)
    process.off('exit', this.onExit)
    const holder = lockHolder(this.path)
    if (holder?.pid === process.pid && holder.host === HOST) rmSync(this.path, { force: true })
  }
}

/** Whether the lock's process still runs: asked on this machine, judged by the lock's renewal on another. */
function holds(holder: LockHolder): boolean {
  return holder.host === HOST ? processAlive(holder.pid) : holder.age <= LOCK_STALE_MS
}

/** The lock's holder; undefined when there is no lock or it is unreadable (a process killed while writing it). */
function lockHolder(path: string): LockHolder | undefined {
  let text: string
  let age: number
  try {
    text = readFileSync(path, 'utf8')
    age = Date.now() - statSync(path).mtimeMs
  } catch {
    return undefined
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>
    if (typeof value.pid === 'number' && typeof value.host === 'string') return { pid: value.pid, host: value.host, since: String(value.since), age }
  } catch {
    // Torn: taken over like a dead holder's.
  }
  return undefined
}

function heldError(runDir: string, path: string, holder: LockHolder): OuroborosError {
  if (holder.host === HOST) {
    return new OuroborosError(ErrorCode.RUN_DIR, `${runDir} is being run by process ${holder.pid} (since ${holder.since})`, {
      hint: `wait for it to finish, or stop it (Ctrl-C or kill) and try again; if process ${holder.pid} is not an Ouroboros run (its number taken again after a restart), delete ${path}`,
    })
  }
  return new OuroborosError(ErrorCode.RUN_DIR, `${runDir} is being run by process ${holder.pid} on ${holder.host} (since ${holder.since}; lock renewed ${Math.round(holder.age / 1000)} s ago)`, {
    hint: `a lock not renewed for ${LOCK_STALE_MS / 1000} s is taken over (its process gone); if no process on ${holder.host} runs it any more, delete ${path} and try again now`,
  })
}

/** The lock is a run's or resume's first write in its directory: a directory it cannot write in is found here, before anything else. */
function lockError(path: string, err: unknown): OuroborosError {
  const { reason, remedy } = fileFailure(err)
  const dir = dirname(path)
  const hint =
    remedy === 'permissions'
      ? `a run writes in its directory: fix the permissions of ${dir} (this user must be able to write in it), or run the command as the user who owns it`
      : remedy === 'read-only'
        ? `a run writes in its directory: ${dir} is on a filesystem mounted read-only; mount it read-write, or copy the run directory elsewhere and resume the copy`
        : remedy === 'space'
          ? 'free space, then run the command again'
          : undefined
  return new OuroborosError(ErrorCode.RUN_DIR, `cannot write ${path}: ${reason}`, hint === undefined ? { cause: err } : { cause: err, hint })
}
