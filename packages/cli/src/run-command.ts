import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { changedFileError, configError, OuroborosError, ErrorCode, ouroborosCommand, shellWord } from '@ouroboros/core'
import { LocalRunner, cellSpecsOf, chainSpecsOf, defaultWorkers, loadMetric, mapModules, recordLossInfo, recordOutputInfo, runChains, type ChainSpec, type RunChainsResult, type Runner, type RunSpecs } from '@ouroboros/scheduler'
import type { QueueAddress } from '@ouroboros/scheduler/queue'
import { cellVocabularyFile, HOST, ndjsonStandsIn, readRunInfo, RUN_FILES, RunLock, WHOLE_RUN, writeFileAtomic, writeRunInfo, type RunInfo } from '@ouroboros/store'
import { AggregatorThread, prepareReport, VOCABULARY_FILE, writeReport } from '@ouroboros/report'
import { loadConfigFile } from './load-config.js'
import { builtinOutputInfo } from './outputs.js'
import { checkOutDir, checkRunReportPlace, notARunWrite, resumableFailure } from './out-paths.js'
import { packageDir } from './package-dir.js'
import { defaultConfig } from './default-config.js'
import { progressReporter } from './progress.js'
import { buildHash, gitState, resolvedCells, withCommit, type Provenance } from './provenance.js'
import { localModuleUrl, portableModule } from './portable.js'
import { resolveRun, type ResolvedRun } from './resolve.js'
import { claimDefaultDir, folderName, pathsRead, prepareRunDir, removeStartedRun } from './run-dir.js'

export interface RunCommandOptions {
  out?: string
  workers?: number
  seed?: number
  force?: boolean
  /** Redis URL: coordinate workers through the queue instead of running on the local pool. */
  queue?: string
  /** Seconds Redis may stay unreachable before the run stops. */
  queueTimeout?: number
}

export interface ResumeCommandOptions {
  workers?: number
  queue?: string
  queueTimeout?: number
}

/**
 * What run.json holds for a run, distributed or not. `configDir`: the folder of the config file the
 * run started with, from which a resume looks up the packages the config names by name, as the
 * run did (a run directory elsewhere has no node_modules to find them in).
 */
type RunFile = RunInfo & Provenance & Partial<RunSpecs> & { queue?: string; configDir?: string }

const DEFAULT_QUEUE_TIMEOUT_S = 60

/** Versions of the packages that did the run, read from their package.json files. */
function packageVersions(modules: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const url of modules) {
    try {
      const dir = packageDir(fileURLToPath(url))
      if (dir === undefined) continue
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
  checkQueueOptions(opts)
  if (opts.queue === undefined) localNote()
  const address = await queueAddressOf(opts.queue)
  const resolved = await resolveRun(raw, where, opts.seed === undefined ? {} : { seed: opts.seed })
  const configDir = configFile === undefined ? process.cwd() : dirname(resolvePath(configFile))
  const workers = localThreads(opts.workers, resolved.chains.length)
  const given = opts.out === undefined ? undefined : resolvePath(opts.out)
  const defaultParent = resolvePath('runs')
  checkOutDir('--out', given ?? defaultParent)
  const runId = randomUUID()
  // Chosen (and announced) before the pool starts: its threads inherit the note that the line was printed.
  const backend = await backendFor(resolved)
  // Until run.json is written, a stop (Ctrl-C, SIGTERM, a setup that fails) takes back what the
  // start wrote: a directory with only run.lock in it could be neither resumed nor used again.
  let started: { runDir: string; made: boolean; madeParent?: boolean } | undefined
  const onStartSignal = (signal: NodeJS.Signals): void => {
    if (started !== undefined) removeStartedRun(started.runDir, started.made, started.madeParent)
    const undone = started === undefined ? 'nothing was written' : started.made ? `removed ${started.runDir}` : `removed what it had written in ${started.runDir}`
    process.stderr.write(`\ninterrupted (${signal}) before the run started; ${undone}\n`)
    process.exit(130)
  }
  process.on('SIGINT', onStartSignal)
  process.on('SIGTERM', onStartSignal)
  let runDir: string
  let info: RunFile
  let lock: RunLock
  let runner: Runner
  try {
    // A default name is claimed at once (the queue's tasks name the directory), and given back
    // where Redis cannot be reached.
    if (given === undefined) {
      const madeParent = !existsSync(defaultParent)
      runDir = claimDefaultDir(defaultParent, `${folderName(resolved.config.name)}-${timestamp()}`)
      started = { runDir, made: true, madeParent }
    } else {
      runDir = given
    }
    // Connected before an --out directory is prepared: an unreachable Redis leaves no run directory
    // behind, and an earlier run that --force would replace as it was.
    runner = address === undefined ? new LocalRunner(workers) : await openQueue(address, runId, runDir, opts.queueTimeout, false, resolved.chains)
    try {
      const made = given === undefined || prepareRunDir(runDir, opts.force === true, pathsRead(configFile, resolved.chains))
      lock = RunLock.acquire(runDir)
      // Only once it holds the lock: a process that lost the directory to another leaves the other's files alone.
      started = { ...started, runDir, made }
      // Said at the start: a run stopped by something that leaves no last word (kill -9, the machine
      // going down) is resumed from this directory, and a report of it can be made while it runs.
      process.stderr.write(`ouroboros: run directory ${runDir}\n`)
      const setup = await setUpGroups(resolved)
      if (resolved.vocabulary !== undefined) writeFileAtomic(join(runDir, VOCABULARY_FILE), JSON.stringify(resolved.vocabulary))
      for (const [cell, words] of resolved.cellVocabularies ?? []) writeFileAtomic(join(runDir, cellVocabularyFile(cell)), JSON.stringify(words))
      info = withSetup(await runFile(resolved, runId, configDir, address, address === undefined ? workers : 0, backend), setup)
    } catch (err) {
      await runner.destroy()
      throw err
    }
  } catch (err) {
    process.off('SIGINT', onStartSignal)
    process.off('SIGTERM', onStartSignal)
    if (started !== undefined) removeStartedRun(started.runDir, started.made, started.madeParent)
    // What it wrote is taken back: the same command starts the run again, there is nothing to resume.
    throw notARunWrite(err)
  }
  // Taken off once execute's handlers are on, in the same turn as its run writes run.json: a
  // signal that came in meanwhile reaches theirs (with none on for a moment, Node drops it).
  const handOver = (): void => {
    process.off('SIGINT', onStartSignal)
    process.off('SIGTERM', onStartSignal)
  }
  try {
    return await execute(runDir, resolved.chains, resolved, info, runner, false, address, handOver)
  } catch (err) {
    // Its first write of run.json failed (a full disk): what the start wrote is taken back as a
    // failed start's, so that the same command, run again, leaves no empty directory behind.
    if (started !== undefined && !existsSync(join(runDir, RUN_FILES.run))) removeStartedRun(started.runDir, started.made, started.madeParent)
    throw err
  } finally {
    handOver()
    lock.release()
  }
}

/**
 * The local worker threads for `chains` chains: as many as asked (default: cores), but no more
 * than the tasks that can run at once, two a chain (its advance, and the evaluation of its last
 * segment that overlaps the next fit), past which threads only take memory and time to start
 * (`--workers 1000` for one chain: 900 MB, and 44 s for a run of one second). Blocks of cheap chains
 * form only where there are at least four chains a thread, so never past this cap, and the records
 * are the same for any thread count.
 */
function localThreads(given: number | undefined, chains: number, otherwise = defaultWorkers()): number {
  const most = Math.max(1, 2 * chains)
  if (given !== undefined && given > most) {
    process.stderr.write(`--workers ${given}: ${chains === 1 ? '1 chain runs' : `${chains} chains run`} at most ${most} tasks at once; starting ${most} threads\n`)
  }
  return Math.min(given ?? otherwise, most)
}

async function runFile(resolved: ResolvedRun, runId: string, configDir: string, address: QueueAddress | undefined, workers: number, backend: string): Promise<RunFile> {
  const git = gitState()
  const build = buildHash()
  return {
    name: resolved.config.name,
    status: 'running',
    startedAt: new Date().toISOString(),
    finishedAt: null,
    seed: resolved.config.seed,
    workers,
    ...(address === undefined ? {} : { queue: address.shown }),
    backend,
    config: resolved.config as unknown as Record<string, unknown>,
    configDir,
    cells: resolvedCells(resolved),
    chains: resolved.chains.map((c) => ({ id: c.id, cell: c.cell, replicate: c.replicate, seed: c.seed, status: 'pending', generationsDone: 0 })),
    metricOptions: resolved.metricOptions,
    metrics: resolved.metrics,
    metricInfo: await recordOutputInfo(resolved.chains),
    lossInfo: await recordLossInfo(resolved.chains),
    modality: resolved.modality,
    dataset: resolved.dataset,
    packages: packageVersions([
      import.meta.url,
      ...new Set(resolved.chains.flatMap((c) => [c.modelModule, c.datasetModule, ...c.metrics.map((m) => m.module)])),
      import.meta.resolve('@ouroboros/scheduler'),
      import.meta.resolve('@ouroboros/core'),
      import.meta.resolve('@ouroboros/report'),
    ]),
    node: process.version,
    ...(git === undefined ? {} : { git }),
    ...(build === undefined ? {} : { build }),
    runId,
    // Named so that any machine finds them in its own installation (see portableModule).
    cellSpecs: cellSpecsOf(resolved.chains.map((c) => mapModules(c, portableModule))),
  }
}

export async function resumeCommand(runDir: string, opts: ResumeCommandOptions): Promise<number> {
  checkQueueOptions(opts)
  const address = await queueAddressOf(opts.queue)
  const dir = resolvePath(runDir)
  // Whole before anything is computed: the report at the end reads every key of it.
  const info = readRunInfo(dir, WHOLE_RUN) as RunFile
  // Before the lock: a finished run in a folder this user may only read has nothing to lock.
  if (info.status === 'finished' && existsSync(join(dir, RUN_FILES.report))) {
    process.stderr.write(`ouroboros: ${dir} finished at ${info.finishedAt}: nothing to resume (${ouroborosCommand(`report ${shellWord(dir)}`)} makes its report again)\n`)
    return 0
  }
  checkRunReportPlace(dir)
  const standIn = ndjsonStandsIn(dir)
  if (standIn !== undefined) process.stderr.write(`${standIn}\n`)
  const lock = RunLock.acquire(dir)
  const resolved = await resolveRun(info.config, `${join(dir, RUN_FILES.run)} config`, info.configDir === undefined ? {} : { baseDir: info.configDir })
  // The chains as the run started them, where run.json has them (a run.json from before it did gets them now).
  const started = info.cellSpecs === undefined ? resolved.chains : chainSpecsOf(info.cellSpecs, info.chains).map((c) => mapModules(c, localModuleUrl))
  // Config keys added since the run started take their defaults, as the resolved config has them.
  const now = new Map(resolved.chains.map((c) => [c.id, c.config]))
  const chains = started.map((c) => ({ ...c, config: { ...now.get(c.id), ...c.config } }))
  unchangedDataFiles(started, resolved.chains)
  if (info.status === 'finished') {
    // Going through the motions again would move its finishing time, and the report's wall time, to now.
    lock.release()
    // Its chains and record files are done; the report was not written (the disk filled, say).
    process.stderr.write(`ouroboros: ${dir} finished at ${info.finishedAt}; writing its report\n`)
    try {
      process.stdout.write(`report: ${await writeReport([dir], join(dir, RUN_FILES.report), { fallbackInfo: await builtinOutputInfo() })}\n`)
    } catch (err) {
      throw resumableFailure(err, ouroborosCommand(`resume ${shellWord(dir)}`))
    }
    return 0
  }
  info.stops = [...(info.stops ?? []), { stoppedAt: lastWrite(dir), resumedAt: new Date().toISOString() }]
  info.runId ??= randomUUID()
  info.cellSpecs ??= cellSpecsOf(chains.map((c) => mapModules(c, portableModule)))
  info.metricInfo ??= await recordOutputInfo(chains)
  info.lossInfo ??= await recordLossInfo(chains)
  // run.json keeps the setup the run started with; a run.json from before it was recorded gets this one.
  const fields = info as unknown as Record<string, unknown>
  for (const [key, value] of Object.entries((await setUpGroups(resolved)).fields)) {
    if (fields[key] === undefined) fields[key] = value
    else if (!sameSetup(fields[key], value)) process.stderr.write(`warning: run.json's ${key} differs from the one this run started with; the generations scored from here on use the new one\n`)
  }
  if (address === undefined) {
    // Chosen here, before the workers start, so that the choice is announced once, not per worker.
    const backend = await backendFor(resolved)
    if (backend !== info.backend) process.stderr.write(`warning: this run started on tfjs backend ${info.backend}; the generations from here on run on ${backend}\n`)
  }
  if (address === undefined && info.queue !== undefined) {
    const { queueAddress, queueCommand } = await import('@ouroboros/scheduler/queue')
    // run.json keeps the URL with *** for the password; PASSWORD is what the commands to copy show.
    const command = queueCommand(ouroborosCommand(`resume ${shellWord(dir)}`), queueAddress(info.queue.replace(/:\*\*\*@/, ':PASSWORD@')))
    process.stderr.write(`ouroboros: this run started on the queue ${info.queue}; without --queue it goes on here, on this machine's threads (${command} sends it to the queue)\n`)
  } else if (address === undefined) {
    localNote()
  }
  const workers = localThreads(opts.workers, chains.length, info.workers > 0 ? info.workers : defaultWorkers())
  info.status = 'running'
  if (address === undefined) {
    delete info.queue
    if (info.workers === 0) info.workers = workers
  } else {
    info.queue = address.shown
    info.workers = 0
  }
  const runner = address === undefined ? new LocalRunner(workers) : await openQueue(address, info.runId, dir, opts.queueTimeout, true, chains)
  try {
    return await execute(dir, chains, resolved, info, runner, true, address)
  } finally {
    lock.release()
  }
}

/** When the run last wrote its records or run.json: as near as a killed run comes to saying when it stopped. */
function lastWrite(dir: string): string {
  const times = [RUN_FILES.run, RUN_FILES.log].map((f) => join(dir, f)).filter((f) => existsSync(f)).map((f) => statSync(f).mtimeMs)
  return new Date(Math.round(Math.max(...times))).toISOString()
}

/**
 * The data files a run pinned (their SHA-256 in the chains' data and task parameters) against the
 * files as they are now, which resolving the config again has pinned: a file changed since the run
 * began is refused before any chain goes on with other data, each chain would otherwise stop on it.
 */
function unchangedDataFiles(started: readonly ChainSpec[], now: readonly ChainSpec[]): void {
  const current = new Map(now.map((c) => [c.id, c]))
  for (const chain of started) {
    const later = current.get(chain.id)
    const pairs: [string, Record<string, unknown>, Record<string, unknown> | undefined][] = [
      ['data', chain.datasetParams, later?.datasetParams],
      ...chain.tasks.map((t): [string, Record<string, unknown>, Record<string, unknown> | undefined] => [`posttrain.${t.stage}.data`, t.datasetParams, later?.tasks.find((u) => u.stage === t.stage)?.datasetParams]),
    ]
    for (const [field, then, today] of pairs) {
      const [was, is] = [then['sha256'], today?.['sha256']]
      if (typeof was !== 'string' || typeof is !== 'string' || was === is || then['path'] !== today?.['path']) continue
      throw changedFileError(field, String(then['path']), was, is)
    }
  }
}

/** Options of a run on a queue that a local run would take without a word, or that do not go with one. */
function checkQueueOptions(opts: ResumeCommandOptions): void {
  if (opts.queue !== undefined && opts.workers !== undefined) {
    throw configError('--workers: a run on a queue runs on the threads of its workers', 'give --workers to `ouroboros worker` instead')
  }
  if (opts.queue === undefined && opts.queueTimeout !== undefined) {
    throw configError('--queue-timeout: given without --queue; a local run has no queue to wait for', 'give --queue redis://… with it to run on the queue, or leave it out')
  }
}

/**
 * OUROBOROS_QUEUE is the workers' (see worker-command.ts): a run or resume without --queue runs
 * here even where it is set, and says so, with the option that sends it to the queue instead.
 */
function localNote(): void {
  if ((process.env['OUROBOROS_QUEUE'] ?? '') === '') return
  process.stderr.write('ouroboros: this run is local (OUROBOROS_QUEUE is read by workers only); add --queue "$OUROBOROS_QUEUE" to send it to the queue\n')
}

async function queueAddressOf(url: string | undefined): Promise<QueueAddress | undefined> {
  if (url === undefined) return undefined
  // Loaded only for a queue: a local run does not pay for BullMQ's import.
  const { queueAddress } = await import('@ouroboros/scheduler/queue')
  return queueAddress(url)
}

async function openQueue(address: QueueAddress, runId: string, runDir: string, timeoutS: number | undefined, resume: boolean, chains: readonly ChainSpec[]): Promise<Runner> {
  const { QueueRunner } = await import('@ouroboros/scheduler/queue')
  const { workerCommandFor } = await import('./worker-command.js')
  return QueueRunner.open({
    address,
    runId,
    runDir,
    workerCommand: workerCommandFor(chains),
    timeoutMs: 1000 * (timeoutS ?? DEFAULT_QUEUE_TIMEOUT_S),
    resume,
    notice: (line) => notices.log(line),
    ...withCommit(gitState()),
    // The run's lock is this process's (taken before the queue opens).
    coordinator: { pid: process.pid, host: HOST },
    // Interrupted, with nobody left to finish the tasks in flight: the second interrupt's stop.
    onStranded: () => process.kill(process.pid, 'SIGINT'),
  })
}

/** Where the queue's notices go: the progress display once it runs, stderr before. */
const notices = { log: (line: string): void => void process.stderr.write(`${line}\n`) }

async function execute(runDir: string, chains: ChainSpec[], resolved: ResolvedRun, info: RunFile, runner: Runner, resume: boolean, address: QueueAddress | undefined, handOver?: () => void): Promise<number> {
  // The queue's module is loaded already where there is a queue: openQueue loaded it.
  const resumeLine = address === undefined ? ouroborosCommand(`resume ${shellWord(runDir)}`) : (await import('@ouroboros/scheduler/queue')).queueCommand(ouroborosCommand(`resume ${shellWord(runDir)}`), address)
  const doneBefore = new Map(info.chains.map((c) => [c.id, resume ? c.generationsDone : 0]))
  const progress = progressReporter(chains.map((c) => ({ id: c.id, generations: c.config.generations, done: doneBefore.get(c.id) ?? 0, group: c.cell, stages: c.config.posttrain.map((s) => s.kind) })))
  notices.log = progress.log
  const abort = new AbortController()
  let interrupts = 0
  // Once the chains are done, a signal stops only the writing of the record files (which a resume
  // writes) or of the report: the chains stay as they are.
  let writingRecords = false
  let writingReport = false
  // Whether an interrupt asked the chains to stop (as against the report's writing).
  let chainsInterrupted = false
  const reportLine = ouroborosCommand(`report ${shellWord(runDir)}`)
  // Ctrl-C, or SIGTERM from a batch system (a job cancelled or out of time) or `kill`: the same.
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++
    if (interrupts === 1) {
      const again = signal === 'SIGINT' ? 'press Ctrl-C again' : `send ${signal} again`
      const doing = writingReport
        ? `the run has finished; writing its report (or later: ${reportLine})`
        : writingRecords
          ? `the chains have stopped; writing the record files and the report (or later: ${resumeLine})`
          : `finishing the generations in flight; resume with: ${resumeLine}`
      process.stderr.write(`\ninterrupted (${signal}): ${doing}\n(${again} to stop at once)\n`)
      chainsInterrupted = !writingReport && !writingRecords
      abort.abort()
    } else if (writingReport) {
      process.stderr.write(`\nstopped; the run has finished, its report is not written: ${reportLine}\n`)
      process.exit(130)
    } else {
      process.stderr.write(`\nstopped; resume with: ${resumeLine}\n`)
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
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  handOver?.()
  let result: RunChainsResult
  let report: string
  const aggregator = new AggregatorThread()
  try {
    try {
      result = await runChains({
        runDir,
        chains,
        info,
        modality: resolved.modality,
        runner,
        resume,
        onProgress: progress.onProgress,
        signal: abort.signal,
        onRecordLog: (dir, recordChains) => {
          writingRecords = true
          progress.finishing()
          aggregator.start(dir, recordChains)
        },
      })
    } finally {
      progress.stop()
    }
    writingReport = info.status === 'finished'
    // The report's aggregation read the record log on its thread while the record files were
    // written; what every page inlines is read while it finishes.
    prepareReport()
    report = await writeReport([runDir], join(runDir, RUN_FILES.report), {}, new Map([[runDir, await aggregator.summary()]]))
  } catch (err) {
    // With run.json written, the run is finished by resuming it; without (its first write failed),
    // the directory holds nothing and the same command starts the run again.
    throw resume || existsSync(join(runDir, RUN_FILES.run)) ? resumableFailure(err, resumeLine) : notARunWrite(err)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  if (abort.signal.aborted && info.status !== 'finished') {
    process.stderr.write(`run interrupted; resume with: ${resumeLine}\n`)
    return 130
  }
  // Interrupted while every chain was in its last generation, the run still finished.
  if (chainsInterrupted) process.stderr.write('the generations in flight were the last: the run is finished, with nothing to resume\n')
  process.stdout.write(`report: ${report}\n`)
  return result.failed.length > 0 ? 1 : 0
}

/**
 * The setup of each metric group that has one (setupRun, with the first cell's options), done here
 * before the workers start: each worker then finds it ready (a classifier in its cache) instead of
 * doing it again. Its line is printed once; its fields are for run.json.
 */
async function setUpGroups(resolved: ResolvedRun): Promise<GroupSetup> {
  const fields: Record<string, unknown> = {}
  const owners: Record<string, string> = {}
  for (const spec of resolved.chains[0]?.metrics ?? []) {
    const plugin = await loadMetric(spec.module, spec.id)
    if (plugin.setupRun === undefined) continue
    const setup = await plugin.setupRun({ dataset: resolved.datasetInfo, options: spec.options, say: (line) => process.stdout.write(`${spec.id}: ${line}\n`) })
    process.stdout.write(`${spec.id}: ${setup.line}\n`)
    for (const [key, value] of Object.entries(setup.record)) {
      // Two groups' fields of one name would leave one of them in run.json, the other lost.
      if (owners[key] !== undefined) throw new OuroborosError(ErrorCode.PLUGIN, `metric groups '${owners[key]}' and '${spec.id}' both record run.json field '${key}' in their setupRun`, { hint: 'give one of the fields another name' })
      owners[key] = spec.id
      fields[key] = value
    }
  }
  return { fields, owners }
}

/** The run.json fields the metric groups' setupRun record, and the group that records each. */
interface GroupSetup {
  fields: Record<string, unknown>
  owners: Record<string, string>
}

/**
 * Whether a group's setup field is the one the run started with. One that names its content by a
 * `hash` (a classifier's weights) is compared by it: the file it is cached in differs between
 * machines and cache folders, for the same weights.
 */
function sameSetup(recorded: unknown, now: unknown): boolean {
  const hashOf = (field: unknown) => (typeof field === 'object' && field !== null && typeof (field as { hash?: unknown }).hash === 'string' ? (field as { hash: string }).hash : undefined)
  const [was, is] = [hashOf(recorded), hashOf(now)]
  return was !== undefined && is !== undefined ? was === is : JSON.stringify(recorded) === JSON.stringify(now)
}

/** run.json with the groups' setup fields, which may not replace any field of its own. */
function withSetup(info: RunFile, setup: GroupSetup): RunFile {
  for (const key of Object.keys(setup.fields)) {
    if (key in info) throw new OuroborosError(ErrorCode.PLUGIN, `metric group '${setup.owners[key]}': its setupRun records run.json field '${key}', which the run uses itself`, { hint: 'give the field another name' })
  }
  return { ...info, ...setup.fields }
}

/** The tfjs backend when a model trains on tfjs (loading tfjs only then: it takes ~0.5 s). */
async function backendFor(resolved: ResolvedRun): Promise<string> {
  if (!resolved.usesTfjs) return 'none (no model on tfjs)'
  const { describeBackend, formatBackend } = await import('@ouroboros/tf')
  return formatBackend(await describeBackend())
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')
}
