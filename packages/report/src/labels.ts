import { basename } from 'node:path'
import { valueWords } from '@ouroboros/core'
import type { CellInfo } from '@ouroboros/store'

/**
 * The names a report gives swept paths, in legends and in its header alike: each path's last part,
 * short for legends' width (`policy.kind` reads `policy`, `model.components` reads `components`,
 * `posttrain.0.kind` reads `posttrain`); a path keeps itself whole where short forms would clash.
 */
export function pathNames(paths: readonly string[]): string[] {
  const short = (path: string): string => {
    const parts = path.split('.')
    if (parts.length > 1 && parts[parts.length - 1] === 'kind') parts.pop()
    // A list's index says nothing alone: `posttrain.0.kind` reads `posttrain=dpo`, not `0=dpo`.
    while (parts.length > 1 && /^\d+$/.test(parts[parts.length - 1]!)) parts.pop()
    return parts[parts.length - 1]!
  }
  const shorts = paths.map(short)
  return paths.map((path, i) => (shorts.filter((s) => s === shorts[i]).length > 1 ? path : shorts[i]!))
}

/**
 * A sweep cell in words for legends: `policy=accumulate, components=8`, its paths named by
 * `pathNames` in the order the config's sweep lists them (`order`; a cell keeps its parameters in
 * another). A swept spec keeps its kind and the options that differ between the sweep's values.
 */
function cellWords(cell: CellInfo, cells: readonly CellInfo[], order: readonly string[]): string {
  const place = (path: string): number => (order.includes(path) ? order.indexOf(path) : order.length)
  const paths = Object.keys(cell.params).sort((a, b) => place(a) - place(b))
  if (paths.length === 0) return cell.label
  const names = pathNames(paths)
  return paths.map((path, i) => `${names[i]!}=${valueWords(distinguishing(cell.params[path], cells.map((c) => c.params[path])))}`).join(', ')
}

/**
 * A swept spec without the options every other value of the sweep shares: a sweep over
 * `filter` of two lexicon rewards differing in `per` reads `reward(reward=lexicon(per=token))`,
 * not the ten words and the number of choices both have. Options of specs are compared among the
 * values that are specs; the kind is always kept.
 */
export function distinguishing(value: unknown, values: readonly unknown[]): unknown {
  if (!isSpec(value)) return value
  const specs = values.filter(isSpec)
  const out: Record<string, unknown> = {}
  for (const [key, x] of Object.entries(value)) {
    const others = specs.map((s) => s[key])
    if (key === 'kind' || others.some((o) => JSON.stringify(o) !== JSON.stringify(x))) out[key] = distinguishing(x, others)
  }
  return out
}

function isSpec(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Display names for runs, made unique where two runs share a name (one config run with several
 * seeds): by their seeds where those differ, else by their directories' names, else by order.
 */
export function runNames(runs: readonly { name: string; seed: unknown; dir: string }[]): string[] {
  return runs.map((run, i) => {
    const same = runs.filter((r) => r.name === run.name)
    if (same.length === 1) return run.name
    const apart = (key: (r: (typeof runs)[number]) => string): boolean => new Set(same.map(key)).size === same.length
    if (apart((r) => String(r.seed))) return `${run.name} (seed ${String(run.seed)})`
    if (apart((r) => basename(r.dir))) return `${run.name} (${basename(run.dir)})`
    return `${run.name} (${i + 1})`
  })
}

/**
 * The legend of one cell: its swept values, in the order of the config's swept paths (`order`); a
 * run with a single cell is named by the run; with several runs on the page every legend starts
 * with its run's name.
 */
export function seriesLabel(cell: CellInfo, cells: readonly CellInfo[], runName: string, severalRuns: boolean, order: readonly string[] = []): string {
  if (cells.length === 1) return runName
  const words = cellWords(cell, cells, order)
  return severalRuns ? `${runName}: ${words}` : words
}
