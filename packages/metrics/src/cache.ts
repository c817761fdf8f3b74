import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { deserialize, serialize } from 'node:v8'
import { writeFileAtomic } from '@ouroboros/store'

/**
 * The on-disk cache of trained reference classifiers (MNIST digits, Brown genres): it saves their
 * training, never changes a number, since an entry is named by a hash of everything that made it.
 */

/** OUROBOROS_CACHE_DIR, else $XDG_CACHE_HOME/ouroboros, else ~/.cache/ouroboros. */
export function cacheDir(): string {
  const explicit = process.env['OUROBOROS_CACHE_DIR']
  if (explicit !== undefined && explicit !== '') return explicit
  const xdg = process.env['XDG_CACHE_HOME']
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'ouroboros')
}

/** The entry in `file` written with `version`; undefined when absent, unreadable or of another version. */
export function readCache<T extends { readonly version: number }>(file: string, version: number): T | undefined {
  try {
    const c = deserialize(readFileSync(file)) as T
    return c.version === version ? c : undefined
  } catch {
    // Absent or unreadable (entries are renamed into place, never half-written): train anew.
    return undefined
  }
}

/**
 * Writes an entry, making the cache folder if needed. Undefined when written; else why not (a home
 * folder that cannot be written, as a batch job's may be): the caller goes on with what it trained,
 * and each process that needs it trains it again.
 */
export function writeCache(file: string, entry: unknown): string | undefined {
  try {
    writeFileAtomic(file, serialize(entry))
    return undefined
  } catch (err) {
    return `${(err as Error).message}; set OUROBOROS_CACHE_DIR to a folder this user can write`
  }
}
