import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseConfig, expandSweep } from '@ouroboros/core'
import { readRecords, readState, statePath, type RunInfo } from '@ouroboros/store'
import { LocalRunner, builtinPolicies, recordOutputInfo, runChains, type AdvanceTask, type ChainSpec, type EvaluateTask, type Runner, type TaskPriority } from '@ouroboros/scheduler'

const fixtures = new URL('./fixtures/', import.meta.url)
const datasetsUrl = import.meta.resolve('@ouroboros/datasets')
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ouroboros-scheduler-'))
  dirs.push(d)
  return d
}

function chains(raw: Record<string, unknown>, modelParams: Record<string, unknown> = {}, streamAboveBytes = Infinity, metricOptions: Record<string, unknown> = {}): ChainSpec[] {
  const config = parseConfig({ data: { kind: 'gaussian', n: 50 }, model: { kind: 'test' }, generations: 12, replicates: 3, ...raw }, 'test')
  return expandSweep(config, 'test').flatMap((cell) =>
    Array.from({ length: cell.config.replicates }, (_, r) => ({
      id: `c${cell.index}-r${r}`,
      cell: cell.index,
      replicate: r,
      seed: 1000 + r,
      params: cell.params,
      // As the CLI resolves it: the policy's parameters with their defaults.
      config: { ...cell.config, policy: resolvedPolicy(cell.config.policy) },
      n: 50,
      samplesPerGeneration: cell.config.samplesPerGeneration ?? 50,
      modelModule: new URL('test-model.mjs', fixtures).href,
      modelParams,
      datasetModule: datasetsUrl,
      datasetKind: 'gaussian',
      datasetParams: { d: 1, mean: 0, std: 1 },
      metrics: [{ id: 'stats', module: new URL('test-metrics.mjs', fixtures).href, options: metricOptions }],
      tasks: [],
      keepGenerations: [0],
      streamAboveBytes,
    })),
  )
}

function resolvedPolicy({ kind, ...params }: { kind: string }): { kind: string } {
  return { kind, ...builtinPolicies[kind]!.params.parse(params) }
}

function info(specs: ChainSpec[]): RunInfo {
  return {
    name: 't', status: 'running', startedAt: '', finishedAt: null, seed: 0, workers: 1, backend: 'none', config: {}, cells: [],
    chains: specs.map((c) => ({ id: c.id, cell: c.cell, replicate: c.replicate, seed: c.seed, status: 'pending', generationsDone: 0 })),
    metricOptions: {}, metrics: ['stats'], modality: 'vectors', dataset: {}, packages: {}, node: process.version,
  }
}

async function run(specs: ChainSpec[], workers: number, segmentMs = 0, resume = false, dir = tempDir()) {
  const result = await runChains({ runDir: dir, chains: specs, info: info(specs), modality: 'vectors', workers, segmentMs, resume })
  return { dir, result, records: readRecords(dir).map(({ timings: _t, ...r }) => r) }
}

describe('runChains', () => {
  it('gives identical records for 1 and 2 workers and any segment length', async () => {
    const specs = chains({ sweep: { 'policy.kind': ['replace', 'accumulate', 'mix'] } })
    const a = await run(specs, 1, 0)
    const b = await run(specs, 2, 1000)
    expect(a.records.length).toBe(3 * 3 * 13)
    expect(b.records).toEqual(a.records)
    expect(a.result.info.status).toBe('finished')
  })

  it('tells its progress listener how far fits and post-training stages are, from the worker threads, and gives the same records without one', async () => {
    const specs = chains({ generations: 2, replicates: 2, posttrain: [{ kind: 'rl', reward: { kind: 'point', at: [1] }, beta: 1, steps: 40, evalEvery: 0 }] })
    const steps = new Map<string, number[]>()
    const order = new Map<string, string[]>()
    const dir = tempDir()
    await runChains({
      runDir: dir, chains: specs, info: info(specs), modality: 'vectors', workers: 2,
      onProgress: (e) => {
        if (e.training === undefined) return
        const key = `${e.chain} ${e.generation} ${e.training.what}`
        expect(e.training.steps, key).toBe(e.training.what === 'fit' ? 1 : e.training.what === 'rl' ? 40 : 0)
        steps.set(key, [...(steps.get(key) ?? []), e.training.step])
        order.set(`${e.chain} ${e.generation}`, [...(order.get(`${e.chain} ${e.generation}`) ?? []), e.training.what])
      },
    })
    // Every chain's every generation said so, in order, ending at its last step (the test model's
    // fit is one step), then that it draws and scores its samples.
    const keys = ['c0-r0 0', 'c0-r0 1', 'c0-r1 0', 'c0-r1 1'].flatMap((k) => [`${k} fit`, `${k} rl`, `${k} sampling and scoring`])
    expect([...steps.keys()].sort()).toEqual(keys.sort())
    for (const [key, seen] of steps) {
      expect(seen.at(-1), key).toBe(key.endsWith('fit') ? 1 : key.endsWith('rl') ? 40 : 0)
      expect([...seen].sort((a, b) => a - b), key).toEqual(seen)
    }
    for (const [generation, whats] of order) expect(whats.at(-1), generation).toBe('sampling and scoring')
    const without = await run(specs, 1)
    expect(readRecords(dir).map(({ timings: _t, ...r }) => r)).toEqual(without.records)
  })

  it('describes the reward of a stage whose reward is a proxy without saying that higher is better, in any cell of a sweep', async () => {
    const proxy = { kind: 'proxy', of: { kind: 'point', at: [1] }, labels: 50 }
    const stages = (reward: unknown) => [{ kind: 'rl', reward, beta: 1, steps: 4 }]
    const gold = await recordOutputInfo(chains({ replicates: 1, posttrain: stages({ kind: 'point', at: [1] }) }))
    expect(gold['reward']?.better).toBe('higher')
    const swept = await recordOutputInfo(chains({ replicates: 1, posttrain: stages({ kind: 'point', at: [1] }), sweep: { 'posttrain.0.reward': [{ kind: 'point', at: [1] }, proxy] } }))
    expect(swept['reward']?.better).toBe('raised')
    expect(swept['reward']?.title).toContain('proxy')
    expect(swept['gold_reward']?.better).toBe('higher')
    // A finetuning stage after a proxy's leaves the generation's reward the proxy's; a gold stage after it, the gold's.
    expect((await recordOutputInfo(chains({ replicates: 1, posttrain: [...stages(proxy), { kind: 'finetune', data: {}, steps: 2 }] })))['reward']?.better).toBe('raised')
    expect((await recordOutputInfo(chains({ replicates: 1, posttrain: [...stages(proxy), ...stages({ kind: 'point', at: [1] })] })))['reward']?.better).toBe('higher')
  })

  it('calls a chain running only once a worker has taken its first task', async () => {
    // One worker, three chains run one at a time (mix is not run in blocks), a generation a task:
    // when the first record comes, the third chain has not been taken yet.
    const specs = chains({ policy: { kind: 'mix' } })
    const runInfo = info(specs)
    let seen: string[] | undefined
    const result = await runChains({
      runDir: tempDir(), chains: specs, info: runInfo, modality: 'vectors', workers: 1, segmentMs: 0,
      onProgress: () => (seen ??= runInfo.chains.map((c) => c.status)),
    })
    expect(seen![0]).toBe('running')
    expect(seen![2]).toBe('pending')
    expect(result.info.chains.map((c) => c.status)).toEqual(['finished', 'finished', 'finished'])
  })

  it('keeps only the model states a resume can need', async () => {
    const { readdirSync } = await import('node:fs')
    const { dir } = await run(chains({ replicates: 2 }), 2, 0)
    for (const chain of ['c0-r0', 'c0-r1']) {
      const states = readdirSync(join(dir, 'chains', chain)).filter((f) => f.endsWith('.state'))
      // A checkpoint every generation (segments of 0 ms); the last one, 11, always stays.
      expect(states.length).toBeLessThanOrEqual(2)
      expect(states).toContain('gen-000011.state')
    }
  })

  it('builds training sets as each policy says', async () => {
    const specs = chains({ sweep: { 'policy.kind': ['replace', 'accumulate'] }, replicates: 1, generations: 4 })
    const { records } = await run(specs, 2)
    const size = (cell: number, g: number) => records.find((r) => r.cell === cell && r.generation === g)!.metrics['training_size']
    expect([0, 1, 2, 3].map((g) => size(0, g))).toEqual([50, 50, 50, 50])
    expect([0, 1, 2, 3].map((g) => size(1, g))).toEqual([50, 100, 150, 200])
  })

  it('streams large accumulated training sets from the sample files, with the same records', async () => {
    const raw = { sweep: { 'policy.kind': ['accumulate', 'accumulate-subsample', 'replace'] }, replicates: 2, generations: 6, samplesPerGeneration: 30 }
    const inMemory = await run(chains(raw), 2)
    // 400 bytes: from generation 1 on (50 + 30 rows of 8 bytes) accumulate goes over it.
    const streamed = await run(chains(raw, {}, 400), 2)
    expect(streamed.records).toEqual(inMemory.records)
    const sizes = inMemory.records.filter((r) => r.cell === 0 && r.replicate === 0 && r.generation >= 0).map((r) => r.metrics['training_size'])
    expect(sizes).toEqual([50, 80, 110, 140, 170, 200])
    const via = (dir: string, chain: string) => readState<{ via: string }>(statePath(dir, chain, 5)).via
    // accumulate streams; a subsample (30 rows) and replace stay in memory.
    expect([via(streamed.dir, 'c0-r0'), via(streamed.dir, 'c1-r0'), via(streamed.dir, 'c2-r0')]).toEqual(['rows', 'array', 'array'])
    expect(via(inMemory.dir, 'c0-r1')).toBe('array')
  })

  it("fails every replicate's chain alike where its policy reads an older generation without needsAllGenerations, saying to set it", async () => {
    const windowed = (kind: string) =>
      chains({ replicates: 3, generations: 4 }).map((c) => ({ ...c, config: { ...c.config, keepSamples: 1, policy: { kind, module: new URL('window-policy.mjs', fixtures).href, k: 2 } } }))
    for (const segmentMs of [0, 1000]) {
      const { result } = await run(windowed('window-undeclared'), 2, segmentMs)
      expect(result.failed.map((c) => c.id).sort()).toEqual(['c0-r0', 'c0-r1', 'c0-r2'])
      for (const c of result.failed) {
        expect(c.error).toMatchObject({ generation: 2, code: 'OUROBOROS_PLUGIN', hint: "set needsAllGenerations: true in its definePolicy, so that every generation's samples are kept for it" })
        expect(c.error!.message).toMatch(/^policy 'window-undeclared' \(.*window-policy\.mjs\): generation 2's training set reads generation 0's samples, but the policy does not declare needsAllGenerations: true/)
      }
      const declared = await run(windowed('window'), 2, segmentMs)
      expect(declared.result.failed).toEqual([])
      expect(declared.records.filter((r) => r.chain === 'c0-r2' && r.generation >= 0).map((r) => r.metrics['training_size'])).toEqual([50, 50, 100, 100])
    }
  })

  it('warm start passes the previous state to fit', async () => {
    const specs = chains({ warmStart: true, replicates: 1, generations: 3 })
    const { records } = await run(specs, 1)
    expect(records.filter((r) => r.generation >= 0)).toHaveLength(3)
  })

  it('tries the generation of a task whose thread died alone, then goes on in segments, with the same records', async () => {
    const specs = chains({ replicates: 1 })
    // The first tasks from generations 0 and 1 die, as a thread killed by the system would.
    const local = new LocalRunner(1)
    const advances: AdvanceTask[] = []
    const dying = new Set([0, 1])
    const runner: Runner = {
      segmentMs: 1000,
      run(task: AdvanceTask | EvaluateTask, priority: TaskPriority, onStart?: () => void) {
        if (task.kind !== 'advance') return local.run(task, priority, onStart)
        advances.push(task)
        if (task.budgetMs > 0 && dying.delete(task.from)) return Promise.reject(new Error('the worker thread exited'))
        return local.run(task, priority, onStart)
      },
      close: () => local.close(),
      destroy: () => local.destroy(),
    }
    const notices: string[] = []
    const dir = tempDir()
    const result = await runChains({ runDir: dir, chains: specs, info: info(specs), modality: 'vectors', runner, onProgress: (e) => e.notice !== undefined && notices.push(e.notice) })
    expect(result.info.status).toBe('finished')
    // Each death costs one task of one generation; the rest of the chain is one segment again.
    expect(advances.map((t) => [t.from, t.budgetMs])).toEqual([[0, 1000], [0, 0], [1, 1000], [1, 0], [2, 1000]])
    expect(notices).toEqual([
      'chain c0-r0: the task from generation 0 died (the worker thread exited); generation 0 is tried again alone',
      'chain c0-r0: the task from generation 1 died (the worker thread exited); generation 1 is tried again alone',
    ])
    expect(readRecords(dir).map(({ timings: _t, ...r }) => r)).toEqual((await run(specs, 1, 1000)).records)
  })

  it('fails only the chain whose model throws, with its generation', async () => {
    const good = chains({ replicates: 1 })
    const bad = chains({ replicates: 1 }, { throwAt: 5 }).map((c) => ({ ...c, id: 'bad', replicate: 1 }))
    const { result, records } = await run([...good, ...bad], 2)
    expect(result.failed.map((c) => c.id)).toEqual(['bad'])
    expect(result.failed[0]!.error).toMatchObject({ generation: 5 })
    // Which model and hook threw, and where, since its stack stays in the worker thread.
    expect(result.failed[0]!.error!.message).toMatch(/^model 'test-gaussian' \(\/.*\/fixtures\/test-model\.mjs\): fit threw: boom at 5 \(at file:\/\/\/.*\/fixtures\/test-model\.mjs:\d+:\d+\)$/)
    expect(records.filter((r) => r.chain === good[0]!.id && r.generation >= 0)).toHaveLength(12)
    expect(records.filter((r) => r.chain === 'bad' && r.generation >= 0).map((r) => r.generation)).toEqual([0, 1, 2, 3, 4])
    expect(result.info.status).toBe('failed')
  })

  it('records a throwing metric group as null, with the reason in run.json, and keeps the other groups', async () => {
    for (const segmentMs of [0, 1000]) {
      // Training sets grow by 50 a generation: 200 rows is generation 3's.
      const specs = chains({ replicates: 1, policy: { kind: 'accumulate' }, generations: 6 }, {}, Infinity, { throwAtTrainingSize: 200 }).map((c) => ({
        ...c,
        metrics: [...c.metrics, { id: 'size', module: c.metrics[0]!.module, options: {} }],
      }))
      const { result, records } = await run(specs, 2, segmentMs)
      expect(result.failed).toEqual([])
      expect(result.info.status).toBe('finished')
      const byGeneration = new Map(records.map((r) => [r.generation, r.metrics]))
      expect(byGeneration.get(3)!['sample_mean']).toBeNull()
      expect(byGeneration.get(3)!['training_size']).toBeNull()
      expect(byGeneration.get(3)!['generated_n']).toBe(50)
      expect(byGeneration.get(4)!['training_size']).toBe(250)
      expect(result.info.chains[0]!.metricErrors).toEqual([
        { group: 'stats', message: 'metric failed on a training set of 200', firstGeneration: 3, generations: 1 },
      ])
    }
  })

  it("records a metric group whose values are not its declared outputs as null, naming the group and the keys, and fails the chain when the config says so", async () => {
    const cases = [
      ['missing', "compute returned no value for 'generated_n', which its outputs declare (null stands for no value); its outputs are 'generated_n'"],
      ['extra', "compute returned 'generated_d', which its outputs do not declare; its outputs are 'generated_n'"],
    ] as const
    for (const [misreport, message] of cases) {
      const withSize = (specs: ChainSpec[]) => specs.map((c) => ({ ...c, metrics: [...c.metrics, { id: 'size', module: c.metrics[0]!.module, options: { misreport } }] }))
      const { result, records } = await run(withSize(chains({ replicates: 1, generations: 3 })), 1)
      expect(result.failed).toEqual([])
      expect(records.filter((r) => r.generation >= 0).map((r) => [r.metrics['generated_n'], typeof r.metrics['sample_mean']])).toEqual([[null, 'number'], [null, 'number'], [null, 'number']])
      expect(records.some((r) => 'generated_d' in r.metrics)).toBe(false)
      expect(result.info.chains[0]!.metricErrors).toEqual([{ group: 'size', message, firstGeneration: -1, generations: 4 }])
      const failing = await run(withSize(chains({ replicates: 1, generations: 3, metricErrors: 'fail' })), 1)
      // It fails first on the real data's reference record, generation -1.
      expect(failing.result.failed[0]!.error).toMatchObject({ generation: -1, message: `metric group 'size': ${message}` })
    }
  })

  it('fails only the chain whose metric throws when the config says so, also when its evaluation runs as a task of its own', async () => {
    const good = chains({ replicates: 1, policy: { kind: 'accumulate' }, generations: 6, metricErrors: 'fail' })
    // Training sets grow by 50 a generation: 200 rows is generation 3's.
    const bad = chains({ replicates: 1, policy: { kind: 'accumulate' }, generations: 6, metricErrors: 'fail' }, {}, Infinity, { throwAtTrainingSize: 200 }).map((c) => ({ ...c, id: 'bad', replicate: 1 }))
    const { result, records } = await run([...good, ...bad], 2, 0)
    expect(result.failed.map((c) => c.id)).toEqual(['bad'])
    expect(result.failed[0]!.error).toMatchObject({ generation: 3 })
    expect(result.failed[0]!.error!.message).toContain('metric failed on a training set of 200')
    expect(records.filter((r) => r.chain === good[0]!.id && r.generation >= 0)).toHaveLength(6)
    expect(result.info.status).toBe('failed')
  })

  it('reports NaN samples as a diverged generation, and retries it with a new seed when asked', async () => {
    const diverged = await run(chains({ replicates: 1 }, { nanAt: 3 }), 1)
    expect(diverged.result.failed[0]!.error).toMatchObject({ generation: 3, code: 'OUROBOROS_DIVERGED' })
    const retried = await run(chains({ replicates: 1, retries: 20 }, { flakyAt: 3 }), 1)
    expect(retried.result.failed).toEqual([])
    expect(retried.records.filter((r) => r.generation >= 0)).toHaveLength(12)
  })

  it('resumes an interrupted run to the same records', async () => {
    const specs = chains({ sweep: { 'policy.kind': ['replace', 'accumulate'] } })
    const full = await run(specs, 2, 0)
    const dir = tempDir()
    const controller = new AbortController()
    let seen = 0
    await runChains({
      runDir: dir, chains: specs, info: info(specs), modality: 'vectors', workers: 2, segmentMs: 0, signal: controller.signal,
      onProgress: () => { if (++seen === 20) controller.abort() },
    })
    const partial = readRecords(dir).filter((r) => r.generation >= 0).length
    expect(partial).toBeLessThan(specs.length * 12)
    // A torn last line, as a kill during an append leaves.
    const ndjson = join(dir, 'metrics.ndjson')
    const text = readFileSync(ndjson, 'utf8')
    rmSync(ndjson)
    const { writeFileSync } = await import('node:fs')
    writeFileSync(ndjson, text + '{"chain": "c0-r0", "gen')
    const resumed = await run(specs, 1, 0, true, dir)
    expect(resumed.records).toEqual(full.records)
  })
})
