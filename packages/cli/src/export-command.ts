import { existsSync } from 'node:fs'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { configError } from '@ouroboros/core'
import { exportRecords, ndjsonStandsIn, readRunInfo, recordChains, RECORD_FILES, RunLock, WHOLE_RUN } from '@ouroboros/store'
import { checkExportOut, checkNotEmpty, notARunWrite } from './out-paths.js'
import { EXPORT_FORMATS } from './usage.js'

/**
 * `ouroboros export DIR --format csv|ndjson|parquet`: writes a record file from the run's record
 * log, streaming, for runs that left it out (`records.text: false`) or to rebuild it. Returns the
 * line to print.
 */
export async function exportCommand(dir: string, format: string, out?: string, force = false): Promise<string> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw configError(`--format: expected one of ${EXPORT_FORMATS.join(', ')}, got '${format}'`)
  }
  checkNotEmpty('--out', out, 'write in the run directory')
  const f = format as (typeof EXPORT_FORMATS)[number]
  const file = RECORD_FILES[f]
  // `--out runs/x/metrics.csv` would make a folder of that name with the file inside it.
  if (out !== undefined && !existsSync(out) && Object.values(RECORD_FILES).some((name) => out.endsWith(extname(name)))) {
    throw configError(`--out: ${resolve(out)} names a file, but --out is the directory the ${file} is written in`, `give its folder: --out ${dirname(resolve(out))}`)
  }
  const runDir = resolve(dir)
  // Whole, though the records need only the chains and cells: a run.json that lost a key is damaged, and said so by every command.
  const info = readRunInfo(runDir, WHOLE_RUN)
  const outDir = resolve(out ?? runDir)
  checkExportOut(outDir, runDir, file, out !== undefined, force)
  const going = RunLock.held(runDir)
  // The run writes its own record files in full as it ends: one exported now would stand, short, until then.
  if (going !== undefined && outDir === runDir) {
    throw configError(`${going.message}: its record files are written in full when it ends`, `wait for it, or export the records so far elsewhere: --out ${join(dirname(runDir), `${basename(runDir)}-so-far`)}`)
  }
  const standIn = ndjsonStandsIn(runDir)
  if (standIn !== undefined) process.stderr.write(`${standIn}\n`)
  const { records, bytes } = await exportRecords(runDir, recordChains(info), f, outDir).catch((err: unknown) => {
    throw notARunWrite(err)
  })
  return `${resolve(outDir, file)}: ${records} records, ${bytes[file]} bytes${going === undefined ? '' : ' (the run is still going: the records written so far)'}`
}
