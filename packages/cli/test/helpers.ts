import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { OuroborosError } from '@ouroboros/core'
import { resolveRun } from '@ouroboros/cli'

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
/** The command as the messages of a command line run by `cli` (from this folder) give it: `node` and its path from here. */
export const COMMAND = `node ${relative(process.cwd(), MAIN)}`

const dirs: string[] = []

export function tempDir(prefix = 'ouroboros-cli-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  dirs.push(d)
  return d
}

export function cleanup(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

export function cli(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, cwd: options.cwd, env: { ...process.env, FORCE_COLOR: '0', ...options.env }, timeout: options.timeoutMs })
}

/**
 * How the CLI is run as a user without root's rights, for what only such a user meets (a file it
 * cannot read, a directory it cannot write in): as it is where the suite is not root, else as
 * nobody (65534) through setpriv. Undefined where neither can run it.
 */
let unprivileged: string[] | null | undefined
export function unprivilegedPrefix(): string[] | undefined {
  if (unprivileged === undefined) {
    if (process.getuid?.() !== 0) {
      unprivileged = []
    } else {
      const prefix = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
      const probe = spawnSync(prefix[0]!, [...prefix.slice(1), process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(MAIN)}, 4)`])
      unprivileged = probe.status === 0 ? prefix : null
    }
  }
  return unprivileged ?? undefined
}

/**
 * The CLI run as that user on files under `dir` (a tempDir): the suite's folders above it are
 * opened for it to pass through, and it gets a scratch folder of its own.
 */
export function cliUnprivileged(args: string[], dir: string): SpawnSyncReturns<string> {
  const prefix = unprivilegedPrefix()
  if (prefix === undefined) throw new Error('no way to run the CLI without root rights here')
  const [command, ...rest] = [...prefix, process.execPath, MAIN, ...args]
  return spawnSync(command!, rest, { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', TMPDIR: openForUnprivileged(dir) } })
}

/** Opens the suite's folders above `dir` (a tempDir) for the unprivileged user to pass through; returns a scratch folder (its TMPDIR) it may write in. */
export function openForUnprivileged(dir: string): string {
  for (let p = dir; p.startsWith(tmpdir()) && p !== dirname(p); p = dirname(p)) chmodSync(p, statSync(p).mode | 0o011)
  const scratch = join(dir, 'scratch')
  mkdirSync(scratch, { recursive: true })
  chmodSync(scratch, 0o1777)
  return scratch
}

/** Starts the CLI without waiting; for kill tests. `group`: in a process group of its own, which signalAfterRecords then signals whole, as a terminal's Ctrl-C does. */
export function cliAsync(args: string[], env: Record<string, string> = {}, group = false, cwd?: string) {
  return spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: group, cwd })
}

/**
 * Sends `signal` once the run has written more than `count` lines of metrics.ndjson (the records
 * are the run's own clock: progress lines come every few seconds), to the child's whole process
 * group when `group` (a child started by cliAsync with `group`); resolves when the child exits,
 * with the ms from the signal to the exit (-1 when the run ended before it was sent).
 */
export async function signalAfterRecords(child: ReturnType<typeof cliAsync>, runDir: string, count: number, signal: NodeJS.Signals, group = false): Promise<{ code: number | null; stderr: string; exitMs: number }> {
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let sentAt = 0
  const path = join(runDir, 'metrics.ndjson')
  const poll = setInterval(() => {
    if (sentAt > 0 || !existsSync(path)) return
    if (readFileSync(path, 'utf8').split('\n').length > count) {
      sentAt = Date.now()
      if (group) process.kill(-child.pid!, signal)
      else child.kill(signal)
    }
  }, 20)
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  clearInterval(poll)
  return { code, stderr, exitMs: sentAt === 0 ? -1 : Date.now() - sentAt }
}

export function writeConfig(dir: string, config: unknown, name = 'config.json'): string {
  const file = join(dir, name)
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config))
  return file
}

export interface Rec {
  chain: string
  cell: number
  replicate: number
  generation: number
  params: Record<string, unknown>
  metrics: Record<string, number | null>
}

/**
 * metrics.ndjson in (cell, replicate, generation) order, without the timings, which differ
 * between any two runs. The file itself is in the order records were made.
 */
export function records(runDir: string): Rec[] {
  return readFileSync(join(runDir, 'metrics.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { timings: _t, ...r } = JSON.parse(l) as Rec & { timings: unknown }
      return r
    })
    .sort((a, b) => a.cell - b.cell || a.replicate - b.replicate || a.generation - b.generation)
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}

export function standardError(xs: number[]): number {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) / xs.length)
}

/**
 * One test per [what, config, text]: resolving the config fails with a usage error whose message
 * names the text (the field) and the config file.
 */
export function itRefusesConfigs(cases: readonly (readonly [string, unknown, string])[]): void {
  for (const [what, config, field] of cases) {
    it(`${what}: a config error naming ${field}`, async () => {
      const err = await resolveRun(config, 'bad.json').then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err, `${what} was accepted`).toBeInstanceOf(OuroborosError)
      const e = err as OuroborosError
      expect(e.isUsageError, e.message).toBe(true)
      expect(e.message).toContain(field)
      expect(e.message).toContain('bad.json')
    })
  }
}
