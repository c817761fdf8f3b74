import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { ErrorCode } from '@ouroboros/core'
import { HOST } from './host.js'
import { endedPid, thrown } from './process.testutil.js'
import { LOCK_RENEW_MS, LOCK_STALE_MS, RUN_LOCK, RunLock } from './run-lock.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function runDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-lock-'))
  dirs.push(dir)
  return dir
}

const host = HOST
const ended = endedPid()

describe('RunLock', () => {
  it('holds a run directory for its process, refuses a second holder, and is gone once released', () => {
    const dir = runDir()
    const lock = RunLock.acquire(dir)
    expect(JSON.parse(readFileSync(join(dir, RUN_LOCK), 'utf8'))).toMatchObject({ pid: process.pid, host })
    for (const again of [() => RunLock.acquire(dir), () => RunLock.check(dir)]) {
      const err = thrown(again)
      expect(err.code).toBe(ErrorCode.RUN_DIR)
      expect(err.message).toMatch(new RegExp(`^${dir} is being run by process ${process.pid} \\(since \\d{4}-`))
      expect(err.hint).toBe(`wait for it to finish, or stop it (Ctrl-C or kill) and try again; if process ${process.pid} is not an Ouroboros run (its number taken again after a restart), delete ${join(dir, RUN_LOCK)}`)
    }
    lock.release()
    expect(existsSync(join(dir, RUN_LOCK))).toBe(false)
    RunLock.check(dir)
    RunLock.acquire(dir).release()
  })

  it('takes over the lock of an ended process of this machine, and a torn one', () => {
    for (const text of [JSON.stringify({ pid: ended, host, since: '2026-01-01T00:00:00.000Z' }), '{"pid": 12']) {
      const dir = runDir()
      writeFileSync(join(dir, RUN_LOCK), text)
      RunLock.check(dir)
      const lock = RunLock.acquire(dir)
      expect(JSON.parse(readFileSync(join(dir, RUN_LOCK), 'utf8')).pid).toBe(process.pid)
      lock.release()
    }
  })

  it.skipIf(!existsSync('/proc/self/stat'))('takes over the lock of a process that ended but was not reaped (a zombie)', async () => {
    // sh starts a child that ends at once, then becomes a sleep that never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] })
    const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))))
    try {
      for (let i = 0; i < 50 && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); i++) await new Promise((r) => setTimeout(r, 20))
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toContain(') Z ')
      const dir = runDir()
      writeFileSync(join(dir, RUN_LOCK), JSON.stringify({ pid, host, since: '2026-01-01T00:00:00.000Z' }))
      RunLock.acquire(dir).release()
    } finally {
      parent.kill()
    }
  })

  it("refuses another machine's lock while it is renewed, says how to clear it, and takes it over once it is not", () => {
    const dir = runDir()
    const path = join(dir, RUN_LOCK)
    writeFileSync(path, JSON.stringify({ pid: ended, host: `${host}-other`, since: '2026-01-01T00:00:00.000Z' }))
    const err = thrown(() => RunLock.acquire(dir))
    expect(err.message).toMatch(new RegExp(`^${dir} is being run by process ${ended} on ${host}-other \\(since 2026-01-01T00:00:00.000Z; lock renewed [01] s ago\\)$`))
    expect(err.hint).toBe(`a lock not renewed for ${LOCK_STALE_MS / 1000} s is taken over (its process gone); if no process on ${host}-other runs it any more, delete ${path} and try again now`)
    expect(readFileSync(path, 'utf8')).toContain(`${host}-other`)
    // Last renewed just longer ago than that.
    const then = new Date(Date.now() - LOCK_STALE_MS - 5000)
    utimesSync(path, then, then)
    RunLock.check(dir)
    const lock = RunLock.acquire(dir)
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid, host })
    lock.release()
  })

  it('renews its lock while it holds it', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    try {
      const dir = runDir()
      const path = join(dir, RUN_LOCK)
      const lock = RunLock.acquire(dir)
      const then = new Date(Date.now() - 3600_000)
      utimesSync(path, then, then)
      vi.advanceTimersByTime(LOCK_RENEW_MS)
      expect(Date.now() - statSync(path).mtimeMs).toBeLessThan(60_000)
      lock.release()
    } finally {
      vi.useRealTimers()
    }
  })

  it('leaves a lock another process took over since', () => {
    const dir = runDir()
    const lock = RunLock.acquire(dir)
    const other = JSON.stringify({ pid: ended + 1, host: 'elsewhere', since: '2026-01-01T00:00:00.000Z' })
    writeFileSync(join(dir, RUN_LOCK), other)
    lock.release()
    expect(readFileSync(join(dir, RUN_LOCK), 'utf8')).toBe(other)
  })

  it('says in words why it cannot take a lock it has to replace, as a run-directory error, where the system threw its own message', () => {
    const dir = runDir()
    // No process's lock, and one that cannot be removed: a directory in its place.
    mkdirSync(join(dir, RUN_LOCK, 'inside'), { recursive: true })
    const err = thrown(() => RunLock.acquire(dir))
    expect(err.code).toBe(ErrorCode.RUN_DIR)
    expect(err.message).toBe(`cannot write ${join(dir, RUN_LOCK)}: a directory is in the way`)
  })
})
