import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The suite's own temporary folder, removed at its end: test files run in forks that are stopped
 * without their exit handlers, and the folders they and the processes they start make go here.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-tests-'))
  process.env['TMPDIR'] = dir
  return () => rmSync(dir, { recursive: true, force: true })
}
