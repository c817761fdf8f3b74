export * from './spec.js'
export { runChains, defaultWorkers, type RunChainsOptions, type RunChainsResult, type ProgressEvent } from './run.js'
export { advance, evaluate, resumePoint, type AdvanceTask, type EvaluateTask, type GenerationResult } from './chain.js'
export { policies, policyFor, type Policy, type PolicyInputs } from './policies/index.js'
