// The arguments of `pnpm bench`: --help and an argument that selects nothing end the script
// before anything runs or is written; every argument that selects something is kept as given.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseBenchArgs, SECTIONS, USAGE } from './args.js'

const BENCH = fileURLToPath(new URL('../bench.js', import.meta.url))
const RESULTS = fileURLToPath(new URL('../../bench-results', import.meta.url))
const written = () => (existsSync(RESULTS) ? readdirSync(RESULTS).sort() : [])
const bench = (...args) => spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8' })

describe('parseBenchArgs', () => {
  it('keeps section names and parts of chain workload names as given; none selects everything', () => {
    expect(parseBenchArgs([])).toEqual({ only: [] })
    for (const section of SECTIONS) expect(parseBenchArgs([section])).toEqual({ only: [section] })
    expect(parseBenchArgs(['gmm', 'mle', 'scale'])).toEqual({ only: ['gmm', 'mle', 'scale'] })
    expect(parseBenchArgs(['gaussian_chain M=100 G=1000 S=100 unbiased'])).toEqual({ only: ['gaussian_chain M=100 G=1000 S=100 unbiased'] })
  })

  it('asks for the usage on --help or -h, wherever it stands', () => {
    expect(parseBenchArgs(['--help'])).toEqual({ help: true })
    expect(parseBenchArgs(['scale', '-h'])).toEqual({ help: true })
  })

  it('refuses an argument that selects nothing, naming it and the sections', () => {
    const { error } = parseBenchArgs(['scal'])
    expect(error).toBe(`bench: 'scal' is neither a section (${SECTIONS.join(', ')}) nor part of a chain workload's name; see --help`)
    expect(parseBenchArgs(['gmm', 'chains', 'metric']).error).toMatch(/^bench: 'chains', 'metric' are neither a section \(/)
  })
})

describe('scripts/bench.js', () => {
  it('prints the usage on --help and -h, exits 0 and writes nothing', () => {
    const before = written()
    for (const flag of ['--help', '-h']) {
      const r = bench(flag)
      expect(r.status).toBe(0)
      expect(r.stdout).toBe(USAGE)
      expect(r.stdout).toContain('OUROBOROS_BENCH_SCALE')
      for (const section of SECTIONS) expect(r.stdout).toContain(`  ${section} `)
    }
    expect(written()).toEqual(before)
  })

  it('refuses a typo with one line on stderr and exit code 2, writing nothing', () => {
    const before = written()
    const r = bench('scal')
    expect(r.status).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`${parseBenchArgs(['scal']).error}\n`)
    expect(written()).toEqual(before)
  })
})
