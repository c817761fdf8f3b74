// `pnpm bench`: our whole-process time against the Python peers in ../shared/peers, measured in
// the same run as a ratio (the machines are shared and noisy), plus the metrics section.
// Prints a table and writes bench-results/bench-<time>.json. `pnpm bench --help` lists the arguments.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseBenchArgs, USAGE } from './bench/args.js'
import { benchChain, chainWorkloads, peerAvailable } from './bench/chains.js'

// Before anything runs or is written: --help, or an argument that selects nothing (a typo), ends here.
const args = parseBenchArgs(process.argv.slice(2))
if (args.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}
if (args.error !== undefined) {
  console.error(args.error)
  process.exit(2)
}
const only = args.only

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const peersDir = resolve(process.env.OUROBOROS_PEERS ?? join(root, '..', 'shared', 'peers'))
const withPeer = peerAvailable(peersDir)
// Sections without peers say nothing of them.
const peerless = ['metrics', 'text', 'queue']
const usesPeers = only.length === 0 || only.some((o) => !peerless.includes(o))
if (usesPeers && !withPeer && !existsSync(join(peersDir, 'gaussian_chain.py'))) {
  console.log(`peers not found: no ${join(peersDir, 'gaussian_chain.py')}; ratios are not computed.`)
  console.log('the Python peers live beside the repository (../shared/peers); OUROBOROS_PEERS names another folder')
} else if (usesPeers && !withPeer) {
  console.log(`peers unavailable (${peersDir} needs /usr/bin/python3 with numpy, scipy, sklearn): ratios are not computed.`)
  console.log('install with: apt-get install python3-numpy python3-scipy python3-sklearn python3-torch time')
}

const results = { startedAt: new Date().toISOString(), node: process.version, chains: [], metrics: [] }
const fmt = (x, digits = 2) => (x === null || x === undefined ? 'n/a' : Number(x).toFixed(digits))

for (const workload of chainWorkloads) {
  if (only.length > 0 && !only.some((o) => workload.name.includes(o))) continue
  const row = benchChain(workload, { root, peersDir, withPeer })
  results.chains.push(row)
  console.log(`${row.name}\n  ours ${fmt(row.oursSeconds)} s (${fmt(row.oursPeakRssMiB, 0)} MiB)  peer ${fmt(row.peerSeconds)} s (${fmt(row.peerPeakRssMiB, 0)} MiB)  ratio ours/peer ${fmt(row.ratio)}`)
  console.log(`  first: ours ${JSON.stringify(row.metrics.ours.first)}${row.metrics.peer ? ` peer ${JSON.stringify(row.metrics.peer.first)}` : ''}`)
  console.log(`  last:  ours ${JSON.stringify(row.metrics.ours.last)}${row.metrics.peer ? ` peer ${JSON.stringify(row.metrics.peer.last)}` : ''}`)
}

// Sections beyond the chains (SECTIONS in ./bench/args.js): `pnpm bench scale`, `pnpm bench metrics`, … run one.
const wanted = (section) => only.length === 0 || only.includes(section)
// A section that fails is said and recorded; the others' results are still written.
results.failed = {}
const section = async (name, run) => {
  if (!wanted(name)) return
  try {
    await run()
  } catch (err) {
    results.failed[name] = err instanceof Error ? err.message : String(err)
    console.log(`${name}: failed: ${results.failed[name]}`)
  }
}
await section('scale', async () => {
  const { benchScale } = await import('./bench/scale.js')
  results.scale = benchScale({ root, peersDir, withPeer })
  for (const row of results.scale.rows) {
    console.log(`${row.name}\n  ours ${fmt(row.oursSeconds)} s (${fmt(row.oursPeakRssMiB, 0)} MiB)  peer ${fmt(row.peerSeconds)} s (${fmt(row.peerPeakRssMiB, 0)} MiB)  ratio ${fmt(row.ratio)} (target ≤ ${fmt(row.target, 1)})`)
    console.log(`  mean log σ² at the last generation: ours ${fmt(row.metrics.ours.mean_log_var, 3)}${row.metrics.peer ? `, peer ${fmt(row.metrics.peer.mean_log_var, 3)}, theory ${fmt(row.metrics.peer.theory, 3)} ± ${fmt(row.metrics.peer.theory_se, 3)}` : ''}`)
  }
})
await section('metrics', async () => {
  const { benchMetrics } = await import('./bench/metrics.js')
  for (const row of await benchMetrics()) {
    results.metrics.push(row)
    console.log(`metric ${row.name}: ${fmt(row.seconds, 3)} s, peak RSS ${fmt(row.peakRssMiB, 0)} MiB`)
  }
})
await section('neural', async () => {
  const { benchNeural } = await import('./bench/neural.js')
  results.neural = await benchNeural({ peersDir })
  for (const row of results.neural) {
    console.log(`neural ${row.name}: ours ${fmt(row.oursSeconds)} s, peer ${fmt(row.peerSeconds)} s, ratio ${fmt(row.ratio)}`)
  }
})
await section('text', async () => {
  const { benchText } = await import('./bench/text.js')
  results.text = await benchText()
  for (const row of results.text) console.log(`text ${row.name}: ${fmt(row.seconds, 3)} s`)
})
await section('transformer', async () => {
  const { benchTransformer, printTransformer } = await import('./bench/transformer.js')
  results.transformer = await benchTransformer()
  printTransformer(results.transformer)
})

await section('queue', async () => {
  const { benchQueue, redisAvailable } = await import('./bench/queue.js')
  if (!redisAvailable()) {
    console.log('queue: redis-server is not installed (apt-get install redis-server); skipped')
  } else {
    results.queue = await benchQueue()
    for (const row of results.queue) {
      if (row.overheadMsPerTask !== undefined) console.log(`queue ${row.name}: local pool ${fmt(row.localMsPerTask)} ms/task, queue ${fmt(row.queueMsPerTask)} ms/task, overhead ${fmt(row.overheadMsPerTask)} ms/task`)
      else console.log(`queue ${row.name}: local 1 thread ${fmt(row.local1)} s, 2 threads ${fmt(row.local2)} s; queue 1 worker process ${fmt(row.queue1)} s, 2 ${fmt(row.queue2)} s (speed-up ${fmt(row.speedup)})`)
    }
  }
})

if (results.chains.length > 0) {
  console.log('\n| workload | ours (s) | peer (s) | ratio |')
  console.log('|---|---|---|---|')
  for (const r of results.chains) console.log(`| ${r.name} | ${fmt(r.oursSeconds)} | ${fmt(r.peerSeconds)} | ${fmt(r.ratio)} |`)
}
if (results.scale !== undefined) {
  console.log('\n| records at scale | ours (s) | peer (s) | ratio | target | ours peak RSS (MiB) | records.log + metrics.parquet (MB) | report (MB) |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const r of results.scale.rows) {
    console.log(`| R = ${r.replicates} (${r.records} records) | ${fmt(r.oursSeconds)} | ${fmt(r.peerSeconds)} | ${fmt(r.ratio)} | ≤ ${fmt(r.target, 1)} | ${fmt(r.oursPeakRssMiB, 0)} | ${fmt((r.files['records.log'] + r.files['metrics.parquet']) / 1e6, 1)} | ${fmt(r.files['report.html'] / 1e6, 1)} |`)
  }
  console.log('\n| format | records per second (whole `ouroboros export` process) | bytes per record |')
  console.log('|---|---|---|')
  for (const f of results.scale.formats) console.log(`| ${f.format} | ${f.recordsPerSecond === null ? 'written during the run' : fmt(f.recordsPerSecond, 0)} | ${fmt(f.bytesPerRecord, 1)} |`)
}
const outDir = join(root, 'bench-results')
mkdirSync(outDir, { recursive: true })
const file = join(outDir, `bench-${results.startedAt.replace(/[:.]/g, '-')}.json`)
writeFileSync(file, JSON.stringify(results, null, 2) + '\n')
console.log(`\nwritten: ${file}`)
const failed = Object.keys(results.failed)
if (failed.length > 0) {
  console.log(`failed sections: ${failed.join(', ')}`)
  process.exitCode = 1
}
