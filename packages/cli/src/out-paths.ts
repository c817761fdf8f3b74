import { statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { inputError } from '@ouroboros/core'

/**
 * The paths that options name for writing (`run --out`, `report --out`, `export --out`, `new
 * --dir`), checked before anything is written: a file where a directory has to be (or a directory
 * where the file is to go) is the user's to fix, and is said as such with exit 2, where the write
 * itself would fail later with the system's ENOTDIR or EISDIR, after other files were written.
 */

/** `dir` exists as a directory or can be made: no file stands at it or above it. */
export function checkOutDir(option: string, dir: string): void {
  const file = fileAtOrAbove(dir)
  if (file === dir) throw inputError(`${option}: ${dir} is a file, not a directory`, `give ${option} a directory`)
  if (file !== undefined) throw inputError(`${option}: cannot make ${dir}: ${file} is a file, not a directory`, `give ${option} a directory`)
}

/** `file` can be written: it is not a directory, and its directory exists or can be made. */
export function checkOutFile(option: string, file: string, example: string): void {
  if (isDirectory(file)) throw inputError(`${option}: ${file} is a directory; give the file to write`, `for example ${option} ${join(file, example)}`)
  const blocking = fileAtOrAbove(dirname(file))
  if (blocking !== undefined) throw inputError(`${option}: cannot write ${file}: ${blocking} is a file, not a directory`, `give ${option} a path in a directory`)
}

/** The nearest existing path at or above `path`, when it is not a directory. */
function fileAtOrAbove(path: string): string | undefined {
  for (let p = path; ; p = dirname(p)) {
    const stat = statOf(p)
    if (stat !== undefined) return stat.isDirectory() ? undefined : p
    if (dirname(p) === p) return undefined
  }
}

function isDirectory(path: string): boolean {
  return statOf(path)?.isDirectory() === true
}

function statOf(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // ENOTDIR: a file stands somewhere above; the walk up finds it.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw err
  }
}
