// `pnpm bench queue`: the BullMQ queue on a real Redis against the local worker pool.
// 1. Per-task overhead: one chain whose every generation is a task of its own (segments of 0 ms),
//    on the local pool of one thread and on one worker process of one thread. Empty tasks (a
//    Gaussian refit on 20 points) show the overhead alone; small ones (a GMM on 1,000 ring points)
//    show it against a few milliseconds of work.
// 2. A sweep of 8 GMM chains, coordinated through the queue, on 1 and on 2 worker processes of one
//    thread each, beside the local pool of 1 and 2 threads. On a 2-core machine the second process
//    shows what the queue costs, not how it scales.
// Every time is the best of two runs. Needs Debian's redis-server; starts its own on a free
// loopback port with a temporary directory.
import { spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { timeProcess } from './run-process.js'

const root = resolve(fileURLToPath(import.meta.url), '../../..')
const MAIN = join(root, 'packages/cli/dist/main.js')
const dist = (path) => new URL(`../../packages/${path}`, import.meta.url).href

const EMPTY = { name: 'bench-empty', data: { kind: 'gaussian', n: 20 }, model: { kind: 'gaussian' }, generations: 300, samplesPerGeneration: 20, seed: 1, metrics: ['moments'] }
const SMALL = { name: 'bench-small', data: { kind: 'ring', n: 1000 }, model: { kind: 'gmm', components: 8, maxIter: 20 }, generations: 100, samplesPerGeneration: 1000, seed: 1, metrics: ['modes'] }
const SWEEP = { name: 'bench-sweep', data: { kind: 'ring', n: 4000 }, model: { kind: 'gmm', components: 8 }, generations: 20, samplesPerGeneration: 4000, replicates: 8, seed: 1, metrics: ['modes', 'moments'] }

export function redisAvailable() {
  return spawnSync('redis-server', ['--version']).status === 0
}

export async function benchQueue() {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-bench-queue-'))
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  const redis = await startRedis(port, dir)
  const workers = []
  try {
    const rows = []
    workers.push(await startWorker(url))
    // Best of two: the machine is shared, and a slow moment only ever adds time.
    const best = async (measure) => Math.min(await measure(), await measure())
    for (const [label, config] of [['empty', EMPTY], ['small', SMALL]]) {
      const local = await best(() => perTask(config, dir, null))
      const queued = await best(() => perTask(config, dir, url))
      rows.push({
        name: `per-task ${label} (${config.generations} tasks of one generation)`,
        localMsPerTask: local,
        queueMsPerTask: queued,
        overheadMsPerTask: queued - local,
      })
    }

    const config = join(dir, 'sweep.json')
    writeFileSync(config, JSON.stringify(SWEEP))
    const once = (args) => timeProcess(process.execPath, [MAIN, 'run', config, '--out', join(dir, `run-${randomUUID()}`), ...args]).seconds
    const wall = (args) => Math.min(once(args), once(args))
    const sweep = { name: 'sweep of 8 GMM chains (ring, 4,000 points, 20 generations)' }
    sweep.local1 = wall(['--workers', '1'])
    sweep.local2 = wall(['--workers', '2'])
    sweep.queue1 = wall(['--queue', url])
    workers.push(await startWorker(url))
    sweep.queue2 = wall(['--queue', url])
    sweep.speedup = sweep.queue1 / sweep.queue2
    rows.push(sweep)
    return rows
  } finally {
    for (const w of workers) w.kill('SIGTERM')
    redis.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Milliseconds a task of `config` takes end to end, on the local pool (url null) or through the queue. */
async function perTask(config, dir, url) {
  const { resolveRun } = await import(dist('cli/dist/index.js'))
  const { portableModule } = await import(dist('cli/dist/portable.js'))
  const { LocalRunner, cellSpecsOf, mapModules, runChains } = await import(dist('scheduler/dist/index.js'))
  const { QueueRunner, queueAddress } = await import(dist('scheduler/dist/queue/index.js'))
  const resolved = await resolveRun(config, '(bench)')
  const runDir = mkdtempSync(join(dir, 'per-task-'))
  const runId = randomUUID()
  const info = {
    name: config.name, status: 'running', startedAt: new Date().toISOString(), finishedAt: null, seed: 1, workers: 1, backend: 'none',
    config: resolved.config, cells: [], chains: resolved.chains.map((c) => ({ id: c.id, cell: c.cell, replicate: c.replicate, seed: c.seed, status: 'pending', generationsDone: 0 })),
    metricOptions: resolved.metricOptions, metrics: resolved.metrics, modality: resolved.modality, dataset: resolved.dataset, packages: {}, node: process.version,
    runId, cellSpecs: cellSpecsOf(resolved.chains.map((c) => mapModules(c, portableModule))),
  }
  const runner = url === null ? new LocalRunner(1) : await QueueRunner.open({ address: queueAddress(url), runId, runDir, timeoutMs: 60_000 })
  const t0 = performance.now()
  await runChains({ runDir, chains: resolved.chains, info, modality: resolved.modality, runner, segmentMs: 0 })
  return (performance.now() - t0) / config.generations
}

function freePort() {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => done(port))
    })
  })
}

function startRedis(port, dir) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] })
  return untilLine(child, 'Ready to accept connections')
}

function startWorker(url) {
  const child = spawn(process.execPath, [MAIN, 'worker', '--queue', url, '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] })
  return untilLine(child, 'taking tasks from')
}

function untilLine(child, text) {
  return new Promise((done, fail) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk.toString()
      if (out.includes(text)) done(child)
    })
    child.once('exit', (code) => fail(new Error(`${child.spawnargs.join(' ')} exited with ${code}: ${out}`)))
  })
}
