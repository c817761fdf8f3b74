import type { RawConfig } from '@ouroboros/core'

/**
 * The built-in experiment of `ouroboros run` with no config: the 1-D Gaussian chain of
 * Shumailov et al. with few samples per generation, where `replace` visibly collapses the
 * variance towards zero (with its closed-form theory curve) and `accumulate` does not.
 * It runs in well under a minute on 2 cores.
 */
export const defaultConfig: RawConfig = {
  name: 'gaussian-collapse',
  data: { kind: 'gaussian', d: 1, n: 20 },
  model: { kind: 'gaussian', estimator: 'mle' },
  policy: { kind: 'replace' },
  generations: 200,
  samplesPerGeneration: 20,
  replicates: 50,
  seed: 0,
  metrics: ['moments', 'likelihood'],
  sweep: { 'policy.kind': ['replace', 'accumulate'] },
}
