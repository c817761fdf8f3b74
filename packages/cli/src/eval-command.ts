import { Rng, inputError, formatIssues, configError, type DatasetInfo, type MetricValues } from '@ouroboros/core'
import { readVectorFile } from '@ouroboros/store'
import { metricsModule } from './registry.js'

export interface EvalOptions {
  real: string
  generated: string
  metrics?: string
  json?: boolean
  seed?: number
}

/** Scores any two sample files: `ouroboros eval --real FILE --generated FILE`. */
export async function evalCommand(opts: EvalOptions): Promise<number> {
  const real = readVectorFile(opts.real)
  const generated = readVectorFile(opts.generated)
  if (real.d !== generated.d) {
    throw inputError(`--generated: ${opts.generated} has ${generated.d} columns but ${opts.real} has ${real.d}; both need the same dimension`)
  }
  const { builtinMetrics, metricsFor } = await metricsModule()
  const dataset: DatasetInfo = { kind: 'file', modality: 'vectors', d: real.d }
  const ids = opts.metrics === undefined ? metricsFor(dataset, false) : opts.metrics.split(',').map((s) => s.trim()).filter(Boolean)
  const values: MetricValues = {}
  const seed = opts.seed ?? 0
  for (const id of ids) {
    const plugin = builtinMetrics[id]
    if (plugin === undefined) throw configError(`--metrics: unknown metric group '${id}'; expected one of ${Object.keys(builtinMetrics).join(', ')}`)
    const options = plugin.options.safeParse({})
    if (!options.success) throw configError(formatIssues(options.error.issues, `--metrics ${id}`))
    const prepared = await plugin.prepare?.({ real, dataset, options: options.data, rng: Rng.from(seed, 'prepare', id) })
    const out = await plugin.compute({ real, generated, options: options.data, dataset, prepared, rng: Rng.from(seed, 'metric', id, 0) })
    for (const name of plugin.outputs) {
      const v = out[name]
      values[name] = v === undefined || v === null || !Number.isFinite(v) ? null : v
    }
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(values) + '\n')
  } else {
    const width = Math.max(...Object.keys(values).map((k) => k.length))
    for (const [k, v] of Object.entries(values)) process.stdout.write(`${k.padEnd(width)}  ${v === null ? 'n/a' : v}\n`)
  }
  return 0
}
