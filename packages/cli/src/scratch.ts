import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// The host module alone: every command, `--version` included, makes its scratch folder first.
import { HOST, processAlive } from '@ouroboros/store/host'

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
  let dir: string
  try {
    dir = mkdtempSync(join(base, `ouroboros-${HOST}-${process.pid}-`))
  } catch (err) {
    // Before any command runs (the error handler of main is not in place yet): a TMPDIR that does
    // not exist or cannot be written, as a cluster's login node may have for its compute nodes' one.
    const code = (err as { code?: string }).code
    const reason = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message
    process.stderr.write(`error: cannot make a scratch folder in ${base} (the temporary directory${process.env['TMPDIR'] ? ', TMPDIR' : ''}): ${reason}\nhint: set TMPDIR to a directory this user can write\n`)
    process.exit(2)
  }
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
