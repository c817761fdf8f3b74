import type { FilterConfig } from '@ouroboros/core'
import type { Filter } from './filter.js'
import { likelihoodFilter } from './likelihood.js'
import { modesFilter } from './modes.js'
import { rewardFilter } from './reward.js'

export type { Filter, FilterInputs, FilterResult } from './filter.js'

export const filters: { readonly [K in FilterConfig['kind']]: Filter<Extract<FilterConfig, { kind: K }>> } = {
  modes: modesFilter,
  likelihood: likelihoodFilter,
  reward: rewardFilter,
}

export function filterFor(config: FilterConfig): Filter<FilterConfig> {
  return filters[config.kind] as Filter<FilterConfig>
}
