import type { PolicyPlugin } from '@ouroboros/core'
import { accumulate } from './accumulate.js'
import { accumulateSubsample } from './accumulate-subsample.js'
import { fresh } from './fresh.js'
import { mix } from './mix.js'
import { replace } from './replace.js'

export { checkPlan, declaredSizesProblem, planRows, type PolicyInputs, type TrainingPart, type TrainingPlan } from './policy.js'

/** The built-in policies by kind. */
export const builtinPolicies: Readonly<Record<string, PolicyPlugin<any>>> = {
  replace,
  accumulate,
  'accumulate-subsample': accumulateSubsample,
  mix,
  fresh,
}
