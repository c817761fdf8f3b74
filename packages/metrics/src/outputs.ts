import type { Threshold } from '@ouroboros/core'

// Collapse thresholds the groups share, so that like outputs collapse at like levels.

/** The values of a share. */
export const SHARE = [0, 1] as const

export const HALVES: Threshold = { direction: 'falls', kind: 'factor', value: 0.5 }
export const DOUBLES: Threshold = { direction: 'rises', kind: 'factor', value: 2 }
/** An entropy down by ln 2: the effective number of categories (e^H) halved, as HALVES for counts. */
export const ENTROPY_HALVES: Threshold = { direction: 'falls', kind: 'offset', value: Math.LN2 }
/**
 * A KL over categories up by 0.1 nats: about one mode of eight lost (ln 8/7 = 0.13). The real
 * data's own value is sampling noise ((K−1)/2n), so a factor of it would count noise as collapse.
 */
export const KL_RISES: Threshold = { direction: 'rises', kind: 'offset', value: 0.1 }
