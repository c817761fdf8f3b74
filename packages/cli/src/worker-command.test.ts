import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { ouroborosCommand } from '@ouroboros/core'
import type { ChainSpec } from '@ouroboros/scheduler'
import { workerCommandFor } from './worker-command.js'

const dir = mkdtempSync(join(tmpdir(), 'ouroboros-worker-command-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The fields of a chain that name its modules; the rest is not read. */
const chain = (modelModule: string, metricModule = import.meta.resolve('@ouroboros/metrics')): ChainSpec =>
  ({ config: { policy: { kind: 'replace' }, filter: null }, modelModule, datasetModule: import.meta.resolve('@ouroboros/datasets'), metrics: [{ id: 'm', module: metricModule, options: {} }], tasks: [] }) as unknown as ChainSpec

describe('the worker command a run needs', () => {
  it('allows model programs and the folder of each plug-in file the chains name, and nothing for packages', () => {
    const gmm = import.meta.resolve('@ouroboros/model-gmm')
    expect(workerCommandFor([chain(gmm)])).toBe(ouroborosCommand('worker'))
    const plugins = join(dir, 'my plug-ins')
    const chains = [chain(import.meta.resolve('@ouroboros/model-command')), chain(import.meta.resolve('@ouroboros/model-command/text')), chain(gmm, pathToFileURL(join(plugins, 'metric.mjs')).href), chain(pathToFileURL(join(dir, 'model.mjs')).href)]
    expect(workerCommandFor(chains)).toBe(ouroborosCommand(`worker --allow-commands --allow-modules ${dir} --allow-modules '${plugins}'`))
  })
})
