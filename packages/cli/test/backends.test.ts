// What the tfjs backend (OUROBOROS_BACKEND=cpu | wasm) changes in a run's records; README,
// "Reliability", says which models are bit-identical across backends and why.
import { afterAll, describe, expect, it } from 'vitest'
import { readSamples, samplesPath } from '@ouroboros/store'
import { cleanup, cli, records, tempDir, writeConfig, type Rec } from './helpers.js'

afterAll(cleanup)

function runOn(backend: 'cpu' | 'wasm', config: string, out: string): { recs: Rec[]; stderr: string } {
  const res = cli(['run', config, '--out', out, '--workers', '1'], { env: { OUROBOROS_BACKEND: backend, OUROBOROS_BACKEND_ANNOUNCED: '' } })
  expect(res.status, res.stderr).toBe(0)
  return { recs: records(out), stderr: res.stderr }
}

function decoderMeans(runDir: string, generation: number): Float64Array {
  const samples = readSamples(samplesPath(runDir, 'r0', generation, 'vectors'))
  if (samples.modality !== 'vectors') throw new Error(`${runDir}: generation ${generation} holds tokens`)
  return samples.data
}

/** float32's unit roundoff, 2^-24: the size of one rounding in either backend. */
const U32 = 2 ** -24
/**
 * A few epochs of float32 training compound the two backends' roundings (summation order in
 * matrix products, expf/logf against Math.exp/Math.log) into differences of a few U32 at most; 200
 * U32 (1.2e-5) leaves room for that, while a real change of computation (another seed, another
 * op) moves samples by a sizeable part of the data's scale.
 */
const ROUNDING = 200 * U32

describe('the tfjs backend', () => {
  it('is announced in one line by a run of two workers, not once more by each', () => {
    const dir = tempDir()
    const config = writeConfig(dir, {
      name: 'backend-line',
      data: { kind: 'ring', n: 200 },
      model: { kind: 'vae', epochs: 1, hidden: [8] },
      generations: 1,
      replicates: 2,
      seed: 1,
      metrics: ['moments'],
    })
    const res = cli(['run', config, '--out', `${dir}/run`, '--workers', '2'], { env: { OUROBOROS_BACKEND: 'cpu', OUROBOROS_BACKEND_ANNOUNCED: '' } })
    expect(res.status, res.stderr).toBe(0)
    expect(res.stderr.match(/ouroboros: tfjs backend/g)).toHaveLength(1)
  })

  it('leaves a classical model bit-identical, even where a metric takes float32 bounds from tfjs', () => {
    const dir = tempDir()
    // PRDC's cross pass here is 3000 x 3000 pairs in 32-D, past FLOAT32_MIN_WORK: on wasm its
    // k-NN comparisons start from float32 matrix products (metrics/src/distance.ts), on cpu from
    // the float64 tiles; both settle every open comparison in float64.
    const config = writeConfig(dir, {
      name: 'backend-classical',
      data: { kind: 'gaussian', d: 32, n: 3000 },
      model: { kind: 'gaussian' },
      generations: 1,
      seed: 4,
      metrics: ['prdc', 'moments'],
    })
    const cpu = runOn('cpu', config, `${dir}/cpu`)
    const wasm = runOn('wasm', config, `${dir}/wasm`)
    expect(wasm.stderr).toContain('tfjs backend wasm')
    expect(wasm.recs).toEqual(cpu.recs)
  })

  it('gives a VAE identical records twice on one backend, and across cpu and wasm agrees to float32 rounding', () => {
    const dir = tempDir()
    const config = writeConfig(dir, {
      name: 'backend-vae',
      data: { kind: 'ring', n: 1000 },
      model: { kind: 'vae', epochs: 3, hidden: [32, 32] },
      generations: 2,
      seed: 4,
      metrics: ['moments'],
    })
    const cpu = runOn('cpu', config, `${dir}/cpu`)
    expect(runOn('cpu', config, `${dir}/cpu2`).recs).toEqual(cpu.recs)
    const wasm = runOn('wasm', config, `${dir}/wasm`)
    expect(runOn('wasm', config, `${dir}/wasm2`).recs).toEqual(wasm.recs)

    // A VAE's samples are its decoder's means: float32 values, stored as doubles.
    for (const g of [0, 1]) {
      const a = decoderMeans(`${dir}/cpu`, g)
      const b = decoderMeans(`${dir}/wasm`, g)
      expect(b.length).toBe(a.length)
      let scale = 0
      let worst = 0
      for (let i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(a[i]!))
        worst = Math.max(worst, Math.abs(a[i]! - b[i]!))
      }
      expect(worst, `generation ${g}`).toBeLessThanOrEqual(ROUNDING * scale)
    }
    expect(wasm.recs.map((r) => r.generation)).toEqual(cpu.recs.map((r) => r.generation))
    cpu.recs.forEach((r, i) => {
      for (const [name, x] of Object.entries(r.metrics)) {
        const y = wasm.recs[i]!.metrics[name]
        if (x === null || y === null || y === undefined) expect(y, name).toBe(x)
        else expect(Math.abs(x - y), `generation ${r.generation} ${name}: ${x} vs ${y}`).toBeLessThanOrEqual(ROUNDING * Math.max(Math.abs(x), 1))
      }
    })
  })
})
