import { statSync } from 'node:fs'
import { extname } from 'node:path'
import {
  Rng,
  configError,
  configSchema,
  didYouMean,
  formatIssues,
  inputError,
  jsonFault,
  toOuroborosError,
  type DatasetInfo,
  type MetricNeed,
  type MetricPlugin,
  type MetricValues,
  type Samples,
  type VectorSamples,
} from '@ouroboros/core'
import { readTokenFile, readVectorFile } from '@ouroboros/store'
import { loadMetric } from '@ouroboros/scheduler'
import { builtinDatasets, metricsModule, moduleUrl } from './registry.js'
import { needInWords } from './metric-needs.js'

export interface EvalOptions {
  real: string
  generated: string
  metrics?: string
  json?: boolean
  seed?: number
  data?: string
  training?: string
}

/** Refusal of a group whose needs eval does not meet: what it needs, and how to supply it or why eval cannot. */
function cannotCompute(id: string, unmet: readonly (MetricNeed | 'training')[]): Error {
  const needs = unmet.map(needInWords)
  const missing = needs.filter((need) => need.how === undefined)
  const hint =
    missing.length > 0
      ? `eval scores two sample files and has no model, held-out data or task; \`ouroboros run\` computes '${id}'`
      : `give ${needs.map((need) => need.how).join(' and ')}`
  return configError(`--metrics: eval cannot compute '${id}': it needs ${needs.map((need) => need.what).join(' and ')}`, hint)
}

/**
 * A `--metrics` entry that is no built-in group: a metric group's module, a path (relative to the
 * working directory) or a package name, loaded as a config's `{"module": ...}` is.
 */
async function metricFromModule(entry: string, builtin: Readonly<Record<string, MetricPlugin<any, any>>>): Promise<MetricPlugin<any, any>> {
  const known = Object.keys(builtin)
  let url: string
  try {
    url = moduleUrl(entry, process.cwd(), 'the working directory')
  } catch (err) {
    // A bare word that is no package is most likely a misspelt group.
    if (!/[./]/.test(entry)) throw configError(`--metrics: unknown metric group '${entry}'${didYouMean(entry, known)}; expected one of ${known.join(', ')}, or a metric group's module (a path or a package name)`)
    const e = toOuroborosError(err)
    throw configError(`--metrics: ${e.message}`, e.hint)
  }
  let plugin: MetricPlugin<any, any>
  try {
    plugin = await loadMetric(url)
  } catch (err) {
    throw configError(`--metrics: ${toOuroborosError(err).message}`)
  }
  if (builtin[plugin.id] !== undefined) throw configError(`--metrics: ${entry}: its group is called '${plugin.id}', as is a built-in group`, 'give it another id')
  return plugin
}

/** Scores any two sample files: `ouroboros eval --real FILE --generated FILE`. */
export async function evalCommand(opts: EvalOptions): Promise<number> {
  const seed = opts.seed ?? 0
  const { builtinMetrics, metricsFor, unmetNeeds } = await metricsModule()
  const named = opts.metrics?.split(',').map((s) => s.trim()).filter(Boolean)
  // Said before the files are read: `--metrics ""` (a shell variable left empty) names no group,
  // which is not the same as leaving the option out.
  if (named?.length === 0) {
    throw configError(`--metrics: empty; expected metric groups separated by commas: ${Object.keys(builtinMetrics).join(', ')}, or a metric group's module (a path or a package name)`, 'leave --metrics out for the cheap groups that apply')
  }
  const twice = named?.find((id, i) => named.indexOf(id) !== i)
  if (twice !== undefined) throw configError(`--metrics: '${twice}' is named twice`, 'name each group once')
  const source = opts.data === undefined ? undefined : await datasetOption(opts.data, seed)
  const { real, generated, dataset } = readPair(opts.real, opts.generated, source)
  const training = opts.training === undefined ? undefined : readTraining(opts.training, opts.real, real)
  const sources = { dataset, logLikelihood: false, summary: false, training: training !== undefined, heldout: false, task: false }
  // The default set leaves out what eval cannot give (a fitted model's summary: regression data).
  const ids =
    named === undefined
      ? metricsFor(dataset, false, { training: training !== undefined, heldout: false }).filter((id) => unmetNeeds(builtinMetrics[id]!, sources).length === 0)
      : named
  if (ids.length === 0) throw configError(`no metric group that eval can compute applies to ${dataset.kind === 'file' ? 'these files' : `'${dataset.kind}' data`}`, 'name groups with --metrics (ouroboros list)')
  const plugins: MetricPlugin<any, any>[] = []
  for (const id of ids) {
    const plugin = builtinMetrics[id] ?? (await metricFromModule(id, builtinMetrics))
    if (plugin.modality !== dataset.modality) throw configError(`--metrics: '${id}' measures ${plugin.modality}, but the files hold ${dataset.modality}`)
    const unmet = unmetNeeds(plugin, sources)
    if (unmet.length > 0) throw cannotCompute(id, unmet)
    plugins.push(plugin)
  }
  // Values are printed by name: a module's group may not have another group's output.
  for (const plugin of plugins) {
    if (builtinMetrics[plugin.id] === plugin) continue
    const other = plugins.find((o) => o !== plugin && o.outputs.some((name) => plugin.outputs.includes(name)))
    if (other !== undefined) {
      const shared = plugin.outputs.filter((name) => other.outputs.includes(name))
      throw configError(`--metrics: group '${plugin.id}' has the output${shared.length === 1 ? '' : 's'} ${shared.map((name) => `'${name}'`).join(', ')} of group '${other.id}'`, 'give its outputs other names, or leave one of the groups out')
    }
  }

  await warnIfNotOfData(plugins, { real, dataset, seed }, opts.real)

  const values: MetricValues = {}
  const reasons = new Map<string, string>()
  let status = 0
  // A group can take minutes (the clusters of 9,000 digits): on a terminal a line says which runs.
  const working = process.stderr.isTTY === true ? (text: string) => process.stderr.write(`\r\x1b[K${text}`) : () => {}
  for (const [i, plugin] of plugins.entries()) {
    working(`eval: scoring ${plugin.id} (group ${i + 1} of ${plugins.length})...`)
    try {
      const out = await computeGroup(plugin, { real, generated, dataset, training, seed })
      working('')
      for (const name of plugin.outputs) {
        const v = out[name]
        values[name] = v === undefined || v === null || !Number.isFinite(v) ? null : v
        if (values[name] === null) reasons.set(name, plugin.nullWhen?.[name] ?? 'not defined for these samples')
      }
    } catch (err) {
      working('')
      const e = toOuroborosError(err)
      process.stderr.write(`error: metric group '${plugin.id}' failed: ${e.message}\n`)
      if (e.hint) process.stderr.write(`hint: ${e.hint}\n`)
      status = Math.max(status, e.isUsageError ? 2 : 1)
      for (const name of plugin.outputs) {
        values[name] = null
        reasons.set(name, `the ${plugin.id} group failed (see above)`)
      }
    }
  }

  if (opts.json) {
    process.stdout.write(JSON.stringify(values) + '\n')
    for (const [name, reason] of reasons) process.stderr.write(`note: ${name} is null: ${reason}\n`)
  } else {
    const width = Math.max(...Object.keys(values).map((k) => k.length))
    for (const [k, v] of Object.entries(values)) process.stdout.write(`${k.padEnd(width)}  ${v === null ? `n/a  (${reasons.get(k)})` : readable(v)}\n`)
  }
  return status
}

/**
 * Mode data named by --data that the real file is not (grid points scored as a ring's, or a ring
 * of another std): every number of the modes group would then measure the mismatch. The real
 * file against itself says how much of it lies within 3 std of a mode: in one or two dimensions
 * nearly all of a draw of that data (99.7 %, 98.9 %); in more, a share that falls with d.
 */
async function warnIfNotOfData(plugins: readonly MetricPlugin<any, any>[], args: { real: Samples; dataset: DatasetInfo; seed: number }, realFile: string): Promise<void> {
  const modes = plugins.find((p) => p.id === 'modes')
  if (modes === undefined || args.dataset.modes === undefined || (args.dataset.d ?? 2) > 2) return
  const own = await computeGroup(modes, { ...args, generated: args.real, training: undefined })
  const share = own['pct_high_quality']
  if (typeof share === 'number' && share < MIN_REAL_HIGH_QUALITY) {
    process.stderr.write(`warning: --real ${realFile}: ${readable(share)} % of its points lie within 3 std of a mode of the '${args.dataset.kind}' data (--data); are they of that data?\n`)
  }
}

/** Below this share a file of a few hundred points is not a draw of the data (98.9 % in 2-D). */
const MIN_REAL_HIGH_QUALITY = 90

async function computeGroup(
  plugin: MetricPlugin<any, any>,
  args: { real: Samples; generated: Samples; dataset: DatasetInfo; training: VectorSamples | undefined; seed: number },
): Promise<MetricValues> {
  const options = plugin.options.safeParse({})
  if (!options.success) throw configError(formatIssues(options.error.issues, `--metrics ${plugin.id}`))
  const { real, generated, dataset, training, seed } = args
  const prepared = await plugin.prepare?.({ real, dataset, options: options.data, rng: Rng.from(seed, 'prepare', plugin.id) })
  return plugin.compute({
    real,
    generated,
    options: options.data,
    dataset,
    prepared,
    rng: Rng.from(seed, 'metric', plugin.id, 0),
    ...(training === undefined ? {} : { training }),
  })
}

/** `--data KIND` or `--data '{"kind": KIND, ...params}'`: the facts of a built-in dataset. */
async function datasetOption(text: string, seed: number): Promise<DatasetInfo> {
  let spec: unknown = { kind: text }
  if (text.trim().startsWith('{')) {
    try {
      spec = JSON.parse(text)
    } catch (err) {
      throw configError(`--data: ${jsonFault(text, err)}`)
    }
  }
  if (typeof spec !== 'object' || spec === null || typeof (spec as { kind?: unknown }).kind !== 'string') {
    throw configError(`--data: expected a dataset kind or a JSON object with "kind"`)
  }
  const { kind, n, ...rest } = spec as { kind: string; n?: unknown }
  const datasets = await builtinDatasets()
  const plugin = datasets[kind]
  if (plugin === undefined) throw configError(`--data: unknown dataset '${kind}'${didYouMean(kind, Object.keys(datasets))}; expected one of ${Object.keys(datasets).join(', ')}`)
  // Checked as a config's data are, though eval reads no samples of it: a value a run would refuse is refused here too.
  const nSchema = configSchema.shape.data.shape.n
  const sized = nSchema.safeParse(n)
  const params = plugin.params.safeParse(rest)
  const problems = [
    ...(sized.success ? [] : [formatIssues(sized.error.issues, '--data', ['n'], { input: n, schema: nSchema })]),
    ...(params.success ? [] : [formatIssues(params.error.issues, '--data', [], { input: rest, schema: plugin.params, extraKeys: ['kind', 'n'] })]),
  ]
  if (!sized.success || !params.success) throw configError(problems.join('\n'))
  return (await plugin.create(params.data, Rng.from(seed, 'data'))).info
}

/**
 * .txt files (and a run's .tokens files) hold token sequences, numbered in one vocabulary: the
 * dataset's (--data) first, then the real file's other words, then the generated file's. Any other
 * extension holds vectors.
 */
function readPair(realFile: string, generatedFile: string, source: DatasetInfo | undefined): { real: Samples; generated: Samples; dataset: DatasetInfo } {
  const isText = (file: string): boolean => ['.txt', '.tokens'].includes(extname(file).toLowerCase())
  // Said before the kinds are compared: a directory's name (runs/gen) says nothing of what it holds.
  for (const file of [realFile, generatedFile]) {
    if (statSync(file, { throwIfNoEntry: false })?.isDirectory() === true) throw inputError(`${file}: a directory, not a file`)
  }
  if (isText(realFile) !== isText(generatedFile)) {
    throw inputError(`--real ${realFile} and --generated ${generatedFile}: both must be token sequences (.txt, or a run's .tokens) or both vector files (.csv, .json, .npy)`)
  }
  const modality = isText(realFile) ? 'tokens' : 'vectors'
  if (source !== undefined && source.modality !== modality) {
    throw inputError(`--data: '${source.kind}' data are ${source.modality}, but ${realFile} holds ${modality} (${modality === 'tokens' ? ".txt or a run's .tokens" : '.csv, .json or .npy'})`)
  }
  if (modality === 'tokens') {
    const real = readTokenFile(realFile, source?.vocabulary)
    const generated = readTokenFile(generatedFile, real.vocabulary)
    const vocabulary = generated.vocabulary
    return {
      real: { ...real.samples, vocabSize: vocabulary.length },
      generated: generated.samples,
      dataset: { ...(source ?? { kind: 'file', modality }), vocabulary },
    }
  }
  const real = readVectorFile(realFile)
  const generated = readVectorFile(generatedFile)
  if (real.d !== generated.d) {
    throw inputError(`--generated: ${generatedFile} has ${count(generated.d, 'column')} but ${realFile} has ${real.d}; both need the same dimension`)
  }
  if (source?.d !== undefined && source.d !== real.d) {
    throw inputError(`--data: '${source.kind}' data have ${count(source.d, 'dimension')}, but ${realFile} has ${count(real.d, 'column')}`)
  }
  if (source?.image !== undefined) {
    checkPixels('--real', realFile, real)
    checkPixels('--generated', generatedFile, generated)
  }
  return { real, generated, dataset: source ?? { kind: 'file', modality, d: real.d } }
}

/**
 * Images' pixels are in [0, 1], and the classifier and features that score them were trained so:
 * digits saved as 0–255 would be scored as nothing like digits, without a word. A model's samples
 * may stray past 1 (a Gaussian's tails), so only values no such stray reaches are refused.
 */
function checkPixels(option: string, file: string, samples: VectorSamples): void {
  let max = -Infinity
  for (const v of samples.data) if (v > max) max = v
  if (max > MAX_PIXEL) throw inputError(`${option}: ${file} has values up to ${max}, but the data's pixels are in [0, 1]`, 'divide pixels of 0–255 by 255')
}

/** Past this, values are not pixels in [0, 1] strayed a little: 0–255 digits reach 255. */
const MAX_PIXEL = 10

function readTraining(file: string, realFile: string, real: Samples): VectorSamples {
  if (real.modality !== 'vectors') throw inputError(`--training ${file}: only vector metrics (copy_rate) read a training set, and ${realFile} holds text`)
  const training = readVectorFile(file)
  if (training.d !== real.d) throw inputError(`--training: ${file} has ${count(training.d, 'column')} but ${realFile} has ${real.d}; both need the same dimension`)
  return training
}

/** `n` and a noun, singular for 1: "1 column", "3 columns". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

/**
 * A value for the terminal: 12 significant digits, so that a sum's last-bit noise (59.150000000000006
 * for a share of 59.15 %) does not show; --json keeps every bit.
 */
export function readable(v: number): string {
  return String(Number(v.toPrecision(12)))
}
