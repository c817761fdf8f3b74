import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfigFile } from './load-config.js'

describe('a config file that is missing', () => {
  it('is named with the path it was looked for at, where it was given relative to a folder the user may not be in (pnpm runs scripts from the workspace root)', async () => {
    await expect(loadConfigFile('no-such-config.json')).rejects.toThrow(`no-such-config.json: no such file (looked for ${resolve('no-such-config.json')})`)
    await expect(loadConfigFile('/no/such/config.json')).rejects.toThrow(/^\/no\/such\/config\.json: no such file$/)
  })
})
