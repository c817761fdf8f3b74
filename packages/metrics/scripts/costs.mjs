// CPU seconds of every metric group that applies, on the data sizes runs use by default: the ring
// (10,000 real and 10,000 generated points), MNIST (9,000 training digits against 9,000 others
// drawn from the same pool) and Brown (the whole training split, 51,606 sentences, against as
// many). The generated data are the dataset's own draws, so every group has something to find.
// Each (dataset, group) runs in its own Node process, after `npx tsc -b`:
//
//     node packages/metrics/scripts/costs.mjs            # every case, one line of JSON each
//     node packages/metrics/scripts/costs.mjs ring vendi # one case
//
// `likelihood` and `perplexity` are left out: their cost is the model's log-likelihood.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const self = fileURLToPath(import.meta.url)
const SIZES = { ring: 10_000, mnist: 9_000, brown: null }

async function runCase(kind, group) {
  const { Rng } = await import('../../core/dist/index.js')
  const { builtinDatasets } = await import('../../datasets/dist/index.js')
  const { builtinMetrics } = await import('../dist/index.js')
  const plugin = builtinMetrics[group]
  const data = builtinDatasets[kind]
  const params = data.params.parse({})
  const instance = await data.create(params, Rng.from(0, 'data'))
  const n = SIZES[kind] ?? data.limits(params).n
  const real = instance.sample(n, Rng.from(1, 'real'))
  const generated = instance.sample(n, Rng.from(2, 'generated'))
  const dataset = instance.info
  const options = plugin.options.parse({})
  const cpu = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1e6
  }
  const t0 = cpu()
  const prepared = await plugin.prepare?.({ real, dataset, options, rng: Rng.from(0, 'prepare') })
  const t1 = cpu()
  const values = await plugin.compute({ real, generated, options, dataset, prepared, training: real, rng: Rng.from(0, 'metric') })
  const t2 = cpu()
  process.stdout.write(JSON.stringify({ data: kind, n, group, prepareCpuSeconds: +(t1 - t0).toFixed(2), computeCpuSeconds: +(t2 - t1).toFixed(2), values }) + '\n')
}

async function all() {
  const { builtinMetrics } = await import('../dist/index.js')
  const { builtinDatasets } = await import('../../datasets/dist/index.js')
  for (const kind of Object.keys(SIZES)) {
    const modality = builtinDatasets[kind].modality
    for (const [group, plugin] of Object.entries(builtinMetrics)) {
      if (plugin.modality !== modality || ['likelihood', 'perplexity', 'regression', 'task'].includes(group)) continue
      if ((plugin.needs ?? []).some((need) => need.startsWith('dataset.') && !needMet(kind, need))) continue
      const res = spawnSync(process.execPath, [self, kind, group], { encoding: 'utf8' })
      process.stdout.write(res.status === 0 ? res.stdout : JSON.stringify({ data: kind, group, error: res.stderr.trim().split('\n').slice(-3).join(' ') }) + '\n')
    }
  }
}

/** Which dataset facets each of the three datasets has. */
function needMet(kind, need) {
  const facets = { ring: ['dataset.modes', 'dataset.d'], mnist: ['dataset.labelled', 'dataset.image', 'dataset.d'], brown: ['dataset.vocabulary', 'dataset.genres'] }
  return facets[kind].includes(need)
}

if (process.argv[2] !== undefined) await runCase(process.argv[2], process.argv[3])
else await all()
