export { runModelConformance } from './conformance.js'
export type { BadParams, ConformanceOptions } from './conformance.js'
export { runCpuDeterminism } from './determinism.js'
export { ringDataset, ringSamples } from './data.js'
