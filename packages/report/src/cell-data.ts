import type { CellInfo, RunInfo } from '@ouroboros/store'
import { numberField, stringField } from './fields.js'

/**
 * A setting's data facts: its own where run.json keeps them (data that differ from the first
 * setting's: a swept σ₀, noise level or mode count), else the run's, which hold for every setting
 * of the first setting's data kind. A run from before settings kept their own facts has none for a
 * setting of another kind.
 */
export function cellDataset(info: RunInfo, cell: CellInfo | undefined): Record<string, unknown> | undefined {
  if (cell?.dataset !== undefined) return cell.dataset
  const kind = stringField(cell?.config, 'data', 'kind')
  return kind === undefined || kind === info.dataset.kind ? info.dataset : undefined
}

/**
 * How a setting's real-data record (generation −1) was drawn. From data without a limit (ring,
 * grid, Gaussian), afresh. From a pool of training rows (a file, MNIST, Brown), it is a second draw
 * from the rows the real data are drawn from: 'training' where one of the two takes the whole pool
 * (data.n or samplesPerGeneration), so that one holds the other and a distance between them is 0,
 * which is no level a model could be measured against; else 'redraw', which shares about
 * n × samplesPerGeneration / pool rows with the real data. Runs that did not record their pool read
 * as fresh.
 */
export function referenceDraw(info: RunInfo, cell: CellInfo | undefined): 'fresh' | 'redraw' | 'training' {
  const pool = numberField(cellDataset(info, cell), 'pool')
  const n = numberField(cell?.config, 'data', 'n')
  const perGeneration = numberField(cell?.config, 'samplesPerGeneration')
  if (pool === undefined || n === undefined || perGeneration === undefined) return 'fresh'
  return n >= pool || perGeneration >= pool ? 'training' : 'redraw'
}

/** What the summary's note says of a real-data record drawn from the training rows (see referenceDraw). */
export const POOL_REFERENCE =
  'data of a limited pool of rows (a file, MNIST, Brown) have no fresh draw: their real-data record is drawn again from the training rows the real data come from, and where data.n or samplesPerGeneration takes every row, one of the two holds the other and their distances are 0'
