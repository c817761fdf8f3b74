import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseConfig, expandSweep } from '@ouroboros/core'
import { readRecords, readRunInfo, type RunInfo } from '@ouroboros/store'
import { runChains, type ChainSpec, type ProgressEvent } from '@ouroboros/scheduler'

const fixtures = new URL('./fixtures/', import.meta.url)
const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ouroboros-block-'))
  dirs.push(d)
  return d
}

/** Two cells (sampling temperatures) of 7 replicates: the test model and a metric group that reads the training set and draws from its stream. */
function chains(raw: Record<string, unknown> = {}, modelParams: Record<string, unknown> = {}, metricOptions: Record<string, unknown> = {}): ChainSpec[] {
  const config = parseConfig({ data: { kind: 'gaussian', n: 50 }, model: { kind: 'test' }, generations: 15, replicates: 7, sweep: { 'sampling.temperature': [1, 0.9] }, ...raw }, 'test')
  return expandSweep(config, 'test').flatMap((cell) =>
    Array.from({ length: cell.config.replicates }, (_, r) => ({
      id: `c${cell.index}-r${r}`,
      cell: cell.index,
      replicate: r,
      seed: 500 + r,
      params: cell.params,
      config: cell.config,
      n: 50,
      samplesPerGeneration: 40,
      modelModule: new URL('test-model.mjs', fixtures).href,
      modelParams,
      datasetModule: import.meta.resolve('@ouroboros/datasets'),
      datasetKind: 'gaussian',
      datasetParams: { d: 1, mean: 0, std: 1 },
      metrics: [{ id: 'stats', module: new URL('test-metrics.mjs', fixtures).href, options: metricOptions }],
      tasks: [],
      keepGenerations: [0, 14],
      streamAboveBytes: Infinity,
    })),
  )
}

function info(specs: ChainSpec[]): RunInfo {
  return {
    name: 't', status: 'running', startedAt: '', finishedAt: null, seed: 0, workers: 1, backend: 'none', config: {}, cells: [],
    chains: specs.map((c) => ({ id: c.id, cell: c.cell, replicate: c.replicate, seed: c.seed, status: 'pending', generationsDone: 0 })),
    metricOptions: {}, metrics: ['stats'], modality: 'vectors', dataset: {}, packages: {}, node: process.version,
  }
}

async function run(specs: ChainSpec[], workers: number, blockChains: number, opts: { dir?: string; resume?: boolean; signal?: AbortSignal; onProgress?: (e: ProgressEvent) => void; blockBudgetMs?: number } = {}) {
  const dir = opts.dir ?? tempDir()
  await runChains({
    runDir: dir, chains: specs, info: info(specs), modality: 'vectors', workers, segmentMs: 0, blockChains, resume: opts.resume ?? false,
    ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), ...(opts.blockBudgetMs === undefined ? {} : { blockBudgetMs: opts.blockBudgetMs }),
  })
  const chainsInfo = readRunInfo(dir).chains.map(({ id, status, generationsDone, error, metricErrors }) => ({ id, status, generationsDone, error, metricErrors }))
  return { dir, records: readRecords(dir).map(({ timings: _t, ...r }) => r), chains: chainsInfo }
}

describe('blocks of chains', () => {
  it('give the records of one chain per task, for any block size and worker count', async () => {
    const specs = chains()
    const one = await run(specs, 1, 1)
    expect(one.records).toHaveLength(14 * 16)
    for (const [workers, block] of [[1, 7], [2, 3], [2, 64]] as const) {
      const blocked = await run(specs, workers, block)
      expect(blocked.records, `${workers} workers, blocks of ${block}`).toEqual(one.records)
      expect(blocked.chains).toEqual(one.chains)
      // What a resume and the report read: the real data, the kept generations, the last state
      // (chain by chain, a segment of one generation also leaves each generation's samples).
      const files = ['gen-000000.samples.npy', 'gen-000014.samples.npy', 'gen-000014.state', 'real.npy']
      expect(readdirSync(join(blocked.dir, 'chains', 'c1-r3')).sort()).toEqual(files)
      expect(readdirSync(join(one.dir, 'chains', 'c1-r3'))).toEqual(expect.arrayContaining(files))
    }
  })

  it('hand a failing chain, a diverged generation and a failing metric group back to chain-by-chain runs, with the same outcome', async () => {
    const cases = [
      chains({}, { throwAt: 6 }),
      chains({ retries: 3 }, { flakyAt: 4 }),
      chains({}, {}, { throwAtTrainingSize: 40 }),
    ]
    for (const specs of cases) {
      const one = await run(specs, 2, 1)
      const blocked = await run(specs, 2, 5)
      expect(blocked.records).toEqual(one.records)
      expect(blocked.chains).toEqual(one.chains)
    }
  })

  it("fail a chain whose model's samples are not n items of the data's dimension, naming the model, in blocks and chain by chain", async () => {
    for (const [params, got] of [[{ wideAt: 3 }, '40 x 2'], [{ shortAt: 3 }, '39 x 1']] as const) {
      const specs = chains({ replicates: 2 }, params)
      for (const block of [1, 4]) {
        const { chains: done, records } = await run(specs, 2, block)
        expect(done.map((c) => c.status), `${got}, blocks of ${block}`).toEqual(['failed', 'failed', 'failed', 'failed'])
        for (const c of done) {
          expect(c.error).toMatchObject({ generation: 3, code: 'OUROBOROS_MODEL' })
          expect(c.error!.message).toBe(`model 'test': sample(state, 40) returned ${got} values; expected 40 x 1 (the 40 items asked for, in the data's dimension 1)`)
        }
        expect(records.filter((r) => r.chain === 'c0-r0' && r.generation >= 0).map((r) => r.generation)).toEqual([0, 1, 2])
      }
    }
  })

  it('hand a block whose block hook draws the wrong number of rows back to chain-by-chain runs, with the records of those, and say why', async () => {
    for (const shortBlocks of [false, true]) {
      const specs = chains({}, { shortBlocks }).map((c) => ({ ...c, modelModule: new URL('block-model.mjs', fixtures).href }))
      const one = await run(specs, 2, 1)
      const notices = new Set<string>()
      const blocked = await run(specs, 2, 5, { onProgress: (e) => void (e.notice !== undefined && notices.add(e.notice)) })
      expect(blocked.records, `shortBlocks ${shortBlocks}`).toEqual(one.records)
      expect(blocked.chains).toEqual(one.chains)
      // Blocks of 5 and of 2 (7 replicates a cell).
      const said = (k: number) => `model 'test': blocks.sample(state, 40) returned ${k} chains of 39 x 1 values (${39 * k} in all); expected ${k} chains of 40 x 1; its chains go on one at a time through sample(), more slowly`
      expect([...notices].sort()).toEqual(shortBlocks ? [said(2), said(5)] : [])
    }
  })

  it("hand a block whose metric group returns values its outputs do not declare back to chain-by-chain runs, with their records and warnings", async () => {
    const specs = (options: Record<string, unknown>) =>
      chains().map((c) => ({ ...c, modelModule: new URL('block-model.mjs', fixtures).href, metrics: [{ id: 'size', module: c.metrics[0]!.module, options }] }))
    // compute and computeBlock both: every record has the group as failed, the reference record's included.
    const bad = specs({ misreport: 'extra' })
    const one = await run(bad, 2, 1)
    const blocked = await run(bad, 2, 5)
    expect(blocked.records).toEqual(one.records)
    expect(blocked.chains).toEqual(one.chains)
    expect(one.chains[0]!.metricErrors).toMatchObject([{ group: 'size', firstGeneration: -1, generations: 16, message: expect.stringContaining("'generated_d', which its outputs do not declare") }])
    // computeBlock alone: compute, chain by chain, gives the values.
    const badBlock = specs({ misreportBlock: 'missing' })
    const good = await run(badBlock, 2, 1)
    const handedBack = await run(badBlock, 2, 5)
    expect(handedBack.records).toEqual(good.records)
    expect(good.records.every((r) => r.metrics['generated_n'] === 40)).toBe(true)
    expect(handedBack.chains.map((c) => c.metricErrors)).toEqual(good.chains.map(() => undefined))
  })

  it('resume after a stop midway gives the records of an uninterrupted run', async () => {
    const specs = chains({ generations: 40 })
    const full = await run(specs, 2, 4)
    const controller = new AbortController()
    let seen = 0
    const dir = tempDir()
    // A generation a task, so that the stop lands midway however fast the machine.
    await run(specs, 2, 4, { dir, signal: controller.signal, blockBudgetMs: 0, onProgress: () => void (++seen === 150 && controller.abort()) })
    expect(readRecords(dir).length).toBeLessThan(full.records.length)
    const resumed = await run(specs, 1, 3, { dir, resume: true })
    expect(resumed.records).toEqual(full.records)
  })

  it("say how far each chain's fit is, then that it draws and scores its samples, then that its generation is over (its record comes with the block's)", async () => {
    const specs = chains({ generations: 3, replicates: 3 })
    const said = new Map<string, string[]>()
    await run(specs, 2, 3, {
      onProgress: (e) => {
        if (e.training === undefined) return
        const key = `${e.chain} ${e.generation}`
        said.set(key, [...(said.get(key) ?? []), `${e.training.what} ${e.training.step}/${e.training.steps}${e.training.over === true ? ' over' : ''}`])
      },
    })
    // The test model's fit is one step: a last step is said however soon it comes.
    expect([...said.keys()].sort()).toEqual(specs.flatMap((c) => [0, 1, 2].map((g) => `${c.id} ${g}`)).sort())
    for (const [key, seen] of said) expect(seen, key).toEqual(['fit 1/1', 'sampling and scoring 0/0', ' 0/0 over'])
  })
})
