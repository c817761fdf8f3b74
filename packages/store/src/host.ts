import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'

/** This machine's name, in the names of temporary files and in a run's lock: a run directory may be shared by several. */
export const HOST = hostname().replace(/[^A-Za-z0-9_.-]/g, '_')

/** Whether process `pid` of this machine is running. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  return !zombie(pid)
}

/**
 * A process that has ended but that its parent has not reaped (in a container whose first process
 * reaps none) still answers signal 0; Linux says it is a zombie, state Z in /proc/PID/stat.
 */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z'
  } catch {
    return false
  }
}
