import { resolve } from 'node:path'
import { configError } from '@ouroboros/core'
import { parseThresholds, writeReport } from '@ouroboros/report'
import { ndjsonStandsIn, readRunInfo, RUN_FILES, RunLock, WHOLE_RUN } from '@ouroboros/store'
import { checkNotEmpty, checkOutFile, checkReportOut, notARunWrite, realPath } from './out-paths.js'
import { builtinOutputInfo } from './outputs.js'

export interface ReportCommandOptions {
  out?: string
  thresholds?: string
  force?: boolean
}

/**
 * `ouroboros report DIR... [--out FILE]`: (re)builds a report. Returns the line to print. The
 * output is checked before any run is read: a report written over a run's own file, or over a file
 * of the user's, destroys what no command gives back.
 */
export async function reportCommand(dirs: readonly string[], opts: ReportCommandOptions): Promise<string> {
  if (dirs.length > 1 && opts.out === undefined) throw configError('--out: required when comparing several runs')
  checkNotEmpty('--out', opts.out, `write DIR/${RUN_FILES.report}`)
  const runs = dirs.map((d) => resolve(d))
  const real = runs.map(realPath)
  const twice = real.findIndex((r, i) => real.indexOf(r) !== i)
  if (twice >= 0) throw configError(`${dirs[twice]}: the same run as ${dirs[real.indexOf(real[twice]!)]}, given twice`, 'name each run once')
  // Without --out the report goes into the run: a path that is no run (a config file) is said as such, not as a place to write.
  if (opts.out === undefined) readRunInfo(runs[0]!, WHOLE_RUN)
  const out = resolve(opts.out ?? resolve(runs[0]!, RUN_FILES.report))
  checkOutFile('--out', out, RUN_FILES.report, opts.out !== undefined)
  checkReportOut(out, runs, opts.force === true, opts.out !== undefined)
  // The page reads every key of run.json: one missing is said here, not as a TypeError from deep
  // inside it (without --out, the one run was read above).
  if (opts.out !== undefined) for (const run of runs) readRunInfo(run, WHOLE_RUN)
  for (const standIn of runs.map(ndjsonStandsIn)) if (standIn !== undefined) process.stderr.write(`${standIn}\n`)
  const thresholds = opts.thresholds === undefined ? {} : parseThresholds(opts.thresholds)
  const written = await writeReport(runs, out, { thresholds, fallbackInfo: await builtinOutputInfo() }).catch((err: unknown) => {
    throw notARunWrite(err)
  })
  // A run still going writes its own report as it ends, over this one.
  const going = runs.some((dir) => RunLock.held(dir) !== undefined)
  return `report: ${written}${going ? ' (a run is still going: the generations recorded so far)' : ''}`
}
