import { writeFileAtomic, type MetricRecord } from '@ouroboros/store'
import { loadRun } from './load.js'
import { renderReport, type ReportOptions } from './render.js'

export { loadRun, type LoadedRun, type ChainSamples, type SampleFrame, type ChainTraining, type TrainingCurve } from './load.js'
export { renderReport, type ReportOptions } from './render.js'
export { VOCABULARY_FILE, type ChainGallery, type GalleryFrame } from './gallery.js'
export { parseThresholds } from './metric-info.js'
export { gaussianLogVariance, regressionExcessError, theoryCurves, type TheoryCurve } from './theory.js'

/**
 * Reads run directories and writes one self-contained HTML page comparing them; returns its path.
 * `records` may hold a directory's records when the caller has them in memory.
 */
export async function writeReport(
  runDirs: string[],
  outFile: string,
  options: ReportOptions = {},
  records: ReadonlyMap<string, MetricRecord[]> = new Map(),
): Promise<string> {
  const html = renderReport(runDirs.map((dir) => loadRun(dir, records.get(dir))), options)
  writeFileAtomic(outFile, html)
  return outFile
}
