import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Rng } from '@ouroboros/core'
import { loadTf } from '@ouroboros/tf'
import { Layout } from './layout.js'
import { Pretraining } from './transformer.js'

// The hand-written forward and backward passes, the clipping, the schedule and AdamW against
// PyTorch's autograd and torch.optim.AdamW (scripts/peers/transformer_lm.py --check, in double
// precision), from the same initial weights on the same batches. Needs Debian's python3-torch.
process.env['OUROBOROS_BACKEND'] = 'cpu'

const PYTHON = '/usr/bin/python3'
const PEER = fileURLToPath(new URL('../../../scripts/peers/transformer_lm.py', import.meta.url))
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0

describe.skipIf(!hasTorch)('transformer against PyTorch', () => {
  it('gives the losses and weights of PyTorch over 6 AdamW steps with warm-up, cosine decay, clipping and weight decay', async () => {
    const { tf } = await loadTf()
    const dims = { vocab: 13, context: 8, layers: 2, heads: 2, dModel: 8, ffn: 16 }
    const layout = new Layout(dims)
    const theta = new Float32Array(layout.size)
    layout.init(theta, Rng.from(1))
    // Gains and biases away from 1 and 0, so that a transposed or skipped one shows.
    const rng = Rng.from(2)
    for (const s of layout.slots) if (s.init !== 'normal') for (let i = 0; i < s.size; i++) theta[s.offset + i]! += 0.1 * rng.normal()
    const start = layout.export(theta)
    const options = { steps: 6, lr: 1e-2, warmup: 2, weightDecay: 0.1, clip: 0.2, batch: 3, context: 8 }
    // One batch of random windows, taken again at every step, so that the loss falls.
    const windows = Array.from({ length: options.batch }, () => Array.from({ length: options.context + 1 }, () => rng.int(dims.vocab)))
    const batches = Array.from({ length: options.steps }, () => ({ inputs: windows.map((w) => w.slice(0, -1)), targets: windows.map((w) => w.slice(1)) }))
    const trainer = new Pretraining(tf, layout, theta, options)
    const norms: number[] = []
    const losses = batches.map((b, s) => {
      const loss = trainer.step(Int32Array.from(b.inputs.flat()), Int32Array.from(b.targets.flat()), `step ${s + 1}`)
      norms.push(trainer.lastNorm)
      return loss
    })
    // The clipping acts on every step, so a wrong norm would show.
    for (const n of norms) expect(n).toBeGreaterThan(options.clip)

    const dir = mkdtempSync(join(tmpdir(), 'transformer-torch-'))
    try {
      const file = join(dir, 'check.json')
      writeFileSync(file, JSON.stringify({ dims, weights: start.map((w) => ({ name: w.name, shape: w.shape, data: Array.from(w.data) })), optimizer: options, batches }))
      const res = spawnSync(PYTHON, [PEER, '--check', file], { encoding: 'utf8', maxBuffer: 1 << 26 })
      expect(res.status, res.stderr).toBe(0)
      const torch = JSON.parse(res.stdout) as { losses: number[]; weights: Record<string, number[]> }
      // Float32 against double: the losses agree to float32 rounding.
      losses.forEach((l, i) => expect(Math.abs(l - torch.losses[i]!)).toBeLessThan(2e-5 * Math.abs(l)))
      expect(losses[5]!).toBeLessThan(losses[0]! - 0.05)
      const ours = layout.export(theta)
      let worst = 0
      for (const w of ours) {
        const theirs = torch.weights[w.name]!
        expect(theirs.length).toBe(w.data.length)
        w.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - theirs[i]!))))
      }
      // Each AdamW step moves a weight by about lr·(1 + weight decay) at most; six steps, 6e-2.
      expect(worst).toBeLessThan(2e-5)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
