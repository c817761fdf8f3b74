import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { dirname, join, resolve as resolvePath } from 'node:path'

/** The nearest folder at or above `dir` that holds a pnpm workspace. */
export function workspaceAbove(dir: string): string | undefined {
  for (let d = resolvePath(dir); ; d = dirname(d)) {
    if (existsSync(join(d, 'pnpm-workspace.yaml'))) return d
    if (dirname(d) === d) return undefined
  }
}

/** The `packages:` globs of the workspace at `root`. */
export function workspaceGlobs(root: string): string[] {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
  const block = /^packages:\s*\n((?:[ \t]+-.*\n?|[ \t]*#.*\n?|[ \t]*\n)*)/m.exec(yaml)?.[1] ?? ''
  return [...block.matchAll(/^[ \t]+-[ \t]*(['"]?)([^'"#\n]*?)\1[ \t]*(?:#.*)?$/gm)].map((m) => m[2]!.replace(/\/+$/, ''))
}

/** A pnpm glob as a pattern over a relative path: `**` any folders, `*` any name. */
export function globPattern(glob: string): RegExp {
  const body = glob
    .replace(/^\.\//, '')
    .split('/')
    .map((part) => (part === '**' ? '(?:.*)' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*').replaceAll('?', '[^/]')))
    .join('/')
  return new RegExp(`^${body.replaceAll('/(?:.*)', '(?:/.*)?')}$`)
}

/**
 * The package folders of the workspace at `root` that its globs name as a folder or as a folder's
 * every child (`packages/*`); deeper globs are not listed.
 */
export function workspaceFolders(root: string): string[] {
  return workspaceGlobs(root).flatMap((glob) => {
    const path = glob.replace(/^\.\//, '')
    if (path.startsWith('!') || path.replace(/\/\*$/, '').includes('*')) return []
    if (!path.endsWith('/*')) return [join(root, path)]
    const parent = join(root, path.slice(0, -2))
    return existsSync(parent) ? readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(parent, e.name)) : []
  })
}
