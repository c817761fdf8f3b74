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
  const file = fileAtOrAbove(dir)
  if (file === dir) throw inputError(`${option}: ${dir} is a file, not a directory`, `give ${option} a directory`)
  if (file !== undefined) throw inputError(`${option}: cannot make ${dir}: ${file} is a file, not a directory`, `give ${option} a directory`)
  const refused = unwritable(dir)
  if (refused !== undefined) throw inputError(`${option}: cannot write in ${refused}`, `give ${option} a directory this user can write`)
}

/** `file` can be written: it is not a directory, and its directory exists or can be made. */
export function checkOutFile(option: string, file: string, example: string): void {
  if (isDirectory(file)) throw inputError(`${option}: ${file} is a directory; give the file to write`, `for example ${option} ${join(file, example)}`)
  const blocking = fileAtOrAbove(dirname(file))
  if (blocking !== undefined) throw inputError(`${option}: cannot write ${file}: ${blocking} is a file, not a directory`, `give ${option} a path in a directory`)
  const refused = unwritable(dirname(file))
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

/** The nearest existing path at or above `path`, when it is not a directory. */
function fileAtOrAbove(path: string): string | undefined {
  const found = nearestExisting(path)
  return found === undefined || found.stat.isDirectory() ? undefined : found.path
}

/** The nearest existing directory at or above `dir` and why, when this user cannot write in it (permissions, a read-only filesystem). */
function unwritable(dir: string): string | undefined {
  const found = nearestExisting(dir)
  if (found === undefined) return undefined
  try {
    accessSync(found.path, constants.W_OK)
    return undefined
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return `${found.path} (${code === 'EROFS' ? 'a read-only filesystem' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code})`
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
