import type { PolicyConfig } from '@ouroboros/core'
import { accumulate } from './accumulate.js'
import { accumulateSubsample } from './accumulate-subsample.js'
import { fresh } from './fresh.js'
import { mix } from './mix.js'
import type { Policy } from './policy.js'
import { replace } from './replace.js'

export { planRows, type Policy, type PolicyInputs, type TrainingPart, type TrainingPlan } from './policy.js'

export const policies: { readonly [K in PolicyConfig['kind']]: Policy<Extract<PolicyConfig, { kind: K }>> } = {
  replace,
  accumulate,
  'accumulate-subsample': accumulateSubsample,
  mix,
  fresh,
}

export function policyFor(config: PolicyConfig): Policy<PolicyConfig> {
  return policies[config.kind] as Policy<PolicyConfig>
}
