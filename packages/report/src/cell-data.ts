import type { CellInfo, RunInfo } from '@ouroboros/store'
import { stringField } from './fields.js'

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
