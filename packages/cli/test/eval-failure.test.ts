import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { defineMetric } from '@ouroboros/core'
import { z } from 'zod'
import { evalCommand } from '../src/eval-command.js'
import { cleanup, tempDir } from './helpers.js'

afterAll(cleanup)

/** A group that fails the way a bug does: a plain Error, not a usage error. */
const broken = defineMetric({
  id: 'broken',
  modality: 'vectors',
  description: 'throws',
  outputs: ['broken_value'],
  options: z.strictObject({}),
  compute() {
    throw new Error('something broke')
  },
})

vi.mock('../src/registry.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/registry.js')>()
  return {
    ...actual,
    metricsModule: async () => {
      const m = await actual.metricsModule()
      return { ...m, builtinMetrics: { ...m.builtinMetrics, broken } }
    },
  }
})

describe('eval with a group that fails', () => {
  it('prints the other groups, that one as null with the error on stderr, and returns 1', async () => {
    const file = join(tempDir(), 'x.csv')
    writeFileSync(file, '0,0\n1,0\n0,2\n')
    const out: string[] = []
    const err: string[] = []
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((s) => out.push(String(s)) > 0)
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((s) => err.push(String(s)) > 0)
    try {
      const status = await evalCommand({ real: file, generated: file, metrics: 'broken,moments', json: true })
      expect(status).toBe(1)
    } finally {
      stdout.mockRestore()
      stderr.mockRestore()
    }
    const values = JSON.parse(out.join(''))
    expect(values.broken_value).toBeNull()
    // Points (0,0), (1,0), (0,2): variances 2/9 and 8/9 (ddof 0).
    expect(values.total_variance).toBeCloseTo(10 / 9, 14)
    expect(err.join('')).toContain("error: metric group 'broken' failed: something broke")
    expect(err.join('')).toContain('note: broken_value is null: the broken group failed')
  })
})
