import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readRunInfo, recordChains, RecordSource } from '../../packages/store/dist/index.js'
import { timeProcess } from './run-process.js'

/**
 * Records at scale: the 1-D Gaussian chain of the README (M = 100, G = 1,000, unbiased) with R
 * replicates, records.text false, against the numpy peer with R seeds, whole process, in the same
 * run; then each record format written from the largest run's record log (`ouroboros export`),
 * with records per second and bytes per record. OUROBOROS_BENCH_SCALE=100,1000 picks the R.
 */
const PY = '/usr/bin/python3'
const TARGETS = { 100: 2.0, 1000: 1.0, 10000: 1.0 }

export function scaleReplicates() {
  const given = process.env.OUROBOROS_BENCH_SCALE
  return given === undefined ? [100, 1000, 10000] : given.split(',').map(Number)
}

export function benchScale({ root, peersDir, withPeer }) {
  const base = JSON.parse(readFileSync(join(root, 'data/configs/gaussian-chain-unbiased.json'), 'utf8'))
  const work = mkdtempSync(join(tmpdir(), 'ouroboros-bench-scale-'))
  const rows = []
  const formats = []
  try {
    let largest
    for (const R of scaleReplicates()) {
      const config = join(work, `gaussian-R${R}.json`)
      writeFileSync(config, JSON.stringify({ ...base, name: `gaussian-chain-R${R}`, replicates: R, records: { text: false } }))
      const out = join(work, `run-R${R}`)
      const ours = timeProcess(process.execPath, [join(root, 'packages/cli/dist/main.js'), 'run', config, '--out', out, '--force'])
      const peer = withPeer
        ? timeProcess(PY, [join(peersDir, 'gaussian_chain.py'), '--samples', '100', '--generations', String(base.generations), '--seeds', String(R), '--seed', '0', '--estimator', 'unbiased'], { cwd: peersDir })
        : null
      const peerLast = peer && JSON.parse(peer.stdout.trim().split('\n').at(-1))
      const records = R * (base.generations + 1)
      rows.push({
        name: `gaussian_chain M=100 G=${base.generations} R=${R} unbiased`,
        replicates: R,
        records,
        oursSeconds: ours.seconds,
        oursPeakRssMiB: ours.peakRssMiB,
        peerSeconds: peer?.seconds ?? null,
        peerPeakRssMiB: peer?.peakRssMiB ?? null,
        ratio: peer ? ours.seconds / peer.seconds : null,
        target: TARGETS[R] ?? null,
        files: Object.fromEntries(['records.log', 'metrics.parquet', 'report.html'].map((f) => [f, statSync(join(out, f)).size])),
        metrics: { ours: meanLogVariance(out, base.generations - 1), peer: peerLast && { mean_log_var: peerLast.mean_log_var, theory: peerLast.theory_E_log_var, theory_se: peerLast.theory_sd_log_var / Math.sqrt(R) } },
      })
      if (largest !== undefined) rmSync(largest.out, { recursive: true, force: true })
      largest = { out, records }
    }
    if (largest !== undefined) {
      const logBytes = statSync(join(largest.out, 'records.log')).size
      formats.push({ format: 'records.log', recordsPerSecond: null, bytesPerRecord: logBytes / largest.records })
      for (const format of ['parquet', 'ndjson', 'csv']) {
        const t = timeProcess(process.execPath, [join(root, 'packages/cli/dist/main.js'), 'export', largest.out, '--format', format])
        const bytes = statSync(join(largest.out, `metrics.${format}`)).size
        formats.push({ format: `metrics.${format}`, records: largest.records, seconds: t.seconds, recordsPerSecond: largest.records / t.seconds, bytesPerRecord: bytes / largest.records, peakRssMiB: t.peakRssMiB })
        rmSync(join(largest.out, `metrics.${format}`), { force: true })
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  return { rows, formats }
}

/** Mean over replicates of log σ² at a generation, streamed from the record log. */
function meanLogVariance(runDir, generation) {
  const source = new RecordSource(runDir, recordChains(readRunInfo(runDir)))
  const j = source.metrics.indexOf('log_variance')
  let sum = 0
  let n = 0
  for (const block of source.blocks()) {
    for (let i = 0; i < block.length; i++) {
      if (block.generation[i] !== generation) continue
      sum += block.metrics[j][i]
      n++
    }
  }
  return { mean_log_var: sum / n, generation }
}
