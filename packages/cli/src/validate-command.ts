import { valueWords } from '@ouroboros/core'
import type { CellInfo } from '@ouroboros/store'
import { resolvedCells } from './provenance.js'
import type { ResolvedRun } from './resolve.js'

/** `ouroboros validate`: what the config will run, in a few lines, or all of it as JSON. */
export function validateOutput(resolved: ResolvedRun, where: string, json: boolean): string {
  const cells = resolvedCells(resolved)
  if (json) {
    const view = { config: resolved.config, cells, chains: resolved.chains.length, metrics: resolved.metrics, metricOptions: resolved.metricOptions }
    return JSON.stringify(view, null, 2) + '\n'
  }
  return summary(resolved, cells, where).join('\n') + '\n'
}

function summary(resolved: ResolvedRun, cells: readonly CellInfo[], where: string): string[] {
  const config = resolved.config
  const swept = Object.keys(config.sweep)
  const first = cells[0]!.config
  const chains = resolved.chains.length
  // Per chain, since a sweep may set them.
  const generations = new Set(resolved.chains.map((c) => c.config.generations))
  const totalGenerations = resolved.chains.reduce((sum, c) => sum + c.config.generations, 0)
  const samples = resolved.chains.reduce((sum, c) => sum + c.samplesPerGeneration * c.config.generations, 0)
  const replicates = new Set(cells.map((c) => c.config['replicates']))
  const perGeneration = new Set(resolved.chains.map((c) => c.samplesPerGeneration))
  const section = (top: string): string => plugin(first[top], top, swept, cells.map((c) => c.config[top]))
  const lines: [string, string][] = [
    ['data', section('data')],
    ['model', section('model')],
    ['policy', section('policy')],
  ]
  if (config.sampling.temperature !== 1 || swept.some((p) => p.startsWith('sampling'))) lines.push(['sampling', plugin(first['sampling'], 'sampling', swept)])
  if (config.filter !== null || swept.includes('filter')) lines.push(['filter', first['filter'] === null && !swept.includes('filter') ? 'none' : plugin(first['filter'], 'filter', swept)])
  if (config.warmStart || swept.includes('warmStart')) lines.push(['warm start', swept.includes('warmStart') ? 'swept' : 'yes'])
  const stages = first['posttrain']
  if (swept.includes('posttrain')) lines.push(['posttrain', 'swept'])
  else if (Array.isArray(stages)) {
    const stageOf = (c: CellInfo, i: number): unknown => (c.config['posttrain'] as unknown[] | undefined)?.[i]
    stages.forEach((stage, i) => lines.push([i === 0 ? 'posttrain' : '', `${i}  ${plugin(stage, `posttrain.${i}`, swept, cells.map((c) => stageOf(c, i)))}`]))
  }
  // The swept paths in the sweep's order, which the cells' labels and the record files' columns follow.
  const axes = Object.keys(cells[0]!.params)
  // A sweep of one value is still a sweep: its cell has that value, which the config may not hold.
  lines.push(['cells', axes.length === 0 ? '1 (no sweep)' : `${cells.length}: ${axes.map((p) => `${p} (${sweptValues(config.sweep[p]!)})`).join(' × ')}`])
  const shown = cells.length > 1 ? cells.slice(0, 20) : []
  // c9 and c10 in one column: the indices padded to the longest shown.
  const indexWidth = Math.max(0, ...shown.map((cell) => `c${cell.index}`.length))
  for (const cell of shown) lines.push(['', `${`c${cell.index}`.padEnd(indexWidth)}  ${Object.entries(cell.params).map(([path, v]) => `${path}=${valueWords(v)}`).join(', ')}`])
  if (cells.length > 20) lines.push(['', `… and ${cells.length - 20} more`])
  const oneEach = replicates.size === 1 && replicates.has(1)
  // The cells' seeds, which a sweep of `seed` sets.
  const seeds = [...new Set(cells.map((c) => c.config['seed']))]
  lines.push(['chains', `${chains} (${[...replicates].join(' or ')} replicate${oneEach ? '' : 's'} per cell, run seed ${seeds.length === 1 ? seeds[0] : `by cell, ${seeds.join(', ')}`})`])
  lines.push(['generations', `${[...generations].map(count).join(' or ')} per chain, ${count(totalGenerations)} in all (generation 0 fit on real data)`])
  // A filter draws more than it keeps (how many more, the modes filter knows only as it goes).
  const filtered = cells.some((c) => c.config['filter'] !== null)
  lines.push(['samples', `${[...perGeneration].map(count).join(' or ')} per generation, ${count(samples)} in all${filtered ? ' (kept by the filter from more draws)' : ''}`])
  lines.push(['metrics', resolved.metrics.join(', ')])
  const width = Math.max(...lines.map(([k]) => k.length))
  return [`${config.name}: ${where} is valid (--json prints the resolved config)`, ...lines.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)]
}

/**
 * "gmm: components 8, tol 0.001, ..." with swept keys marked. Where the kind is swept, only the
 * parameters every cell shares (`all`: each cell's section): the others belong to one kind each.
 */
function plugin(value: unknown, top: string, swept: readonly string[], all: readonly unknown[] = [value]): string {
  if (swept.includes(top)) return 'swept'
  if (typeof value !== 'object' || value === null) return String(value)
  const { kind, ...rest } = value as Record<string, unknown>
  const shown = (key: string, v: unknown): string => {
    const path = `${top}.${key}`
    if (swept.includes(path)) return 'swept'
    // An object with a swept key inside (posttrain.0.reward.labels): its keys, that one marked.
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && swept.some((p) => p.startsWith(`${path}.`))) return `(${plugin(v, path, swept)})`
    return brief(v)
  }
  if (kind !== undefined && swept.includes(`${top}.kind`)) {
    const same = (k: string, v: unknown): boolean => all.every((other) => JSON.stringify((other as Record<string, unknown> | null)?.[k]) === JSON.stringify(v))
    const shared = Object.entries(rest).filter(([k, v]) => swept.includes(`${top}.${k}`) || same(k, v))
    const differ = shared.length < Object.keys(rest).length ? ['others by kind (see the cells, or --json)'] : []
    return ['kind swept', ...shared.map(([k, v]) => `${k} ${shown(k, v)}`), ...differ].join(', ')
  }
  const params = Object.entries(rest).map(([k, v]) => `${k} ${shown(k, v)}`)
  if (kind === undefined) return params.join(', ')
  return params.length === 0 ? String(kind) : `${String(kind)}: ${params.join(', ')}`
}

function brief(value: unknown): string {
  const text = valueWords(value)
  if (text.length <= 60) return text
  // Cut after a whole item, never inside a number ("labels=2..." for 200) or a name.
  const cut = text.lastIndexOf(', ', 55)
  const kept = text.slice(0, cut > 0 ? cut : 55)
  // The brackets open where it is cut are closed after the dots, or the eye looks for their end in what follows.
  return `${kept}, ...${closers(kept)}`
}

/** What closes the brackets left open in `text`, innermost first: "proxy(of=[1" gives "])". */
function closers(text: string): string {
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' }
  const open: string[] = []
  for (const ch of text) {
    if (ch in pairs) open.push(pairs[ch]!)
    else if (ch === open[open.length - 1]) open.pop()
  }
  return open.reverse().join('')
}

/** A swept key's values, each cut short; where cutting makes two alike, their count (the cells' lines show each whole). */
function sweptValues(values: readonly unknown[]): string {
  const shown = values.map(brief)
  return new Set(shown).size === shown.length ? shown.join(', ') : `${shown.length} values, each in full on its cells' lines`
}

function count(n: number): string {
  return n.toLocaleString('en-US')
}
