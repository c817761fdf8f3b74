import type { DatasetPlugin } from '@ouroboros/core'
import { brown } from './brown.js'
import { textFile, vectorFile } from './files.js'
import { gaussian } from './gaussian.js'
import { grid, ring } from './modes.js'
import { mnist } from './mnist.js'
import { regression } from './regression.js'
import { zipf } from './zipf.js'

export { brown, gaussian, grid, mnist, ring, regression, textFile, vectorFile, zipf }
export { expectedTypes, expectedTypesChain, zipfProbabilities } from './zipf.js'

/** Built-in datasets by `data.kind`. */
export const builtinDatasets: Readonly<Record<string, DatasetPlugin<any>>> = { ring, grid, gaussian, regression, brown, zipf, mnist, 'text-file': textFile, 'vector-file': vectorFile }
