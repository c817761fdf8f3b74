import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildHash } from './provenance.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A workspace of the given files under packages/. */
function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'ouroboros-build-hash-'))
  dirs.push(root)
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(root, 'packages', file, '..'), { recursive: true })
    writeFileSync(join(root, 'packages', file), text)
  }
  return root
}

describe('buildHash', () => {
  const built = { 'core/dist/index.js': 'export const a = 1\n', 'model-gmm/dist/fit/em.js': 'export const tol = 1e-3\n', 'core/src/index.ts': 'export const a = 1\n' }

  it('is the same for the same built JavaScript, and differs where one built file does', () => {
    const hash = buildHash(workspace(built))
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    expect(buildHash(workspace(built))).toBe(hash)
    // A stale build: dist built from an edit since reverted in src.
    expect(buildHash(workspace({ ...built, 'model-gmm/dist/fit/em.js': 'export const tol = 1e-4\n' }))).not.toBe(hash)
    // The same text under another path is other code.
    const { 'model-gmm/dist/fit/em.js': em, ...rest } = built
    expect(buildHash(workspace({ ...rest, 'model-gmm/dist/em.js': em }))).not.toBe(hash)
  })

  it('leaves out what does not run: sources not yet built, declarations, source maps', () => {
    const hash = buildHash(workspace(built))
    expect(buildHash(workspace({ ...built, 'core/src/index.ts': 'export const a = 2\n', 'core/dist/index.d.ts': 'x', 'core/dist/index.js.map': 'y' }))).toBe(hash)
  })

  it('is undefined where there is no workspace build (an install from npm)', () => {
    expect(buildHash(workspace({ 'core/src/index.ts': '' }))).toBeUndefined()
    expect(buildHash(join(tmpdir(), 'ouroboros-no-such-root'))).toBeUndefined()
  })
})
