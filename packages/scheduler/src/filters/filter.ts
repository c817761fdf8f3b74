import type { DatasetInfo, FilterConfig, Rng, Samples } from '@ouroboros/core'

/** What a filter may draw on to curate one generation's samples. */
export interface FilterInputs {
  /** Samples the generation must emit. */
  readonly n: number
  /** The model's first draw of n samples: what the metrics score. */
  readonly first: Samples
  /** n more samples from the same model, from random stream `batch` (1, 2, …). */
  draw(n: number, batch: number): Promise<Samples>
  /** Per-item log-likelihood under the generating model, when it has one. */
  readonly logLikelihood?: (s: Samples) => Promise<Float64Array>
  readonly dataset: DatasetInfo
  /** The filter's own random stream (for choices it makes at random). */
  readonly rng: Rng
}

export interface FilterResult {
  /** Exactly n samples that passed, in the order they were drawn. */
  readonly kept: Samples
  /** Samples drawn to find them, up to the last one kept. */
  readonly draws: number
  /** Further values for the generation's record (a reward filter's mean rewards). */
  readonly values?: Record<string, number>
}

export interface Filter<C extends FilterConfig = FilterConfig> {
  readonly kind: C['kind']
  readonly description: string
  apply(config: C, inputs: FilterInputs): Promise<FilterResult>
}
