import type { Policy, PolicyInputs, TrainingPart } from './policy.js'

export function everythingSoFar(inputs: PolicyInputs): TrainingPart[] {
  const parts: TrainingPart[] = [{ from: 'real' }]
  for (let j = 0; j < inputs.generation; j++) parts.push({ from: 'generation', generation: j })
  return parts
}

export const accumulate: Policy<{ kind: 'accumulate' }> = {
  kind: 'accumulate',
  description: 'the real data plus every generation so far (Gerstgrasser et al.)',
  needsAllGenerations: true,
  trainingSet: (_config, inputs) => ({ parts: everythingSoFar(inputs) }),
}
