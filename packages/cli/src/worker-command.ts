import { defaultWorkers } from '@ouroboros/scheduler'
import { allowedModuleDir, workerModuleResolver } from './portable.js'
import { gitState, withCommit } from './provenance.js'

export interface WorkerCommandOptions {
  queue: string
  workers?: number
  allowModules?: string[]
  lockSeconds?: number
  queueTimeout?: number
}

/**
 * `ouroboros worker`: takes tasks of any run from the queue and runs them on the local pool until
 * stopped. SIGTERM or Ctrl-C finishes the tasks in flight, then exits 0; a second one exits at
 * once, and the stalled-job check hands this worker's tasks to another.
 */
export async function workerCommand(opts: WorkerCommandOptions): Promise<number> {
  const { queueAddress, startQueueWorker } = await import('@ouroboros/scheduler/queue')
  const address = queueAddress(opts.queue)
  const workers = opts.workers ?? defaultWorkers()
  const allowed = (opts.allowModules ?? []).map(allowedModuleDir)
  const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`)
  const git = gitState()
  const worker = await startQueueWorker({
    address,
    workers,
    lockMs: 1000 * (opts.lockSeconds ?? 30),
    resolveModule: workerModuleResolver(allowed),
    ...withCommit(gitState()),
    ...(git === undefined ? {} : { commit: git.commit }),
    timeoutMs: 1000 * (opts.queueTimeout ?? 60),
    log,
  })
  log(`worker ${process.pid}: ${workers} thread${workers === 1 ? '' : 's'} taking tasks from ${address.shown}${allowed.length === 0 ? '' : `; plug-in files from ${allowed.join(', ')}`}`)
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'))
    process.once('SIGINT', () => resolve('SIGINT'))
  })
  log(`${signal}: finishing the tasks in flight (send it again to stop at once)`)
  const again = (): never => process.exit(130)
  process.once('SIGTERM', again)
  process.once('SIGINT', again)
  await worker.close()
  log('stopped')
  return 0
}
