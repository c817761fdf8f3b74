export { resolveRun, replicateSeed, type ResolvedRun } from './resolve.js'
export { loadConfigFile } from './load-config.js'
export { defaultConfig } from './default-config.js'
