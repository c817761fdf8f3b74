// The metrics section of `pnpm bench`: the expensive metric groups on synthetic Gaussian data at
// the sizes runs use. Each case runs in its own Node process (this file with the case name as its
// argument), so that its peak RSS is its own; the data are made before the clock starts.
// Targets: prdc 10k vs 10k < 1 s in 2-D and < 15 s in 784-D; every case under 1 GiB.
import { spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'

const self = fileURLToPath(import.meta.url)

const CASES = {
  'prdc 10k vs 10k, 2-D': { group: 'prdc', n: 10_000, d: 2 },
  'prdc 10k vs 10k, 784-D': { group: 'prdc', n: 10_000, d: 784 },
  'vendi n=2000, 784-D': { group: 'vendi', n: 2000, d: 784 },
  'mmd_rbf 2000 vs 2000, 784-D': { group: 'mmd_rbf', n: 2000, d: 784 },
}

/** Rows { name, seconds, peakRssMiB }: per case prepare + compute, then each on its own. */
export async function benchMetrics() {
  const rows = []
  for (const name of Object.keys(CASES)) {
    const res = spawnSync(process.execPath, [self, name], { encoding: 'utf8' })
    if (res.status !== 0) throw new Error(`metrics bench '${name}' exited with ${res.status}: ${res.stderr.slice(-2000)}`)
    const { prepareSeconds, computeSeconds, peakRssMiB } = JSON.parse(res.stdout)
    rows.push({ name, seconds: prepareSeconds + computeSeconds, peakRssMiB })
    rows.push({ name: `${name}: prepare (once per chain)`, seconds: prepareSeconds, peakRssMiB })
    rows.push({ name: `${name}: compute (per generation)`, seconds: computeSeconds, peakRssMiB })
  }
  return rows
}

async function runCase(name) {
  const spec = CASES[name]
  if (spec === undefined) throw new Error(`unknown metrics bench case '${name}'`)
  // The built packages: @ouroboros/* does not resolve from scripts/.
  const { Rng, vectors } = await import('../../packages/core/dist/index.js')
  const { builtinMetrics } = await import('../../packages/metrics/dist/index.js')
  const plugin = builtinMetrics[spec.group]
  const rng = Rng.from(0, 'bench', name)
  const real = vectors(spec.n, spec.d, rng.fillNormal(new Float64Array(spec.n * spec.d)))
  const generated = vectors(spec.n, spec.d, rng.fillNormal(new Float64Array(spec.n * spec.d), 0.1, 0.9))
  const dataset = { kind: 'gaussian', modality: 'vectors', d: spec.d }
  const options = plugin.options.parse({})

  const t0 = performance.now()
  const prepared = await plugin.prepare?.({ real, dataset, options, rng: Rng.from(0, 'prepare') })
  const t1 = performance.now()
  const values = await plugin.compute({ real, generated, options, dataset, prepared, rng: Rng.from(0, 'metric') })
  const t2 = performance.now()
  const peakRssMiB = process.resourceUsage().maxRSS / 1024
  process.stdout.write(JSON.stringify({ prepareSeconds: (t1 - t0) / 1000, computeSeconds: (t2 - t1) / 1000, peakRssMiB, values }) + '\n')
}

if (process.argv[1] === self && process.argv[2] !== undefined) await runCase(process.argv[2])
