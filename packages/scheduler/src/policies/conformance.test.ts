import { runPolicyConformance } from '@ouroboros/testkit'
import { builtinPolicies } from './index.js'

// Every built-in policy passes the suite a policy from outside runs.
const cases: Record<string, Parameters<typeof runPolicyConformance>[1]> = {
  replace: { params: {}, badParams: [] },
  accumulate: { params: {}, badParams: [] },
  'accumulate-subsample': { params: { size: 500 }, badParams: [{ params: { size: 0 }, field: 'size' }] },
  mix: { params: { realFraction: 0.2 }, badParams: [{ params: { realFraction: 1.5 }, field: 'realFraction' }] },
  fresh: { params: { nReal: 100, nSynthetic: 300 }, badParams: [{ params: { nReal: -1, nSynthetic: 1 }, field: 'nReal' }] },
}
for (const [kind, policy] of Object.entries(builtinPolicies)) {
  const options = cases[kind]
  if (options === undefined) throw new Error(`no conformance case for the built-in policy '${kind}'`)
  runPolicyConformance(policy, options)
}
