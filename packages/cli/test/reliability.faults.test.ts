// The long reliability suite (`pnpm test:faults`): kill points, worker counts and memory bounds.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import { MAIN, cleanup, cli, cliAsync, records, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

/** Configs of each modality and model family the kill test covers. */
const modalities: Record<string, unknown> = {
  'vectors, classical model (KDE on the ring, accumulate)': {
    name: 'kill-kde',
    data: { kind: 'ring', n: 1500 },
    model: { kind: 'kde' },
    policy: { kind: 'accumulate' },
    generations: 15,
    replicates: 2,
    seed: 21,
    metrics: ['modes', 'moments', 'likelihood'],
  },
  'vectors, GMM with warm start (mix)': {
    name: 'kill-gmm',
    data: { kind: 'grid', n: 3000 },
    model: { kind: 'gmm', components: 25 },
    policy: { kind: 'mix', realFraction: 0.2 },
    warmStart: true,
    generations: 12,
    replicates: 2,
    seed: 22,
    metrics: ['modes', 'moments'],
  },
  'vectors, neural model (VAE on tfjs)': {
    name: 'kill-vae',
    data: { kind: 'ring', n: 1000 },
    model: { kind: 'vae', epochs: 3 },
    generations: 6,
    replicates: 1,
    seed: 23,
    metrics: ['modes', 'moments'],
  },
  'vectors, neural model reading its training sets from disk (GAN, accumulate)': {
    name: 'kill-gan-streamed',
    data: { kind: 'ring', n: 1000 },
    model: { kind: 'gan', steps: 300, generator: [64], discriminator: [64], batch: 128 },
    policy: { kind: 'accumulate' },
    generations: 6,
    replicates: 1,
    seed: 25,
    metrics: ['modes', 'copy_rate'],
  },
  'tokens (trigram on Zipf sequences, mix)': {
    name: 'kill-ngram',
    data: { kind: 'zipf', vocabSize: 2000, exponent: 1.1, length: 20, n: 2000 },
    model: { kind: 'ngram', order: 3 },
    policy: { kind: 'mix', realFraction: 0.1 },
    generations: 15,
    replicates: 2,
    seed: 24,
    metrics: ['text', 'perplexity'],
  },
}

const KILL_POINTS = 4

/** Environment per case: the streamed case reads every training set after generation 0 from disk. */
const caseEnv: Record<string, Record<string, string>> = {
  'vectors, neural model reading its training sets from disk (GAN, accumulate)': { OUROBOROS_STREAM_ABOVE_MIB: '0' },
}

describe('crash and resume', () => {
  for (const [what, config] of Object.entries(modalities)) {
    it(`${what}: SIGKILL at ${KILL_POINTS} seeded moments, each resumed to the uninterrupted records`, async () => {
      const dir = tempDir()
      const file = writeConfig(dir, config)
      const env = caseEnv[what] ?? {}
      const t0 = Date.now()
      const full = cli(['run', file, '--out', `${dir}/full`], { env })
      expect(full.status, full.stderr).toBe(0)
      const duration = Date.now() - t0
      const expected = records(`${dir}/full`)
      const rng = Rng.from(2026, what)
      for (let i = 0; i < KILL_POINTS; i++) {
        const out = `${dir}/killed-${i}`
        const delay = 300 + rng.uniform() * Math.max(200, duration - 500)
        const child = cliAsync(['run', file, '--out', out], env)
        const timer = setTimeout(() => child.kill('SIGKILL'), delay)
        await new Promise<void>((resolve) => child.on('exit', () => resolve()))
        clearTimeout(timer)
        if (existsSync(`${out}/run.json`)) {
          expect(cli(['report', out]).status).toBe(0)
          const resumed = cli(['resume', out], { env })
          expect(resumed.status, `kill ${i} at ${Math.round(delay)} ms: ${resumed.stderr}`).toBe(0)
          expect(records(out), `kill ${i} at ${Math.round(delay)} ms`).toEqual(expected)
        }
      }
    })
  }
})

describe('determinism', () => {
  it('workers 1, 2 and 4 give identical records', () => {
    const dir = tempDir()
    const file = writeConfig(dir, { ...(modalities['vectors, GMM with warm start (mix)'] as object), replicates: 3, generations: 6 })
    const outs = [1, 2, 4].map((w) => {
      const res = cli(['run', file, '--out', `${dir}/w${w}`, '--workers', String(w)])
      expect(res.status, res.stderr).toBe(0)
      return records(`${dir}/w${w}`)
    })
    expect(outs[1]).toEqual(outs[0])
    expect(outs[2]).toEqual(outs[0])
  })
})

describe('resources', () => {
  it('accumulate over 100 generations of 10,000 2-D points keeps peak memory bounded', () => {
    if (!existsSync('/usr/bin/time')) return
    const dir = tempDir()
    const file = writeConfig(dir, {
      name: 'accumulate-100',
      data: { kind: 'gaussian', d: 2, n: 10000 },
      model: { kind: 'gaussian' },
      policy: { kind: 'accumulate' },
      generations: 100,
      metrics: ['moments'],
    })
    const res = spawnSync('/usr/bin/time', ['-f', '%M', '-o', `${dir}/rss`, process.execPath, MAIN, 'run', file, '--out', `${dir}/run`], { encoding: 'utf8' })
    expect(res.status, res.stderr).toBe(0)
    const peakMiB = Number(readFileSync(`${dir}/rss`, 'utf8').trim()) / 1024
    // The final training set is 1,000,000 x 2 doubles (16 MB); the bound leaves room for the
    // runtime, the worker threads and the report.
    expect(peakMiB).toBeLessThan(600)
  })

  it('accumulate over 20 generations of MNIST-sized samples streams the history instead of holding it', () => {
    if (!existsSync('/usr/bin/time')) return
    const dir = tempDir()
    const peak = (generations: number): number => {
      const file = writeConfig(dir, {
        name: `mnist-accumulate-${generations}`,
        data: { kind: 'mnist' },
        model: { kind: 'vae', likelihood: 'bernoulli', hidden: [32], latent: 4, epochs: 1, batch: 500 },
        policy: { kind: 'accumulate' },
        generations,
        samplesPerGeneration: 9000,
        metrics: [],
        heldout: 0,
      }, `mnist-${generations}.json`)
      const rss = `${dir}/rss-${generations}`
      const res = spawnSync('/usr/bin/time', ['-f', '%M', '-o', rss, process.execPath, MAIN, 'run', file, '--out', `${dir}/run-${generations}`], { encoding: 'utf8' })
      expect(res.status, res.stderr).toBe(0)
      return Number(readFileSync(rss, 'utf8').trim()) / 1024
    }
    // Generation 19 trains on 180,000 digits, 1.1 GB as float64; generation 4's 45,000 (280 MB)
    // are the first over the 256 MiB above which a minibatch model reads them from disk. Held in
    // memory, the longer run would need about 850 MB more at its peak than the shorter one.
    const short = peak(5)
    const long = peak(20)
    expect(long - short).toBeLessThan(200)
  })
})
