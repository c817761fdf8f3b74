// Downloads libtensorflow for @tensorflow/tfjs-node-gpu (run by the root postinstall).
//
// pnpm prints a failing install script's whole output, a 20-line stack trace on any machine
// without internet or CUDA, so pnpm-workspace.yaml denies the package's own build script and this
// runs it instead, output captured, under a timeout. The install succeeds either way: the tf
// package falls back to the wasm backend when the native binding does not load.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const TIMEOUT_S = 600
const root = dirname(dirname(fileURLToPath(import.meta.url)))
const PREFIX = 'tfjs-node-gpu:'
const FALLBACK = 'the wasm backend will be used'

function packageDir() {
  try {
    // An optional dependency of packages/tf, resolved from there as the tf package resolves it.
    const require = createRequire(join(root, 'packages', 'tf', 'package.json'))
    return dirname(require.resolve('@tensorflow/tfjs-node-gpu/package.json'))
  } catch {
    return undefined
  }
}

/** Why the install script failed, in a few words. */
function reason(output) {
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT/.test(output)) return 'no network'
  if (/Unsupported system/.test(output)) return 'no libtensorflow build for this system'
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /error/i.test(l) && !/^at /.test(l))
  return lines[0] ?? 'its install script failed'
}

const dir = packageDir()
if (dir === undefined) {
  // Optional dependencies are skipped on platforms they do not support.
  console.log(`${PREFIX} not installed; ${FALLBACK}`)
  process.exit(0)
}
// Already built (a second install): nothing to download.
const lib = join(dir, 'lib')
if (existsSync(lib) && readdirSync(lib).some((v) => existsSync(join(lib, v, 'tfjs_binding.node')))) process.exit(0)

const env = { ...process.env, PATH: [join(dir, 'node_modules', '.bin'), process.env.PATH].join(delimiter) }
const child = spawn(process.execPath, ['scripts/install.js', 'gpu', 'download'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
let output = ''
child.stdout.on('data', (chunk) => (output += chunk))
child.stderr.on('data', (chunk) => (output += chunk))
let timedOut = false
const timer = setTimeout(() => {
  timedOut = true
  child.kill('SIGKILL')
}, TIMEOUT_S * 1000)
child.on('close', (code) => {
  clearTimeout(timer)
  if (code === 0 && !timedOut) {
    console.log(`${PREFIX} libtensorflow downloaded; the tensorflow backend is used where its binding loads`)
  } else {
    const why = timedOut ? `timed out after ${TIMEOUT_S} s` : reason(output)
    console.log(`${PREFIX} libtensorflow not downloaded (${why}); ${FALLBACK}`)
  }
  // Never fail the install: the wasm backend needs nothing downloaded.
  process.exit(0)
})
