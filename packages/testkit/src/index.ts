export { runModelConformance } from './conformance.js'
export type { BadParams, ConformanceOptions } from './conformance.js'
