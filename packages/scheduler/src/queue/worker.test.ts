import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ErrorCode, OuroborosError } from '@ouroboros/core'
import { HOST, readError } from '@ouroboros/store'
import { queueAddress } from './address.js'
import { chainOf, coordinatorGone, refusalOf, sameCode, type RunSpecCache } from './worker.js'
import type { QueueTask } from './task.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('chainOf', () => {
  it("reads a run's run.json once for all its chains, and builds each chain's spec from its cell", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-queue-specs-'))
    dirs.push(dir)
    const cell = (k: number) => ({ cell: k, params: { k }, config: { policy: { kind: 'replace' }, filter: null }, modelModule: 'model-a', datasetModule: 'data-a', metrics: [{ id: 'm', module: 'metric-a', options: {} }], tasks: [] })
    const chains = [0, 1, 2].map((i) => ({ id: `c${i % 2}-r${i}`, cell: i % 2, replicate: i, seed: 100 + i, status: 'pending', generationsDone: 0 }))
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 't', runId: 'run-1', chains, cellSpecs: [cell(0), cell(1)] }))
    const task = (chain: string): QueueTask => ({ v: 2, runId: 'run-1', runDir: dir, chain, from: 0, budgetMs: 0, reference: true })
    const cache = new Map<string, RunSpecCache>()
    const local = (m: string): string => `file:///here/${m}`
    const first = chainOf(task('c0-r0'), cache, local)
    // Gone from the disk: the other chains come from what the first read kept.
    rmSync(join(dir, 'run.json'))
    const third = chainOf(task('c0-r2'), cache, local)
    const second = chainOf(task('c1-r1'), cache, local)
    expect([first.id, first.cell, first.replicate, first.seed]).toEqual(['c0-r0', 0, 0, 100])
    expect([second.id, second.cell, second.replicate, second.seed, second.params]).toEqual(['c1-r1', 1, 1, 101, { k: 1 }])
    expect([third.id, third.replicate, third.seed]).toEqual(['c0-r2', 2, 102])
    expect([second.modelModule, second.datasetModule, second.metrics[0]!.module]).toEqual(['file:///here/model-a', 'file:///here/data-a', 'file:///here/metric-a'])
    expect(chainOf(task('c0-r0'), cache, local)).toBe(first)
    expect(() => chainOf(task('c9-r9'), cache, local)).toThrow(/has no spec for chain c9-r9/)
    // Another run in the same directory is read afresh, and refused when run.json names another run.
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ name: 't', runId: 'run-2', chains, cellSpecs: [cell(0), cell(1)] }))
    expect(() => chainOf({ ...task('c0-r0'), runId: 'run-3' }, cache, local)).toThrow(/holds run run-2, not the run run-3/)
  })
})

describe('sameCode', () => {
  it("refuses a task from a coordinator on another git commit than this worker's installation", () => {
    const task: QueueTask = { v: 2, runId: 'run-1', runDir: '/runs/a', chain: 'r0', from: 0, budgetMs: 0, reference: true, commit: 'a'.repeat(40) }
    expect(() => sameCode(task, 'b'.repeat(40))).toThrow(`this worker runs ouroboros at git ${'b'.repeat(12)}, the run's coordinator at ${'a'.repeat(12)}`)
    // The same commit, an installation that is no checkout, or a coordinator that is none: taken.
    expect(() => sameCode(task, 'a'.repeat(40))).not.toThrow()
    expect(() => sameCode(task, undefined)).not.toThrow()
    const { commit: _commit, ...noCommit } = task
    expect(() => sameCode(noCommit, 'b'.repeat(40))).not.toThrow()
  })

  it("refuses a task from a coordinator whose built JavaScript differs from this worker's, at the same commit too", () => {
    const task: QueueTask = { v: 2, runId: 'run-1', runDir: '/runs/a', chain: 'r0', from: 0, budgetMs: 0, reference: true, commit: 'a'.repeat(40), build: 'c'.repeat(64) }
    expect(() => sameCode(task, 'a'.repeat(40), 'd'.repeat(64))).toThrow(`this worker runs ouroboros build ${'d'.repeat(12)}, the run's coordinator build ${'c'.repeat(12)} at the same git commit ${'a'.repeat(12)} (hashes of the built JavaScript`)
    // Not a checkout: the builds alone are compared.
    expect(() => sameCode(task, undefined, 'd'.repeat(64))).toThrow(`this worker runs ouroboros build ${'d'.repeat(12)}, the run's coordinator build ${'c'.repeat(12)} (hashes`)
    // Another commit is said as such, whatever the builds.
    expect(() => sameCode(task, 'b'.repeat(40), 'd'.repeat(64))).toThrow(`this worker runs ouroboros at git ${'b'.repeat(12)}, the run's coordinator at`)
    // The same build (uncommitted changes alone, built the same), or a build either side does not know: taken.
    expect(() => sameCode(task, 'a'.repeat(40), 'c'.repeat(64))).not.toThrow()
    expect(() => sameCode(task, 'a'.repeat(40))).not.toThrow()
    const { build: _build, ...noBuild } = task
    expect(() => sameCode(noBuild, 'a'.repeat(40), 'd'.repeat(64))).not.toThrow()
  })
})

describe('coordinatorGone', () => {
  it("drops a task whose coordinator no longer holds the run directory's lock: stopped, or the run resumed by another", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ouroboros-queue-lock-'))
    dirs.push(dir)
    const lock = (pid: number, host: string): void => writeFileSync(join(dir, 'run.lock'), JSON.stringify({ pid, host, since: '2026-01-01T00:00:00.000Z' }) + '\n')
    const task = (coordinator?: { pid: number; host: string }): QueueTask => ({ v: 2, runId: 'run-1', runDir: dir, chain: 'r0', from: 3, budgetMs: 0, reference: false, ...(coordinator === undefined ? {} : { coordinator }) })
    const me = { pid: process.pid, host: HOST }
    // No lock at all: the run stopped. A coordinator that does not say who it is: taken as before.
    expect(coordinatorGone(task(me))).toBe(`the coordinator that queued this task (process ${process.pid} on ${HOST}) no longer runs ${dir}: no process runs it now`)
    expect(coordinatorGone(task())).toBeUndefined()
    lock(process.pid, HOST)
    expect(coordinatorGone(task(me))).toBeUndefined()
    // Resumed by another process of this machine (this one's parent stands in for it).
    lock(process.ppid, HOST)
    expect(coordinatorGone(task(me))).toMatch(new RegExp(`: process ${process.ppid} on ${HOST} runs it now$`))
    // The lock of a process of this machine that has ended is no one's.
    lock(4_194_301, HOST)
    expect(coordinatorGone(task({ pid: 4_194_301, host: HOST }))).toMatch(/: no process runs it now$/)
    // Another machine's coordinator is taken at its lock's word, however old (two clocks measure the age).
    lock(7, 'node-b')
    utimesSync(join(dir, 'run.lock'), new Date(0), new Date(0))
    expect(coordinatorGone(task({ pid: 7, host: 'node-b' }))).toBeUndefined()
    expect(coordinatorGone(task({ pid: 8, host: 'node-b' }))).toMatch(/: process 7 on node-b runs it now$/)
  })
})

describe('refusalOf', () => {
  const task: QueueTask = { v: 2, runId: 'run-1', runDir: '/runs/a', chain: 'r0', from: 0, budgetMs: 0, reference: true }
  const address = queueAddress('redis://:pw-x@redis-host:6379')
  const resume = 'ouroboros resume /runs/a --queue redis://:PASSWORD@redis-host:6379 (with the Redis password in place of PASSWORD; nothing else changes)'

  it("names the worker's user and the permission where it may not read the run directory", () => {
    const denied = readError('/runs/a/run.json', Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }))
    const refusal = refusalOf(denied, 'node-b:42', task, address)
    expect(refusal.code).toBe('OUROBOROS_IO')
    expect(refusal.message).toBe('worker node-b:42: cannot read /runs/a/run.json: permission denied')
    expect(refusal.hint).toMatch(new RegExp(`^fix its permissions \\(the user worker node-b:42 runs as, \\S+, must be able to read /runs/a/run\\.json and open the directories above it\\), then finish the run with: ${resume.replace(/[()]/g, '\\$&')}$`))
  })

  it('ends the hint of a refusal that restarted workers set right (another commit, a model program not allowed) with the resume that finishes the run', () => {
    const other: QueueTask = { ...task, commit: 'a'.repeat(40) }
    let refused: unknown
    try {
      sameCode(other, 'b'.repeat(40))
    } catch (err) {
      refused = err
    }
    const refusal = refusalOf(refused, 'node-b:42', other, address)
    expect(refusal.code).toBe('OUROBOROS_PLUGIN')
    expect(refusal.hint).toBe(`check out and build the same commit on every machine (docs/distributed.md), restart the workers, then finish the run with: ${resume}`)
    const noHint = refusalOf(new OuroborosError(ErrorCode.PLUGIN, "'data:x' is neither a package name nor an absolute path"), 'node-b:42', task, address)
    expect(noHint.hint).toBeUndefined()
  })

  it('asks for the run directory mounted at the same path where it is not there', () => {
    const missing = readError('/runs/a/run.json', Object.assign(new Error('ENOENT'), { code: 'ENOENT' }))
    expect(refusalOf(missing, 'node-b:42', task, address).hint).toBe(`every machine that runs workers mounts the run directory at the same path (NFS, a shared volume); fix that, then: ${resume}`)
  })
})
