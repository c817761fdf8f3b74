// gao_fit.py on small runs written here: which swept parameter groups the fits, and what it says
// of a run that does not sweep the one asked for.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

// Debian's python3 has numpy (the README's analysis scripts ask for python3-numpy).
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const SCRIPT = fileURLToPath(new URL('./gao_fit.py', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'ouroboros-gao-fit-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Gold gains on Gao et al.'s RL form dG = d(α − β ln d) with α = 1, β = 0.5: the fit recovers them exactly. */
const steps = [0, 0.25, 1, 2.25, 4].map((kl) => {
  const d = Math.sqrt(kl)
  return { kl, gold_reward: d === 0 ? 0 : d * (1 - 0.5 * Math.log(d)) }
})

/** A run directory with one chain per cell, each with the same post-training curve. */
function run(name, cellParams) {
  const root = join(dir, name)
  const cells = cellParams.map((params, index) => ({ index, params }))
  const chains = cells.map((c) => ({ id: `c${c.index}-r0`, cell: c.index, replicate: 0 }))
  for (const ch of chains) {
    mkdirSync(join(root, 'chains', ch.id), { recursive: true })
    writeFileSync(join(root, 'chains', ch.id, 'gen-000000.posttrain.ndjson'), steps.map((s) => JSON.stringify(s)).join('\n') + '\n')
  }
  writeFileSync(join(root, 'run.json'), JSON.stringify({ cells, chains }))
  return root
}

const gaoFit = (...args) => spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8' })

describe('gao_fit.py', () => {
  it('groups by the labels where the run sweeps them, as docs/rlhf-collapse.md runs it', () => {
    const r = gaoFit(run('labels', [{ 'posttrain.0.reward.labels': 50, 'posttrain.0.beta': 0.1 }, { 'posttrain.0.reward.labels': 200, 'posttrain.0.beta': 0.1 }]), 'rl')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('posttrain.0.reward.labels=50: pooled  alpha=1.000 beta=0.500 R2=1.00')
    expect(r.stdout).toContain('posttrain.0.reward.labels=200: pooled')
  })

  it("groups by the run's one swept parameter where it sweeps no labels (a beta)", () => {
    const r = gaoFit(run('beta', [{ 'posttrain.0.beta': 1 }, { 'posttrain.0.beta': 0.1 }]), 'rl')
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('posttrain.0.beta=0.1: pooled  alpha=1.000 beta=0.500 R2=1.00')
    expect(r.stdout).toContain('posttrain.0.beta=1: pooled')
  })

  it('fits each cell apart where the run sweeps several parameters, and says in one line what it sweeps where --group names another', () => {
    const two = run('two', [{ 'posttrain.0.beta': 1, 'posttrain.0.steps': 5 }, { 'posttrain.0.beta': 0.1, 'posttrain.0.steps': 10 }])
    const r = gaoFit(two, 'rl')
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(r.stdout).toContain('posttrain.0.beta=0.1, posttrain.0.steps=10: pooled  alpha=1.000 beta=0.500 R2=1.00')
    expect(r.stdout).toContain('posttrain.0.beta=1, posttrain.0.steps=5: pooled')
    const asked = gaoFit(two, 'rl', '--group', 'posttrain.0.ridge')
    expect(asked.status).toBe(2)
    expect(asked.stderr).toContain('the run does not sweep posttrain.0.ridge; it sweeps posttrain.0.beta, posttrain.0.steps')
  })

  it('with --per-replicate fits each replicate over all the cells of its group, as the RL table of docs/rlhf-collapse.md does', () => {
    const betas = run('per-replicate', [1, 0.1].flatMap((beta) => [50, 200].map((labels) => ({ 'posttrain.0.reward.labels': labels, 'posttrain.0.beta': beta }))))
    const perCell = gaoFit(betas, 'rl', '--group', 'posttrain.0.reward.labels')
    expect(perCell.status).toBe(0)
    expect(perCell.stdout.match(/ {3}seed 0 \(posttrain\.0\.beta=.*\(n=5\)/g)).toHaveLength(4)
    const r = gaoFit(betas, 'rl', '--group', 'posttrain.0.reward.labels', '--per-replicate')
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    // One line per labels value and replicate, over both betas: 2 cells × 5 points.
    expect(r.stdout.match(/ {3}seed 0: alpha=1\.000 beta=0\.500 R2=1\.00 .*\(n=10\)/g)).toHaveLength(2)
    expect(r.stdout).not.toContain('posttrain.0.beta=')
  })

  it('keeps the cells of a second swept parameter apart (the best-of-n config sweeps labels and ridge), and --only compares numbers as numbers', () => {
    const grid = run('grid', [50, 1000].flatMap((labels) => [1e-5, 1e-3].map((ridge) => ({ 'posttrain.0.reward.labels': labels, 'posttrain.0.reward.ridge': ridge }))))
    const r = gaoFit(grid, 'rl')
    expect(r.status).toBe(0)
    // One fit of 5 points per cell, none pooling two ridges.
    expect(r.stdout.match(/: pooled .*\(n=5\)/g)).toHaveLength(4)
    const only = gaoFit(grid, 'rl', '--only', 'posttrain.0.reward.ridge=1e-5')
    expect(only.status).toBe(0)
    expect(only.stdout.match(/: pooled /g)).toHaveLength(2)
    expect(only.stdout).not.toContain('0.001')
    const none = gaoFit(grid, 'rl', '--only', 'posttrain.0.reward.ridge=0.5')
    expect(none.status).toBe(2)
    expect(none.stderr).toMatch(/^error: .*\n$/)
    const form = gaoFit(grid, 'xyz')
    expect(form.status).toBe(2)
    expect(form.stderr).toContain('bon')
  })

  it("names a swept number as run.json's labels and the report do (0.00001, where Python writes 1e-05)", () => {
    const r = gaoFit(run('small', [{ 'posttrain.0.beta': 0.00001 }, { 'posttrain.0.beta': 1e-7 }, { 'posttrain.0.beta': 1e21 }]), 'rl')
    expect(r.status, r.stderr).toBe(0)
    for (const beta of ['0.00001', '1e-7', '1e+21']) expect(r.stdout).toContain(`posttrain.0.beta=${beta}: pooled`)
    expect(r.stdout).not.toContain('e-05')
  })
})
