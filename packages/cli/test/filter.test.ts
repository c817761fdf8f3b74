// Curated generations: each generation's samples pass a quality check before later generations
// train on them; the metrics score the model's own first draw.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { readSamples } from '@ouroboros/store'
import { cleanup, cli, mean, records, standardError, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

describe('filter', () => {
  it("'likelihood' with keep 0.5 shrinks a Gaussian chain's variance by the truncated-normal factor each generation", () => {
    // Keeping the most likely half of 2M draws from N(μ, σ²) keeps |x − μ| ≤ z σ with Φ(z) = 3/4,
    // whose variance is c σ², c = 1 − 2zφ(z)/(2Φ(z) − 1) = 0.14271: E[ln σ²_g] ≈ g ln c.
    const z = 0.6744897501960817
    const c = 1 - (2 * z * Math.exp(-z * z / 2)) / Math.sqrt(2 * Math.PI) / 0.5
    const dir = tempDir()
    const file = writeConfig(dir, {
      data: { kind: 'gaussian', d: 1, n: 4000 },
      model: { kind: 'gaussian', estimator: 'mle' },
      filter: { kind: 'likelihood', keep: 0.5 },
      generations: 4,
      replicates: 20,
      seed: 7,
      metrics: ['moments'],
      heldout: 0,
    })
    const res = cli(['run', file, '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const recs = records(`${dir}/run`).filter((r) => r.generation >= 0)
    for (const r of recs) expect(r.metrics['filter_kept']).toBe(0.5)
    for (const g of [1, 2, 3]) {
      const logs = recs.filter((r) => r.generation === g).map((r) => r.metrics['log_variance']!)
      // The selection's O(1/M) bias is far below the tolerance; a wrong factor is not.
      expect(Math.abs(mean(logs) - g * Math.log(c)), `generation ${g}`).toBeLessThan(0.03 * g + 4 * standardError(logs))
    }
  })

  it("'modes' trains on samples within 3 std of a mode and records the share that passed", () => {
    const dir = tempDir()
    const file = writeConfig(dir, {
      data: { kind: 'ring', n: 2000 },
      // Kernels about 0.028 wide (0.02 of the data's spread): roughly 4 in 5 samples pass at first.
      model: { kind: 'kde', bandwidth: 0.02 },
      filter: { kind: 'modes' },
      policy: { kind: 'accumulate' },
      generations: 3,
      seed: 3,
      metrics: ['modes'],
      heldout: 0,
    })
    const res = cli(['run', file, '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const recs = records(`${dir}/run`).filter((r) => r.generation >= 0)
    for (const r of recs) {
      // The pass rate, estimated from all draws, against the high-quality share of the first draw.
      const kept = r.metrics['filter_kept']!
      expect(kept).toBeGreaterThan(0.2)
      expect(kept).toBeLessThan(1)
      expect(Math.abs(kept - r.metrics['pct_high_quality']! / 100)).toBeLessThan(0.05)
      const s = readSamples(`${dir}/run/chains/r0/gen-00000${r.generation}.samples.npy`)
      if (s.modality !== 'vectors') throw new Error('vectors expected')
      expect(s.n).toBe(2000)
      for (let i = 0; i < s.n; i++) {
        const [x, y] = [s.data[2 * i]!, s.data[2 * i + 1]!]
        const nearest = Math.min(...Array.from({ length: 8 }, (_, k) => Math.hypot(x - 2 * Math.cos((Math.PI * k) / 4), y - 2 * Math.sin((Math.PI * k) / 4))))
        expect(nearest).toBeLessThanOrEqual(0.06 + 1e-12)
      }
    }
    expect(readFileSync(`${dir}/run/report.html`, 'utf8')).toContain('filter_kept')
  })

  it("'likelihood' on token sequences keeps the likelier ones, so rare words vanish faster", () => {
    const dir = tempDir()
    const config = {
      data: { kind: 'zipf', vocabSize: 2000, exponent: 1.1, length: 12, n: 2000 },
      model: { kind: 'ngram', order: 1 },
      generations: 4,
      seed: 5,
      metrics: ['text'],
      heldout: 0,
    }
    const plain = cli(['run', writeConfig(dir, config, 'plain.json'), '--out', `${dir}/plain`])
    const curated = cli(['run', writeConfig(dir, { ...config, filter: { kind: 'likelihood', keep: 0.5 } }, 'curated.json'), '--out', `${dir}/curated`])
    expect(plain.status, plain.stderr).toBe(0)
    expect(curated.status, curated.stderr).toBe(0)
    const vocab = (run: string) => records(`${dir}/${run}`).find((r) => r.generation === 3)!.metrics['vocab_size']!
    expect(vocab('curated')).toBeLessThan(0.9 * vocab('plain'))
  })

  it('data/configs/ring-kde-verifier.json: the mode verifier holds the high-quality share that plain chains lose', () => {
    const dir = tempDir()
    const config = fileURLToPath(new URL('../../../data/configs/ring-kde-verifier.json', import.meta.url))
    const res = cli(['run', config, '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const recs = records(`${dir}/run`)
    const last = Math.max(...recs.map((r) => r.generation))
    const hq = (policy: string, filtered: boolean) =>
      mean(recs.filter((r) => r.generation === last && r.params['policy.kind'] === policy && (r.params['filter'] !== null) === filtered).map((r) => r.metrics['pct_high_quality']!))
    for (const policy of ['replace', 'accumulate']) expect(hq(policy, true), policy).toBeGreaterThan(hq(policy, false) + 10)
  })

  it('gives the same records with 1 and 2 workers', () => {
    const dir = tempDir()
    const file = writeConfig(dir, { data: { kind: 'grid', n: 1000 }, model: { kind: 'gmm', components: 10 }, filter: { kind: 'modes', qualityStds: 2 }, generations: 3, replicates: 3, metrics: ['modes'] })
    const runs = [1, 2].map((w) => {
      const res = cli(['run', file, '--out', `${dir}/w${w}`, '--workers', String(w)])
      expect(res.status, res.stderr).toBe(0)
      return records(`${dir}/w${w}`)
    })
    expect(runs[1]).toEqual(runs[0])
  })
})
