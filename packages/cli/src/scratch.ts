import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Gives this process a temporary folder of its own, removed when it exits, and points TMPDIR into
 * it. Worker threads and model processes (which inherit the environment) put their scratch files
 * there: a pool's thread is terminated without running its exit handlers, so a folder it made
 * under the system's temporary directory would outlive the run.
 */
export function useOwnTmpdir(): void {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-'))
  process.env['TMPDIR'] = dir
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
}
