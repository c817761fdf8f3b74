import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { OuroborosError } from '@ouroboros/core'
import { evalCommand, readable } from './eval-command.js'

describe('eval on a terminal', () => {
  it('prints 12 significant digits, hiding the last-bit noise of a sum and keeping what precision there is', () => {
    // Sums land a bit off their decimals: 0.1 + 0.2, and a share of samples summed in percent.
    expect(String(0.1 + 0.2)).toBe('0.30000000000000004')
    expect(readable(0.1 + 0.2)).toBe('0.3')
    expect(readable(59.150000000000006)).toBe('59.15')
    expect(readable(1 / 3)).toBe('0.333333333333')
    expect(readable(1.228528789442627)).toBe('1.22852878944')
    expect(readable(-2.5e-9)).toBe('-2.5e-9')
    expect(readable(0)).toBe('0')
    expect(readable(123456789012345)).toBe('123456789012000')
  })
})

describe('eval --metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-eval-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const metrics = import.meta.resolve('@ouroboros/metrics')
  // A group of its own: the mean of the first column, with the options schema of a built-in group.
  writeFileSync(
    join(dir, 'first-mean.mjs'),
    `import { moments } from '${metrics}'\nexport default { id: 'first-mean', modality: 'vectors', description: 'first column mean', outputs: ['first_mean'], options: moments.options,\n  compute: ({ generated }) => ({ first_mean: generated.data.filter((_, i) => i % generated.d === 0).reduce((a, b) => a + b, 0) / generated.n }) }\n`,
  )
  writeFileSync(join(dir, 'moments.mjs'), `import { moments } from '${metrics}'\nexport default moments\n`)
  writeFileSync(join(dir, 'trace.mjs'), `import { moments } from '${metrics}'\nexport default { ...moments, id: 'trace', outputs: ['total_variance'] }\n`)
  writeFileSync(join(dir, 'real.csv'), '0,0\n2,2\n4,4\n')
  writeFileSync(join(dir, 'gen.csv'), '1,2\n3,4\n5,6\n')
  const run = async (list: string) => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    try {
      const status = await evalCommand({ real: join(dir, 'real.csv'), generated: join(dir, 'gen.csv'), metrics: list, json: true })
      return { status, values: JSON.parse(String(out.mock.calls.at(-1)?.[0])) as Record<string, number | null> }
    } finally {
      out.mockRestore()
    }
  }

  it("takes a metric group's module by path beside the built-in groups' names", async () => {
    const { status, values } = await run(`${join(dir, 'first-mean.mjs')},moments`)
    expect(status).toBe(0)
    // The generated file's first column: 1, 3, 5.
    expect(values['first_mean']).toBe(3)
    expect(values['total_variance']).toBeTypeOf('number')
  })

  it("refuses a module whose group has a built-in group's id, and still suggests a name for a misspelt group", async () => {
    const taken = await run(join(dir, 'moments.mjs')).then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(taken?.message).toBe(`--metrics: ${join(dir, 'moments.mjs')}: its group is called 'moments', as is a built-in group`)
    // Values are printed by name: another group's output name would print one of the two.
    const clash = await run(`moments,${join(dir, 'trace.mjs')}`).then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(clash?.message).toBe("--metrics: group 'trace' has the output 'total_variance' of group 'moments'")
    const typo = await run('mdoes').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(typo?.message).toMatch(/^--metrics: unknown metric group 'mdoes' \(did you mean 'modes'\?\); expected one of .*, or a metric group's module \(a path or a package name\)$/)
  })

  it('says on a terminal which group it is scoring, and clears the line before the values', async () => {
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY')
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true })
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      await run(`${join(dir, 'first-mean.mjs')},moments`)
      const written = err.mock.calls.map((c) => String(c[0]))
      // Then the notes of null values (--json), on lines of their own.
      expect(written.slice(0, 4)).toEqual(['\r\x1b[Keval: scoring first-mean (group 1 of 2)...', '\r\x1b[K', '\r\x1b[Keval: scoring moments (group 2 of 2)...', '\r\x1b[K'])
      expect(written.slice(4).every((line) => line.startsWith('note: '))).toBe(true)
    } finally {
      err.mockRestore()
      if (tty === undefined) delete (process.stderr as { isTTY?: boolean }).isTTY
      else Object.defineProperty(process.stderr, 'isTTY', tty)
    }
  })

  it('refuses an empty --metrics (or commas alone) naming the option, not as groups that do not apply', async () => {
    for (const list of ['', ' , ,']) {
      const err = await run(list).then(() => undefined, (e: unknown) => e as OuroborosError)
      expect(err?.message).toMatch(/^--metrics: empty; expected metric groups separated by commas: .*\bmoments\b.*, or a metric group's module \(a path or a package name\)$/)
      expect(err?.hint).toBe('leave --metrics out for the cheap groups that apply')
    }
  })

  it('refuses a group named twice, which it would score once', async () => {
    const err = await run('moments, modes,moments').then(() => undefined, (e: unknown) => e as OuroborosError)
    expect(err?.message).toBe("--metrics: 'moments' is named twice")
  })
})

describe('eval of files of different widths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-eval-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'two.csv'), '0,0\n2,2\n4,4\n')
  writeFileSync(join(dir, 'one.csv'), '1\n3\n5\n')
  const refusal = (opts: Parameters<typeof evalCommand>[0]) => evalCommand(opts).then(() => undefined, (e: unknown) => (e as OuroborosError).message)

  it('says 1 column, not 1 columns, and 2 dimensions', async () => {
    const [one, two] = [join(dir, 'one.csv'), join(dir, 'two.csv')]
    expect(await refusal({ real: two, generated: one, metrics: 'moments' })).toBe(`--generated: ${one} has 1 column but ${two} has 2; both need the same dimension`)
    expect(await refusal({ real: one, generated: two, metrics: 'moments' })).toBe(`--generated: ${two} has 2 columns but ${one} has 1; both need the same dimension`)
    expect(await refusal({ real: two, generated: two, training: one, metrics: 'copy_rate' })).toBe(`--training: ${one} has 1 column but ${two} has 2; both need the same dimension`)
    // The ring lies in the plane.
    expect(await refusal({ real: one, generated: one, data: 'ring', metrics: 'moments' })).toBe(`--data: 'ring' data have 2 dimensions, but ${one} has 1 column`)
  })
})

describe('eval of a directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-eval-dir-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'gen.txt'), 'a b c\nd e f\n')
  mkdirSync(join(dir, 'samples'))
  const refusal = (opts: Parameters<typeof evalCommand>[0]) => evalCommand(opts).then(() => undefined, (e: unknown) => (e as OuroborosError).message)

  it('says it is a directory, whether or not its name has the other file\'s extension', async () => {
    const [samples, gen] = [join(dir, 'samples'), join(dir, 'gen.txt')]
    expect(await refusal({ real: samples, generated: gen, metrics: 'text' })).toBe(`${samples}: a directory, not a file`)
    expect(await refusal({ real: gen, generated: samples, metrics: 'text' })).toBe(`${samples}: a directory, not a file`)
  })
})

describe('eval --data as JSON', () => {
  it("checks the dataset's fields as a config's data are checked, n among them, naming --data and the field", async () => {
    const refusal = (data: string) => evalCommand({ real: 'r.txt', generated: 'g.txt', data, metrics: 'text' }).then(() => undefined, (e: unknown) => (e as OuroborosError).message)
    expect(await refusal('{"kind": "brown", "n": "x"}')).toBe('--data: n: expected a number, got "x"')
    expect(await refusal('{"kind": "brown", "n": 0, "minCount": "y"}')).toBe('--data: n: must be ≥ 1, got 0\n--data: minCount: expected a number, got "y"')
  })
})
