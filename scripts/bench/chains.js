import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { timeProcess } from './run-process.js'

/**
 * The generational chains of ../shared/peers, run by us and by the peer in the same process of
 * measurement, one after the other, so the ratio is fair on a shared, noisy machine.
 */
const PY = '/usr/bin/python3'

export const chainWorkloads = [
  {
    name: 'gaussian_chain M=100 G=1000 S=100 unbiased',
    config: 'data/configs/gaussian-chain-unbiased.json',
    peer: ['gaussian_chain.py', '--samples', '100', '--generations', '1000', '--seeds', '100', '--seed', '0', '--estimator', 'unbiased'],
    compare: gaussianSummary,
  },
  {
    name: 'gaussian_chain M=100 G=1000 S=100 mle',
    config: 'data/configs/gaussian-chain-mle.json',
    peer: ['gaussian_chain.py', '--samples', '100', '--generations', '1000', '--seeds', '100', '--seed', '0', '--estimator', 'mle'],
    compare: gaussianSummary,
  },
  ...['replace', 'accumulate', 'mix'].map((policy) => ({
    name: `gmm_chain ring N=10000 G=20 K=8 ${policy}${policy === 'mix' ? ' 0.1' : ''}`,
    config: `data/configs/gmm-ring-${policy}.json`,
    peer: ['gmm_chain.py', '--dataset', 'ring', '-N', '10000', '-G', '20', '-K', '8', '--policy', policy, ...(policy === 'mix' ? ['-r', '0.1'] : []), '--seed', '0'],
    compare: modesSummary,
  })),
]

/** mean over replicates of log σ² at the first and last generation. */
function gaussianSummary(ours, peer) {
  const last = Math.max(...ours.map((r) => r.generation))
  const meanLog = (g) => mean(ours.filter((r) => r.generation === g).map((r) => r.metrics.log_variance))
  return {
    ours: { first: { mean_log_var: meanLog(0) }, last: { mean_log_var: meanLog(last) } },
    peer: peer && { first: { mean_log_var: peer[0].mean_log_var }, last: { mean_log_var: peer.at(-1).mean_log_var, theory: peer.at(-1).theory_E_log_var, theory_se: peer.at(-1).theory_sd_log_var / 10 } },
  }
}

const MODE_KEYS = ['modes_covered', 'modes_covered_1pct', 'pct_high_quality', 'reverse_kl', 'total_variance']

function modesSummary(ours, peer) {
  const gens = ours.filter((r) => r.generation >= 0)
  const pick = (m) => Object.fromEntries(MODE_KEYS.map((k) => [k, m[k]]))
  const peerGens = peer?.filter((l) => l.gen >= 0)
  return {
    ours: { first: pick(gens[0].metrics), last: pick(gens.at(-1).metrics) },
    peer: peerGens && { first: pick(peerGens[0]), last: pick(peerGens.at(-1)) },
  }
}

function mean(xs) {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}

export function peerAvailable(peersDir) {
  if (!existsSync(join(peersDir, 'gaussian_chain.py')) || !existsSync(PY)) return false
  try {
    timeProcess(PY, ['-c', 'import numpy, scipy, sklearn'])
    return true
  } catch {
    return false
  }
}

export function benchChain(workload, { root, peersDir, withPeer, workers }) {
  const out = mkdtempSync(join(tmpdir(), 'ouroboros-bench-run-'))
  try {
    const args = [join(root, 'packages/cli/dist/main.js'), 'run', join(root, workload.config), '--out', out, '--force', ...(workers ? ['--workers', String(workers)] : [])]
    const ours = timeProcess(process.execPath, args)
    const records = readFileSync(join(out, 'metrics.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    let peer = null
    let peerLines = null
    if (withPeer) {
      peer = timeProcess(PY, [join(peersDir, workload.peer[0]), ...workload.peer.slice(1)], { cwd: peersDir })
      peerLines = peer.stdout.trim().split('\n').map((l) => JSON.parse(l))
    }
    return {
      name: workload.name,
      oursSeconds: ours.seconds,
      oursPeakRssMiB: ours.peakRssMiB,
      peerSeconds: peer?.seconds ?? null,
      peerPeakRssMiB: peer?.peakRssMiB ?? null,
      ratio: peer ? ours.seconds / peer.seconds : null,
      metrics: workload.compare(records, peerLines),
    }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}
