import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HOST, processAlive } from '@ouroboros/store'

/**
 * Gives this process a temporary folder of its own, removed when it exits, and points TMPDIR into
 * it. Worker threads and model processes (which inherit the environment) put their scratch files
 * there: a pool's thread is terminated without running its exit handlers, so a folder it made
 * under the system's temporary directory would outlive the run. A process killed before its exit
 * handlers run (kill -9, Ctrl-C during an export) leaves its folder; the next one removes it.
 */
export function useOwnTmpdir(): void {
  const base = tmpdir()
  removeAbandonedScratch(base)
  const dir = mkdtempSync(join(base, `ouroboros-${HOST}-${process.pid}-`))
  process.env['TMPDIR'] = dir
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
}

/** The scratch folders in `base` of processes of this machine that have ended. */
export function removeAbandonedScratch(base: string): void {
  let names: string[]
  try {
    names = readdirSync(base)
  } catch {
    return
  }
  const prefix = `ouroboros-${HOST}-`
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(/^(\d+)-[A-Za-z0-9]{6}$/.exec(name.slice(prefix.length))?.[1])
    if (!Number.isInteger(pid) || processAlive(pid)) continue
    try {
      rmSync(join(base, name), { recursive: true, force: true })
    } catch {
      // Another user's, say: left alone, as before.
    }
  }
}
