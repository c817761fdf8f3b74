import { describe, expect, it } from 'vitest'
import { resolveRun } from './resolve.js'
import { validateOutput } from './validate-command.js'

describe('validate on a terminal', () => {
  it('writes swept specs and stage options in words, each cell with its values', async () => {
    const raw = {
      name: 'words',
      data: { kind: 'ring' },
      model: { kind: 'gmm', components: 8 },
      generations: 2,
      posttrain: [{ kind: 'rl', reward: { kind: 'proxy', of: { kind: 'modes', values: [1, 0, 0, 0, 0, 0, 0, 0] }, labels: 50 }, beta: 0.5, steps: 3 }],
      sweep: { policy: [{ kind: 'replace' }, { kind: 'mix', realFraction: 0.2 }] },
    }
    const lines = validateOutput(await resolveRun(raw, 'words.json'), 'words.json', false).split('\n')
    expect(lines).toContain('  cells        2: policy (replace, mix(realFraction=0.2))')
    expect(lines).toContain('               c1  policy=mix(realFraction=0.2)')
    const stage = lines.find((l) => l.startsWith('  posttrain'))
    // A long value is cut at 60 characters.
    expect(stage).toContain('0  rl: reward proxy(of=modes(values=[1, 0, 0, 0, 0, 0, 0, 0]), labels=5..., beta 0.5, steps 3')
  })
})
