import type { DatasetInfo } from '@ouroboros/core'

/** A group of vector diversity measures declines regression data: the spread of rows (x, y) on a design fixed per chain is not diversity. */
export function notRegression(dataset: DatasetInfo): boolean {
  return dataset.regression === undefined
}
