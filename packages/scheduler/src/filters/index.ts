import type { FilterPlugin, OutputInfoTable } from '@ouroboros/core'
import { likelihood } from './likelihood.js'
import { modes } from './modes.js'
import { reward } from './reward.js'

/** The built-in filters by kind. */
export const builtinFilters: Readonly<Record<string, FilterPlugin<any>>> = {
  modes,
  likelihood,
  reward,
}

/** What every generation of a filtered chain records, whatever the filter. */
export const FILTER_OUTPUT_INFO: OutputInfoTable = {
  filter_kept: { title: 'share of draws the filter kept', unit: 'fraction', bounds: [0, 1] },
}
