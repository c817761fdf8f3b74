import { concatSamples, type Samples } from '@ouroboros/core'
import type { Policy, PolicyInputs } from './policy.js'

export function everythingSoFar(inputs: PolicyInputs): Samples {
  const parts: Samples[] = [inputs.real()]
  for (let j = 0; j < inputs.generation; j++) parts.push(inputs.samples(j))
  return concatSamples(parts)
}

export const accumulate: Policy<{ kind: 'accumulate' }> = {
  kind: 'accumulate',
  description: 'the real data plus every generation so far (Gerstgrasser et al.)',
  needsAllGenerations: true,
  trainingSet: (_config, inputs) => everythingSoFar(inputs),
}
