import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, cliAsync, records, signalAfterRecords, tempDir, writeConfig, COMMAND } from './helpers.js'

afterAll(cleanup)

const faulty = fileURLToPath(new URL('./fixtures/faulty-model.mjs', import.meta.url))
const slowSetup = fileURLToPath(new URL('./fixtures/slow-setup-metric.mjs', import.meta.url))
const base = {
  name: 'faults',
  data: { kind: 'gaussian', n: 200 },
  model: { kind: 'faulty', module: faulty },
  generations: 8,
  seed: 5,
  metrics: ['moments'],
}

describe('a failing chain', () => {
  it('fails only itself (throw, NaN, worker exit), is recorded with its generation, exit code 1', () => {
    const dir = tempDir()
    const config = writeConfig(dir, { ...base, sweep: { 'model.fault': ['none', 'throw', 'nan', 'exit'] } })
    const res = cli(['run', config, '--out', `${dir}/run`, '--workers', '2'])
    expect(res.status, res.stderr).toBe(1)
    const run = JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8'))
    expect(run.status).toBe('failed')
    const byId = Object.fromEntries(run.chains.map((c: { id: string }) => [c.id, c]))
    expect(byId['c0-r0'].status).toBe('finished')
    for (const id of ['c1-r0', 'c2-r0', 'c3-r0']) {
      expect(byId[id].status).toBe('failed')
      expect(byId[id].error.generation).toBe(3)
    }
    expect(byId['c1-r0'].error.message).toContain('injected failure at generation 3')
    expect(byId['c2-r0'].error.code).toBe('OUROBOROS_DIVERGED')
    expect(byId['c2-r0'].error.message).toMatch(/^model 'faulty' \(.*faulty-model\.mjs\): generation 3's samples hold non-finite values \(NaN or ±Infinity\)/)
    expect(res.stderr).toContain('failed at generation 3')
    const recs = records(`${dir}/run`)
    expect(recs.filter((r) => r.cell === 0 && r.generation >= 0)).toHaveLength(8)
    expect(recs.filter((r) => r.cell === 1 && r.generation >= 0).map((r) => r.generation)).toEqual([0, 1, 2])
    const html = readFileSync(`${dir}/run/report.html`, 'utf8')
    expect(html).toContain('injected failure at generation 3')
  })

  it('resumed once its fault is fixed, a failed chain finishes without its old error, and the report lists no failure', () => {
    const dir = tempDir()
    const bug = `${dir}/bug`
    writeFileSync(bug, '')
    const config = writeConfig(dir, { ...base, model: { kind: 'faulty', module: faulty, fault: 'while-file', file: bug } })
    const failed = cli(['run', config, '--out', `${dir}/run`])
    expect(failed.status, failed.stderr).toBe(1)
    const chain = () => JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8')).chains[0]
    expect(chain().status).toBe('failed')
    expect(chain().error.message).toContain(`while ${bug} exists`)
    rmSync(bug)
    const resumed = cli(['resume', `${dir}/run`])
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(chain().status).toBe('finished')
    expect(chain().error).toBeUndefined()
    const html = readFileSync(`${dir}/run/report.html`, 'utf8')
    expect(html).not.toContain('Failed chains')
    expect(html).not.toContain(`while ${bug} exists`)
    // The records of a run that never failed.
    const clean = writeConfig(dir, { ...base, model: { kind: 'faulty', module: faulty } }, 'clean.json')
    expect(cli(['run', clean, '--out', `${dir}/clean`]).status).toBe(0)
    const values = (run: string) => records(run).map((r) => ({ ...r, params: undefined }))
    expect(values(`${dir}/run`)).toEqual(values(`${dir}/clean`))
  })

  it('a diverged generation is retried with a new seed only when the config asks', () => {
    const dir = tempDir()
    const config = writeConfig(dir, { ...base, model: { ...base.model, fault: 'nan' }, retries: 2 })
    // The injected NaN does not depend on the seed, so every retry diverges again.
    const res = cli(['run', config, '--out', `${dir}/run`])
    expect(res.status).toBe(1)
    expect(JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8')).chains[0].error.code).toBe('OUROBOROS_DIVERGED')
  })
})

describe('a full disk', () => {
  it('stops the run with a clear message, and resume finishes it with the same records', () => {
    const dir = tempDir()
    const config = writeConfig(dir, { ...base, model: { kind: 'gaussian' }, replicates: 2 })
    const clean = cli(['run', config, '--out', `${dir}/clean`])
    expect(clean.status, clean.stderr).toBe(0)
    const res = cli(['run', config, '--out', `${dir}/full`, '--workers', '1'], { env: { OUROBOROS_FAULT_ENOSPC_AFTER: '4' } })
    expect(res.status).toBe(1)
    expect(res.stderr).toContain('the disk is full')
    // The same `run` would be refused (the directory is not empty): the hint names the resume in full.
    expect(res.stderr).toContain(`hint: free space, then finish the run with \`${COMMAND} resume ${dir}/full\``)
    expect(res.stderr).not.toContain('<dir>')
    expect(res.stderr).not.toContain('run the command again')
    expect(res.stderr).not.toMatch(/\n\s+at /)
    const resumed = cli(['resume', `${dir}/full`])
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(records(`${dir}/full`)).toEqual(records(`${dir}/clean`))
  })

  it('that fails the first write of run.json says to run the command again, which then runs', () => {
    const dir = tempDir()
    const config = writeConfig(dir, { ...base, model: { kind: 'gaussian' } })
    const res = cli(['run', config, '--out', `${dir}/run`], { env: { OUROBOROS_FAULT_ENOSPC_AFTER: '0' } })
    expect(res.status).toBe(1)
    expect(res.stderr).toContain('hint: free space, then run the command again\n')
    // Nothing of the failed start is left: a new directory was made, and taken back.
    expect(existsSync(`${dir}/run`)).toBe(false)
    const again = cli(['run', config, '--out', `${dir}/run`])
    expect(again.status, again.stderr).toBe(0)
    // Without --out, neither its runs/<name>-<time> folder nor the runs folder it made.
    const cwd = join(dir, 'default')
    mkdirSync(cwd)
    const full = cli(['run', config], { cwd, env: { OUROBOROS_FAULT_ENOSPC_AFTER: '0' } })
    expect(full.status).toBe(1)
    expect(readdirSync(cwd)).toEqual([])
  })
})

describe('Ctrl-C', () => {
  it('stops every chain after its generation in flight, also when scoring costs more than fitting', async () => {
    const dir = tempDir()
    // KDE generations fit in microseconds and score in milliseconds (nll_real sums 10^6 kernels):
    // 9 chains of 30 generations take tens of seconds on 2 cores.
    const config = writeConfig(dir, {
      name: 'stop-kde',
      data: { kind: 'ring', n: 1000 },
      model: { kind: 'kde' },
      generations: 30,
      replicates: 3,
      seed: 0,
      metrics: ['modes', 'moments', 'likelihood'],
      sweep: { 'policy.kind': ['replace', 'accumulate', 'accumulate-subsample'] },
    })
    const child = cliAsync(['run', config, '--out', `${dir}/run`, '--workers', '2'])
    const { code, stderr, exitMs } = await signalAfterRecords(child, `${dir}/run`, 5, 'SIGINT')
    expect(exitMs, stderr).toBeGreaterThan(0)
    expect(code, stderr).toBe(130)
    // Each chain ends after the generation in flight: a few seconds at most, not the rest of the run.
    expect(exitMs).toBeLessThan(5000)
    const recs = records(`${dir}/run`).filter((r) => r.generation >= 0)
    expect(recs.length).toBeLessThan((9 * 30) / 2)
    const run = JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8'))
    expect(run.status).toBe('interrupted')
    // Chains run in blocks may have finished all their generations before the signal, in one
    // segment; the others stopped, and at least one had generations left.
    expect(run.chains.some((c: { status: string }) => c.status !== 'finished')).toBe(true)
    for (const chain of run.chains) {
      expect(['interrupted', 'pending', 'finished']).toContain(chain.status)
      if (chain.status === 'finished') expect(chain.generationsDone).toBe(30)
      // What run.json says is done has its records, generation by generation.
      const have = recs.filter((r) => r.chain === chain.id).map((r) => r.generation)
      expect(have.slice(0, chain.generationsDone)).toEqual(Array.from({ length: chain.generationsDone }, (_, g) => g))
    }
  })

  it('finishes the generation in flight, says how to resume, exits 130; resume completes the run', async () => {
    const dir = tempDir()
    const config = writeConfig(dir, { ...base, model: { ...base.model, fault: 'slow' }, generations: 12, replicates: 2 })
    const child = cliAsync(['run', config, '--out', `${dir}/run`, '--workers', '2'])
    // Generation -1 and 0 to 2 of one chain.
    const { code, stderr } = await signalAfterRecords(child, `${dir}/run`, 4, 'SIGINT')
    expect(code).toBe(130)
    expect(stderr).toContain(`${COMMAND} resume ${dir}/run`)
    const run = JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8'))
    expect(run.status).toBe('interrupted')
    const resumed = cli(['resume', `${dir}/run`])
    expect(resumed.status, resumed.stderr).toBe(0)
    const full = cli(['run', config, '--out', `${dir}/full`])
    expect(records(`${dir}/run`)).toEqual(records(`${dir}/full`))
    // The checkpoint each chain resumed from goes once a newer one has its records: only the last state stays, as in a run never stopped.
    for (const run of ['run', 'full']) {
      for (const chain of ['r0', 'r1']) expect(readdirSync(`${dir}/${run}/chains/${chain}`).filter((f) => f.endsWith('.state'))).toEqual(['gen-000011.state'])
    }
  })

  it('takes SIGTERM (a batch job cancelled) as Ctrl-C: the generation in flight finishes, exit 130, and resume completes the run', async () => {
    const dir = tempDir()
    const config = writeConfig(dir, { ...base, model: { ...base.model, fault: 'slow' }, generations: 12, replicates: 2 })
    const child = cliAsync(['run', config, '--out', `${dir}/run`, '--workers', '2'])
    const { code, stderr } = await signalAfterRecords(child, `${dir}/run`, 4, 'SIGTERM')
    expect(code, stderr).toBe(130)
    expect(stderr).toContain('interrupted (SIGTERM): finishing the generations in flight')
    expect(stderr).toContain(`${COMMAND} resume ${dir}/run`)
    expect(JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8')).status).toBe('interrupted')
    expect(cli(['resume', `${dir}/run`]).status).toBe(0)
    expect(cli(['run', config, '--out', `${dir}/full`]).status).toBe(0)
    expect(records(`${dir}/run`)).toEqual(records(`${dir}/full`))
  })

  it('a signal during the last generations lets them finish: a finished run, its report, exit 0', async () => {
    const dir = tempDir()
    // One generation of a GMM whose EM runs all its iterations (about 2 s): the signal comes while it fits.
    const config = writeConfig(dir, { name: 'last-generation', data: { kind: 'grid', n: 16000 }, model: { kind: 'gmm', components: 25, tol: 0, maxIter: 300 }, generations: 1, seed: 9, metrics: ['moments'] })
    const child = cliAsync(['run', config, '--out', `${dir}/run`, '--workers', '1'])
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    let sent = false
    // The chain writes its real data as its first generation starts.
    const poll = setInterval(() => {
      if (sent || !existsSync(`${dir}/run/chains/r0/real.npy`)) return
      sent = true
      child.kill('SIGTERM')
    }, 20)
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    clearInterval(poll)
    expect(sent).toBe(true)
    expect(code).toBe(0)
    expect(stdout).toContain(`report: ${dir}/run/report.html`)
    expect(JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8')).status).toBe('finished')
  })

  it('a signal while the record files are written says so, and the files and the report are written: a finished run, exit 0', async () => {
    const dir = tempDir()
    // 500,000 records: about 5 s of writing metrics.ndjson, metrics.csv and metrics.parquet on
    // two cores, which the run says past its first second; the signal comes then.
    const config = writeConfig(dir, { name: 'writing', data: { kind: 'gaussian', n: 20 }, model: { kind: 'gaussian' }, generations: 500, replicates: 1000, seed: 9, metrics: ['moments'] })
    const child = cliAsync(['run', config, '--out', `${dir}/run`])
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      const before = stderr
      stderr += chunk.toString()
      if (!before.includes('writing the record files') && stderr.includes('writing the record files')) child.kill('SIGINT')
    })
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    expect(stderr).toMatch(/\] writing the record files: the records of 500000 generations, sorted\n/)
    expect(stderr).toContain(`interrupted (SIGINT): the chains have stopped; writing the record files and the report (or later: ${COMMAND} resume ${dir}/run)`)
    expect(stderr).not.toContain('generations in flight')
    expect(code, stderr).toBe(0)
    expect(JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8')).status).toBe('finished')
    for (const file of ['metrics.ndjson', 'metrics.csv', 'metrics.parquet', 'report.html']) expect(existsSync(`${dir}/run/${file}`), file).toBe(true)
    expect(readFileSync(`${dir}/run/metrics.ndjson`, 'utf8').split('\n')).toHaveLength(501_000 + 1)
  })

  it('a second Ctrl-C stops at once, mid-generation, and still leaves a resumable run', async () => {
    const dir = tempDir()
    // A GMM whose EM runs all its iterations (tol 0): about 2 s a generation on one core, so the
    // second signal, 200 ms after the first, lands while generation 1 is fitting.
    const config = writeConfig(dir, {
      name: 'second-ctrl-c',
      data: { kind: 'grid', n: 16000 },
      model: { kind: 'gmm', components: 25, tol: 0, maxIter: 300 },
      generations: 2,
      seed: 9,
      metrics: ['moments'],
    })
    const child = cliAsync(['run', config, '--out', `${dir}/run`, '--workers', '1'])
    let stderr = ''
    let sent = false
    let secondAt = 0
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      // Once generation 0's record (after the -1 reference) is written.
      const poll = setInterval(() => {
        const path = `${dir}/run/metrics.ndjson`
        if (sent || !existsSync(path) || readFileSync(path, 'utf8').split('\n').length <= 2) return
        sent = true
        clearInterval(poll)
        child.kill('SIGINT')
        setTimeout(() => {
          secondAt = Date.now()
          child.kill('SIGINT')
        }, 200)
      }, 20)
      child.on('exit', (c) => {
        clearInterval(poll)
        resolve(c)
      })
    })
    const stoppedAfterMs = Date.now() - secondAt
    expect(secondAt, `the run ended before the second Ctrl-C: ${stderr}`).toBeGreaterThan(0)
    expect(code, stderr).toBe(130)
    expect(stderr).toContain('press Ctrl-C again to stop at once')
    expect(stderr).toContain(`stopped; resume with: ${COMMAND} resume ${dir}/run`)
    // At once: generation 1 was not let finish (its fit alone takes about 2 s), and nothing of it
    // was written.
    expect(stoppedAfterMs).toBeLessThan(1000)
    const stopped = records(`${dir}/run`)
    expect(stopped.map((r) => r.generation)).toEqual([-1, 0])
    expect(existsSync(`${dir}/run/chains/r0/gen-000001.samples.npy`)).toBe(false)
    const run = JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8'))
    expect(run.chains[0].generationsDone).toBe(1)
    expect(run.status).toBe('interrupted')
    expect(cli(['report', `${dir}/run`]).status).toBe(0)
    expect(readFileSync(`${dir}/run/report.html`, 'utf8')).toContain('Incomplete run')
    const resumed = cli(['resume', `${dir}/run`])
    expect(resumed.status, resumed.stderr).toBe(0)
    const full = cli(['run', config, '--out', `${dir}/full`])
    expect(full.status, full.stderr).toBe(0)
    expect(records(`${dir}/run`)).toEqual(records(`${dir}/full`))
  }, 180_000)
})

describe('Ctrl-C before run.json', () => {
  /** Runs `args` with a metric group whose setup waits (or fails), signals it once the setup began, and says how it ended. */
  async function interruptedStart(dir: string, args: string[], signal: NodeJS.Signals | undefined, cwd?: string, fail = false) {
    const ready = join(dir, 'ready')
    const config = writeConfig(dir, { name: 'slow', data: { kind: 'gaussian', n: 50 }, model: { kind: 'gaussian' }, generations: 2, metrics: [{ module: slowSetup }], metricOptions: { slow_setup: { ready, fail } } })
    const child = cliAsync(['run', config, ...args], {}, false, cwd)
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const poll = setInterval(() => signal !== undefined && existsSync(ready) && (clearInterval(poll), child.kill(signal)), 20)
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    clearInterval(poll)
    return { code, stderr, config }
  }

  it('takes back what the start wrote: a directory it made is gone, an empty one given is left empty', async () => {
    const dir = tempDir()
    const made = await interruptedStart(dir, ['--out', join(dir, 'run')], 'SIGINT')
    expect(made.code, made.stderr).toBe(130)
    expect(made.stderr).toContain(`interrupted (SIGINT) before the run started; removed ${join(dir, 'run')}`)
    expect(existsSync(join(dir, 'run'))).toBe(false)

    rmSync(join(dir, 'ready'))
    mkdirSync(join(dir, 'given'))
    const empty = await interruptedStart(dir, ['--out', join(dir, 'given')], 'SIGTERM')
    expect(empty.code, empty.stderr).toBe(130)
    expect(empty.stderr).toContain(`interrupted (SIGTERM) before the run started; removed what it had written in ${join(dir, 'given')}`)
    expect(readdirSync(join(dir, 'given'))).toEqual([])

    // Without --out: no half directory among the runs, nor the runs folder the start made.
    rmSync(join(dir, 'ready'))
    const named = await interruptedStart(dir, [], 'SIGINT', dir)
    expect(named.code, named.stderr).toBe(130)
    expect(existsSync(join(dir, 'runs'))).toBe(false)
    mkdirSync(join(dir, 'runs', 'earlier'), { recursive: true })
    rmSync(join(dir, 'ready'))
    const kept = await interruptedStart(dir, [], 'SIGINT', dir)
    expect(kept.code, kept.stderr).toBe(130)
    expect(readdirSync(join(dir, 'runs'))).toEqual(['earlier'])
  })

  it('a setup that fails takes back what the start wrote too', async () => {
    const dir = tempDir()
    const failed = await interruptedStart(dir, ['--out', join(dir, 'run')], undefined, undefined, true)
    expect(failed.code, failed.stderr).toBe(1)
    expect(failed.stderr).toContain('injected setup failure')
    expect(existsSync(join(dir, 'run'))).toBe(false)
  })

  it('a start killed with no chance to take it back (kill -9) leaves a lock that --force replaces, keeping the rest', async () => {
    const dir = tempDir()
    const run = join(dir, 'run')
    const killed = await interruptedStart(dir, ['--out', run], 'SIGKILL')
    expect(killed.code).toBeNull()
    expect(readdirSync(run)).toEqual(['run.lock'])
    writeFileSync(join(run, 'notes.txt'), 'mine')
    const plain = cli(['run', killed.config, '--out', run])
    expect(plain.status).toBe(2)
    expect(plain.stderr).toContain('pass --force to replace it')
    // The setup of the slow group waits a minute: this run goes without it.
    const config = writeConfig(dir, { name: 'quick', data: { kind: 'gaussian', n: 50 }, model: { kind: 'gaussian' }, generations: 2, metrics: ['moments'] }, 'quick.json')
    const forced = cli(['run', config, '--out', run, '--force'])
    expect(forced.status, forced.stderr).toBe(0)
    expect(forced.stderr).toContain('keeping notes.txt')
    expect(readFileSync(join(run, 'notes.txt'), 'utf8')).toBe('mine')
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).status).toBe('finished')
  })
})
