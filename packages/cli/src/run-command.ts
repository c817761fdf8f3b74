import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { dirname, join, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configError, OuroborosError, ErrorCode } from '@ouroboros/core'
import { runChains, defaultWorkers, type RunChainsResult } from '@ouroboros/scheduler'
import { readRunInfo, RUN_FILES, writeFileAtomic, writeRunInfo, type RecordedClassifier, type RunInfo } from '@ouroboros/store'
import { VOCABULARY_FILE, writeReport } from '@ouroboros/report'
import { loadConfigFile } from './load-config.js'
import { defaultConfig } from './default-config.js'
import { progressReporter } from './progress.js'
import { gitState, resolvedCells, type Provenance } from './provenance.js'
import { metricsModule } from './registry.js'
import { resolveRun, type ResolvedRun } from './resolve.js'

export interface RunCommandOptions {
  out?: string
  workers?: number
  seed?: number
  force?: boolean
}

/** Versions of the packages that did the run, read from their package.json files. */
function packageVersions(modules: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const url of modules) {
    try {
      let dir = dirname(fileURLToPath(url))
      while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string }
      if (pkg.name !== undefined && pkg.version !== undefined) out[pkg.name] = pkg.version
    } catch {
      // A module outside any package (a bare file given as model.module) has no version to record.
    }
  }
  return out
}

export async function runCommand(configFile: string | undefined, opts: RunCommandOptions): Promise<number> {
  const raw = configFile === undefined ? defaultConfig : await loadConfigFile(configFile)
  const where = configFile ?? '(built-in default config)'
  const resolved = await resolveRun(raw, where, opts.seed === undefined ? {} : { seed: opts.seed })
  const workers = opts.workers ?? defaultWorkers()
  const runDir = resolvePath(opts.out ?? join('runs', `${resolved.config.name.replace(/[^A-Za-z0-9._-]+/g, '_')}-${timestamp()}`))
  prepareRunDir(runDir, opts.force === true)
  const classifier = await prepareClassifier(resolved)
  if (resolved.vocabulary !== undefined) writeFileAtomic(join(runDir, VOCABULARY_FILE), JSON.stringify(resolved.vocabulary))
  const git = gitState()
  const info: RunInfo & Provenance = {
    name: resolved.config.name,
    status: 'running',
    startedAt: new Date().toISOString(),
    finishedAt: null,
    seed: resolved.config.seed,
    workers,
    backend: await backendFor(resolved),
    config: resolved.config as unknown as Record<string, unknown>,
    cells: resolvedCells(resolved),
    chains: resolved.chains.map((c) => ({ id: c.id, cell: c.cell, replicate: c.replicate, seed: c.seed, status: 'pending', generationsDone: 0 })),
    metricOptions: resolved.metricOptions,
    metrics: resolved.metrics,
    modality: resolved.modality,
    dataset: resolved.dataset,
    ...(classifier === undefined ? {} : { classifier }),
    packages: packageVersions([
      import.meta.url,
      ...new Set(resolved.chains.flatMap((c) => [c.modelModule, c.datasetModule, ...c.metrics.map((m) => m.module)])),
      import.meta.resolve('@ouroboros/scheduler'),
      import.meta.resolve('@ouroboros/core'),
      import.meta.resolve('@ouroboros/report'),
    ]),
    node: process.version,
    ...(git === undefined ? {} : { git }),
  }
  return execute(runDir, resolved, info, workers, false)
}

export async function resumeCommand(runDir: string, opts: { workers?: number }): Promise<number> {
  const dir = resolvePath(runDir)
  const info = readRunInfo(dir)
  const resolved = await resolveRun(info.config, `${join(dir, RUN_FILES.run)} config`)
  const classifier = await prepareClassifier(resolved)
  if (classifier !== undefined && info.classifier !== undefined && classifier.hash !== info.classifier.hash) {
    process.stderr.write(`warning: the classifier differs from the one this run started with (backend ${info.classifier.backend}, now ${classifier.backend}); the generations scored from here on use the new one\n`)
  }
  // run.json keeps the classifier the run started with; a run.json from before it was recorded gets this one.
  if (classifier !== undefined) info.classifier ??= classifier
  const workers = opts.workers ?? info.workers ?? defaultWorkers()
  info.status = 'running'
  return execute(dir, resolved, info, workers, true)
}

async function execute(runDir: string, resolved: ResolvedRun, info: RunInfo, workers: number, resume: boolean): Promise<number> {
  const doneBefore = new Map(info.chains.map((c) => [c.id, resume ? c.generationsDone : 0]))
  const progress = progressReporter(resolved.chains.map((c) => ({ id: c.id, generations: c.config.generations, done: doneBefore.get(c.id) ?? 0, group: c.cell })))
  const abort = new AbortController()
  let interrupts = 0
  const onSigint = (): void => {
    interrupts++
    if (interrupts === 1) {
      process.stderr.write(`\ninterrupted: finishing the generations in flight; resume with: ouroboros resume ${runDir}\n(press Ctrl-C again to stop at once)\n`)
      abort.abort()
    } else {
      process.stderr.write(`\nstopped; resume with: ouroboros resume ${runDir}\n`)
      // The generations in flight are dropped; run.json says so instead of "running".
      info.status = 'interrupted'
      try {
        writeRunInfo(runDir, info)
      } catch {
        // A resume does not need it: records and checkpoints decide where the run goes on.
      }
      process.exit(130)
    }
  }
  process.on('SIGINT', onSigint)
  let result: RunChainsResult
  try {
    result = await runChains({ runDir, chains: resolved.chains, info, modality: resolved.modality, workers, resume, onProgress: progress.onProgress, signal: abort.signal })
  } finally {
    progress.stop()
    process.off('SIGINT', onSigint)
  }
  const report = await writeReport([runDir], join(runDir, RUN_FILES.report), {}, new Map([[runDir, result.records]]))
  if (abort.signal.aborted) {
    process.stderr.write(`run interrupted; resume with: ouroboros resume ${runDir}\n`)
    return 130
  }
  process.stdout.write(`report: ${report}\n`)
  return result.failed.length > 0 ? 1 : 0
}

/**
 * The classifier of the `classifier` metric group (first cell's options), trained or read from its
 * cache here, before the workers start: each worker then reads it from the cache instead of
 * training its own copy. Its held-out accuracy is printed once.
 */
async function prepareClassifier(resolved: ResolvedRun): Promise<RecordedClassifier | undefined> {
  const spec = resolved.chains[0]?.metrics.find((m) => m.id === 'classifier')
  if (spec === undefined) return undefined
  const { classifierFacts } = await metricsModule()
  const facts = await classifierFacts(resolved.datasetInfo, spec.options)
  const source = facts.trained ? 'trained now' : 'read from the cache'
  process.stdout.write(`classifier: held-out accuracy ${(100 * facts.accuracy).toFixed(2)} % on ${facts.testItems} digits (${source}: ${facts.cacheFile})\n`)
  return { heldoutAccuracy: facts.accuracy, testItems: facts.testItems, backend: facts.backend, hash: facts.hash, cacheFile: facts.cacheFile }
}

/** The tfjs backend when a model trains on tfjs (loading tfjs only then: it takes ~0.5 s). */
async function backendFor(resolved: ResolvedRun): Promise<string> {
  if (!resolved.usesTfjs) return 'none (no model on tfjs)'
  const { describeBackend, formatBackend } = await import('@ouroboros/tf')
  return formatBackend(await describeBackend())
}

function prepareRunDir(runDir: string, force: boolean): void {
  if (existsSync(runDir) && readdirSync(runDir).length > 0) {
    if (!force) throw configError(`--out: ${runDir} already exists and is not empty`, 'choose another --out, or pass --force to replace it')
    if (!existsSync(join(runDir, RUN_FILES.run))) {
      throw new OuroborosError(ErrorCode.RUN_DIR, `--out: ${runDir} is not a run directory; refusing to delete it even with --force`)
    }
    rmSync(runDir, { recursive: true, force: true })
  }
  mkdirSync(runDir, { recursive: true })
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')
}
