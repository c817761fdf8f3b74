import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { OuroborosError, ErrorCode } from '@ouroboros/core'

export type Tf = typeof import('@tensorflow/tfjs')
export type BackendName = 'tensorflow' | 'wasm' | 'cpu'
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu']

/** What `ouroboros list` shows and run.json records about the tfjs backend of this process. */
export interface BackendInfo {
  readonly name: BackendName
  /** True when OUROBOROS_BACKEND chose it. */
  readonly forced: boolean
  readonly tfjsVersion: string
  /** The wasm backend: whether WebAssembly SIMD is on (threads are always off in Node). */
  readonly simd?: boolean
  /** Why the preferred backends before this one were not used, in a few words each. */
  readonly skipped: readonly string[]
}

export interface LoadedTf {
  readonly tf: Tf
  readonly backend: BackendName
}

const require = createRequire(import.meta.url)
const ENV_VAR = 'OUROBOROS_BACKEND'
/**
 * Set once the backend line has been printed. Worker threads start with a copy of the parent's
 * environment, so when the main thread chooses its backend before starting its pool (as a run
 * with a model on tfjs does), the workers stay quiet and the line appears once.
 */
const ANNOUNCED_VAR = 'OUROBOROS_BACKEND_ANNOUNCED'

let loading: Promise<{ loaded: LoadedTf; info: BackendInfo }> | undefined

/**
 * tfjs with the backend of this process chosen and ready: tfjs-node-gpu when its native binding
 * loads, else WebAssembly (XNNPACK, SIMD), else the pure-JS cpu backend; OUROBOROS_BACKEND
 * (tensorflow | wasm | cpu) forces one. tfjs is imported here on first call only, so that
 * processes that run no neural model never pay for it.
 */
export async function loadTf(): Promise<LoadedTf> {
  loading ??= choose()
  return (await loading).loaded
}

/**
 * The chosen backend (choosing it, and so loading tfjs, on first call). `announce: false` keeps
 * the stderr line back, for callers that print the backend themselves.
 */
export async function describeBackend(options: { announce?: boolean } = {}): Promise<BackendInfo> {
  loading ??= choose(options.announce ?? true)
  return (await loading).info
}

async function choose(announceIt = true): Promise<{ loaded: LoadedTf; info: BackendInfo }> {
  const forced = readForced()
  const skipped: string[] = []
  // The full first line of the last failure, for the error when a forced backend cannot be used.
  let failure: string | undefined
  let tf: Tf | undefined
  let name: BackendName | undefined
  let simd: boolean | undefined

  if (forced === undefined || forced === 'tensorflow') {
    try {
      // The package registers the 'tensorflow' backend on the shared tfjs-core when its binding loads.
      require('@tensorflow/tfjs-node-gpu')
      tf = await importTfjs()
      if (await tf.setBackend('tensorflow')) name = 'tensorflow'
      else skipped.push('tensorflow: the backend did not initialise')
    } catch (err) {
      failure = `tensorflow: @tensorflow/tfjs-node-gpu did not load (${firstLine(err)})`
      skipped.push(tfjsNodeProblem(err))
    }
    if (name === undefined && forced !== undefined) throw backendError(forced, failure ?? skipped.at(-1))
  }
  tf ??= await importTfjs()
  if (name === undefined && (forced === undefined || forced === 'wasm')) {
    try {
      const wasm = await import('@tensorflow/tfjs-backend-wasm')
      // The .wasm binaries ship in the package's dist folder; Node reads them from the file system.
      wasm.setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/')
      if (await tf.setBackend('wasm')) {
        name = 'wasm'
        simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT')
      } else skipped.push('wasm: the backend did not initialise')
    } catch (err) {
      failure = `wasm: ${firstLine(err)}`
      skipped.push(failure)
    }
    if (name === undefined && forced !== undefined) throw backendError(forced, failure ?? skipped.at(-1))
  }
  if (name === undefined) {
    if (!(await tf.setBackend('cpu'))) throw backendError('cpu', 'cpu: the backend did not initialise')
    name = 'cpu'
  }
  await tf.ready()
  const info: BackendInfo = { name, forced: forced !== undefined, tfjsVersion: tf.version.tfjs, ...(simd === undefined ? {} : { simd }), skipped }
  if (announceIt) announce(info)
  return { loaded: { tf, backend: name }, info }
}

async function importTfjs(): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs')
  // PROD silences tfjs's console notices (such as its advice to install tfjs-node on the cpu
  // backend) and skips its per-op debug checks; our models check for NaN themselves.
  tf.env().set('PROD', true)
  return tf
}

function readForced(): BackendName | undefined {
  const value = process.env[ENV_VAR]
  if (value === undefined || value === '') return undefined
  if (!(BACKEND_NAMES as readonly string[]).includes(value)) {
    throw new OuroborosError(ErrorCode.BACKEND, `${ENV_VAR}=${value} is not a backend`, { hint: `use one of ${BACKEND_NAMES.join(', ')}, or unset it to choose automatically` })
  }
  return value as BackendName
}

function backendError(forced: BackendName, why: string | undefined): OuroborosError {
  return new OuroborosError(ErrorCode.BACKEND, `${ENV_VAR}=${forced} cannot be used: ${why ?? 'it did not initialise'}`, {
    hint: `unset ${ENV_VAR} to fall back automatically, or pick another of ${BACKEND_NAMES.join(', ')}`,
  })
}

/**
 * Why tfjs-node-gpu was not used, short: where libtensorflow was never downloaded (no network,
 * no CUDA at install) the package is there without its binding, which is the common case.
 */
function tfjsNodeProblem(err: unknown): string {
  const code = (err as { code?: string }).code
  const line = firstLine(err)
  if (code === 'MODULE_NOT_FOUND' || /tfjs_binding\.node\) can not be found/.test(line)) return 'tfjs-node-gpu not installed'
  return `tfjs-node-gpu did not load: ${line.length > 100 ? `${line.slice(0, 99)}…` : line}`
}

/** One short stderr line for the choice. */
function announce(info: BackendInfo): void {
  if (process.env[ANNOUNCED_VAR] === '1') return
  process.env[ANNOUNCED_VAR] = '1'
  process.stderr.write(`ouroboros: tfjs backend ${formatBackend(info)}\n`)
}

/** "wasm (SIMD, tfjs 4.22.0; tfjs-node-gpu not installed)" and the like. */
export function formatBackend(info: BackendInfo): string {
  const details = [
    ...(info.simd === undefined ? [] : [info.simd ? 'SIMD' : 'no SIMD']),
    ...(info.forced ? [`forced by ${ENV_VAR}`] : []),
    `tfjs ${info.tfjsVersion}`,
  ]
  const skipped = info.forced || info.skipped.length === 0 ? '' : `; ${info.skipped.join('; ')}`
  return `${info.name} (${details.join(', ')}${skipped})`
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return message.trim().split('\n')[0]!.trim()
}
