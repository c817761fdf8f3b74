import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanup, cliAsync, openForUnprivileged, records, tempDir, unprivilegedPrefix, writeConfig, COMMAND } from './helpers.js'
import { RedisServer, WorkerProcess, freePort, redisInstalled } from './redis.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const faultyModel = join(fixtures, 'faulty-model.mjs')
// Debian's python3 is the one .ci/run installs numpy for.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const GAUSSIAN = fileURLToPath(new URL('../../model-command/examples/gaussian/gaussian_model.py', import.meta.url))

/** A small sweep of GMM chains: 4 chains of 10 generations. */
const GMM = {
  name: 'dist-gmm',
  data: { kind: 'ring', n: 300 },
  model: { kind: 'gmm', components: 8, maxIter: 20 },
  generations: 10,
  samplesPerGeneration: 300,
  replicates: 2,
  seed: 11,
  metrics: ['modes', 'moments'],
  sweep: { 'policy.kind': ['replace', 'accumulate'] },
}

/**
 * A plug-in file of the test's: chain c0-r0 fits slowly (150 ms a generation, so its tasks take
 * about a second each and can be killed mid-way), chain c1-r0 throws at generation 3.
 */
const FAULTY = {
  name: 'dist-faulty',
  data: { kind: 'gaussian', n: 200 },
  model: { kind: 'faulty', module: faultyModel },
  generations: 8,
  seed: 5,
  metrics: ['moments'],
  sweep: { 'model.fault': ['slow', 'throw'] },
}

/**
 * Two chains of 12 generations whose every fit waits 150 ms: a run of them killed (or cut off from
 * Redis) once its first records are written still has seconds of generations left on any machine,
 * where a task of the GMM chains above runs a whole chain, and the first records of a run of them
 * come a few hundred ms before its last.
 */
const SLOW = {
  name: 'dist-slow',
  data: { kind: 'gaussian', n: 200 },
  model: { kind: 'faulty', module: faultyModel, fault: 'slow' },
  generations: 12,
  replicates: 2,
  seed: 5,
  metrics: ['moments'],
}

interface Finished {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the CLI without blocking the test (workers must run alongside). */
function start(args: string[], env: Record<string, string> = {}): { child: ReturnType<typeof cliAsync>; done: Promise<Finished> } {
  const child = cliAsync(args, { FORCE_COLOR: '0', ...env })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const done = new Promise<Finished>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })))
  return { child, done }
}

const runJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))
const csv = (dir: string) => readFileSync(join(dir, 'metrics.csv'), 'utf8')
const chainOutcomes = (dir: string) =>
  runJson(dir).chains.map((c: { id: string; status: string; generationsDone: number; error?: { generation: number; message: string } }) => ({
    id: c.id,
    status: c.status,
    generationsDone: c.generationsDone,
    error: c.error === undefined ? undefined : { generation: c.error.generation, message: c.error.message },
  }))

/** The records of a queued run are those of the local run, byte for byte (timings aside). */
function expectSameRecords(queued: string, local: string): void {
  expect(records(queued)).toEqual(records(local))
  expect(csv(queued)).toBe(csv(local))
  expect(chainOutcomes(queued)).toEqual(chainOutcomes(local))
}

/** Resolves once `text()` matches `re`, with the match. */
async function matching(text: () => string, re: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const m = re.exec(text())
    if (m !== null) return m
    await new Promise((r) => setTimeout(r, 50))
  }
}

const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** What Ouroboros prints after a command to copy that names a queue with a password. */
const FILL_IN = '(with the Redis password in place of PASSWORD; nothing else changes)'

/** Resolves once metrics.ndjson has more than `lines` lines. */
async function recordsAtLeast(runDir: string, lines: number): Promise<void> {
  const path = join(runDir, 'metrics.ndjson')
  while (!existsSync(path) || readFileSync(path, 'utf8').split('\n').length <= lines) await new Promise((r) => setTimeout(r, 20))
}

/** The pids of the Gaussian model programs that process `parent` started and that still run. */
function modelPrograms(parent: number): number[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout
  return ps.split('\n').flatMap((line) => {
    const [pid, ppid, ...args] = line.trim().split(/\s+/)
    return Number(ppid) === parent && args.join(' ').includes(GAUSSIAN) ? [Number(pid)] : []
  })
}

if (!redisInstalled) {
  describe('distributed runs', () => {
    it.skip('redis-server is not installed (apt-get install redis-server); the tests of distributed runs need a real one', () => {})
  })
}

describe.skipIf(!redisInstalled)('distributed runs on BullMQ and a real Redis', () => {
  let dir: string
  /** Shared by the tests that need no server of their own; its two workers run no plug-in files. */
  let redis: RedisServer
  const workers: WorkerProcess[] = []
  const servers: RedisServer[] = []
  let gmmConfig: string
  let faultyConfig: string
  let slowConfig: string
  const localGmm = () => join(dir, 'local-gmm')
  const localFaulty = () => join(dir, 'local-faulty')
  const localSlow = () => join(dir, 'local-slow')

  const server = async (name: string, opts = {}): Promise<RedisServer> => {
    const data = join(dir, name)
    mkdirSync(data)
    const s = await RedisServer.start(data, opts)
    servers.push(s)
    return s
  }
  const worker = (url: string | undefined, args: string[] = [], env: Record<string, string> = {}, prefix: string[] = []): WorkerProcess => {
    const w = new WorkerProcess(url, args, env, prefix)
    workers.push(w)
    return w
  }

  /**
   * A run of the slow chains on a server of its own, `name`, with a worker that may run the fixture,
   * whose coordinator is killed (SIGKILL) once it has written 5 records; resolves with the server.
   */
  const killedCoordinator = async (name: string, out: string): Promise<RedisServer> => {
    const r = await server(name)
    await worker(r.url(), ['--allow-modules', fixtures]).ready()
    const run = start(['run', slowConfig, '--out', out, '--queue', r.url()])
    await recordsAtLeast(out, 5)
    run.child.kill('SIGKILL')
    await run.done
    return r
  }

  beforeAll(async () => {
    dir = tempDir('ouroboros-dist-')
    gmmConfig = writeConfig(dir, GMM, 'gmm.json')
    faultyConfig = writeConfig(dir, FAULTY, 'faulty.json')
    slowConfig = writeConfig(dir, SLOW, 'slow.json')
    redis = await server('shared')
    const shared = [worker(redis.url()), worker(redis.url())]
    const [gmm, faulty, slow] = await Promise.all([
      start(['run', gmmConfig, '--out', localGmm(), '--workers', '2']).done,
      start(['run', faultyConfig, '--out', localFaulty(), '--workers', '2']).done,
      start(['run', slowConfig, '--out', localSlow(), '--workers', '2']).done,
    ])
    expect(gmm.code, gmm.stderr).toBe(0)
    expect(faulty.code, faulty.stderr).toBe(1)
    expect(slow.code, slow.stderr).toBe(0)
    await Promise.all(shared.map((w) => w.ready()))
  }, 60_000)

  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL')
    await Promise.all(servers.map((s) => s.stop('SIGKILL')))
    cleanup()
  })

  it('two coordinators at once on two worker processes: each run records what a local run does, bit for bit', async () => {
    const [a, b] = [join(dir, 'queued-a'), join(dir, 'queued-b')]
    // The same config twice: the same chain ids and generations, told apart by their runs only.
    const results = await Promise.all([a, b].map((out) => start(['run', gmmConfig, '--out', out, '--queue', redis.url()]).done))
    for (const [i, out] of [a, b].entries()) {
      expect(results[i]!.code, results[i]!.stderr).toBe(0)
      expectSameRecords(out, localGmm())
    }
    for (const w of workers.slice(0, 2)) expect(w.log).toMatch(/done in/)
    const info = runJson(a)
    expect(info.runId).not.toBe(runJson(b).runId)
    expect(info.queue).toBe(redis.url())
    // Plug-ins by package name, for every machine to find in its own installation.
    expect(info.cellSpecs[0].modelModule).toBe('@ouroboros/model-gmm')
    expect(info.cellSpecs[0].metrics.map((m: { module: string }) => m.module)).toEqual(['@ouroboros/metrics', '@ouroboros/metrics'])
    expect(JSON.stringify(info)).not.toContain('file:')
  })

  it("the coordinator's progress line shows what the workers' training is at, as a local run's does", { timeout: 120_000 }, async () => {
    // A reward model of 4,000 labels takes several seconds to fit: longer than the line's 5 s.
    const values = [1, 0, 0, 0, 0, 0, 0, 0]
    const config = writeConfig(
      dir,
      { name: 'dist-proxy', data: { kind: 'ring', n: 300 }, model: { kind: 'gmm' }, generations: 1, metrics: ['modes'], posttrain: [{ kind: 'rl', beta: 1, steps: 1, reward: { kind: 'proxy', of: { kind: 'modes', values }, labels: 4000 } }] },
      'proxy.json',
    )
    const res = await start(['run', config, '--out', join(dir, 'queued-proxy'), '--queue', redis.url()]).done
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout + res.stderr).toContain('rl: fitting its reward model on 4000 labels')
  })

  it('a worker runs no plug-in file it was not allowed: the chains fail, saying so', async () => {
    const out = join(dir, 'refused')
    const res = await start(['run', faultyConfig, '--out', out, '--queue', redis.url()]).done
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`plug-in module ${faultyModel} is outside the directories this worker runs plug-in files from`)
    const chains = runJson(out).chains
    expect(chains.map((c: { status: string; error: { code: string; generation: number } }) => [c.status, c.error.code, c.error.generation])).toEqual([
      ['failed', 'OUROBOROS_PLUGIN', 0],
      ['failed', 'OUROBOROS_PLUGIN', 0],
    ])
  })

  it('a worker starts no model program unless allowed: the chains fail, saying so; resumed on one that may, the run records what a local run does', async () => {
    const config = writeConfig(dir, { name: 'dist-command', data: { kind: 'gaussian', d: 1, n: 20 }, model: { command: [PYTHON, GAUSSIAN] }, generations: 4, replicates: 2, seed: 3, metrics: ['moments'] }, 'command.json')
    const local = join(dir, 'local-command')
    const ran = await start(['run', config, '--out', local]).done
    expect(ran.code, ran.stderr).toBe(0)
    const r = await server('commands')
    const plain = worker(r.url())
    await plain.ready()
    const out = join(dir, 'command-refused')
    const res = await start(['run', config, '--out', out, '--queue', r.url()]).done
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`model.command ${JSON.stringify([PYTHON, GAUSSIAN])} (in ${dir}) is a program the run names, and this worker starts none`)
    expect(res.stderr).toContain(`hint: start the worker with --allow-commands to run the model programs that runs name, as its own user, then finish the run with: ${COMMAND} resume ${out} --queue ${r.url()}\n`)
    expect(runJson(out).chains.map((c: { status: string; error: { code: string } }) => [c.status, c.error.code])).toEqual([
      ['failed', 'OUROBOROS_PLUGIN'],
      ['failed', 'OUROBOROS_PLUGIN'],
    ])
    plain.kill('SIGTERM')
    expect(await plain.exited).toBe(0)
    // Idle model programs stop after a second here (a minute by default), on a worker that stays.
    const trusting = worker(r.url(), ['--allow-commands'], { OUROBOROS_COMMAND_IDLE_SECONDS: '1' })
    await trusting.ready()
    const resuming = start(['resume', out, '--queue', r.url()])
    let running = true
    void resuming.done.then(() => (running = false))
    let seen = false
    while (running && !seen) {
      seen = modelPrograms(trusting.pid).length > 0
      await new Promise((r) => setTimeout(r, 50))
    }
    const resumed = await resuming.done
    expect(resumed.code, resumed.stderr).toBe(0)
    expectSameRecords(out, local)
    expect(seen).toBe(true)
    const idleSince = Date.now()
    while (modelPrograms(trusting.pid).length > 0 && Date.now() - idleSince < 20_000) await new Promise((r) => setTimeout(r, 200))
    expect(modelPrograms(trusting.pid)).toEqual([])
    trusting.kill('SIGTERM')
    expect(await trusting.exited).toBe(0)
  })

  it('the coordinator killed (SIGKILL): resume finishes the run with the records of a local run', async () => {
    const out = join(dir, 'coordinator-killed')
    const r = await killedCoordinator('coordinator-killed-redis', out)
    expect(runJson(out).status).toBe('running')
    const resumed = await start(['resume', out, '--queue', r.url()]).done
    expect(resumed.code, resumed.stderr).toBe(0)
    expectSameRecords(out, localSlow())
  })

  it('a queue run resumed without --queue goes on here, saying so in one line with the --queue form', async () => {
    const out = join(dir, 'resumed-locally')
    const r = await killedCoordinator('resumed-locally-redis', out)
    const resumed = await start(['resume', out, '--workers', '2']).done
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stderr.split('\n')).toContain(`ouroboros: this run started on the queue ${r.url()}; without --queue it goes on here, on this machine's threads (${COMMAND} resume ${out} --queue ${r.url()} sends it to the queue)`)
    expectSameRecords(out, localSlow())
  })

  it('a worker killed mid-task (SIGKILL): another takes the task over; SIGTERM lets a worker finish its task and exit 0', async () => {
    const r = await server('kill-worker')
    const allow = ['--allow-modules', fixtures]
    // A worker with a long lock, gone before the run: the queue's one check for tasks whose worker
    // died runs at most once per the interval of the worker that ran it last, which must not be
    // this worker's 300 s, or the task below would wait that long.
    const patient = worker(r.url(), ['--lock-seconds', '300'])
    await patient.ready()
    patient.kill('SIGTERM')
    expect(await patient.exited).toBe(0)
    const doomed = worker(r.url(), allow)
    await doomed.ready()
    const out = join(dir, 'worker-killed')
    const run = start(['run', faultyConfig, '--out', out, '--queue', r.url()])
    const started = await doomed.waitFor(/ from generation \d+ /)
    doomed.kill('SIGKILL')
    await doomed.exited
    // Killed inside the task: it never reported the end of anything.
    expect(doomed.log).not.toMatch(/done in|failed at/)
    const [, chain, from] = started.match(/ (\S+) from generation (\d+) /)!
    // BullMQ's stalled-job check hands the task to the next worker once the dead one's lock expires.
    const heir = worker(r.url(), allow)
    await heir.waitFor(new RegExp(` ${chain} from generation ${from} `))
    heir.kill('SIGTERM')
    const finisher = worker(r.url(), allow)
    expect(await heir.exited).toBe(0)
    expect(heir.log).toMatch(new RegExp(`SIGTERM: finishing[^]*${chain} generations ${from}–\\d+ done in`))
    const res = await run.done
    // As locally: chain c1-r0 throws at generation 3, and only that chain fails.
    expect(res.code, res.stderr).toBe(1)
    expect(res.stderr).toContain('injected failure at generation 3')
    expectSameRecords(out, localFaulty())
    finisher.kill('SIGTERM')
    expect(await finisher.exited).toBe(0)
  })

  it("a coordinator stopped at once while its task's worker died: the worker that finds the task drops it; resume finishes the run", async () => {
    const r = await server('stopped-coordinator')
    const allow = ['--allow-modules', fixtures]
    const doomed = worker(r.url(), allow)
    await doomed.ready()
    const out = join(dir, 'coordinator-stopped')
    const run = start(['run', faultyConfig, '--out', out, '--queue', r.url()])
    // The slow chain's task, held by a worker that dies in it.
    const started = await doomed.waitFor(/ c0-r0 from generation \d+ /)
    doomed.kill('SIGKILL')
    await doomed.exited
    // Two interrupts stop the coordinator at once, its task left on the queue and its lock released.
    run.child.kill('SIGINT')
    await new Promise((resolve) => setTimeout(resolve, 200))
    run.child.kill('SIGINT')
    await run.done
    expect(existsSync(join(out, 'run.lock'))).toBe(false)
    const [, from] = started.match(/ c0-r0 from generation (\d+) /)!
    // Once the dead worker's lock expires, the task goes to the next worker, which drops it.
    const heir = worker(r.url(), allow)
    const dropped = await heir.waitFor(new RegExp(` c0-r0 at generation ${from} \\(${out}\\): dropped: `))
    expect(dropped).toContain(`: dropped: the coordinator that queued this task (process ${run.child.pid} on `)
    expect(dropped).toMatch(new RegExp(`no longer runs ${out}: no process runs it now$`))
    const resumed = await start(['resume', out, '--queue', r.url()]).done
    // As locally: chain c1-r0 throws at generation 3, and only that chain fails.
    expect(resumed.code, resumed.stderr).toBe(1)
    expectSameRecords(out, localFaulty())
    heir.kill('SIGTERM')
    expect(await heir.exited).toBe(0)
  })

  it('one interrupt while the task in flight is held by a worker that died, and no worker is connected: the coordinator stops as a second would, saying why', async () => {
    const r = await server('stranded')
    const allow = ['--allow-modules', fixtures]
    const doomed = worker(r.url(), allow)
    await doomed.ready()
    const out = join(dir, 'stranded-run')
    const run = start(['run', faultyConfig, '--out', out, '--queue', r.url()])
    await doomed.waitFor(/ c0-r0 from generation \d+ /)
    doomed.kill('SIGKILL')
    await doomed.exited
    run.child.kill('SIGINT')
    const res = await run.done
    expect(res.code, res.stderr).toBe(130)
    expect(res.stderr).toMatch(new RegExp(`queue: interrupted, and no worker is connected to redis://127\\.0\\.0\\.1:${r.port} to finish the tasks? in flight of chains? [^(]*c0-r0[^(]* \\(held by a worker that stopped answering\\): stopping now, as a second Ctrl-C would`))
    expect(res.stderr).toContain(`stopped; resume with: ${COMMAND} resume ${out} --queue ${r.url()}`)
    expect(runJson(out).status).toBe('interrupted')
  })

  it("a worker on another database of the coordinator's server is none of its workers: the coordinator says no worker is connected", async () => {
    const r = await server('other-database')
    const elsewhere = worker(`${r.url()}/1`)
    await elsewhere.ready()
    const out = join(dir, 'other-database-run')
    const run = start(['run', gmmConfig, '--out', out, '--queue', r.url()])
    let stderr = ''
    run.child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    await matching(() => stderr, new RegExp(`queue: no worker is connected to redis://127\\.0\\.0\\.1:${r.port}; start one`))
    worker(r.url())
    const res = await run.done
    expect(res.code, res.stderr).toBe(0)
    expectSameRecords(out, localGmm())
    expect(elsewhere.log).not.toMatch(/ from generation /)
  })

  it('Redis restarted mid-run finishes the run; Redis gone stops it with a resumable error, and resume finishes it', async () => {
    const r = await server('restart')
    const allow = ['--allow-modules', fixtures]
    const w = worker(r.url(), allow)
    await w.ready()

    const restarted = join(dir, 'redis-restarted')
    const run = start(['run', faultyConfig, '--out', restarted, '--queue', r.url()])
    await recordsAtLeast(restarted, 2)
    await r.stop('SIGKILL')
    await new Promise((resolve) => setTimeout(resolve, 300))
    await r.start()
    const res = await run.done
    expect(res.code, res.stderr).toBe(1)
    expectSameRecords(restarted, localFaulty())

    // The slow chains: the faulty ones' last records come within 200 ms of their first, which the
    // run could reach before Redis is gone.
    const gone = join(dir, 'redis-gone')
    const stopped = start(['run', slowConfig, '--out', gone, '--queue', r.url(), '--queue-timeout', '2'])
    await recordsAtLeast(gone, 2)
    await r.stop('SIGKILL')
    const res2 = await stopped.done
    expect(res2.code, res2.stderr).toBe(1)
    expect(res2.stderr).toContain(`lost the queue at ${r.url()}`)
    expect(res2.stderr).toContain(`${COMMAND} resume ${gone} --queue ${r.url()}`)
    await r.start()
    const resumed = await start(['resume', gone, '--queue', r.url()]).done
    expect(resumed.code, resumed.stderr).toBe(0)
    expectSameRecords(gone, localSlow())
  })

  it('a worker takes its queue from OUROBOROS_QUEUE where --queue is not given', async () => {
    const w = worker(undefined, [], { OUROBOROS_QUEUE: redis.url() })
    expect(await w.ready()).toContain(`taking tasks from ${redis.url()}`)
    // At once: a worker that says it takes tasks already finishes them on SIGTERM.
    w.kill('SIGTERM')
    expect(await w.exited).toBe(0)
  })

  it('a worker started with no Redis there says at once that it waits for it, and for how long, its password hidden', async () => {
    const url = `redis://:pw-Kd2@127.0.0.1:${await freePort()}`
    const w = worker(url, ['--queue-timeout', '2'])
    const waiting = await w.waitFor(/queue: waiting for Redis/)
    expect(waiting).toMatch(/ queue: waiting for Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(connect ECONNREFUSED [^)]*\); trying again every second for up to 2 s \(--queue-timeout\)$/)
    expect(await w.exited).toBe(2)
    expect(w.log).not.toContain('pw-Kd2')
  })

  it('a worker stopped while it waits for Redis says so and exits 0: it has nothing to finish', async () => {
    const w = worker(`redis://127.0.0.1:${await freePort()}`)
    await w.waitFor(/queue: waiting for Redis/)
    w.kill('SIGTERM')
    expect(await w.exited).toBe(0)
    expect(w.log).toMatch(/ SIGTERM: stopped while starting, before taking any task$/m)
  })

  it('a URL naming a database the server lacks: run and worker exit 2 saying so in one line, and nothing runs', async () => {
    const url = `${redis.url()}/99`
    const says = `database 99 does not exist on 127.0.0.1:${redis.port}, which has databases 0 to 15 (ERR DB index is out of range)`
    const out = join(dir, 'no-database')
    const run = await start(['run', gmmConfig, '--out', out, '--queue', url]).done
    expect(run.code).toBe(2)
    expect(run.stderr).toBe(`error: --queue: ${says}\n`)
    expect(existsSync(out)).toBe(false)
    for (const [args, env, option] of [
      [['--queue', url], {}, '--queue'],
      [[], { OUROBOROS_QUEUE: url }, 'OUROBOROS_QUEUE'],
    ] as const) {
      const res = await start(['worker', ...args], env).done
      expect(res.code).toBe(2)
      expect(res.stderr).toBe(`error: ${option}: ${says}\n`)
      expect(res.stdout).toBe('')
    }
  })

  it('the worker command the coordinator prints, its password filled in, starts a worker that finishes the run', async () => {
    const password = 'pw-Qm3 a/b'
    const r = await server('printed-command', { password })
    const out = join(dir, 'printed-command-run')
    const run = start(['run', gmmConfig, '--out', out, '--queue', r.url()])
    let stderr = ''
    run.child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const printed = await matching(() => stderr, new RegExp(`start one on any machine that mounts \\S+: ${escaped(COMMAND)} worker --queue (\\S+) (.*)`))
    expect(printed[1]).toBe(`redis://:PASSWORD@127.0.0.1:${r.port}`)
    expect(printed[2]).toBe(FILL_IN)
    worker(printed[1]!.replace('PASSWORD', encodeURIComponent(password)))
    const res = await run.done
    expect(res.code, res.stderr).toBe(0)
    expectSameRecords(out, localGmm())
    expect(res.stderr).not.toContain(password)
  })

  it('the worker command the coordinator prints allows the plug-in files the run names: started as printed, it finishes the run', async () => {
    const r = await server('printed-allow')
    const out = join(dir, 'printed-allow-run')
    const run = start(['run', faultyConfig, '--out', out, '--queue', r.url()])
    let stderr = ''
    run.child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const printed = await matching(() => stderr, new RegExp(`start one on any machine that mounts \\S+: ${escaped(COMMAND)} worker (.*)\n`))
    expect(printed[1]).toBe(`--allow-modules ${fixtures.replace(/\/$/, '')} --queue ${r.url()}`)
    worker(undefined, printed[1]!.split(' '))
    const res = await run.done
    // As locally: chain c1-r0 throws at generation 3, and only that chain fails.
    expect(res.code, res.stderr).toBe(1)
    expectSameRecords(out, localFaulty())
  })

  it.runIf(process.getuid?.() === 0 && unprivilegedPrefix() !== undefined)(
    'a worker that cannot write in the run directory stops the run naming the worker, its user, the path and the resume command; resumed as printed, the run finishes',
    { timeout: 120_000 },
    async () => {
      const password = 'pw-Vx7'
      const r = await server('unwritable', { password })
      const scratch = openForUnprivileged(dir)
      // The worker runs as nobody; the coordinator (root) makes the run directory, which nobody may only read.
      const w = worker(r.url(), [], { TMPDIR: scratch, HOME: scratch }, unprivilegedPrefix())
      await w.ready()
      const out = join(dir, 'unwritable-run')
      const res = await start(['run', gmmConfig, '--out', out, '--queue', r.url()]).done
      expect(res.code, res.stderr).toBe(1)
      const stopped = /error: the run stopped: worker (\S+:\d+): cannot write (\S+)\/[^/\s]+: permission denied\nhint: (.*)/.exec(res.stderr)
      expect(stopped, res.stderr).not.toBeNull()
      const [, name, folder, hint] = stopped!
      expect(folder!.startsWith(`${out}/chains/`)).toBe(true)
      expect(hint).toBe(`fix the permissions of ${folder} (the user worker ${name} runs as, nobody, must be able to write in it), then finish the run with: ${COMMAND} resume ${out} --queue redis://:PASSWORD@127.0.0.1:${r.port} ${FILL_IN}`)
      // The workers make the chains' folders: the run directory is all there is to open.
      expect(existsSync(join(out, 'chains'))).toBe(false)
      chmodSync(out, 0o777)
      const resumeArgs = / (resume \S+ --queue \S+)/.exec(hint!)![1]!.replace('PASSWORD', encodeURIComponent(password)).split(' ')
      const resumed = await start(resumeArgs).done
      expect(resumed.code, resumed.stderr).toBe(0)
      expectSameRecords(out, localGmm())
    },
  )

  it('a worker says each time it loses its connection to Redis, and each time it is back', { timeout: 60_000 }, async () => {
    const r = await server('outages')
    const w = worker(r.url())
    await w.ready()
    const until = async (re: RegExp, times: number): Promise<void> => {
      while (w.lines.filter((l) => re.test(l)).length < times) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    for (const outage of [1, 2]) {
      await r.stop('SIGKILL')
      await until(new RegExp(`queue: lost the connection to redis://127\\.0\\.0\\.1:${r.port}; trying again every second`), outage)
      await until(/queue: connect ECONNREFUSED/, outage)
      await r.start()
      await until(new RegExp(`queue: connected to redis://127\\.0\\.0\\.1:${r.port} again`), outage)
    }
  })

  it('a password and TLS pass through to the client, and the password shows nowhere', async () => {
    const password = 'pw-Zq81 x/y'
    const certs = join(dir, 'certs')
    mkdirSync(certs)
    const [cert, key] = [join(certs, 'cert.pem'), join(certs, 'key.pem')]
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
    expect(made.status, made.stderr?.toString()).toBe(0)
    const r = await server('secured', { password, tls: { cert, key } })
    // The client trusts the server's self-signed certificate as it would a private CA's.
    const env = { NODE_EXTRA_CA_CERTS: cert }
    const w = worker(r.url(), [], env)
    await w.ready()
    const out = join(dir, 'secured-run')
    const res = await start(['run', gmmConfig, '--out', out, '--queue', r.url()], env).done
    expect(res.code, res.stderr).toBe(0)
    expectSameRecords(out, localGmm())
    expect(runJson(out).queue).toBe(`rediss://:***@127.0.0.1:${r.port}`)
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain(`those of the queue rediss://:***@127.0.0.1:${r.port}`)
    const written = readdirSync(out).filter((f) => f.endsWith('.json') || f.endsWith('.html') || f.startsWith('metrics'))
    for (const text of [...written.map((f) => readFileSync(join(out, f), 'utf8')), res.stdout, res.stderr, w.log]) {
      expect(text).not.toContain(password)
      expect(text).not.toContain(encodeURIComponent(password))
    }

    const wrong = join(dir, 'wrong-password')
    const refused = await start(['run', gmmConfig, '--out', wrong, '--queue', r.url('not-the-password')], env).done
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain(`cannot use Redis at rediss://:***@127.0.0.1:${r.port}: WRONGPASS`)
    expect(refused.stderr).not.toContain('not-the-password')
    expect(existsSync(wrong)).toBe(false)
  })
})
