import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** The folder of the nearest package.json at or above `file`'s folder; undefined outside any package. */
export function packageDir(file: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) return undefined
  }
}
