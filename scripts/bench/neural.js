// The neural models against PyTorch, measured in the same benchmark run (the machine is shared):
// - the VAE chain of ../shared/peers/README.md (ring, N = 10,000, G = 5, E = 20), our CLI on
//   data/configs/vae-ring.json against vae_chain.py --threads 1: training seconds per generation;
// - GAN training time per 1,000 generator steps for every loss and mitigation of
//   data/configs/gan-*.json, against the ~3.5 s a PyTorch MLP GAN of the default size (3 hidden
//   layers of 128, batch 256, non-saturating loss) takes per 1,000 steps on this machine.
// Run alone with `node scripts/bench/neural.js [vae|gan]`; `benchNeural()` returns the rows.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { timeProcess } from './run-process.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const PY = '/usr/bin/python3'
/** Seconds per 1,000 generator steps of the PyTorch reference GAN here (issue 4). */
const TORCH_GAN_SECONDS_PER_1000 = 3.5
/** Generator steps timed per GAN variant (after a short untimed fit that loads tfjs and warms the kernels). */
const GAN_STEPS = 300

const GAN_VARIANTS = ['non-saturating', 'minimax', 'hinge', 'wgan', 'wgan-gp', 'ttur', 'minibatch-stddev', 'unrolled', 'spectral-norm-lr1e-3', 'spectral-norm', 'pacgan4']

export async function benchNeural({ peersDir = resolve(process.env.OUROBOROS_PEERS ?? join(root, '..', 'shared', 'peers')), only = [] } = {}) {
  const rows = []
  if (only.length === 0 || only.includes('vae')) rows.push(...benchVaeChain(peersDir))
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

const MODE_KEYS = ['modes_covered', 'modes_covered_1pct', 'pct_high_quality', 'reverse_kl', 'total_variance']
function pick(m) {
  return Object.fromEntries(MODE_KEYS.filter((k) => m[k] !== undefined).map((k) => [k, m[k]]))
}

/** Seconds (wall and CPU) per 1,000 generator steps for each variant, in this process. */
async function benchGan() {
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
      peerSeconds: TORCH_GAN_SECONDS_PER_1000,
      ratio: seconds / TORCH_GAN_SECONDS_PER_1000,
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
}
