import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { staleBuildWarning } from './stale-build.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

/** A built package whose files have the given ages in seconds (larger is older). */
function builtPackage(ages: Record<string, number>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ouroboros-stale-build-'))
  dirs.push(dir)
  const now = Date.now() / 1000
  for (const [file, age] of Object.entries({ 'package.json': 100, ...ages })) {
    mkdirSync(join(dir, file, '..'), { recursive: true })
    writeFileSync(join(dir, file), '')
    utimesSync(join(dir, file), now - age, now - age)
  }
  return dir
}

const entry = (dir: string, file = 'dist/index.js'): string => pathToFileURL(join(dir, file)).href

describe('staleBuildWarning', () => {
  it('names the source edited after the last build, once per package', () => {
    const dir = builtPackage({ 'src/index.ts': 50, 'src/fit/em.ts': 5, 'dist/index.js': 30, 'tsconfig.tsbuildinfo': 30 })
    const warning = staleBuildWarning(entry(dir))
    expect(warning).toMatch(/src\/fit\/em\.ts is newer than its package's build/)
    expect(warning).toContain('npx tsc -b')
    expect(staleBuildWarning(entry(dir))).toBeUndefined()
  })

  it("takes the build's mark, not its files, as the time of the build (tsc touches only the mark when nothing changed)", () => {
    const dir = builtPackage({ 'src/index.ts': 20, 'dist/index.js': 50, 'tsconfig.tsbuildinfo': 10 })
    expect(staleBuildWarning(entry(dir))).toBeUndefined()
  })

  it('says nothing of tests edited after the build, which the build leaves out', () => {
    const dir = builtPackage({ 'src/index.ts': 50, 'src/index.test.ts': 5, 'src/conformance.spec.mts': 5, 'tsconfig.tsbuildinfo': 30, 'dist/index.js': 30 })
    expect(staleBuildWarning(entry(dir))).toBeUndefined()
  })

  it('says nothing of a package that runs its sources or was not built by tsc -b', () => {
    const fromSource = builtPackage({ 'src/index.js': 5, 'src/util.ts': 5, 'tsconfig.tsbuildinfo': 30 })
    expect(staleBuildWarning(entry(fromSource, 'src/index.js'))).toBeUndefined()
    const noMark = builtPackage({ 'src/index.ts': 5, 'dist/index.js': 30 })
    expect(staleBuildWarning(entry(noMark))).toBeUndefined()
  })
})
