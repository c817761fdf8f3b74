import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { MAIN, cliAsync } from './helpers.js'

/** Debian's redis-server (CI installs it); the distributed tests skip without it. */
export const redisInstalled = spawnSync('redis-server', ['--version']).status === 0

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface RedisOptions {
  password?: string
  /** Serve TLS only, with this certificate and key. */
  tls?: { cert: string; key: string }
}

/**
 * A redis-server of the test's own on a loopback port, its data in `dir` with the append-only file
 * on (as a run needs), so that a restart on the same port and directory finds the queue again.
 */
export class RedisServer {
  private child: ChildProcess | undefined

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly opts: RedisOptions,
  ) {}

  static async start(dir: string, opts: RedisOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), dir, opts)
    await server.start()
    return server
  }

  /** The URL a coordinator or worker is given. */
  url(password = this.opts.password): string {
    const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`
    return `${this.opts.tls === undefined ? 'redis' : 'rediss'}://${auth}127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const { tls, password } = this.opts
    const listen = tls === undefined ? ['--port', String(this.port)] : ['--port', '0', '--tls-port', String(this.port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-auth-clients', 'no']
    const args = [...listen, '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', ...(password === undefined ? [] : ['--requirepass', password])]
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    await new Promise<void>((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('Ready to accept connections')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)))
    })
  }

  /** SIGKILL: no shutdown save; the append-only file keeps what it had written. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    await exited
  }
}

/**
 * An `ouroboros worker` process whose log lines the test can wait for. Without a URL it finds its
 * queue as it would in the environment (OUROBOROS_QUEUE); `prefix` runs it as another user.
 */
export class WorkerProcess {
  readonly lines: string[] = []
  readonly exited: Promise<number | null>
  private readonly waiters: { re: RegExp; resolve: (line: string) => void }[] = []
  private readonly child: ReturnType<typeof cliAsync>

  constructor(url: string | undefined, args: string[] = [], env: Record<string, string> = {}, prefix: string[] = []) {
    const workerArgs = ['worker', ...(url === undefined ? [] : ['--queue', url]), '--workers', '1', '--lock-seconds', '2', ...args]
    this.child =
      prefix.length === 0
        ? cliAsync(workerArgs, env)
        : spawn(prefix[0]!, [...prefix.slice(1), process.execPath, MAIN, ...workerArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    let partial = ''
    const onData = (chunk: Buffer): void => {
      partial += chunk.toString()
      const parts = partial.split('\n')
      partial = parts.pop()!
      for (const line of parts) {
        this.lines.push(line)
        for (const w of this.waiters.filter((x) => x.re.test(line))) {
          this.waiters.splice(this.waiters.indexOf(w), 1)
          w.resolve(line)
        }
      }
    }
    this.child.stdout.on('data', onData)
    this.child.stderr.on('data', onData)
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)))
  }

  /** The first line, from now or before, that matches. */
  waitFor(re: RegExp): Promise<string> {
    const seen = this.lines.find((l) => re.test(l))
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve) => this.waiters.push({ re, resolve }))
  }

  ready(): Promise<string> {
    return this.waitFor(/taking tasks from/)
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal)
  }

  get pid(): number {
    return this.child.pid!
  }

  get log(): string {
    return this.lines.join('\n')
  }
}
