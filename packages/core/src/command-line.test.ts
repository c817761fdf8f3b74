import { afterEach, describe, expect, it } from 'vitest'
import { ouroborosCommand, shellWord } from './command-line.js'

describe('the command to run next', () => {
  const saved = process.env['OUROBOROS_INVOCATION']
  afterEach(() => {
    if (saved === undefined) delete process.env['OUROBOROS_INVOCATION']
    else process.env['OUROBOROS_INVOCATION'] = saved
  })

  it('is the words the command line was started with, each as the shell reads it back', () => {
    process.env['OUROBOROS_INVOCATION'] = JSON.stringify(['node', "/home/a b/it's/main.js"])
    expect(ouroborosCommand(`resume ${shellWord('/runs/my run')}`)).toBe(`node '/home/a b/it'\\''s/main.js' resume '/runs/my run'`)
    process.env['OUROBOROS_INVOCATION'] = JSON.stringify(['npx', '-y', 'pnpm@12.4.2', 'ouroboros'])
    expect(ouroborosCommand('report /runs/x')).toBe('npx -y pnpm@12.4.2 ouroboros report /runs/x')
  })

  it("is the program's name where the command line did not say (a test's own process, a value that is not its words)", () => {
    delete process.env['OUROBOROS_INVOCATION']
    expect(ouroborosCommand('resume DIR')).toBe('ouroboros resume DIR')
    process.env['OUROBOROS_INVOCATION'] = 'node main.js'
    expect(ouroborosCommand('resume DIR')).toBe('ouroboros resume DIR')
  })
})
