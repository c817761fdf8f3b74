import { accessSync, constants, statSync, type Stats } from 'node:fs'
import { dirname, join } from 'node:path'
import { inputError } from '@ouroboros/core'

/**
 * The paths that options name for writing (`run --out`, `report --out`, `export --out`, `new
 * --dir`), checked before anything is written: a file where a directory has to be, a directory
 * where the file is to go, or a directory this user cannot write in is the user's to fix, and is
 * said as such with exit 2, where the write itself would fail later with the system's ENOTDIR,
 * EISDIR or EACCES, after other files were written.
 */

/** `dir` exists as a directory or can be made: no file stands at it or above it, and the nearest directory takes writes. */
export function checkOutDir(option: string, dir: string): void {
  const found = nearestExisting(dir)
  if (found === undefined) return
  if (!found.stat.isDirectory()) {
    throw inputError(found.path === dir ? `${option}: ${dir} is a file, not a directory` : `${option}: cannot make ${dir}: ${found.path} is a file, not a directory`, `give ${option} a directory`)
  }
  const refused = unwritable(found.path)
  if (refused !== undefined) throw inputError(`${option}: cannot write in ${refused}`, `give ${option} a directory this user can write`)
}

/** `file` can be written: it is not a directory, and its directory exists or can be made. */
export function checkOutFile(option: string, file: string, example: string): void {
  if (isDirectory(file)) throw inputError(`${option}: ${file} is a directory; give the file to write`, `for example ${option} ${join(file, example)}`)
  const found = nearestExisting(dirname(file))
  if (found === undefined) return
  if (!found.stat.isDirectory()) throw inputError(`${option}: cannot write ${file}: ${found.path} is a file, not a directory`, `give ${option} a path in a directory`)
  const refused = unwritable(found.path)
  if (refused !== undefined) throw inputError(`${option}: cannot write ${file}: cannot write in ${refused}`, `give ${option} a path in a directory this user can write`)
}

/** The nearest existing path at or above `path`. */
function nearestExisting(path: string): { path: string; stat: Stats } | undefined {
  for (let p = path; ; p = dirname(p)) {
    const stat = statOf(p)
    if (stat !== undefined) return { path: p, stat }
    if (dirname(p) === p) return undefined
  }
}

/** `dir` and why, when this user cannot write in it (permissions, a read-only filesystem). */
function unwritable(dir: string): string | undefined {
  try {
    accessSync(dir, constants.W_OK)
    return undefined
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return `${dir} (${code === 'EROFS' ? 'a read-only filesystem' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code})`
  }
}

function isDirectory(path: string): boolean {
  return statOf(path)?.isDirectory() === true
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // ENOTDIR: a file stands somewhere above; the walk up finds it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw err
  }
}
