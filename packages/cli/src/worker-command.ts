import { dirname, isAbsolute } from 'node:path'
import { ErrorCode, OuroborosError, configError, ouroborosCommand, shellWord } from '@ouroboros/core'
import { defaultWorkers, mapModules, type ChainSpec } from '@ouroboros/scheduler'
import { allowedModuleDir, portableModule, workerModuleResolver } from './portable.js'
import { gitState, withCommit } from './provenance.js'
import { COMMAND_TEXT_MODULE, builtinModelModule } from './registry.js'

export interface WorkerCommandOptions {
  queue?: string
  workers?: number
  allowModules?: string[]
  allowCommands?: boolean
  lockSeconds?: number
  queueTimeout?: number
}

/**
 * `ouroboros worker`: takes tasks of any run from the queue and runs them on the local pool until
 * stopped. SIGTERM or Ctrl-C finishes the tasks in flight, then exits 0; a second one exits at
 * once, and the stalled-job check hands this worker's tasks to another.
 */
export async function workerCommand(opts: WorkerCommandOptions): Promise<number> {
  // Listening from the start, before BullMQ loads (most of a second): a stop while it loads, waits
  // for Redis or starts its threads has nothing to finish, and is said, where Node's default ended
  // the worker silently with exit 143 or 130.
  const stop = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'))
    process.once('SIGINT', () => resolve('SIGINT'))
  })
  const { queueAddress, startQueueWorker } = await import('@ouroboros/scheduler/queue')
  const address = opts.queue === undefined ? queueAddress(queueFromEnvironment(), 'OUROBOROS_QUEUE') : queueAddress(opts.queue)
  const workers = opts.workers ?? defaultWorkers()
  // Each thread takes a task of its own from the queue: threads beyond the cores hold tasks that
  // workers elsewhere could run, and each costs its own memory (tfjs, the data), so they are said.
  if (workers > defaultWorkers()) {
    process.stderr.write(`--workers ${workers}: this machine has ${defaultWorkers()} cores; the threads beyond them share cores, each holding a task from the queue and its own memory\n`)
  }
  const allowed = (opts.allowModules ?? []).map(allowedModuleDir)
  const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`)
  const starting = startQueueWorker({
    address,
    workers,
    lockMs: 1000 * (opts.lockSeconds ?? 30),
    resolveModule: workerModuleResolver(allowed),
    ...(opts.allowCommands === true ? {} : { checkChain: refuseCommands }),
    ...withCommit(gitState()),
    timeoutMs: 1000 * (opts.queueTimeout ?? 60),
    log,
  })
  const first = await Promise.race([starting, stop])
  if (typeof first === 'string') {
    log(`${first}: stopped while starting, before taking any task`)
    // Its wait for Redis, or the threads it was starting, would keep the process alive.
    return process.exit(0)
  }
  const worker = first
  const trusts = [...(allowed.length === 0 ? [] : [`plug-in files from ${allowed.join(', ')}`]), ...(opts.allowCommands === true ? ['model programs (model.command)'] : [])]
  log(`worker ${process.pid}: ${workers} thread${workers === 1 ? '' : 's'} taking tasks from ${address.shown}${trusts.length === 0 ? '' : `; runs ${trusts.join(' and ')}`}`)
  const signal = await stop
  log(`${signal}: finishing the tasks in flight (send it again to stop at once)`)
  const again = (second: NodeJS.Signals): never => {
    log(`${second} again: stopped at once; the queue hands the tasks in flight to another worker once their locks expire`)
    return process.exit(130)
  }
  process.once('SIGTERM', again)
  process.once('SIGINT', again)
  await worker.close()
  log('stopped')
  return 0
}

/**
 * The queue's URL where --queue is not given. A supervisor (systemd's EnvironmentFile, a batch
 * script) can keep the URL and its password there, off the command line, which `ps` shows every
 * user of the machine.
 */
function queueFromEnvironment(): string {
  const url = process.env['OUROBOROS_QUEUE']
  if (url === undefined || url === '') {
    throw configError('--queue: not given, and OUROBOROS_QUEUE is not set', 'give the Redis URL the coordinators use, as --queue redis://[user:password@]host[:port] or in the environment variable OUROBOROS_QUEUE')
  }
  return url
}

/**
 * The worker command that runs `chains` (modules as this installation's URLs), as typed and
 * without its --queue: with --allow-commands for a model program and --allow-modules for the
 * folder of each plug-in file, which a worker started without them refuses.
 */
export function workerCommandFor(chains: readonly ChainSpec[]): string {
  const folders = new Set<string>()
  let commands = false
  for (const chain of chains) {
    commands ||= isCommandModel(chain)
    mapModules(chain, (module) => {
      const named = portableModule(module)
      if (isAbsolute(named)) folders.add(dirname(named))
      return module
    })
  }
  const options = [...(commands ? ['--allow-commands'] : []), ...[...folders].sort().map((dir) => `--allow-modules ${shellWord(dir)}`)]
  return ouroborosCommand(['worker', ...options].join(' '))
}

/** This installation's URLs of the command model, on vectors and on text. */
let commandModules: Set<string> | undefined

function isCommandModel(chain: ChainSpec): boolean {
  commandModules ??= new Set([builtinModelModule('command', 'vectors')!, COMMAND_TEXT_MODULE].map((m) => import.meta.resolve(m)))
  return commandModules.has(chain.modelModule)
}

/**
 * A model that is a program (`model.command`) runs whatever run.json names, as this worker's user:
 * a worker starts none unless told it may, as it loads no plug-in file from outside the directories
 * it was given.
 */
function refuseCommands(chain: ChainSpec): void {
  if (!isCommandModel(chain)) return
  const { command, cwd } = chain.modelParams as { command?: unknown; cwd?: unknown }
  throw new OuroborosError(ErrorCode.PLUGIN, `model.command ${JSON.stringify(command)}${typeof cwd === 'string' ? ` (in ${cwd})` : ''} is a program the run names, and this worker starts none`, {
    hint: 'start the worker with --allow-commands to run the model programs that runs name, as its own user',
  })
}
