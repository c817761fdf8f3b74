import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'

const GNU_TIME = '/usr/bin/time'

/** Runs a command to completion; returns wall seconds, peak RSS (MiB, when GNU time exists) and stdout. */
export function timeProcess(command, args, options = {}) {
  const useTime = existsSync(GNU_TIME)
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-bench-'))
  const rssFile = join(dir, 'rss')
  const [cmd, argv] = useTime ? [GNU_TIME, ['-f', '%M', '-o', rssFile, command, ...args]] : [command, args]
  const t0 = performance.now()
  const res = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 28, ...options })
  const seconds = (performance.now() - t0) / 1000
  const peakRssMiB = useTime && existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024 : null
  rmSync(dir, { recursive: true, force: true })
  if (res.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${res.status}: ${(res.stderr || '').slice(-2000)}`)
  }
  return { seconds, peakRssMiB, stdout: res.stdout }
}
