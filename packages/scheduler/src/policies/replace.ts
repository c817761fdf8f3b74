import type { Policy } from './policy.js'

export const replace: Policy<{ kind: 'replace' }> = {
  kind: 'replace',
  description: "only the last generation's samples",
  needsAllGenerations: false,
  trainingSet: (_config, inputs) => ({ parts: [{ from: 'generation', generation: inputs.generation - 1 }] }),
}
