import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readRecords } from '@ouroboros/store'
import { advanceBlock, type ChainSpec } from '@ouroboros/scheduler'
import { resolveRun } from '@ouroboros/cli'
import { runInBlocks, type BlockRunOptions } from './block-runs.js'
import { cleanup, tempDir } from './helpers.js'

// The cpu backend runs the same arithmetic on every thread; worker threads inherit the variable.
process.env['OUROBOROS_BACKEND'] = 'cpu'

afterAll(cleanup)

const spy = new URL('./fixtures/spy-vae.mjs', import.meta.url).href

/** 5 replicates of a tiny VAE on the ring under `replace`. */
async function chains(extra: Record<string, unknown> = {}): Promise<ChainSpec[]> {
  const config = {
    data: { kind: 'ring', n: 120 },
    model: { kind: 'vae', epochs: 2, hidden: [8, 8], batch: 50 },
    generations: 3,
    samplesPerGeneration: 120,
    replicates: 5,
    metrics: ['modes', 'moments'],
    ...extra,
  }
  return (await resolveRun(config, '(test)')).chains
}

const run = (specs: ChainSpec[], workers: number, blockChains: number, opts: BlockRunOptions = {}) => runInBlocks(specs, workers, blockChains, { backend: 'cpu', ...opts })

describe('VAE replicates in blocks (cpu backend)', () => {
  it('give the records and checkpoints of one chain per task, for several block sizes and worker counts', async () => {
    const specs = await chains()
    const one = await run(specs, 1, 1)
    expect(one.records).toHaveLength(5 * 4)
    expect(one.records.every((r) => typeof r.metrics['total_variance'] === 'number')).toBe(true)
    for (const [workers, block] of [[1, 5], [2, 2], [2, 3]] as const) {
      const blocked = await run(specs, workers, block)
      expect(blocked.records, `${workers} workers, blocks of ${block}`).toEqual(one.records)
      expect(blocked.chains).toEqual(one.chains)
      const files = readdirSync(join(one.dir, 'chains', 'r3')).sort()
      expect(files).toContain('gen-000002.state')
      expect(readdirSync(join(blocked.dir, 'chains', 'r3')).sort()).toEqual(files)
      for (const file of files) expect(readFileSync(join(blocked.dir, 'chains', 'r3', file)), file).toEqual(readFileSync(join(one.dir, 'chains', 'r3', file)))
    }
  })

  it('resume after a stop midway gives the records of an uninterrupted run', async () => {
    // A generation a task, so that the stop lands midway however fast the machine.
    const specs = await chains({ generations: 12, model: { kind: 'vae', epochs: 6, hidden: [8, 8], batch: 50 } })
    const full = await run(specs, 1, 1)
    const controller = new AbortController()
    const dir = tempDir('ouroboros-blocks-vae-')
    await run(specs, 1, 5, { dir, signal: controller.signal, blockBudgetMs: 0, onProgress: () => controller.abort() })
    expect(readRecords(dir).length).toBeLessThan(full.records.length)
    const resumed = await run(specs, 2, 2, { dir, resume: true })
    expect(resumed.records).toEqual(full.records)
  })

  it('hand a model that reports training steps back to chain-by-chain runs, with the same records', async () => {
    const specs = await chains({ model: { kind: 'vae', epochs: 2, hidden: [8, 8], batch: 50, evalEvery: 2, evalSamples: 50 } })
    const one = await run(specs, 1, 1)
    const blocked = await run(specs, 1, 5)
    expect(blocked.records).toEqual(one.records)
    const curve = (dir: string) => readFileSync(join(dir, 'chains', 'r1', 'gen-000001.training.ndjson'), 'utf8')
    expect(curve(one.dir).length).toBeGreaterThan(0)
    expect(curve(blocked.dir)).toEqual(curve(one.dir))
  })

  it('train a generation of every chain in one block fit, and never chain by chain', async () => {
    const specs = (await chains()).map((c) => ({ ...c, modelModule: spy }))
    const { calls } = (await import(spy)) as { calls: Record<string, number> }
    const result = await advanceBlock({ kind: 'advance-block', runDir: tempDir('ouroboros-blocks-vae-'), chains: specs, from: specs.map(() => 0), reference: specs.map(() => false), budgetMs: Infinity })
    expect(result.handBack).toBeUndefined()
    expect(result.next).toEqual(specs.map(() => 3))
    expect(calls).toEqual({ fit: 0, fitBlock: 3, sampleBlock: 3 })
  })
})
