import { extname } from 'node:path'
import { Rng, inputError, formatIssues, configError, type DatasetInfo, type MetricValues, type Samples } from '@ouroboros/core'
import { readTokenFile, readVectorFile } from '@ouroboros/store'
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
  const { real, generated, dataset } = readPair(opts.real, opts.generated)
  const { builtinMetrics, metricsFor } = await metricsModule()
  const ids = opts.metrics === undefined ? metricsFor(dataset, false) : opts.metrics.split(',').map((s) => s.trim()).filter(Boolean)
  const values: MetricValues = {}
  const seed = opts.seed ?? 0
  for (const id of ids) {
    const plugin = builtinMetrics[id]
    if (plugin === undefined) throw configError(`--metrics: unknown metric group '${id}'; expected one of ${Object.keys(builtinMetrics).join(', ')}`)
    if (plugin.modality !== dataset.modality) throw configError(`--metrics: '${id}' measures ${plugin.modality}, but the files hold ${dataset.modality}`)
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

/**
 * .txt files hold token sequences, one a line, numbered in one vocabulary built from the real file
 * (the generated file's other words after it); any other extension holds vectors.
 */
function readPair(realFile: string, generatedFile: string): { real: Samples; generated: Samples; dataset: DatasetInfo } {
  const isText = (file: string): boolean => extname(file).toLowerCase() === '.txt'
  if (isText(realFile) !== isText(generatedFile)) {
    throw inputError(`--real ${realFile} and --generated ${generatedFile}: both must be .txt (token sequences) or both vector files (.csv, .json, .npy)`)
  }
  if (isText(realFile)) {
    const real = readTokenFile(realFile)
    const generated = readTokenFile(generatedFile, real.vocabulary)
    const vocabulary = generated.vocabulary
    return {
      real: { ...real.samples, vocabSize: vocabulary.length },
      generated: generated.samples,
      dataset: { kind: 'file', modality: 'tokens', vocabulary },
    }
  }
  const real = readVectorFile(realFile)
  const generated = readVectorFile(generatedFile)
  if (real.d !== generated.d) {
    throw inputError(`--generated: ${generatedFile} has ${generated.d} columns but ${realFile} has ${real.d}; both need the same dimension`)
  }
  return { real, generated, dataset: { kind: 'file', modality: 'vectors', d: real.d } }
}
