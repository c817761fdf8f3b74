export * from './atomic.js'
export * from './npy.js'
export * from './run-dir.js'
export * from './sample-files.js'
