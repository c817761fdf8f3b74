import { writeFileAtomic } from '@ouroboros/store'
import type { RecordSummary } from './aggregate.js'
import { loadRun } from './load.js'
import { renderReport, type ReportOptions } from './render.js'

export { RunAggregator, summarizeRecords, type RecordSummary, type RunAggregate, type CellCurve } from './aggregate.js'
export { AggregatorThread } from './aggregate-thread.js'
export { loadRun, type LoadedRun, type ChainSamples, type SampleFrame, type ChainTraining, type TrainingCurve } from './load.js'
export { prepareReport, renderReport, type ReportOptions } from './render.js'
export type { ChainPosttrain, GenerationStages, StageCurve } from './posttrain-curves.js'
export { VOCABULARY_FILE, type ChainGallery, type GalleryFrame } from './gallery.js'
export { parseThresholds } from './metric-info.js'
export { gaussianLogVariance, regressionExcessError, theoryCurves, type TheoryCurve } from './theory.js'

/**
 * Reads run directories and writes one self-contained HTML page comparing them; returns its path.
 * `summaries` may hold a directory's record summary when the caller made it already.
 */
export async function writeReport(
  runDirs: string[],
  outFile: string,
  options: ReportOptions = {},
  summaries: ReadonlyMap<string, RecordSummary> = new Map(),
): Promise<string> {
  const html = renderReport(runDirs.map((dir) => loadRun(dir, summaries.get(dir))), options)
  writeFileAtomic(outFile, html)
  return outFile
}
