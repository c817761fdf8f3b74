import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readRecords } from '@ouroboros/store'
import { advanceBlock, type ChainSpec } from '@ouroboros/scheduler'
import { resolveRun } from '@ouroboros/cli'
import { runInBlocks, type BlockRunOptions } from './block-runs.js'
import { cleanup, tempDir } from './helpers.js'

afterAll(cleanup)

const spy = new URL('./fixtures/spy-gaussian.mjs', import.meta.url).href

/** Two cells (sampling temperatures) of 6 replicates of the Gaussian chain under `replace`. */
async function chains(extra: Record<string, unknown> = {}): Promise<ChainSpec[]> {
  const config = {
    data: { kind: 'gaussian', d: 1, n: 30 },
    model: { kind: 'gaussian', estimator: 'unbiased' },
    generations: 12,
    samplesPerGeneration: 20,
    replicates: 6,
    heldout: 25,
    metrics: ['moments', 'likelihood'],
    sweep: { 'sampling.temperature': [1, 0.8] },
    ...extra,
  }
  return (await resolveRun(config, '(test)')).chains
}

const run = (specs: ChainSpec[], workers: number, blockChains: number, opts: BlockRunOptions = {}) => runInBlocks(specs, workers, blockChains, opts)

describe('blocks through the model and metric block hooks', () => {
  it('give the records and files of one chain per task, for several block sizes, 1 and 2 workers, in 1-D and 3-D', async () => {
    for (const d of [1, 3]) {
      const specs = await chains({ data: { kind: 'gaussian', d, n: 30 } })
      const one = await run(specs, 1, 1)
      expect(one.records).toHaveLength(2 * 6 * 13)
      expect(one.records.every((r) => r.generation < 0 || (typeof r.metrics['nll_real'] === 'number' && typeof r.metrics['total_variance'] === 'number'))).toBe(true)
      for (const [workers, block] of [[1, 6], [2, 4], [2, 64]] as const) {
        const blocked = await run(specs, workers, block)
        expect(blocked.records, `d ${d}, ${workers} workers, blocks of ${block}`).toEqual(one.records)
        expect(blocked.chains).toEqual(one.chains)
        for (const file of ['real.npy', 'gen-000011.samples.npy', 'gen-000011.state']) {
          expect(readFileSync(join(blocked.dir, 'chains', 'c1-r4', file)), file).toEqual(readFileSync(join(one.dir, 'chains', 'c1-r4', file)))
        }
        // What a resume and the report read: the real data, the kept generations, the last state.
        const kept = [...new Set([...specs[0]!.keepGenerations, 11])].map((g) => `gen-${String(g).padStart(6, '0')}.samples.npy`)
        expect(readdirSync(join(blocked.dir, 'chains', 'c1-r4')).sort()).toEqual([...kept, 'gen-000011.state', 'real.npy'].sort())
      }
    }
  })

  it('score chain by chain on the block’s samples when a group has no computeBlock, with the same records', async () => {
    const specs = await chains({ metrics: ['moments', 'sliced_wasserstein'] })
    const one = await run(specs, 2, 1)
    expect(one.records.some((r) => typeof r.metrics['sliced_wasserstein'] === 'number')).toBe(true)
    expect((await run(specs, 2, 5)).records).toEqual(one.records)
  })

  it('hand a fit that fails back to chain-by-chain runs, with the same outcome', async () => {
    // One sample a generation: the unbiased Gaussian cannot fit generation 1. The config check
    // refuses such a config before a run, so the chains are given it past the check.
    const specs = (await chains()).map((c) => ({ ...c, samplesPerGeneration: 1, config: { ...c.config, samplesPerGeneration: 1 } }))
    const one = await run(specs, 2, 1)
    const blocked = await run(specs, 2, 6)
    expect(one.chains.every((c) => c.status === 'failed' && c.error?.generation === 1)).toBe(true)
    expect(blocked.chains).toEqual(one.chains)
    expect(blocked.records).toEqual(one.records)
  })

  it('resume after a stop midway gives the records of an uninterrupted run', async () => {
    const specs = await chains({ generations: 40 })
    const full = await run(specs, 2, 1)
    const controller = new AbortController()
    let seen = 0
    const dir = tempDir('ouroboros-blocks-')
    // A generation a task, so that the stop lands midway however fast the machine.
    await run(specs, 2, 6, { dir, signal: controller.signal, blockBudgetMs: 0, onProgress: () => void (++seen === 150 && controller.abort()) })
    expect(readRecords(dir).length).toBeLessThan(full.records.length)
    const resumed = await run(specs, 1, 4, { dir, resume: true })
    expect(resumed.records).toEqual(full.records)
    // The checkpoint it resumed from goes once a newer one has its records: only the last state stays.
    for (const chain of specs) expect(readdirSync(join(dir, 'chains', chain.id)).filter((f) => f.endsWith('.state'))).toEqual(['gen-000039.state'])
  })

  it('fit, sample and score a generation of every chain in one call each, and never chain by chain', async () => {
    const specs = (await chains()).filter((c) => c.cell === 0).map((c) => ({ ...c, modelModule: spy, metrics: c.metrics.map((m) => ({ ...m, module: spy })) }))
    const { calls } = (await import(spy)) as { calls: Record<string, number> }
    const dir = tempDir('ouroboros-blocks-')
    const result = await advanceBlock({ kind: 'advance-block', runDir: dir, chains: specs, from: specs.map(() => 0), reference: specs.map(() => false), budgetMs: Infinity })
    expect(result.handBack).toBeUndefined()
    expect(result.next).toEqual(specs.map(() => 12))
    expect(calls).toEqual({ fit: 0, sample: 0, fitBlock: 12, sampleBlock: 12, compute: 0, computeBlock: 2 * 12 })
  })
})
