import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ErrorCode, OuroborosError, Rng, vectors, type DatasetInfo, type VectorSamples } from '@ouroboros/core'
import { encodeNpy, processAlive, writeFileAtomic } from '@ouroboros/store'
import { model, params, type CommandState } from './index.js'
import { ModelProcess, PROTOCOL } from './process.js'

const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const GAUSSIAN = fileURLToPath(new URL('../examples/gaussian/gaussian_model.py', import.meta.url))
const FAULTY = fileURLToPath(new URL('../test/faulty_model.py', import.meta.url))
const HELPER_DIR = fileURLToPath(new URL('../python/', import.meta.url))
const dataset: DatasetInfo = { kind: 'gaussian', modality: 'vectors', d: 2 }
const fitCtx = (seed = 1) => ({ rng: Rng.from(seed, 'fit'), generation: 0, dataset })
const sampleCtx = (seed = 2) => ({ rng: Rng.from(seed, 'sample'), temperature: 1, dataset })
const data = (n = 50): VectorSamples => vectors(n, 2, Rng.from(3, 'data').fillNormal(new Float64Array(2 * n), 1, 2))
const faulty = (fault: string | undefined, timeoutMs = 20_000) => params.parse({ command: [PYTHON, FAULTY], params: fault === undefined ? {} : { fault }, timeoutMs })

describe('the numpy Gaussian through the protocol', () => {
  it('fits the maximum-likelihood mean and variance: its log-likelihood is the closed form at them', async () => {
    const x = data()
    const state = await model.fit(x, params.parse({ command: [PYTHON, GAUSSIAN] }), fitCtx())
    // The MLE per dimension and the Gaussian log density, computed here independently of the child.
    const points = vectors(3, 2, new Float64Array([0, 0, 1, -1, 2.5, 3]))
    const expected = new Float64Array(3)
    for (let j = 0; j < 2; j++) {
      let mean = 0
      for (let i = 0; i < x.n; i++) mean += x.data[i * 2 + j]! / x.n
      let variance = 0
      for (let i = 0; i < x.n; i++) variance += (x.data[i * 2 + j]! - mean) ** 2 / x.n
      for (let i = 0; i < 3; i++) expected[i]! += -0.5 * (Math.log(2 * Math.PI * variance) + (points.data[i * 2 + j]! - mean) ** 2 / variance)
    }
    const ll = await model.logLikelihood!(state, points)
    for (let i = 0; i < 3; i++) expect(ll[i]).toBeCloseTo(expected[i]!, 12)
    // The fitted model is a directory of the child's own files.
    expect(readdirSync(state.model).sort()).toEqual(['mean.npy', 'var.npy'])
  })

  it('saves each generation under the chain directory and keeps the model log there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'command-chain-'))
    const spec = params.parse({ command: [PYTHON, FAULTY] })
    const state = await model.fit(data(), spec, { ...fitCtx(), generation: 7, dir })
    expect(state.model).toBe(join(dir, 'gen-000007.model'))
    expect(existsSync(join(state.model, 'mean.npy'))).toBe(true)
    // The model's print() went to the log, not into the protocol.
    await model.sample(state, 5, sampleCtx())
    expect(readFileSync(join(dir, 'model.log'), 'utf8')).toContain('fitting (50, 2)')
  })
})

describe('what a model prints on stdout', () => {
  it('once ouroboros_model is imported, a print at the top of the script goes to model.log, and so does a subprocess’s output during a fit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'command-print-'))
    const state = await model.fit(data(), params.parse({ command: [PYTHON, FAULTY, 'banner-after'], params: { fault: 'subprocess' } }), { ...fitCtx(), dir })
    await model.sample(state, 5, sampleCtx())
    const log = readFileSync(join(dir, 'model.log'), 'utf8')
    expect(log).toContain('Loading my model v1.0')
    expect(log).toContain('from a subprocess')
  })

  it('a line written before, by the script or by a wrapper script, fails the first request saying where the model’s output goes', async () => {
    const hint = / — a model writes its own output to stderr: anything printed on stdout before ouroboros_model is imported \(or echoed by a wrapper script\) is read as a reply$/
    const early = await model.fit(data(), params.parse({ command: [PYTHON, FAULTY, 'banner-before'] }), fitCtx()).catch((e: Error) => e)
    expect(String(early)).toMatch(/'hello': its reply to 'hello' is not a protocol reply \(\{"id": \.\.\., "ok": true\|false\}\): 'Loading my model v1\.0'/)
    expect(String(early)).toMatch(hint)
    const wrapped = await model.fit(data(), params.parse({ command: ['sh', '-c', `echo starting; exec '${PYTHON}' '${FAULTY}'`] }), fitCtx()).catch((e: Error) => e)
    expect(String(wrapped)).toMatch(/its reply to 'hello' is not a protocol reply .*: 'starting'/)
    expect(String(wrapped)).toMatch(hint)
  })
})

describe('progress', () => {
  it('a fit’s progress lines reach the run’s progress display, and the fit ends with its reply', async () => {
    const steps: [number, number][] = []
    const state = await model.fit(data(), faulty('progress'), { ...fitCtx(), onStep: (step, of) => steps.push([step, of]) })
    expect(steps).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ])
    expect(existsSync(join(state.model, 'mean.npy'))).toBe(true)
  })

  it('a fit with nobody listening ignores them', async () => {
    const state = await model.fit(data(), faulty('progress'), fitCtx())
    expect(existsSync(join(state.model, 'mean.npy'))).toBe(true)
  })
})

describe('a child that misbehaves fails with a message naming the command and the request', () => {
  const name = /model\.command \[".*faulty_model\.py"\]/

  it('a crash', async () => {
    const err = await model.fit(data(), faulty('crash'), fitCtx()).catch((e: Error) => e)
    expect(String(err)).toMatch(name)
    expect(String(err)).toMatch(/'fit' of generation 0: the process exited \(code 3\); its stderr ends: .*about to crash/)
  })

  it('a script that ends without serving: the message asks whether it called serve()', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'command-unserved-'))
    writeFileSync(join(dir, 'unserved.py'), `import sys\nsys.path.insert(0, ${JSON.stringify(HELPER_DIR)})\nfrom ouroboros_model import serve\n\nclass MyModel:\n    pass\n`)
    const spec = params.parse({ command: [PYTHON, join(dir, 'unserved.py')] })
    const err = await model.fit(data(), spec, fitCtx()).catch((e: Error) => e)
    expect(String(err)).toMatch(/'hello': the process exited \(code 0\) — a model program answers requests on its stdin until it closes: did the script call serve\(MyModel\)/)
  })

  it('a hang, stopped at the timeout', async () => {
    const started = Date.now()
    // Long enough for the start-up (numpy's import, on a busy machine) that the same timeout bounds.
    const err = await model.fit(data(), faulty('hang', 2000), fitCtx()).catch((e: Error) => e)
    expect(String(err)).toMatch(/'fit' of generation 0: no reply within 2000 ms; the process was stopped \(raise model.timeoutMs/)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('an exception in the model', async () => {
    const err = await model.fit(data(), faulty('raise'), fitCtx()).catch((e: Error) => e)
    expect(String(err)).toMatch(/'fit' of generation 0 failed: ValueError: the data are too small/)
  })

  it('a progress line that is not {"step", "steps"} numbers', async () => {
    const err = await model.fit(data(), faulty('bad-progress'), fitCtx()).catch((e: Error) => e)
    expect(String(err)).toMatch(/its progress line during 'fit' of generation 0 is not \{"id": \.\.\., "progress": \{"step": <number>, "steps": <number>\}\}: '\{"id": \d+, "progress": \{"step": "one"\}\}'/)
  })

  it('a reply that is not JSON', async () => {
    const err = await model.fit(data(), faulty('garbage'), fitCtx()).catch((e: Error) => e)
    expect(String(err)).toMatch(/its reply to 'fit' of generation 0 is not a protocol reply .*'this is not json'/)
  })

  it('samples of the wrong shape', async () => {
    const state: CommandState = await model.fit(data(), faulty('shape'), fitCtx())
    const err = await Promise.resolve(model.sample(state, 10, sampleCtx())).catch((e: Error) => e)
    expect(String(err)).toMatch(/'sample' of 10: it wrote an array of 10 x 3 values; expected 10 x 2/)
  })

  it('samples holding NaN: a diverged error (which a run may retry) naming the command and the first row', async () => {
    const state: CommandState = await model.fit(data(), faulty('nan'), fitCtx())
    const err = await Promise.resolve(model.sample(state, 10, sampleCtx())).catch((e: Error) => e)
    expect(String(err)).toMatch(name)
    expect(String(err)).toMatch(/'sample' of 10: its samples hold non-finite values \(NaN at row 9\): its fit diverged, or its sample\(\) made them$/)
    expect((err as OuroborosError).code).toBe(ErrorCode.DIVERGED)
  })

  it('a command that does not exist', async () => {
    const err = await model.fit(data(), params.parse({ command: ['/nonexistent/python3', 'm.py'] }), fitCtx()).catch((e: Error) => e)
    expect(String(err)).toMatch(/model\.command \["\/nonexistent\/python3","m\.py"\] \(in .*\): 'hello': cannot start it: no program '\/nonexistent\/python3'$/)
    const onPath = await model.fit(data(), params.parse({ command: ['no-such-python3', 'm.py'] }), fitCtx()).catch((e: Error) => e)
    expect(String(onPath)).toMatch(/'hello': cannot start it: no program 'no-such-python3' on PATH$/)
  })

  it('a working directory that does not exist, which spawn reports as the program missing', async () => {
    // Parsed without the schema's check, as params saved before it (a run resumed) are.
    const err = await model.fit(data(), { ...params.parse({ command: ['python3', 'm.py'] }), cwd: '/nonexistent-dir' }, fitCtx()).catch((e: Error) => e)
    expect(String(err)).toMatch(/'hello': cannot start it: its directory \/nonexistent-dir does not exist \(model\.cwd\)$/)
    expect(params.safeParse({ command: ['python3', 'm.py'], cwd: '/nonexistent-dir' }).success).toBe(false)
  })
})

describe('numbers that JSON cannot carry, NaN and infinity, in what a model returns', () => {
  const name = /^OuroborosError: model\.command \[".*faulty_model\.py","trainable"\] \(in .*\): /
  const trainable = (fault: string) => params.parse({ command: [PYTHON, FAULTY, 'trainable'], params: { fault }, timeoutMs: 20_000 })
  /** One train_step of the faulty model's copy; the error it fails with. */
  const trainStep = async (fault: string): Promise<unknown> => {
    const spec = trainable(fault)
    const state = await model.fit(data(), spec, fitCtx())
    const trainer = await model.trainer!(state, spec, { rng: Rng.from(4, 'trainer'), dataset, anchor: 0, reference: state })
    try {
      return await Promise.resolve(trainer.step(data(8), new Float64Array(8).fill(1))).catch((e: Error) => e)
    } finally {
      trainer.dispose?.()
    }
  }

  it('a train_step loss of NaN is a diverged error (which a run may retry) naming the method and the loss', async () => {
    const err = await trainStep('nan-loss')
    expect(String(err)).toMatch(name)
    expect(String(err)).toMatch(/'train_step' 1 failed: train_step\(\) returned nan at \['loss'\]: the training diverged \(a lower learning rate may help\)$/)
    expect((err as OuroborosError).code).toBe(ErrorCode.DIVERGED)
  })

  it('an infinite loss is refused saying what to do, not blamed on a print', async () => {
    const err = await trainStep('inf-loss')
    expect(String(err)).toMatch(/'train_step' 1 failed: train_step\(\) returned inf at \['loss'\], which a reply cannot carry \(JSON has no infinity\): give a finite number, or leave that value out/)
    expect((err as OuroborosError).code).toBe(ErrorCode.MODEL)
  })

  it('NaN in summary() fails the fit as diverged, naming the quantity and its index', async () => {
    const err = await model.fit(data(), trainable('nan-summary'), fitCtx()).catch((e: Error) => e)
    expect(String(err)).toMatch(/'summary' of generation 0 failed: summary\(\) returned nan at \['mean'\]\[1\]: the model diverged, or summary\(\) made the NaN$/)
    expect((err as OuroborosError).code).toBe(ErrorCode.DIVERGED)
    // A summary of finite numbers goes through.
    expect((await model.fit(data(), trainable('none'), fitCtx())).summary).toEqual({ mean: Float64Array.from([0, 1]) })
  })

  it('a reply line holding NaN (a model writing its own, or an older ouroboros_model.py) is said to hold NaN', async () => {
    const err = await trainStep('nan-line')
    expect(String(err)).toMatch(/'train_step' 1: its line during 'train_step' 1 holds NaN or Infinity, which JSON has not: '\{"id": \d+, "ok": true, "losses": \{"loss": NaN\}\}' — a reply carries finite numbers only/)
    expect(String(err)).not.toMatch(/printed on stdout/)
  })

  it('progress() refuses a step that is not finite in the model, where its line would not be read', async () => {
    const helper = spawnSync(PYTHON, ['-c', "import ouroboros_model as m; m.progress(float('nan'), 3)"], { cwd: HELPER_DIR, encoding: 'utf8' })
    expect(helper.stderr).toMatch(/ValueError: progress\(step, steps\) takes finite numbers; got step nan, steps 3$/m)
  })
})

describe('a command that cannot start is refused before the run (checkData)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'command-check-'))
  const check = (command: string[]) => () => model.checkData!(params.parse({ command, cwd: dir }), dataset)

  it('a program that is not on PATH, or not at its path, or not executable', () => {
    expect(check(['no-such-binary-xyz'])).toThrow(/^command: \["no-such-binary-xyz"\]: no program 'no-such-binary-xyz' on PATH$/)
    expect(check(['./no-such-model', 'm.py'])).toThrow(`command: ["./no-such-model","m.py"]: no program './no-such-model' in ${dir}`)
    expect(check(['/nonexistent/python3'])).toThrow(/: no program '\/nonexistent\/python3'$/)
    writeFileSync(join(dir, 'model.sh'), 'echo hi\n')
    expect(check(['./model.sh'])).toThrow(`command: ["./model.sh"]: './model.sh' in ${dir} is not executable`)
    // spawn looks a bare name up on PATH only, never in the working directory.
    const bare = (() => {
      try {
        check(['model.sh'])()
      } catch (err) {
        return err as OuroborosError
      }
    })()
    expect(bare?.code).toBe(ErrorCode.INPUT)
    expect(bare?.hint).toBe('a program in model.cwd is named by its path: "./model.sh"')
  })

  it('a script, the first argument, that is not in model.cwd', () => {
    expect(check(['python3', 'nope.py'])).toThrow(`command: ["python3","nope.py"]: no file 'nope.py' in ${dir} for python3 to run`)
    expect(check([PYTHON, '/nonexistent/model.py'])).toThrow(/: no file '\/nonexistent\/model\.py' for .*python3 to run$/)
  })

  it('accepts programs and scripts that are there, and arguments that are not scripts', () => {
    expect(check([PYTHON, GAUSSIAN])).not.toThrow()
    expect(check(['python3', '-u', 'nope.py'])).not.toThrow()
    expect(check(['sh', '-c', 'exec python3 model.py'])).not.toThrow()
    expect(() => model.checkData!(params.parse({ command: ['python3', 'gaussian_model.py'], cwd: dirname(GAUSSIAN) }), dataset)).not.toThrow()
  })
})

describe('the child process', () => {
  const start = (idleMs: number) => {
    const child = new ModelProcess({ command: [PYTHON, FAULTY], cwd: tmpdir(), timeoutMs: 20_000, idleMs, params: { fault: 'slow' } })
    const file = join(mkdtempSync(join(tmpdir(), 'command-io-')), 'x.npy')
    writeFileAtomic(file, encodeNpy(data()))
    const fit = () => child.request({ op: 'fit', data: file, seed: 1, warm: false, generation: 0 }, "'fit'")
    return { child, fit, hello: () => child.request({ op: 'hello', protocol: PROTOCOL, params: { fault: 'slow' } }, "'hello'") }
  }

  it('is stopped after idleMs without a request, but never while it answers one', async () => {
    const { child, fit, hello } = start(300)
    await hello()
    // The fit sleeps a second, longer than the idle time.
    await fit()
    expect(child.alive).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(child.alive).toBe(false)
  })

  it('fails a request in flight when it is closed', async () => {
    const { child, fit, hello } = start(60_000)
    await hello()
    const pending = fit()
    // Sent: the child sleeps in its fit.
    await new Promise((resolve) => setTimeout(resolve, 200))
    child.close()
    await expect(pending).rejects.toThrow(/'fit': the process was stopped/)
  })
})

describe('a child whose parent is gone', () => {
  it.skipIf(process.platform !== 'linux')('ends within seconds although its stdin stays open (a run stopped at once cannot close it)', async () => {
    // The shell starts the helper's serve loop on a pipe that stays open for 20 s, naming itself as
    // the Ouroboros process, prints its pid and exits, before the helper starts (as a slow import
    // of numpy may leave it): the helper's parent at its start is already the one that adopted it.
    const script = `sleep 20 2>/dev/null | (sleep 1; OUROBOROS_PID=$$ PYTHONPATH='${HELPER_DIR}' exec '${PYTHON}' -c 'import ouroboros_model as m; m.serve(lambda params: None)') >/dev/null 2>&1 & echo $!; sleep 0.5`
    const pid = Number(spawnSync('sh', ['-c', script], { encoding: 'utf8' }).stdout.trim())
    expect(pid).toBeGreaterThan(0)
    const until = Date.now() + 8000
    while (processAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100))
    expect(processAlive(pid)).toBe(false)
  })
})
