import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { hostname } from 'node:os'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfigFile, resolveRun } from '@ouroboros/cli'
import { validateOutput } from '../src/validate-command.js'
import { cleanup, cli, cliAsync, records, signalAfterRecords, tempDir, writeConfig, COMMAND, MAIN } from './helpers.js'

afterAll(cleanup)

const faulty = fileURLToPath(new URL('./fixtures/faulty-model.mjs', import.meta.url))

const ring = {
  name: 'ring-kde',
  data: { kind: 'ring', n: 400 },
  model: { kind: 'kde' },
  generations: 6,
  replicates: 2,
  seed: 11,
  metrics: ['modes', 'moments', 'likelihood'],
  sweep: { 'policy.kind': ['replace', 'accumulate', 'mix', 'accumulate-subsample'] },
}

describe('ouroboros run', () => {
  it('writes the run directory of the contract', () => {
    const dir = tempDir()
    const res = cli(['run', writeConfig(dir, ring), '--out', `${dir}/run`, '--workers', '2'])
    expect(res.status, res.stderr).toBe(0)
    expect(res.stdout).toContain(`report: ${dir}/run/report.html`)
    const run = JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8'))
    expect(run.status).toBe('finished')
    expect(run.chains).toHaveLength(8)
    expect(run.chains.every((c: { status: string }) => c.status === 'finished')).toBe(true)
    const recs = records(`${dir}/run`)
    expect(recs).toHaveLength(8 * 7)
    const first = recs.find((r) => r.generation === 0)!
    expect(Object.keys(first.metrics).sort()).toEqual(
      ['modes_covered', 'modes_covered_1pct', 'pct_high_quality', 'reverse_kl', 'reverse_kl_uniform', 'off_support_share', 'total_variance', 'log_det_cov', 'log_variance', 'w2_to_reference', 'nll_real'].sort(),
    )
    expect(first.params).toEqual({ 'policy.kind': 'replace' })
    const csv = readFileSync(`${dir}/run/metrics.csv`, 'utf8').split('\n')
    expect(csv[0]).toBe('chain,replicate,generation,metric,value,cell,policy.kind')
    // Every line names its setting: the first record of cell 1 (policy.kind accumulate) says so.
    expect(csv.find((l) => l.startsWith('c1-r0,0,0,')), 'a csv line of cell 1').toMatch(/,1,accumulate$/)
    expect(existsSync(`${dir}/run/chains/c0-r0/gen-000005.samples.npy`)).toBe(true)
    expect(readFileSync(`${dir}/run/report.html`, 'utf8')).toContain('ring-kde')
  })

  it('says its run directory before it starts, where it picked one itself too', () => {
    const dir = tempDir()
    const res = cli(['run', writeConfig(dir, { ...ring, sweep: undefined, replicates: 1, generations: 2 })], { cwd: dir })
    expect(res.status, res.stderr).toBe(0)
    const first = res.stderr.split('\n')[0]!
    expect(first).toMatch(/^ouroboros: run directory \S+$/)
    const runDir = first.slice('ouroboros: run directory '.length)
    expect(runDir.startsWith(join(dir, 'runs', 'ring-kde-'))).toBe(true)
    expect(res.stdout).toContain(`report: ${join(runDir, 'report.html')}`)
  })

  it('leaves metrics.ndjson sorted by cell, replicate and generation, as a resumed run does', () => {
    const dir = tempDir()
    const res = cli(['run', writeConfig(dir, { ...ring, generations: 8, replicates: 3 }), '--out', `${dir}/run`, '--workers', '2'])
    expect(res.status, res.stderr).toBe(0)
    const order = (path: string) =>
      readFileSync(path, 'utf8').trim().split('\n').map((l) => {
        const r = JSON.parse(l) as { cell: number; replicate: number; generation: number }
        return [r.cell, r.replicate, r.generation]
      })
    const inFile = order(`${dir}/run/metrics.ndjson`)
    const sorted = [...inFile].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!)
    expect(inFile).toEqual(sorted)
    expect(inFile).toHaveLength(4 * 3 * 9)
  })

  it('gives identical records with 1 and 2 workers', () => {
    const dir = tempDir()
    const config = writeConfig(dir, ring)
    const a = cli(['run', config, '--out', `${dir}/a`, '--workers', '1'])
    const b = cli(['run', config, '--out', `${dir}/b`, '--workers', '2'])
    expect(a.status, a.stderr).toBe(0)
    expect(b.status, b.stderr).toBe(0)
    expect(records(`${dir}/b`)).toEqual(records(`${dir}/a`))
  })

  it('refuses a resume or a --force run of a directory another process runs, which then finishes as alone', async () => {
    const dir = tempDir()
    const config = writeConfig(dir, { ...ring, data: { kind: 'ring', n: 1500 }, generations: 12, replicates: 1 })
    const alone = cli(['run', config, '--out', `${dir}/alone`, '--workers', '1'])
    expect(alone.status, alone.stderr).toBe(0)
    const child = cliAsync(['run', config, '--out', `${dir}/run`, '--workers', '1'])
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    while (!existsSync(`${dir}/run/run.lock`) || !existsSync(`${dir}/run/run.json`)) await new Promise((r) => setTimeout(r, 10))
    // Held still, so that it cannot finish while the others try.
    child.kill('SIGSTOP')
    const tries = [['resume', `${dir}/run`], ['run', config, '--out', `${dir}/run`, '--force']].map((args) => cli(args))
    child.kill('SIGCONT')
    expect(await exited).toBe(0)
    for (const res of tries) {
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toContain(`error: ${dir}/run is being run by process ${child.pid} (since `)
    }
    expect(existsSync(`${dir}/run/run.lock`)).toBe(false)
    expect(records(`${dir}/run`)).toEqual(records(`${dir}/alone`))
  })

  it('after kill -9 midway, resume gives the records of an uninterrupted run', async () => {
    const dir = tempDir()
    // Fits that wait 150 ms (the fixture's 'slow' fault): the kill comes with seconds of generations
    // left however fast the machine, where KDE chains could be done before it (and run.json
    // 'finished', not 'running').
    const config = writeConfig(dir, { ...ring, name: 'slow-kill', data: { kind: 'gaussian', n: 200 }, model: { kind: 'faulty', module: faulty, fault: 'slow' }, metrics: ['moments'], generations: 12, replicates: 1 })
    const full = cli(['run', config, '--out', `${dir}/full`, '--workers', '2'])
    expect(full.status, full.stderr).toBe(0)
    const expected = records(`${dir}/full`)

    const child = cliAsync(['run', config, '--out', `${dir}/killed`, '--workers', '2'])
    await signalAfterRecords(child, `${dir}/killed`, 6, 'SIGKILL')
    expect(child.signalCode).toBe('SIGKILL')
    const partial = JSON.parse(readFileSync(`${dir}/killed/run.json`, 'utf8'))
    expect(partial.status).toBe('running')
    // The killed run is readable: its report can be built and shows it as incomplete.
    const report = cli(['report', `${dir}/killed`])
    expect(report.status, report.stderr).toBe(0)
    // As a run started before the config key \`records\` existed has its chains in run.json.
    const file = `${dir}/killed/run.json`
    const older = JSON.parse(readFileSync(file, 'utf8'))
    for (const spec of older.cellSpecs) delete spec.config.records
    writeFileSync(file, JSON.stringify(older))
    // The run's last writes, as the killed run left them: one second after it started.
    const lastWrite = new Date(Date.parse(older.startedAt) + 1000)
    for (const f of [file, `${dir}/killed/records.log`]) utimesSync(f, lastWrite, lastWrite)

    const resumed = cli(['resume', `${dir}/killed`, '--workers', '1'])
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(records(`${dir}/killed`)).toEqual(expected)
    const info = JSON.parse(readFileSync(`${dir}/killed/run.json`, 'utf8'))
    expect(info.status).toBe('finished')
    // The time it stood stopped is the report's to leave out of the wall time.
    expect(info.stops).toHaveLength(1)
    expect(info.stops[0].stoppedAt).toBe(lastWrite.toISOString())
    expect(Date.parse(info.stops[0].resumedAt)).toBeGreaterThan(lastWrite.getTime())
    expect(Date.parse(info.stops[0].resumedAt)).toBeLessThanOrEqual(Date.parse(info.finishedAt))
  })

  it('saves sample files for the first keepSamples replicates only, with the same records', () => {
    const dir = tempDir()
    const config = {
      data: { kind: 'gaussian', d: 1, n: 50 },
      model: { kind: 'gaussian' },
      generations: 12,
      replicates: 3,
      metrics: ['moments'],
      // replace runs chains in blocks, mix one chain at a time: both paths save files.
      sweep: { 'policy.kind': ['replace', 'mix'] },
    }
    const all = cli(['run', writeConfig(dir, config, 'all.json'), '--out', `${dir}/all`, '--workers', '2'])
    expect(all.status, all.stderr).toBe(0)
    const few = cli(['run', writeConfig(dir, { ...config, keepSamples: 1 }, 'few.json'), '--out', `${dir}/few`, '--workers', '2'])
    expect(few.status, few.stderr).toBe(0)
    for (const cell of ['c0', 'c1']) {
      expect(readdirSync(`${dir}/all/chains/${cell}-r2`)).toContain('gen-000000.samples.npy')
      expect(readdirSync(`${dir}/few/chains/${cell}-r0`)).toEqual(readdirSync(`${dir}/all/chains/${cell}-r0`))
      // Past keepSamples: the last checkpoint only, which a resume needs.
      for (const r of [1, 2]) expect(readdirSync(`${dir}/few/chains/${cell}-r${r}`).sort()).toEqual(['gen-000011.samples.npy', 'gen-000011.state'])
    }
    const metricsOf = (run: string) => records(run).map((r) => [r.chain, r.generation, r.metrics])
    expect(metricsOf(`${dir}/few`)).toEqual(metricsOf(`${dir}/all`))
  })

  it('refuses to overwrite an existing run directory without --force', () => {
    const dir = tempDir()
    const config = writeConfig(dir, { ...ring, generations: 2, replicates: 1, sweep: {} })
    expect(cli(['run', config, '--out', `${dir}/run`]).status).toBe(0)
    const before = readFileSync(`${dir}/run/metrics.ndjson`, 'utf8')
    const again = cli(['run', config, '--out', `${dir}/run`])
    expect(again.status).toBe(2)
    expect(again.stderr).toContain('--force')
    expect(readFileSync(`${dir}/run/metrics.ndjson`, 'utf8')).toBe(before)
    const forced = cli(['run', config, '--out', `${dir}/run`, '--force'])
    expect(forced.status).toBe(0)
    expect(forced.stderr).toContain(`--force: deleting the earlier run in`)
  })

  const small = { name: 'g', data: { kind: 'gaussian', d: 1, n: 50 }, model: { kind: 'gaussian', estimator: 'mle' }, generations: 3, seed: 0, metrics: ['moments'] }

  it("--force replaces the earlier run only: the config run, its data and the user's other files stay, and are named", () => {
    const dir = tempDir()
    const run = join(dir, 'k7')
    expect(cli(['run', writeConfig(dir, small), '--out', run]).status).toBe(0)
    const data = 'x\n' + Array.from({ length: 20 }, (_, i) => `${i / 4}\n`).join('')
    writeFileSync(join(run, 'mydata.csv'), data)
    writeFileSync(join(run, 'analysis.ipynb'), '{"cells": []}')
    const config = writeConfig(run, { ...small, data: { kind: 'vector-file', path: 'mydata.csv' } }, 'my-config.json')
    const res = cli(['run', config, '--out', run, '--force'])
    expect(res.status, res.stderr).toBe(0)
    expect(res.stderr).toContain(`--force: deleting the earlier run in ${run}; keeping analysis.ipynb, my-config.json, mydata.csv, which no run writes\n`)
    expect(readFileSync(join(run, 'mydata.csv'), 'utf8')).toBe(data)
    expect(readFileSync(join(run, 'analysis.ipynb'), 'utf8')).toBe('{"cells": []}')
    expect(JSON.parse(readFileSync(config, 'utf8')).data.path).toBe('mydata.csv')
    const info = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'))
    expect(info.status).toBe('finished')
    expect(info.config.data).toEqual({ kind: 'vector-file', path: join(run, 'mydata.csv') })
  })

  it('--force refuses, deleting nothing, where the config or a path it reads lies in what it would delete', () => {
    const dir = tempDir()
    const run = join(dir, 'k8')
    expect(cli(['run', writeConfig(dir, small), '--out', run]).status).toBe(0)
    const real = join(run, 'chains', 'r0', 'real.npy')
    const inChains = join(run, 'chains', 'mine')
    mkdirSync(inChains)
    // The command's script is there: the config check refuses a missing one before --force's check.
    writeFileSync(join(inChains, 'model.py'), '')
    const cases: [string, string, string][] = [
      ['data.path', writeConfig(dir, { ...small, data: { kind: 'vector-file', path: real } }, 'from-samples.json'), real],
      ['the config file', writeConfig(inChains, small, 'cfg.json'), join(inChains, 'cfg.json')],
      ['model.cwd', writeConfig(dir, { ...small, model: { command: ['python3', 'model.py'], cwd: inChains } }, 'command.json'), inChains],
    ]
    const before = readdirSync(run, { recursive: true }).sort()
    for (const [what, config, path] of cases) {
      const res = cli(['run', config, '--out', run, '--force'])
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toContain(`error: --force: ${what} ${path} is in ${join(run, 'chains')}, which --force deletes with the earlier run`)
      expect(res.stderr).not.toMatch(/\n\s+at /)
      expect(readdirSync(run, { recursive: true }).sort()).toEqual(before)
    }
  })

  it('runs of one config started in the same second without --out each get a directory of their own', async () => {
    const dir = tempDir()
    const config = writeConfig(dir, small)
    const children = [1, 2, 3].map((seed) => cliAsync(['run', config, '--seed', String(seed)], {}, false, dir))
    const ends = await Promise.all(
      children.map((child) => {
        let stderr = ''
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
        child.stdout.resume()
        return new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })))
      }),
    )
    for (const { code, stderr } of ends) expect(code, stderr).toBe(0)
    const names = readdirSync(join(dir, 'runs')).sort()
    expect(names).toHaveLength(3)
    for (const name of names) expect(name).toMatch(/^g-\d{8}-\d{6}(-[23])?$/)
    expect(names.map((n) => JSON.parse(readFileSync(join(dir, 'runs', n, 'run.json'), 'utf8')).seed).sort()).toEqual([1, 2, 3])
  })

  it('starts no more worker threads than the chains can keep busy, and says so', () => {
    const dir = tempDir()
    const res = cli(['run', writeConfig(dir, small), '--out', join(dir, 'run'), '--workers', '64'])
    expect(res.status, res.stderr).toBe(0)
    expect(res.stderr).toContain('--workers 64: 1 chain runs at most 2 tasks at once; starting 2 threads\n')
    expect(JSON.parse(readFileSync(join(dir, 'run', 'run.json'), 'utf8')).workers).toBe(2)
    // A resume caps what it is given alike (a finished run would not get as far).
    const info = JSON.parse(readFileSync(join(dir, 'run', 'run.json'), 'utf8'))
    writeFileSync(join(dir, 'run', 'run.json'), JSON.stringify({ ...info, status: 'interrupted' }))
    const resumed = cli(['resume', join(dir, 'run'), '--workers', '8'])
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(resumed.stderr).toContain('--workers 8: 1 chain runs at most 2 tasks at once; starting 2 threads\n')
  })

  it('accepts a TypeScript config', () => {
    const dir = tempDir()
    const file = writeConfig(
      dir,
      `import { defineConfig } from '@ouroboros/core'\nconst n: number = 200\nexport default defineConfig({ data: { kind: 'gaussian', n }, model: { kind: 'gaussian' }, generations: 2 })\n`,
      'config.ts',
    )
    const res = cli(['validate', file, '--json'])
    expect(res.status, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout).config.data.n).toBe(200)
    // Settings shared by several configs, imported from a module beside them and one in a folder above.
    mkdirSync(join(dir, 'configs'))
    writeFileSync(join(dir, 'shared.mjs'), `export const data = { kind: 'gaussian', n: 120 }\n`)
    writeFileSync(join(dir, 'configs', 'model.mjs'), `export default { kind: 'gaussian' }\n`)
    const shared = writeConfig(
      join(dir, 'configs'),
      `import { defineConfig } from '@ouroboros/core'\nimport { data } from '../shared.mjs'\nimport model from "./model.mjs"\nexport default defineConfig({ data, model, generations: 2 })\n`,
      'shared.ts',
    )
    const sharedRes = cli(['validate', shared, '--json'], { cwd: tempDir() })
    expect(sharedRes.status, sharedRes.stderr).toBe(0)
    expect(JSON.parse(sharedRes.stdout).config.data.n).toBe(120)

    // TypeScript helpers, named by their .ts path or, as TypeScript writes it, by .js: transpiled
    // too, each once (the counter module, imported by the config and by a helper, counts one load).
    writeFileSync(join(dir, 'count.ts'), `export const loads: { n: number } = (globalThis as any).__loads ??= { n: 0 }\nloads.n++\n`)
    writeFileSync(join(dir, 'settings.ts'), `import { loads } from './count.ts'\nexport const n: number = 150 + loads.n\n`)
    writeFileSync(join(dir, 'configs', 'helpers.ts'), `import type { RawConfig } from '@ouroboros/core'\nimport { n } from '../settings.ts'\nexport const data: RawConfig['data'] = { kind: 'gaussian', n }\n`)
    const typed = writeConfig(
      join(dir, 'configs'),
      `import { defineConfig } from '@ouroboros/core'\nimport { data } from './helpers.js'\nimport { loads } from '../count.ts'\nexport default defineConfig({ data, model: { kind: 'gaussian' }, generations: 1 + loads.n })\n`,
      'typed.ts',
    )
    const typedRes = cli(['validate', typed, '--json'], { cwd: tempDir() })
    expect(typedRes.status, typedRes.stderr).toBe(0)
    expect(JSON.parse(typedRes.stdout).config.data.n).toBe(151)
    expect(JSON.parse(typedRes.stdout).config.generations).toBe(2)

    // An import that fails names the user's files, not the JavaScript copies they run as.
    const wrongName = writeConfig(join(dir, 'configs'), `import { m } from './helpers.js'\nexport default { data: { kind: 'gaussian', n: m }, model: { kind: 'gaussian' }, generations: 2 }\n`, 'wrong-name.ts')
    const wrongRes = cli(['validate', wrongName])
    expect(wrongRes.status).toBe(2)
    expect(wrongRes.stderr).toContain(`the config threw while loading: The requested module '${join(dir, 'configs', 'helpers.ts')}' does not provide an export named 'm'`)
    const absent = writeConfig(join(dir, 'configs'), `import { n } from './absent.js'\nexport default { data: { kind: 'gaussian', n }, model: { kind: 'gaussian' }, generations: 2 }\n`, 'missing-import.ts')
    const absentRes = cli(['validate', absent])
    expect(absentRes.status).toBe(2)
    expect(absentRes.stderr).toContain(`Cannot find module '${join(dir, 'configs', 'absent.js')}' imported from ${absent}`)
  })
})

describe('validate --seed', () => {
  it('checks the config with the seed that run --seed would give it', () => {
    const dir = tempDir()
    const file = writeConfig(dir, { data: { kind: 'gaussian', n: 50 }, model: { kind: 'gaussian' }, generations: 1, seed: 7 })
    const res = cli(['validate', file, '--json', '--seed', '3'])
    expect(res.status, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout).config.seed).toBe(3)
    expect(cli(['validate', file, '--summary', '--seed', '3']).stdout).toContain('run seed 3)')
    const bad = cli(['validate', file, '--seed', '-1'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain("--seed must be a whole number ≥ 0")
  })
})

describe('bad configs', () => {
  // The full corpus is checked in-process in bad-input.test.ts; these go through the process.
  const cases: [string, unknown, string][] = [
    ['wrong type', { data: { kind: 'ring' }, model: { kind: 'gmm' }, generations: 'ten' }, 'generations'],
    ['unknown model', { data: { kind: 'ring' }, model: { kind: 'transformer' }, generations: 2 }, 'model.kind'],
    ['bad model param', { data: { kind: 'ring' }, model: { kind: 'gmm', components: -3 }, generations: 2 }, 'model.components'],
    ['sweep over a missing path', { data: { kind: 'ring' }, model: { kind: 'gmm' }, generations: 2, sweep: { 'optimizer.lr': [1, 2] } }, 'optimizer.lr'],
  ]
  for (const [what, config, field] of cases) {
    it(`${what}: exit 2 naming ${field}, no stack trace, nothing written`, () => {
      const dir = tempDir()
      const file = writeConfig(dir, config)
      const res = cli(['run', file, '--out', join(dir, 'out')])
      expect(res.status, res.stderr).toBe(2)
      expect(res.stderr).toContain(field)
      expect(res.stderr).toContain('config.json')
      expect(res.stderr).not.toMatch(/\n\s+at /)
      expect(readdirSync(dir)).toEqual(['config.json'])
    })
  }

  it('a file that is not JSON', () => {
    const dir = tempDir()
    const res = cli(['run', writeConfig(dir, '{ "data": '), '--out', join(dir, 'out')])
    expect(res.status).toBe(2)
    expect(res.stderr).toContain('not valid JSON')
    expect(existsSync(join(dir, 'out'))).toBe(false)
  })

  it('a TypeScript config that throws', () => {
    const dir = tempDir()
    const res = cli(['validate', writeConfig(dir, `throw new Error('no config for you')\nexport default {}\n`, 'bad.ts')])
    expect(res.status).toBe(2)
    expect(res.stderr).toContain('no config for you')
    expect(res.stderr).not.toMatch(/\n\s+at /)
  })

  it('a TypeScript config with a syntax error, a function or a rejected promise for its default export, or that throws a string', () => {
    const dir = tempDir()
    const cases = [
      // A missing comma, which transpiling alone would have turned into two statements.
      ['syntax.ts', `export default {\n  data: { kind: 'gaussian', n: 50 }\n  model: { kind: 'gaussian' },\n  generations: 3,\n}\n`, /syntax\.ts: line 3, column 3: not valid TypeScript: ',' expected/],
      ['function.ts', `export default function () {\n  return { data: { kind: 'gaussian', n: 50 }, model: { kind: 'gaussian' }, generations: 3 }\n}\n`, /function\.ts: the default export is a function; export the config object itself/],
      ['rejected.ts', `export default Promise.reject(new Error('async boom'))\n`, /rejected\.ts: the config threw while loading: async boom/],
      ['string.ts', `throw 'plain string'\n`, /string\.ts: the config threw while loading: plain string/],
    ] as const
    for (const [name, text, message] of cases) {
      const res = cli(['validate', writeConfig(dir, text, name)])
      expect(res.status, name).toBe(2)
      expect(res.stderr, name).toMatch(message)
    }
    // Named as given, as a config's key errors name it, with a module it imports from there: not by absolute paths.
    mkdirSync(join(dir, 'sub'))
    writeConfig(join(dir, 'sub'), `import base from './missing.ts'\nexport default base\n`, 'imports.ts')
    for (const [args, message] of [
      [['validate', 'syntax.ts'], "error: syntax.ts: line 3, column 3: not valid TypeScript: ',' expected.\n"],
      [['validate', 'sub/imports.ts'], 'error: sub/imports.ts: imports sub/missing.ts: no such file\n'],
      [['validate', join(dir, 'sub/imports.ts')], `error: ${join(dir, 'sub/imports.ts')}: imports ${join(dir, 'sub/missing.ts')}: no such file\n`],
    ] as const) {
      const res = cli([...args], { cwd: dir })
      expect(res.status, args[1]).toBe(2)
      expect(res.stderr, args[1]).toBe(message)
    }
    // A promise of a valid config is one.
    const promised = cli(['validate', writeConfig(dir, `export default Promise.resolve({ data: { kind: 'gaussian', n: 50 }, model: { kind: 'gaussian' }, generations: 3 })\n`, 'promised.ts')])
    expect(promised.status, promised.stderr).toBe(0)
  })

  it('bad command-line values', () => {
    expect(cli(['run', '--workers', 'zero']).status).toBe(2)
    expect(cli(['frobnicate']).status).toBe(2)
    expect(cli(['resume', '/nonexistent/run']).status).toBe(2)
  })

  // '' is what an unset $SLURM_ARRAY_TASK_ID gives; Number() reads it, ' ', '0x10' and '1e3' as numbers.
  it('an empty, blank or non-decimal whole-number option: exit 2 naming the option, nothing run', () => {
    const dir = tempDir()
    const config = writeConfig(dir, { ...ring, generations: 1, replicates: 1, sweep: {} })
    const cases: [string, string][] = [['--seed', ''], ['--seed', ' '], ['--seed', '0x10'], ['--seed', '1e30'], ['--workers', '1e3'], ['--queue-timeout', '']]
    for (const [option, value] of cases) {
      const res = cli(['run', config, '--out', join(dir, 'out'), option, value])
      expect(res.status, `${option} '${value}': ${res.stderr}`).toBe(2)
      expect(res.stderr).toContain(`${option} `)
      expect(res.stderr).not.toContain('seed:')
      expect(existsSync(join(dir, 'out')), `${option} '${value}' wrote a run`).toBe(false)
    }
  })

  it('resume of a finished run says there is nothing to resume and leaves it as it was: its finishing time, files and report; it writes a missing report', () => {
    const dir = tempDir()
    const run = `${dir}/run`
    expect(cli(['run', writeConfig(dir, { ...ring, generations: 2, sweep: {} }), '--out', run]).status).toBe(0)
    const files = readdirSync(run).filter((f) => !f.startsWith('chains')).sort()
    const before = files.map((f) => readFileSync(join(run, f)))
    const finishedAt = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).finishedAt as string
    const res = cli(['resume', run])
    expect(res.status, res.stderr).toBe(0)
    expect(res.stderr).toBe(`ouroboros: ${run} finished at ${finishedAt}: nothing to resume (${COMMAND} report ${run} makes its report again)\n`)
    // What to run next is said as the command was typed: through the workspace's pnpm scripts,
    // or with node and its path from another folder (a checkout has no \`ouroboros\` on the PATH).
    const viaPnpm = cli(['resume', run], { env: { npm_lifecycle_event: 'ouroboros', npm_config_user_agent: 'pnpm/12.4.2 npm/? node/v20.19.0 linux x64' } })
    expect(viaPnpm.stderr).toContain(`(npx -y pnpm@12.4.2 ouroboros report ${run} makes its report again)`)
    expect(cli(['resume', run], { cwd: dir }).stderr).toContain(`(node ${MAIN} report ${run} makes its report again)`)
    expect(readdirSync(run).filter((f) => !f.startsWith('chains')).sort()).toEqual(files)
    files.forEach((f, i) => expect(readFileSync(join(run, f)).equals(before[i]!), f).toBe(true))
    // A finished run needs no lock to say so: one held by a live process (here this test's), or a
    // folder the user may only read, does not stand in the way.
    const lock = JSON.stringify({ pid: process.pid, host: hostname().replace(/[^A-Za-z0-9_.-]/g, '_'), since: new Date().toISOString() }) + '\n'
    writeFileSync(join(run, 'run.lock'), lock)
    const locked = cli(['resume', run])
    expect(locked.status, locked.stderr).toBe(0)
    expect(locked.stderr).toBe(res.stderr)
    expect(readFileSync(join(run, 'run.lock'), 'utf8')).toBe(lock)
    rmSync(join(run, 'run.lock'))
    // A run that stopped while writing its report (a full disk: the message says to resume) is
    // finished but for the report, which resume writes: the one the run would have written.
    rmSync(join(run, 'report.html'))
    const again = cli(['resume', run])
    expect(again.status, again.stderr).toBe(0)
    expect(again.stderr).toBe(`ouroboros: ${run} finished at ${finishedAt}; writing its report\n`)
    expect(again.stdout).toBe(`report: ${join(run, 'report.html')}\n`)
    files.forEach((f, i) => expect(readFileSync(join(run, f)).equals(before[i]!), f).toBe(true))
  })
})

describe('data of a limited pool', () => {
  it('runs generations larger than a data file, the real-data record taking its whole pool of training rows', async () => {
    const { readSamples } = await import('@ouroboros/store')
    const dir = tempDir()
    // 20 rows, 2 held out: a pool of 18, all of it the real data (data.n's default).
    writeFileSync(join(dir, 'small.csv'), Array.from({ length: 20 }, (_, i) => `${(i * 7) % 11}\n`).join(''))
    const config = writeConfig(dir, { data: { kind: 'vector-file', path: 'small.csv' }, model: { kind: 'gaussian' }, generations: 2, samplesPerGeneration: 40, metrics: ['moments'] })
    const res = cli(['run', config, '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    expect(JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8')).dataset.pool).toBe(18)
    const real = readSamples(`${dir}/run/chains/r0/real.npy`)
    if (real.modality !== 'vectors') throw new Error('vectors expected')
    expect(real.n).toBe(18)
    // The record draws the same 18 rows, in another order: their variance (ddof 0), computed here.
    const mean = real.data.reduce((a, b) => a + b, 0) / real.n
    const variance = real.data.reduce((a, b) => a + (b - mean) ** 2, 0) / real.n
    const reference = records(`${dir}/run`).find((r) => r.generation === -1)!
    expect(reference.metrics['total_variance']).toBeCloseTo(variance, 12)
    expect(records(`${dir}/run`).filter((r) => r.generation >= 0)).toHaveLength(2)
  })
})

describe('metric options left to the data', () => {
  it('records the median bandwidth each chain used in run.json', async () => {
    const { readSamples } = await import('@ouroboros/store')
    const dir = tempDir()
    const config = writeConfig(dir, { data: { kind: 'ring', n: 300 }, model: { kind: 'kde' }, generations: 1, metrics: ['mmd_rbf'] })
    const res = cli(['run', config, '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const run = JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8'))
    expect(run.metricOptions.mmd_rbf.bandwidth).toBeNull()
    const real = readSamples(`${dir}/run/chains/r0/real.npy`)
    if (real.modality !== 'vectors') throw new Error('vectors expected')
    const distances: number[] = []
    for (let i = 0; i < real.n; i++) {
      for (let j = i + 1; j < real.n; j++) distances.push(Math.hypot(real.data[2 * i]! - real.data[2 * j]!, real.data[2 * i + 1]! - real.data[2 * j + 1]!))
    }
    distances.sort((a, b) => a - b)
    const m = distances.length
    const median = m % 2 === 1 ? distances[(m - 1) / 2]! : (distances[m / 2 - 1]! + distances[m / 2]!) / 2
    expect(run.chains[0].resolvedOptions.mmd_rbf.bandwidth).toBeCloseTo(median, 12)
  })
})

describe('the MNIST classifier', () => {
  it('prints its accuracy once and records it in run.json and the report; resume keeps it', () => {
    const dir = tempDir()
    // A fresh cache: the run trains the classifier with its default options (about 10 s).
    const env = { OUROBOROS_CACHE_DIR: join(dir, 'cache') }
    const config = writeConfig(dir, { data: { kind: 'mnist', n: 200 }, model: { kind: 'gmm', components: 1, regCovar: 0.01 }, generations: 1, metrics: ['classifier'] })
    const res = cli(['run', config, '--out', `${dir}/run`, '--workers', '2'], { env })
    expect(res.status, res.stderr).toBe(0)
    const printed = res.stdout.split('\n').filter((l) => l.startsWith('classifier: held-out accuracy'))
    expect(printed).toHaveLength(1)
    expect(printed[0]).toContain('trained now')
    const run = JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8'))
    // The class metrics refuse to score below 95 % (minAccuracy's default).
    expect(run.classifier.heldoutAccuracy).toBeGreaterThanOrEqual(0.95)
    expect(run.classifier.testItems).toBe(1000)
    expect(printed[0]).toContain(`${(100 * run.classifier.heldoutAccuracy).toFixed(2)} %`)
    expect(readdirSync(join(dir, 'cache'))).toEqual([run.classifier.cacheFile.split('/').pop()])
    const first = records(`${dir}/run`).find((r) => r.generation === 0)!
    expect(Object.keys(first.metrics).sort()).toEqual(['class_entropy', 'class_kl', 'classes_covered', 'frechet_feature_distance'])
    expect(readFileSync(`${dir}/run/report.html`, 'utf8')).toContain(`<tr><th>classifier</th><td>held-out accuracy ${(100 * run.classifier.heldoutAccuracy).toFixed(2)} % on 1000 digits</td></tr>`)

    // As a run stopped after its last record (a finished one is left as it is): the resume sets up its groups again.
    writeFileSync(`${dir}/run/run.json`, JSON.stringify({ ...run, status: 'interrupted', finishedAt: null }))
    // Resumed with another cache folder (another machine, another $HOME): the same weights, cached elsewhere, are no change.
    cpSync(join(dir, 'cache'), join(dir, 'elsewhere'), { recursive: true })
    const resumed = cli(['resume', `${dir}/run`], { env: { OUROBOROS_CACHE_DIR: join(dir, 'elsewhere') } })
    expect(resumed.status, resumed.stderr).toBe(0)
    expect(resumed.stdout).toContain(`read from the cache: ${join(dir, 'elsewhere')}`)
    expect(resumed.stderr).not.toContain('differs')
    expect(JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8')).classifier).toEqual(run.classifier)
    // Training the classifier is about 10 s on a quiet machine; a loaded one can take several times as long.
  }, 180_000)
})

describe('training curves', () => {
  it('record which modes a GAN covers at each evaluated step, consistent with the mode counts', () => {
    const dir = tempDir()
    const file = writeConfig(dir, {
      data: { kind: 'ring', n: 500 },
      model: { kind: 'gan', steps: 40, evalEvery: 10, evalSamples: 400, generator: [32], discriminator: [32], batch: 64 },
      generations: 1,
      metrics: ['modes'],
      heldout: 0,
    })
    const res = cli(['run', file, '--out', `${dir}/run`], { env: { OUROBOROS_BACKEND: 'cpu' } })
    expect(res.status, res.stderr).toBe(0)
    const lines = readFileSync(`${dir}/run/chains/r0/gen-000000.training.ndjson`, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((l) => l.step)).toEqual([10, 20, 30, 40])
    for (const { metrics, profiles } of lines) {
      const shares: number[] = profiles.modes.hq_share
      expect(shares).toHaveLength(8)
      // Shares are counts out of 400 samples: covered modes have one sample or more, 1 % modes four or more.
      expect(shares.filter((s) => s > 0)).toHaveLength(metrics.modes_covered)
      expect(shares.filter((s) => s * 400 >= 4)).toHaveLength(metrics.modes_covered_1pct)
      expect(100 * shares.reduce((a, b) => a + b, 0)).toBeCloseTo(metrics.pct_high_quality, 9)
    }
    const report = readFileSync(`${dir}/run/report.html`, 'utf8')
    expect(report).toContain('Modes during training')
    // The GAN describes its losses, and the report titles their curves so.
    expect(JSON.parse(readFileSync(`${dir}/run/run.json`, 'utf8')).lossInfo).toEqual({ d: { title: 'discriminator loss' }, g: { title: 'generator loss' } })
    expect(report).toContain('Training: discriminator loss · d')
  })
})

describe('shipped configs', () => {
  const dir = fileURLToPath(new URL('../../../data/configs/', import.meta.url))
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'))
  it('are there', () => expect(files.length).toBeGreaterThan(20))
  it('are each listed in data/configs/README.md', () => {
    const listed = readFileSync(join(dir, 'README.md'), 'utf8')
    expect(files.map((f) => f.replace(/\.json$/, '')).filter((name) => !listed.includes(`\`${name}\``))).toEqual([])
  })
  // What `ouroboros validate FILE --json` prints, computed in this process: a process per config
  // spent most of its time starting Node and loading the corpora again.
  const validated = async (file: string) => JSON.parse(validateOutput(await resolveRun(await loadConfigFile(file), file), file, true))
  for (const f of files) {
    it(`${f} validates`, async () => {
      expect((await validated(join(dir, f))).config.name).toBe(f.replace(/\.json$/, ''))
    })
  }
  const examples = fileURLToPath(new URL('../../model-command/examples/', import.meta.url))
  for (const example of readdirSync(examples)) {
    it(`model-command's ${example} example validates, its command to run in the example's folder`, async () => {
      expect((await validated(join(examples, example, 'config.json'))).config.model).toMatchObject({ kind: 'command', cwd: join(examples, example) })
    })
  }
})
