import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { Rng, vectors } from '@ouroboros/core'
import { HOST } from '@ouroboros/store'
import { model } from './index.js'

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const GAUSSIAN = fileURLToPath(new URL('../examples/gaussian/gaussian_model.py', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'ouroboros-leftovers-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('a command model fitting a generation again', () => {
  it("removes what an earlier attempt at that generation left, and a killed process's request files, and nothing else", { timeout: 60_000 }, async () => {
    // As a run killed during generation 1's post-training leaves them (another process's names).
    const left = ['gen-000001.train-4242-0-3.model', 'gen-000001.refit-4242-1-0.model', 'gen-000001.model.partial-4242-0', 'gen-000001.train-4242-0-4.model.partial-4242-0']
    const kept = ['gen-000000.train-4242-0-2.model', 'gen-000002.refit-4242-0-0.model']
    for (const name of [...left, ...kept]) mkdirSync(join(dir, name))
    // A request's arrays, written by a process of this machine now gone (no pid is above Linux's
    // pid_max of 2^22), by this one, and by a process of another machine sharing the directory.
    const gone = `model-io-${HOST}-4194305-1-0.train.npy`
    const ours = `model-io-${HOST}-${process.pid}-1-0.samples.npy`
    const elsewhere = `model-io-${HOST}x-4194305-1-0.train.npy`
    for (const name of [gone, ours, elsewhere]) writeFileSync(join(dir, name), '')
    kept.push(ours, elsewhere)
    const params = model.params.parse({ command: [PYTHON, GAUSSIAN] })
    const data = vectors(50, 2, Rng.from(1).fillNormal(new Float64Array(100), 0, 1))
    const state = await model.fit(data, params, { rng: Rng.from(2), generation: 1, dataset: { kind: 'gaussian', modality: 'vectors', d: 2 }, dir })
    await model.dispose?.()
    expect(readdirSync(dir).sort()).toEqual([...kept, 'gen-000001.model'].sort())
    expect(state.model).toBe(join(dir, 'gen-000001.model'))
  })
})
