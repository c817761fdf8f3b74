// The neural models against PyTorch, measured in the same benchmark run (the machine is shared):
// - the VAE chain of ../shared/peers/README.md (ring, N = 10,000, G = 5, E = 20), our CLI on
//   data/configs/vae-ring.json against vae_chain.py --threads 1: training seconds per generation;
// - GAN training time per 1,000 generator steps for every loss and mitigation of
//   data/configs/gan-*.json, against a PyTorch MLP GAN of the default size (3 hidden layers of
//   128, batch 256, non-saturating loss, one thread) timed in the same run (TORCH_GAN below; about
//   3.5 s per 1,000 steps on this machine under load).
// - a block of 8 ring-VAE replicates (N = 10,000, E = 20) trained as one computation (the model's
//   block hooks, as a run under `replace` uses them) against vae_chain.py --threads 1 run once per
//   replicate: training seconds per replicate, half of the PyTorch runs before ours and half after
//   so that a change of load on the shared machine falls on both; one replicate fit alone for scale.
// Run alone with `node scripts/bench/neural.js [vae|vae-block|gan]`; `benchNeural()` returns the rows.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { timeProcess } from './run-process.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const PY = '/usr/bin/python3'
/**
 * The PyTorch reference GAN: the same networks, data and optimiser as data/configs/gan-non-saturating.json,
 * written the usual PyTorch way (separate real and fake passes through D). argv[1]: steps to time.
 */
const TORCH_GAN = `
import json, sys, time
import numpy as np
import torch
from torch import nn
torch.set_num_threads(1)
torch.manual_seed(0)
steps = int(sys.argv[1])
rng = np.random.default_rng(0)
t = 2 * np.pi * rng.integers(0, 8, 10000) / 8
data = torch.tensor(np.stack([2 * np.cos(t), 2 * np.sin(t)], 1) + 0.02 * rng.standard_normal((10000, 2)), dtype=torch.float32)
def mlp(inputs, outputs, act):
    return nn.Sequential(nn.Linear(inputs, 128), act(), nn.Linear(128, 128), act(), nn.Linear(128, 128), act(), nn.Linear(128, outputs))
G = mlp(2, 2, nn.ReLU)
D = mlp(2, 1, lambda: nn.LeakyReLU(0.2))
opt_g = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()
ones, zeros = torch.ones(256, 1), torch.zeros(256, 1)
def step():
    real = data[torch.randint(0, 10000, (256,))]
    fake = G(torch.randn(256, 2)).detach()
    loss_d = bce(D(real), ones) + bce(D(fake), zeros)
    opt_d.zero_grad(); loss_d.backward(); opt_d.step()
    loss_g = bce(D(G(torch.randn(256, 2))), ones)
    opt_g.zero_grad(); loss_g.backward(); opt_g.step()
for _ in range(20):
    step()
t0 = time.perf_counter()
for _ in range(steps):
    step()
print(json.dumps({"seconds_per_1000": (time.perf_counter() - t0) / steps * 1000}))
`
/** Generator steps timed per GAN variant (after a short untimed fit that loads tfjs and warms the kernels). */
const GAN_STEPS = 300

const GAN_VARIANTS = ['non-saturating', 'minimax', 'hinge', 'wgan', 'wgan-gp', 'ttur', 'minibatch-stddev', 'unrolled', 'spectral-norm-lr1e-3', 'spectral-norm', 'pacgan4']

export async function benchNeural({ peersDir = resolve(process.env.OUROBOROS_PEERS ?? join(root, '..', 'shared', 'peers')), only = [] } = {}) {
  const rows = []
  if (only.length === 0 || only.includes('vae')) rows.push(...benchVaeChain(peersDir))
  if (only.length === 0 || only.includes('vae-block')) rows.push(...(await benchVaeBlock(peersDir)))
  if (only.length === 0 || only.includes('gan')) rows.push(...(await benchGan()))
  return rows
}

/** One row per generation (ours vs PyTorch training seconds) and a median row. */
function benchVaeChain(peersDir) {
  const out = mkdtempSync(join(tmpdir(), 'ouroboros-bench-vae-'))
  try {
    const ours = timeProcess(process.execPath, [join(root, 'packages/cli/dist/main.js'), 'run', join(root, 'data/configs/vae-ring.json'), '--out', out, '--force', '--workers', '1'])
    const records = readFileSync(join(out, 'metrics.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.generation >= 0)
    records.sort((a, b) => a.generation - b.generation)
    let peer = null
    if (existsSync(join(peersDir, 'vae_chain.py')) && existsSync(PY)) {
      const run = timeProcess(PY, [join(peersDir, 'vae_chain.py'), '--dataset', 'ring', '-N', '10000', '-G', '5', '-E', '20', '--threads', '1', '--seed', '0'], { cwd: peersDir })
      peer = { seconds: run.seconds, lines: run.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.gen >= 0) }
    }
    const rows = records.map((r) => {
      const p = peer?.lines.find((l) => l.gen === r.generation)
      const oursSeconds = r.timings.fitMs / 1000
      return {
        name: `vae_chain ring N=10000 E=20 generation ${r.generation}${r.generation === 0 ? ' (ours includes loading tfjs)' : ''}`,
        oursSeconds,
        peerSeconds: p?.train_seconds ?? null,
        ratio: p ? oursSeconds / p.train_seconds : null,
        metrics: {
          ours: pick(r.metrics),
          peer: p ? pick(p) : null,
        },
      }
    })
    const ratios = rows.map((r) => r.ratio).filter((r) => r !== null)
    rows.push({
      name: 'vae_chain ring N=10000 G=5 E=20: median training-time ratio ours/PyTorch per generation',
      oursSeconds: median(rows.map((r) => r.oursSeconds)),
      peerSeconds: peer ? median(peer.lines.map((l) => l.train_seconds)) : null,
      ratio: ratios.length > 0 ? median(ratios) : null,
      wholeProcess: { oursSeconds: ours.seconds, oursPeakRssMiB: ours.peakRssMiB, peerSeconds: peer?.seconds ?? null },
    })
    return rows
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}

const BLOCK_REPLICATES = 8

/**
 * Per-replicate training seconds of BLOCK_REPLICATES ring VAEs (the vae-ring.json model, N = 10,000,
 * E = 20) fit as one block, of one fit alone, and of vae_chain.py -G 1 once per replicate.
 */
async function benchVaeBlock(peersDir) {
  const { Rng } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)
  const { ring } = await import(pathToFileURL(join(root, 'packages/datasets/dist/index.js')).href)
  const { model } = await import(pathToFileURL(join(root, 'packages/model-vae/dist/index.js')).href)
  const { kind: _kind, ...config } = JSON.parse(readFileSync(join(root, 'data/configs/vae-ring.json'), 'utf8')).model
  const params = model.params.parse(config)
  const n = 10_000
  const dataset = await ring.create(ring.params.parse({}), Rng.from(0))
  const sets = Array.from({ length: BLOCK_REPLICATES }, (_, c) => dataset.sample(n, Rng.from(c, 'real')))
  const data = new Float64Array(BLOCK_REPLICATES * n * 2)
  sets.forEach((x, c) => data.set(x.data, c * n * 2))
  const fitCtx = { rng: (c) => Rng.from(c, 'fit'), generation: () => 0, dataset: dataset.info }
  // Loads tfjs and its kernels before anything is timed.
  await model.blocks.fit({ chains: 2, n: 512, d: 2, data: data.subarray(0, 2 * 512 * 2) }, { ...params, epochs: 1 }, fitCtx)

  const torch = existsSync(join(peersDir, 'vae_chain.py')) && existsSync(PY)
  const peerRuns = []
  const runPeer = (seed) => {
    const run = timeProcess(PY, [join(peersDir, 'vae_chain.py'), '--dataset', 'ring', '-N', String(n), '-G', '1', '-E', String(params.epochs), '--threads', '1', '--seed', String(seed)], { cwd: peersDir })
    const line = run.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.gen === 0)
    peerRuns.push({ trainSeconds: line.train_seconds, processSeconds: run.seconds, negElbo: line.final_neg_elbo })
  }
  if (torch) for (let c = 0; c < BLOCK_REPLICATES / 2; c++) runPeer(c)
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const block = await model.blocks.fit({ chains: BLOCK_REPLICATES, n, d: 2, data }, params, fitCtx)
  const blockSeconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  if (torch) for (let c = BLOCK_REPLICATES / 2; c < BLOCK_REPLICATES; c++) runPeer(c)
  const t1 = performance.now()
  const alone = await model.fit(sets[0], params, { rng: Rng.from(0, 'fit'), generation: 0, dataset: dataset.info })
  const aloneSeconds = (performance.now() - t1) / 1000

  const profile = await profileVaeBlock(model, params, data.subarray(0, BLOCK_REPLICATES * PROFILE_ROWS * 2), fitCtx)

  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
  const oursSeconds = blockSeconds / BLOCK_REPLICATES
  const peerSeconds = torch ? mean(peerRuns.map((r) => r.trainSeconds)) : null
  return [
    {
      name: `vae block of ${BLOCK_REPLICATES} replicates ring N=${n} E=${params.epochs}: training seconds per replicate, ours in one block / PyTorch once per replicate`,
      oursSeconds,
      oursCpuSeconds: (cpu.user + cpu.system) / 1e6 / BLOCK_REPLICATES,
      peerSeconds,
      ratio: peerSeconds === null ? null : oursSeconds / peerSeconds,
      peerProcessSeconds: torch ? mean(peerRuns.map((r) => r.processSeconds)) : null,
      oursAloneSeconds: aloneSeconds,
      stepsPerReplicate: params.epochs * Math.ceil(n / params.batch),
      profile,
      // Chain 0 of the block is the fit alone, bit for bit (the block hooks are exact).
      chain0SameAsAlone: block.negElbo[0] === alone.negElbo,
      metrics: {
        ours: { mean_final_neg_elbo: mean(Array.from(block.negElbo)) },
        peer: torch ? { mean_final_neg_elbo: mean(peerRuns.map((r) => r.negElbo)) } : null,
      },
    },
    {
      name: `vae one replicate alone ring N=${n} E=${params.epochs}: training seconds, ours / PyTorch`,
      oursSeconds: aloneSeconds,
      peerSeconds,
      ratio: peerSeconds === null ? null : aloneSeconds / peerSeconds,
    },
  ]
}

/** Rows per chain of the profiled block fit (one epoch), and the rounds of block against one by one. */
const PROFILE_ROWS = 2560
const PROFILE_ROUNDS = 3

/**
 * Where a block step's time goes: milliseconds per chain and optimiser step in tfjs's kernels by
 * kind (tf.profile) and outside them (JavaScript: the engine's bookkeeping per op, uploads, Adam),
 * from one epoch of a block fit on PROFILE_ROWS rows per chain; and the same step with the chains
 * fit one by one, timed in turn with the block so that both meet the same load (medians).
 */
async function profileVaeBlock(model, params, data, fitCtx) {
  const { loadTf } = await import(pathToFileURL(join(root, 'packages/tf/dist/index.js')).href)
  const { tf } = await loadTf()
  const epoch = { ...params, epochs: 1 }
  const fit = () => model.blocks.fit({ chains: BLOCK_REPLICATES, n: PROFILE_ROWS, d: 2, data }, epoch, fitCtx)
  const fitOneByOne = async () => {
    for (let c = 0; c < BLOCK_REPLICATES; c++) {
      const rows = { modality: 'vectors', n: PROFILE_ROWS, d: 2, data: data.subarray(c * PROFILE_ROWS * 2, (c + 1) * PROFILE_ROWS * 2) }
      await model.fit(rows, epoch, { rng: fitCtx.rng(c), generation: 0, dataset: fitCtx.dataset })
    }
  }
  const steps = BLOCK_REPLICATES * Math.ceil(PROFILE_ROWS / params.batch)
  const timed = async (f) => {
    const t0 = performance.now()
    await f()
    return (performance.now() - t0) / steps
  }
  const blockMs = []
  const oneByOneMs = []
  for (let round = 0; round < PROFILE_ROUNDS; round++) {
    blockMs.push(await timed(fit))
    oneByOneMs.push(await timed(fitOneByOne))
  }
  const wallMs = median(blockMs) * steps
  const info = await tf.profile(fit)
  const kinds = { matMul: ['BatchMatMul', '_FusedMatMul'], padAndTranspose: ['PadV2', 'Transpose'] }
  const ms = { matMul: 0, padAndTranspose: 0, otherKernels: 0 }
  let kernels = 0
  for (const k of info.kernels) {
    // tfjs also lists a fused op's wrapper around its kernel.
    if (k.name.endsWith('__op')) continue
    kernels++
    const kind = Object.keys(kinds).find((key) => kinds[key].includes(k.name)) ?? 'otherKernels'
    ms[kind] += k.kernelTimeMs
  }
  const perStep = (x) => x / steps
  const inKernels = ms.matMul + ms.padAndTranspose + ms.otherKernels
  return {
    msPerReplicateStep: perStep(wallMs),
    oneByOneMsPerReplicateStep: median(oneByOneMs),
    matMulMs: perStep(ms.matMul),
    padAndTransposeMs: perStep(ms.padAndTranspose),
    otherKernelsMs: perStep(ms.otherKernels),
    outsideKernelsMs: perStep(Math.max(0, wallMs - inKernels)),
    kernelsPerReplicateStep: kernels / steps,
  }
}

const MODE_KEYS = ['modes_covered', 'modes_covered_1pct', 'pct_high_quality', 'reverse_kl', 'total_variance']
function pick(m) {
  return Object.fromEntries(MODE_KEYS.filter((k) => m[k] !== undefined).map((k) => [k, m[k]]))
}

/** Seconds per 1,000 generator steps of the PyTorch reference, or null without python3 + torch. */
function torchGanSeconds() {
  if (!existsSync(PY)) return null
  try {
    return JSON.parse(timeProcess(PY, ['-c', TORCH_GAN, String(GAN_STEPS)]).stdout.trim()).seconds_per_1000
  } catch {
    return null
  }
}

/** Seconds (wall and CPU) per 1,000 generator steps for each variant, in this process, against PyTorch's. */
async function benchGan() {
  const torchSeconds = torchGanSeconds()
  const { Rng } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)
  const { ring } = await import(pathToFileURL(join(root, 'packages/datasets/dist/index.js')).href)
  const { model } = await import(pathToFileURL(join(root, 'packages/model-gan/dist/index.js')).href)
  const dataset = await ring.create(ring.params.parse({}), Rng.from(0))
  const data = dataset.sample(10_000, Rng.from(0, 'real'))
  const fit = (params, steps) => model.fit(data, model.params.parse({ ...params, steps }), { rng: Rng.from(0, 'bench'), generation: 0, dataset: dataset.info })
  await fit({}, 20)
  const rows = []
  for (const variant of GAN_VARIANTS) {
    const { kind: _kind, steps: _steps, ...params } = JSON.parse(readFileSync(join(root, `data/configs/gan-${variant}.json`), 'utf8')).model
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await fit(params, GAN_STEPS)
    const seconds = ((performance.now() - t0) / 1000) * (1000 / GAN_STEPS)
    const cpu = process.cpuUsage(cpu0)
    rows.push({
      name: `gan ${variant} (data/configs/gan-${variant}.json): seconds per 1000 generator steps`,
      oursSeconds: seconds,
      oursCpuSeconds: ((cpu.user + cpu.system) / 1e6) * (1000 / GAN_STEPS),
      peerSeconds: torchSeconds,
      ratio: torchSeconds === null ? null : seconds / torchSeconds,
      params,
    })
  }
  return rows
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const fmt = (x, digits = 2) => (x === null || x === undefined ? 'n/a' : Number(x).toFixed(digits))
  const rows = await benchNeural({ only: process.argv.slice(2) })
  console.log('| workload | ours (s) | PyTorch (s) | ratio ours/PyTorch |')
  console.log('|---|---|---|---|')
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.oursSeconds)}${r.oursCpuSeconds === undefined ? '' : ` (CPU ${fmt(r.oursCpuSeconds)})`} | ${fmt(r.peerSeconds)} | ${fmt(r.ratio)} |`)
  for (const r of rows) if (r.metrics) console.log(`${r.name}: ours ${JSON.stringify(r.metrics.ours)} PyTorch ${JSON.stringify(r.metrics.peer)}`)
  for (const r of rows) if (r.profile) console.log(`${r.name}: profile (ms per replicate step) ${JSON.stringify(r.profile, (_k, v) => (typeof v === 'number' ? Number(v.toFixed(3)) : v))}`)
}
