import type { DatasetPlugin } from '@ouroboros/core'
import { gaussian } from './gaussian.js'
import { grid, ring } from './modes.js'
import { regression } from './regression.js'

export { gaussian, grid, ring, regression }

/** Built-in datasets by `data.kind`. */
export const builtinDatasets: Readonly<Record<string, DatasetPlugin<any>>> = { ring, grid, gaussian, regression }
