import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { appendFileSync, existsSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { threadId } from 'node:worker_threads'
import { OuroborosError, ErrorCode, divergedError } from '@ouroboros/core'
import { HOST } from '@ouroboros/store'

/** The start of the names of a request's array files on this machine; the process's pid follows. */
export const IO_PREFIX = `model-io-${HOST}-`

/** The protocol version both sides speak (`hello` checks it). */
export const PROTOCOL = 1

/** How the first request, `hello`, is named in messages. */
export const HELLO = "'hello'"

export interface ProcessOptions {
  readonly command: readonly string[]
  readonly cwd: string
  readonly timeoutMs: number
  /** The child is stopped after this long without a request (its chains have likely finished). */
  readonly idleMs: number
  /** Passed to the model's constructor. */
  readonly params: Record<string, unknown>
}

export interface Reply {
  readonly id: number
  readonly ok: boolean
  readonly error?: string
  readonly [key: string]: unknown
}

interface Pending {
  readonly id: number
  readonly what: string
  readonly resolve: (reply: Reply) => void
  readonly reject: (err: Error) => void
  readonly timer: NodeJS.Timeout
  /** Called for each progress line of the request (a fit's steps), before its reply. */
  readonly onProgress?: (step: number, steps: number) => void
}

/** Numbers the children of a thread, so that each has its own exchange files. */
let started = 0

/** Said of a child that ended well with a request unanswered: most often a script that never started serving. */
const UNSERVED = " — a model program answers requests on its stdin until it closes: did the script call serve(MyModel) (ouroboros_model.py's serve, at its end)?"

/** Lines of the child's stderr kept for error messages. */
const STDERR_TAIL_CHARS = 2000

/**
 * One child process that answers requests in order. Requests are queued, so callers may overlap;
 * the first failure (exit, timeout, a reply that is not the protocol's) stops the child, and every
 * later request fails with the same message.
 */
export class ModelProcess {
  /** The saved model (a directory) the child holds in memory, as far as this side knows. */
  holds: string | undefined
  /** The chain directory of the latest request: its model.log gets the child's stderr. */
  serving: string | undefined
  /** The trainer whose copy of a model the child is training (a post-training stage), if any: such a child is not stopped when idle. */
  trainee: object | undefined
  private readonly child: ChildProcessWithoutNullStreams
  private readonly name: string
  private readonly number = started++
  private pending: Pending | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private nextId = 1
  private stdout = ''
  private stderrTail = ''
  private failure: Error | undefined
  private exited = false
  private stopped = false
  private idle: NodeJS.Timeout | undefined

  constructor(private readonly options: ProcessOptions) {
    this.name = `model.command ${JSON.stringify(options.command)}`
    // OUROBOROS_PID: the process whose end ends the child, whatever starts it (a wrapper script, `uv run`) and however late it looks.
    // detached: a process group of its own, which a terminal's Ctrl-C does not reach. The run's first
    // Ctrl-C lets the generations in flight finish, their fits in this child included; the second
    // exits, which stops the child (the pool's exit handler, or the helper's watch on OUROBOROS_PID).
    this.child = spawn(options.command[0]!, options.command.slice(1), { cwd: options.cwd, detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, OUROBOROS_PID: String(process.pid) } })
    // Neither the child nor its pipes keep a thread alive; a pending request's timer does.
    this.child.unref()
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { unref?: () => void }).unref?.()
    this.child.stdout.setEncoding('utf8')
    this.child.stdout.on('data', (chunk: string) => this.onStdout(chunk))
    this.child.stderr.on('data', (chunk: Buffer) => {
      try {
        if (this.serving !== undefined) appendFileSync(join(this.serving, 'model.log'), chunk)
      } catch {
        // A log that cannot be written (its run directory removed) must not stop the model.
      }
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS)
    })
    this.child.stdin.on('error', () => {
      // EPIPE after the child died: its exit reports the failure.
    })
    this.child.on('error', (err) => this.fail(startFailure(err, options)))
    this.child.on('exit', () => {
      this.exited = true
    })
    // 'close' comes after the last of stdout is read, so a reply written just before exiting is seen.
    this.child.on('close', (code, signal) => {
      this.exited = true
      this.fail(`the process exited (${signal === null ? `code ${code}` : `signal ${signal}`})${this.stderrSummary()}${code === 0 && this.pending !== undefined ? UNSERVED : ''}`)
    })
  }

  /**
   * A file in `dir` for one array of a request, named for this child so that threads never share
   * one, and for its machine and process, so that a later run can tell what a killed one left.
   */
  ioPath(dir: string, name: string): string {
    return join(dir, `${IO_PREFIX}${process.pid}-${threadId}-${this.number}.${name}.npy`)
  }

  get alive(): boolean {
    return this.failure === undefined
  }

  /** Sends one request once the earlier ones are answered; `what` names it in messages ("'fit' of generation 3"). */
  request(message: Record<string, unknown>, what: string): Promise<Reply> {
    const run = this.queue.then(() => this.send(message, what))
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Runs `work` with no other request in between (a load followed by a sample). */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work)
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Like request, for use inside `exclusive`; `onProgress` hears the child's progress lines for this request. */
  send(message: Record<string, unknown>, what: string, onProgress?: (step: number, steps: number) => void): Promise<Reply> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const id = this.nextId++
    clearTimeout(this.idle)
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(`no reply within ${this.options.timeoutMs} ms; the process was stopped (raise model.timeoutMs if it needs longer)`)
      }, this.options.timeoutMs)
      this.pending = { id, what, resolve, reject, timer, ...(onProgress === undefined ? {} : { onProgress }) }
      this.child.stdin.write(JSON.stringify({ id, ...message }) + '\n')
    }).then((reply) => {
      // A model that says it diverged (ouroboros_model.py, for a NaN it was to send) fails the generation as samples holding NaN do: a run may retry it.
      if (!reply.ok && reply['diverged'] === true) throw this.diverged(`${what} failed: ${reply.error ?? 'no error message'}`)
      if (!reply.ok) throw this.error(`${what} failed: ${reply.error ?? 'no error message'}${this.stderrSummary()}`)
      return reply
    })
  }

  /** Stops the child for a reply that broke the protocol (a missing or misshapen array); the error to throw. */
  failed(message: string): OuroborosError {
    this.fail(message)
    return this.error(message)
  }

  /** An error for samples that hold NaN or infinite values: the child keeps serving (a retried generation may use it). */
  diverged(message: string): OuroborosError {
    return divergedError(`${this.label()}: ${message}`)
  }

  /** Stops the child; a request in flight fails. */
  close(): void {
    this.fail('the process was stopped')
  }

  private onStdout(chunk: string): void {
    this.stdout += chunk
    for (let nl = this.stdout.indexOf('\n'); nl >= 0; nl = this.stdout.indexOf('\n')) {
      const line = this.stdout.slice(0, nl).trim()
      this.stdout = this.stdout.slice(nl + 1)
      if (line.length > 0) this.onLine(line)
    }
  }

  private onLine(line: string): void {
    const pending = this.pending
    let reply: Reply | undefined
    try {
      reply = JSON.parse(line) as Reply
    } catch {
      // Not JSON: handled below.
    }
    const shown = line.length > 200 ? `${line.slice(0, 200)}…` : line
    if (pending === undefined) return this.fail(`it wrote '${shown}' on stdout with no request waiting; a model must print only protocol replies there (use stderr for messages)`)
    if (typeof reply === 'object' && reply !== null && reply.ok === undefined && 'progress' in reply) return this.onProgress(pending, reply, shown)
    if (reply === undefined && nonJsonNumbers(line)) {
      // Python's json.dumps writes float('nan') as NaN: a model's own writer, or a copy of ouroboros_model.py from before it checked.
      return this.fail(`its line during ${pending.what} holds NaN or Infinity, which JSON has not: '${shown}' — a reply carries finite numbers only (ouroboros_model.py refuses the others: use the copy in packages/model-command/python)`)
    }
    if (typeof reply !== 'object' || reply === null || typeof reply.ok !== 'boolean') {
      // Most often a model's own message: a banner printed before serving, or a wrapper script's echo.
      const when = pending.what === HELLO ? ' before ouroboros_model is imported (or echoed by a wrapper script)' : ''
      return this.fail(`its reply to ${pending.what} is not a protocol reply ({"id": ..., "ok": true|false}): '${shown}' — a model writes its own output to stderr: anything printed on stdout${when} is read as a reply`)
    }
    if (reply.id !== pending.id) return this.fail(`its reply to ${pending.what} has id ${String(reply.id)}, expected ${pending.id}`)
    clearTimeout(pending.timer)
    this.pending = undefined
    if (this.trainee === undefined) this.idle = setTimeout(() => this.close(), this.options.idleMs).unref()
    pending.resolve(reply)
  }

  /** `{"id": ..., "progress": {"step": s, "steps": n}}`: how far the request is, for the run's progress line. */
  private onProgress(pending: Pending, line: Reply, shown: string): void {
    const progress = line['progress'] as { step?: unknown; steps?: unknown } | null
    const { step, steps } = typeof progress === 'object' && progress !== null ? progress : {}
    if (line.id !== pending.id) return this.fail(`its progress line during ${pending.what} has id ${String(line.id)}, expected ${pending.id}`)
    if (typeof step !== 'number' || typeof steps !== 'number' || !Number.isFinite(step) || !Number.isFinite(steps)) {
      return this.fail(`its progress line during ${pending.what} is not {"id": ..., "progress": {"step": <number>, "steps": <number>}}: '${shown}'`)
    }
    pending.onProgress?.(step, steps)
  }

  private fail(message: string): void {
    if (this.failure !== undefined) return
    const what = this.pending === undefined ? '' : `${this.pending.what}: `
    this.failure = this.error(`${what}${message}`)
    const pending = this.pending
    this.pending = undefined
    if (pending !== undefined) {
      clearTimeout(pending.timer)
      pending.reject(this.failure)
    }
    this.stop()
  }

  private stop(): void {
    clearTimeout(this.idle)
    if (this.stopped) return
    this.stopped = true
    if (!this.exited) this.child.kill('SIGKILL')
  }

  private error(message: string): OuroborosError {
    return new OuroborosError(ErrorCode.MODEL, `${this.label()}: ${message}`)
  }

  private label(): string {
    return `${this.name} (in ${this.options.cwd})`
  }

  private stderrSummary(): string {
    const lines = this.stderrTail.trim().split('\n').filter((l) => l.trim().length > 0)
    return lines.length === 0 ? '' : `; its stderr ends: ${lines.slice(-3).join(' | ')}`
  }
}

/** Whether `line` is JSON apart from bare NaN, Infinity or -Infinity numbers, which JSON.parse refuses. */
function nonJsonNumbers(line: string): boolean {
  // Outside strings only: "NaN" inside a quoted message is text.
  const replaced = line.replace(/("(?:[^"\\]|\\.)*")|-?\b(?:NaN|Infinity)\b/g, (_match, quoted: string | undefined) => quoted ?? 'null')
  if (replaced === line) return false
  try {
    JSON.parse(replaced)
    return true
  } catch {
    return false
  }
}

/** Why a child did not start: spawn says ENOENT both for a program it cannot find and for a missing working directory. */
function startFailure(err: NodeJS.ErrnoException, options: ProcessOptions): string {
  if (err.code !== 'ENOENT') return `cannot start it in ${options.cwd}: ${err.message}`
  if (!existsSync(options.cwd)) return `cannot start it: its directory ${options.cwd} does not exist (model.cwd)`
  const program = options.command[0]!
  const where = isAbsolute(program) ? '' : program.includes('/') ? ` in ${options.cwd}` : ' on PATH'
  return `cannot start it: no program '${program}'${where}`
}
