import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The backend is chosen once per process, so each case runs in a fresh Node process against the
// built package.
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))

function run(env: Record<string, string>): { stdout: string; stderr: string; status: number } {
  const script = `
    import { loadTf, describeBackend } from ${JSON.stringify(dist)}
    try {
      const { tf, backend } = await loadTf()
      const info = await describeBackend()
      console.log(JSON.stringify({ backend, active: tf.getBackend(), info }))
    } catch (err) {
      console.log(JSON.stringify({ error: { code: err.code, message: err.message } }))
    }`
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, OUROBOROS_BACKEND_ANNOUNCED: '', ...env }, encoding: 'utf8' })
  return { stdout: out.stdout, stderr: out.stderr, status: out.status ?? -1 }
}

describe('backend choice', () => {
  it('uses the forced cpu backend and says so once on stderr', () => {
    const script = `import { loadTf } from ${JSON.stringify(dist)}; await loadTf(); await loadTf()`
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, OUROBOROS_BACKEND: 'cpu', OUROBOROS_BACKEND_ANNOUNCED: '' },
      encoding: 'utf8',
    })
    expect(out.stdout).toBe('')
    expect(out.stderr).toBe('ouroboros: tfjs backend cpu (forced by OUROBOROS_BACKEND, tfjs 4.22.0)\n')
    const r = run({ OUROBOROS_BACKEND: 'cpu' })
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'cpu', active: 'cpu', info: { name: 'cpu', forced: true } })
  })

  it('picks tensorflow or else wasm with SIMD on its own, and says why in one short line', () => {
    const r = run({ OUROBOROS_BACKEND: '' })
    const { backend, info } = JSON.parse(r.stdout) as { backend: string; info: { simd?: boolean; skipped: string[] } }
    expect(['tensorflow', 'wasm']).toContain(backend)
    const lines = r.stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]!.length).toBeLessThan(160)
    if (backend === 'wasm') {
      expect(info.simd).toBe(true)
      expect(info.skipped).toHaveLength(1)
      expect(info.skipped[0]).toMatch(/^tfjs-node-gpu (not installed|did not load: .+)$/)
      expect(lines[0]).toBe(`ouroboros: tfjs backend wasm (SIMD, tfjs 4.22.0; ${info.skipped[0]})`)
    }
  })

  it('says nothing from worker threads started after the main thread chose its backend, as a run starts its pool', () => {
    const script = `
      import { Worker } from 'node:worker_threads'
      const { loadTf } = await import(${JSON.stringify(dist)})
      await loadTf()
      const code = 'import(' + JSON.stringify(${JSON.stringify(dist)}) + ').then((m) => m.loadTf())'
      await Promise.all([1, 2].map(() => new Promise((done, fail) => new Worker(code, { eval: true }).on('exit', done).on('error', fail))))`
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, OUROBOROS_BACKEND: 'cpu', OUROBOROS_BACKEND_ANNOUNCED: '' }, encoding: 'utf8' })
    expect(out.status, out.stderr).toBe(0)
    expect(out.stderr).toBe('ouroboros: tfjs backend cpu (forced by OUROBOROS_BACKEND, tfjs 4.22.0)\n')
  })

  it('rejects an unknown backend name with the BACKEND code', () => {
    const r = run({ OUROBOROS_BACKEND: 'webgpu' })
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'OUROBOROS_BACKEND', message: 'OUROBOROS_BACKEND=webgpu is not a backend' } })
  })

  it('fails with the reason when a forced backend cannot load', () => {
    const r = run({ OUROBOROS_BACKEND: 'tensorflow' })
    const parsed = JSON.parse(r.stdout) as { backend?: string; error?: { code: string; message: string } }
    // Where tfjs-node-gpu's binding is installed the forced choice simply works.
    if (parsed.backend === undefined) {
      expect(parsed.error?.code).toBe('OUROBOROS_BACKEND')
      expect(parsed.error?.message).toMatch(/^OUROBOROS_BACKEND=tensorflow cannot be used: tensorflow: @tensorflow\/tfjs-node-gpu did not load/)
    } else {
      expect(parsed.backend).toBe('tensorflow')
    }
  })
})
