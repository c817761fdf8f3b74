import { spawnSync } from 'node:child_process'
import type { OuroborosError } from '@ouroboros/core'

/** The id of a process that has ended (a stopped export, a killed run). */
export function endedPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout)
}

/** The error `f` throws. */
export function thrown(f: () => void): OuroborosError {
  try {
    f()
  } catch (err) {
    return err as OuroborosError
  }
  throw new Error('expected a throw')
}
