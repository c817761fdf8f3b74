import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync, rmdirSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve as resolvePath, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configError, ErrorCode, OuroborosError } from '@ouroboros/core'
import { VOCABULARY_FILE } from '@ouroboros/report'
import type { ChainSpec } from '@ouroboros/scheduler'
import { fileFailure, isCellVocabularyFile, makeDirectory, RUN_FILES, RUN_LOCK, RunLock } from '@ouroboros/store'

/**
 * The entries a run writes at the top of its directory, and all that `run --force` deletes of an
 * earlier run: a directory a user runs in may hold their own files too (the config, its data, a
 * notebook reading the records), which are theirs to keep.
 */
export const RUN_ENTRIES: readonly string[] = [...Object.values(RUN_FILES), RUN_LOCK, VOCABULARY_FILE]

/** What a start leaves before run.json is written, where it was killed with no chance to take it back (kill -9). */
const START_ENTRIES: readonly string[] = [RUN_LOCK, VOCABULARY_FILE]

/** A run's entry as its own name, or the name of the file whose temporary copy it is (`metrics.csv.tmp-HOST-PID-N`). */
function entryOf(name: string): string {
  const at = name.indexOf('.tmp-')
  return at > 0 ? name.slice(0, at) : name
}

export function isRunEntry(name: string): boolean {
  const entry = entryOf(name)
  return RUN_ENTRIES.includes(entry) || isCellVocabularyFile(entry)
}

/** A file or folder a run reads, and what names it (for the message that refuses to delete it). */
export interface PathRead {
  what: string
  path: string
}

/**
 * What the run reads from disk: the config file, and every path and local module its chains name
 * (data.path, model.cwd, model.module, a metric's or a policy's module, a finetuning task's data),
 * found as the absolute paths and file URLs among their resolved fields.
 */
export function pathsRead(configFile: string | undefined, chains: readonly ChainSpec[]): PathRead[] {
  const found = new Map<string, string>()
  if (configFile !== undefined) found.set(resolvePath(configFile), 'the config file')
  const add = (what: string, value: unknown): void => {
    if (typeof value === 'string') {
      const path = value.startsWith('file:') ? fileURLToPath(value) : isAbsolute(value) ? value : undefined
      if (path !== undefined && !found.has(path)) found.set(path, what)
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, v] of Object.entries(value)) add(what === '' ? key : `${what}.${key}`, v)
    }
  }
  // The chains of a cell share their config: one of each is enough, where a run may have thousands.
  const cells = new Set<number>()
  for (const chain of chains) {
    if (cells.has(chain.cell)) continue
    cells.add(chain.cell)
    add('', chain.config)
    add('model.module', chain.modelModule)
    add('data.module', chain.datasetModule)
    for (const metric of chain.metrics) add(`metrics (${metric.id}) module`, metric.module)
    for (const task of chain.tasks) add(`posttrain.${task.stage}.data.module`, task.datasetModule)
  }
  return [...found].map(([path, what]) => ({ what, path }))
}

/**
 * Makes `runDir` ready for a run: made where it is missing, used as it is where it is empty, and
 * with `force` an earlier run's directory, whose run entries are deleted and the rest kept. Returns
 * whether this made the directory.
 */
export function prepareRunDir(runDir: string, force: boolean, reads: readonly PathRead[]): boolean {
  const made = !existsSync(runDir)
  const names = made ? [] : readdirSync(runDir)
  if (names.length > 0) {
    if (!force) throw configError(`--out: ${runDir} already exists and is not empty`, 'choose another --out, or pass --force to replace it')
    replaceEarlierRun(runDir, names, reads)
  }
  try {
    makeDirectory(runDir)
  } catch (err) {
    throw new OuroborosError(ErrorCode.RUN_DIR, `--out: cannot make ${runDir}: ${fileFailure(err).reason}`, { cause: err, hint: 'give --out a directory this user can write' })
  }
  return made
}

function replaceEarlierRun(runDir: string, names: readonly string[], reads: readonly PathRead[]): void {
  RunLock.check(runDir)
  const run = names.filter(isRunEntry)
  const kept = names.filter((n) => !isRunEntry(n))
  // Without run.json, a run's lock whose process is gone (RunLock.check passed) is a start killed
  // before it wrote one; anything else is not a run to replace.
  const abandonedStart = run.includes(RUN_LOCK) && run.every((n) => START_ENTRIES.includes(entryOf(n)) || isCellVocabularyFile(entryOf(n)))
  if (!run.includes(RUN_FILES.run) && !abandonedStart) {
    throw new OuroborosError(ErrorCode.RUN_DIR, `--out: ${runDir} is not a run directory (no ${RUN_FILES.run}); refusing to write a run into it even with --force`, {
      hint: 'choose another --out, or an empty or new directory',
    })
  }
  for (const entry of run) {
    const read = reads.find((r) => inside(r.path, join(runDir, entry)))
    if (read !== undefined) {
      const copy = read.what === 'the config file' ? 'run the copy' : 'point the config at the copy'
      throw configError(`--force: ${read.what} ${read.path} is in ${join(runDir, entry)}, which --force deletes with the earlier run`, `copy it out of ${runDir} and ${copy}, or give another --out`)
    }
  }
  // Said first: deleting a run of thousands of chains takes seconds, with nothing else on screen.
  const shown = kept.length <= 5 ? kept.join(', ') : `${kept.slice(0, 5).join(', ')} and ${kept.length - 5} more`
  process.stderr.write(`--force: deleting the earlier run in ${runDir}${kept.length === 0 ? '' : `; keeping ${shown}, which no run writes`}\n`)
  for (const entry of run) rmSync(join(runDir, entry), { recursive: true, force: true })
}

/** Whether `path` is `target` or lies under it, as written or through links (a data path given through a symlink of the run directory). */
function inside(path: string, target: string): boolean {
  return [path, real(path)].some((p) => [target, real(target)].some((t) => {
    const r = relative(t, p)
    return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r))
  }))
}

function real(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}

/**
 * Makes `parent/stem`, or where another run took that name (runs of one config started in the
 * same second, an array job's tasks), `stem-2`, `stem-3`, ...: each mkdir is not recursive, so that
 * of two processes only one gets a name, and the other goes on to the next.
 */
export function claimDefaultDir(parent: string, stem: string): string {
  try {
    makeDirectory(parent)
  } catch (err) {
    throw new OuroborosError(ErrorCode.RUN_DIR, `cannot make ${parent}: ${fileFailure(err).reason}`, { cause: err, hint: 'give --out a directory this user can write' })
  }
  for (let i = 1; ; i++) {
    const dir = join(parent, i === 1 ? stem : `${stem}-${i}`)
    try {
      mkdirSync(dir)
      return dir
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && i < 10_000) continue
      throw new OuroborosError(ErrorCode.RUN_DIR, `cannot make ${dir}: ${fileFailure(err).reason}`, { cause: err, hint: 'give --out a directory this user can write' })
    }
  }
}

/**
 * Takes back what a start wrote before run.json (its lock, the vocabulary), and the directory
 * where the start made it: a directory holding only run.lock is neither a run to resume nor one
 * that `run --out` may use. What others put there meanwhile stays, and with it the directory.
 * `madeParent`: the start also made the directory's parent (the default `runs`).
 */
export function removeStartedRun(runDir: string, made: boolean, madeParent = false): void {
  try {
    for (const name of readdirSync(runDir)) if (isRunEntry(name)) rmSync(join(runDir, name), { recursive: true, force: true })
    if (made) rmdirSync(runDir)
    // The default `runs` folder, where this start made it, unless another run is in it by now.
    if (made && madeParent) rmdirSync(dirname(runDir))
  } catch {
    // Not empty, or gone: nothing more to take back.
  }
}

/**
 * A config's name as a folder name: letters and digits of any script stay (a name of Cyrillic or
 * Chinese letters was all '_'), in their composed form (macOS writes decomposed accents);
 * characters a path or a shell would misread become '_', and so does a leading dot (a hidden
 * folder, '.' or '..').
 */
export function folderName(name: string): string {
  return name.normalize('NFC').replace(/[^\p{L}\p{N}\p{M}._-]+/gu, '_').replace(/^\./, '_')
}
