import { closeSync, mkdtempSync, openSync, readSync, realpathSync, rmdirSync, statSync, type Stats } from 'node:fs'
import { basename, dirname, join, relative, sep } from 'node:path'
import { ErrorCode, inputError, OuroborosError, ouroborosCommand, shellWord } from '@ouroboros/core'
import { fileFailure, RUN_AGAIN, RUN_FILES } from '@ouroboros/store'
import { RUN_ENTRIES } from './run-dir.js'

/**
 * The paths that options name for writing (`run --out`, `report --out`, `export --out`, `new
 * --dir`), and the run directory that `report` and `export` write in by default, checked before
 * anything is written: a file where a directory has to be, a directory where the file is to go, or
 * a directory this user cannot write in is the user's to fix, and is said as such with exit 2,
 * where the write itself would fail later with the system's ENOTDIR, EISDIR or EACCES, after other
 * files were written. `given`: the option was given; else the path is the command's default, and
 * the message names the path without the option.
 */

/** `dir` exists as a directory or can be made: no file stands at it or above it, and the nearest directory takes writes. */
export function checkOutDir(option: string, dir: string, given = true): void {
  const said = given ? `${option}: ` : ''
  const found = nearestExisting(dir)
  if (found === undefined) return
  if (!found.stat.isDirectory()) {
    throw inputError(found.path === dir ? `${said}${dir} is a file, not a directory` : `${said}cannot make ${dir}: ${found.path} is a file, not a directory`, `give ${option} a directory`)
  }
  const refused = unwritable(found.path)
  if (refused === undefined) return
  const where = found.path === dir ? '' : `cannot make ${dir}: `
  throw inputError(`${said}${where}cannot write in ${refused.why}`, elsewhere(option, refused, given, 'a directory'))
}

/** `file` can be written: it is not a directory, and its directory exists or can be made. */
export function checkOutFile(option: string, file: string, example: string, given = true): void {
  const said = given ? `${option}: ` : ''
  if (isDirectory(file)) {
    if (!given) throw inputError(`cannot write ${file}: a directory is in the way`, `move it away, or write the file elsewhere with ${option} FILE`)
    throw inputError(`${option}: ${file} is a directory; give the file to write`, `for example ${option} ${join(file, example)}`)
  }
  const found = nearestExisting(dirname(file))
  if (found === undefined) return
  if (!found.stat.isDirectory()) throw inputError(`${said}cannot write ${file}: ${found.path} is a file, not a directory`, `give ${option} a path in a directory`)
  const refused = unwritable(found.path)
  if (refused !== undefined) throw inputError(`${said}cannot write ${file}: cannot write in ${refused.why}`, elsewhere(option, refused, given, 'a path in a directory'))
}

/** An option given as "": resolved, it would be the current directory, which nobody means. */
export function checkNotEmpty(option: string, value: string | undefined, leftOut: string): void {
  if (value !== undefined && value.trim() === '') throw inputError(`${option}: empty`, `give ${option} a path, or leave ${option} out to ${leftOut}`)
}

/**
 * `report --out FILE`: not a file of a run directory other than the report of the one run it
 * reports (a comparison of runs would replace a run's own report with itself), and, unless `force`, not an existing file that is not an Ouroboros report (a text file of the
 * user's, a record file of an export). Replacing a report loses nothing: it is rebuilt from its run.
 */
export function checkReportOut(file: string, runs: readonly string[], force: boolean, given = true): void {
  const real = realPath(file)
  // A run's own entries: a report written over one destroys it (run.json is the only copy of the
  // run's resolved config, records.log of its records).
  const holder = runEntryAt(real)
  if (holder !== undefined) {
    const reported = runs.some((run) => realPath(run) === holder.run)
    if (holder.inside !== RUN_FILES.report) {
      const replaced = statOf(real) === undefined ? '' : '; the report would replace it'
      throw inputError(`--out: ${file} is ${holder.what} in ${holder.run}${replaced}`, `give --out a file of its own, such as ${join(holder.run, 'compare.html')}`)
    }
    if (!reported) {
      throw inputError(`--out: ${file} is the report of the run in ${holder.run}, which this command does not report`, `give --out a file of its own (\`${ouroborosCommand(`report ${shellWord(holder.run)}`)}\` rebuilds that run's report)`)
    }
    if (runs.length > 1) {
      throw inputError(`--out: ${file} is the report of the run in ${holder.run}; the comparison of ${runs.length} runs would replace it`, `give --out a file of its own, such as ${join(holder.run, 'compare.html')}`)
    }
  }
  if (force || statOf(real)?.isFile() !== true || isReport(real)) return
  // Without --out the file is the run's own report's place, which a file of the user's has taken.
  if (!given) throw inputError(`${file} exists and is not a report Ouroboros wrote; the run's report would replace it`, 'move it away, give --out another file, or add --force to replace it')
  throw inputError(`--out: ${file} exists and is not a report Ouroboros wrote; the report would replace it`, 'give --out another file, or add --force to replace it')
}

/**
 * A run's own report's place, before a resume computes anything: it writes the report there at its
 * end, and a page of the user's that has taken the place would be lost.
 */
export function checkRunReportPlace(runDir: string): void {
  const file = join(runDir, RUN_FILES.report)
  if (statOf(file)?.isFile() !== true || isReport(file)) return
  throw inputError(`${file} exists and is not a report Ouroboros wrote; the run's report, which resume writes as it ends, would replace it`, 'move it away, then resume the run')
}

/**
 * `export` into `outDir`: not another run's directory, whose record file of the same name the
 * export would replace with this run's, no directory where the file is to go, and, unless
 * `force`, no file of that name elsewhere than the run's directory: a table of the user's, or an
 * export edited since, cannot be told from one the export may replace.
 */
export function checkExportOut(outDir: string, runDir: string, file: string, given: boolean, force: boolean): void {
  checkOutDir('--out', outDir, given)
  if (given && realPath(outDir) !== realPath(runDir) && statOf(join(outDir, RUN_FILES.run))?.isFile() === true) {
    throw inputError(`--out: ${outDir} is the directory of another run; the export would replace its ${file}`, `give --out a directory of its own, or leave --out out to write in ${runDir}`)
  }
  // As for report --out: a file in a run's own folder (chains) is deleted by the run's next
  // `run --force`, and may be taken for one of the run's own.
  const holder = runEntryAt(realPath(outDir))
  if (holder !== undefined) {
    throw inputError(`--out: ${outDir} is ${holder.what} in ${holder.run}`, `give --out a directory of its own, or leave --out out to write in ${runDir}`)
  }
  const target = join(outDir, file)
  if (isDirectory(target)) {
    throw inputError(`${given ? '--out: ' : ''}cannot write ${target}: a directory is in the way`, given ? 'move it away, or give --out another directory' : 'move it away, or write the file elsewhere with --out DIR')
  }
  if (force || !given || realPath(outDir) === realPath(runDir) || statOf(target)?.isFile() !== true) return
  throw inputError(`--out: ${target} exists; the export would replace it`, 'give --out another directory, or add --force to replace it')
}

/**
 * A write of `export` or `report` that failed after these checks passed (a disk that filled up):
 * the store's hint ends with how to finish a run, which does not apply to a record file or a
 * report, which the same command writes again.
 */
export function notARunWrite(err: unknown): unknown {
  if (!(err instanceof OuroborosError) || err.code !== ErrorCode.IO || err.hint?.endsWith(RUN_AGAIN) !== true) return err
  return new OuroborosError(ErrorCode.IO, err.message, { cause: err.cause, hint: `${err.hint.slice(0, -RUN_AGAIN.length)}then run the command again` })
}

/**
 * A failure of a run once its run.json is written: the way on is to resume its directory, since
 * `run` with the same --out is refused (the directory is not empty). The hint names the command in
 * full (`resumeLine`, with the run's directory) where the store's and scheduler's say `<dir>`.
 */
export function resumableFailure(err: unknown, resumeLine: string): unknown {
  if (!(err instanceof OuroborosError) || err.hint === undefined) return err
  const hint = err.hint.endsWith(RUN_AGAIN)
    ? `${err.hint.slice(0, -RUN_AGAIN.length)}then finish the run with \`${resumeLine}\``
    : err.hint.replaceAll('`ouroboros resume <dir>`', `\`${resumeLine}\``)
  if (hint === err.hint) return err
  return new OuroborosError(err.code, err.message, { cause: err.cause, hint })
}

/** The hint for a directory this user cannot write in: what to fix depends on why (permissions, or a filesystem mounted read-only). */
function elsewhere(option: string, refused: { dir: string; readOnly: boolean }, given: boolean, what: string): string {
  if (given) return `give ${option} ${what} this user can write`
  const fix = refused.readOnly ? `${refused.dir} is on a filesystem mounted read-only` : `fix the permissions of ${refused.dir} (this user must be able to write in it)`
  return `${fix}, or write elsewhere with ${option}`
}

/**
 * Whether `path` holds a report this project wrote: an HTML page whose head carries the
 * `ouroboros-plots` meta tag that packages/report/src/render.ts writes, within its first 4 KB
 * (after the charset and the content security policy).
 */
function isReport(path: string): boolean {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return false
  }
  try {
    const head = Buffer.alloc(4096)
    const text = head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('utf8')
    return text.startsWith('<!doctype html>') && text.includes('<meta name="ouroboros-plots" content="')
  } finally {
    closeSync(fd)
  }
}

/**
 * Where `path` (links followed) is one of a run's own entries (RUN_ENTRIES: run.json, records.log,
 * the chains folder, …) or lies inside one: the run directory, `path` relative to it, and what it
 * is in words. The run owns these: it writes them, and `run --force` deletes them.
 */
function runEntryAt(path: string): { run: string; inside: string; what: string } | undefined {
  const holder = runHolding(path)
  if (holder === undefined) return undefined
  const entry = holder.inside.split(sep)[0]!
  if (!RUN_ENTRIES.includes(entry)) return undefined
  const what = holder.inside !== entry ? `inside the run's own ${entry} folder` : entry === RUN_FILES.chains ? `the run's own ${entry} folder` : `the run's own ${entry}`
  return { ...holder, what }
}

/** The run directory (holding run.json) that `path` lies in, and `path` relative to it. */
function runHolding(path: string): { run: string; inside: string } | undefined {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (statOf(join(dir, RUN_FILES.run))?.isFile() === true) return { run: dir, inside: relative(dir, path) }
    if (dirname(dir) === dir) return undefined
  }
}

/** `path` with its links followed, as far as it exists: a link to run.json is run.json. */
export function realPath(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    const parent = dirname(path)
    return parent === path ? path : join(realPath(parent), basename(path))
  }
}

/** The nearest existing path at or above `path`. */
function nearestExisting(path: string): { path: string; stat: Stats } | undefined {
  for (let p = path; ; p = dirname(p)) {
    const stat = statOf(p)
    if (stat !== undefined) return { path: p, stat }
    if (dirname(p) === p) return undefined
  }
}

/**
 * `dir` and why, when this user cannot make anything in it (permissions, a read-only filesystem,
 * a virtual one). Found by making a folder there and removing it: access(W_OK) passes for root in
 * /sys and /proc, where every write then fails, and the export or report failed only after it had
 * read the run.
 */
function unwritable(dir: string): { dir: string; why: string; readOnly: boolean } | undefined {
  let probe: string
  try {
    probe = mkdtempSync(join(dir, '.ouroboros-probe-'))
  } catch (err) {
    // procfs answers ENOENT for a new entry in a directory that exists: "no such file" would mislead.
    const { reason, remedy } = (err as NodeJS.ErrnoException).code === 'ENOENT' ? { reason: 'it takes no new files', remedy: 'other' } : fileFailure(err)
    return { dir, why: `${dir} (${reason})`, readOnly: remedy === 'read-only' }
  }
  try {
    rmdirSync(probe)
  } catch {
    // Made but not removable: the directory takes writes, which is all that is asked here.
  }
  return undefined
}

function isDirectory(path: string): boolean {
  return statOf(path)?.isDirectory() === true
}

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    // ENOTDIR: a file stands somewhere above; the walk up finds it. EACCES: a directory above
    // cannot be searched; the check of the nearest writable directory says so.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return undefined
    throw err
  }
}
