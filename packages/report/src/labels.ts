import { valueWords } from '@ouroboros/core'
import type { CellInfo } from '@ouroboros/store'

/**
 * A sweep cell in words for legends: `policy.kind=accumulate, model.components=8` reads
 * `policy=accumulate, components=8`. A path keeps more of itself where the short forms would clash.
 */
function cellWords(cell: CellInfo): string {
  const paths = Object.keys(cell.params)
  if (paths.length === 0) return cell.label
  const short = (path: string): string => {
    const parts = path.split('.')
    if (parts.length > 1 && parts[parts.length - 1] === 'kind') parts.pop()
    return parts[parts.length - 1]!
  }
  const shorts = paths.map(short)
  return paths
    .map((path, i) => {
      const name = shorts.filter((s) => s === shorts[i]).length > 1 ? path : shorts[i]!
      return `${name}=${valueWords(cell.params[path])}`
    })
    .join(', ')
}

/** Display names for runs, made unique where two runs share a name. */
export function runNames(names: readonly string[]): string[] {
  return names.map((name, i) => (names.filter((n) => n === name).length > 1 ? `${name} (${i + 1})` : name))
}

/**
 * The legend of one cell: its swept values; a run with a single cell is named by the run; with
 * several runs on the page every legend starts with its run's name.
 */
export function seriesLabel(cell: CellInfo, cellsInRun: number, runName: string, severalRuns: boolean): string {
  if (cellsInRun === 1) return runName
  const words = cellWords(cell)
  return severalRuns ? `${runName}: ${words}` : words
}
