import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { packageDir } from './package-dir.js'

/** Source files tsc builds; tests are left out of a package's build (its tsconfig's exclude). */
const BUILT_SOURCE = /\.[cm]?tsx?$/
const TEST_SOURCE = /\.(test|spec)\.[cm]?tsx?$/

const checked = new Set<string>()

/**
 * A plug-in from a TypeScript package runs its build, so a package edited after its last build
 * (a model changed after `ouroboros new model`, a workspace pulled and not rebuilt) runs the old
 * code with no sign of it. The build's mark is `tsconfig.tsbuildinfo`, which `tsc -b` writes, or
 * touches when the sources changed in time only. Returns the warning for the package of `entryUrl`
 * when one of its sources is newer, once per package per process.
 */
export function staleBuildWarning(entryUrl: string): string | undefined {
  if (!entryUrl.startsWith('file:')) return undefined
  const entry = fileURLToPath(entryUrl)
  const pkgDir = packageDir(entry)
  if (pkgDir === undefined || checked.has(pkgDir)) return undefined
  checked.add(pkgDir)
  const src = join(pkgDir, 'src')
  const buildInfo = join(pkgDir, 'tsconfig.tsbuildinfo')
  if (entry.startsWith(src + sep) || !existsSync(src) || !existsSync(buildInfo)) return undefined
  const builtAt = statSync(buildInfo).mtimeMs
  const newer = newestSource(src)
  if (newer === undefined || newer.mtimeMs <= builtAt) return undefined
  return `${relative(process.cwd(), newer.path)} is newer than its package's build, which is what runs (${relative(process.cwd(), entry)}); rebuild with: npx tsc -b`
}

function newestSource(src: string): { path: string; mtimeMs: number } | undefined {
  let newest: { path: string; mtimeMs: number } | undefined
  for (const name of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
    if (!BUILT_SOURCE.test(name) || TEST_SOURCE.test(name)) continue
    const path = join(src, name)
    const mtimeMs = statSync(path).mtimeMs
    if (newest === undefined || mtimeMs > newest.mtimeMs) newest = { path, mtimeMs }
  }
  return newest
}
