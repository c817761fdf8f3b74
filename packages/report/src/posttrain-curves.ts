/**
 * Post-training stage curves as the report reads them: the lines of
 * chains/<chain>/gen-NNNNNN.posttrain.ndjson (@ouroboros/posttrain's CurvePoint), grouped by stage,
 * and their means over replicates step by step.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { chainDir } from '@ouroboros/store'
import { evenSpread } from './even-spread.js'

/** One stage of one generation of one chain. */
export interface StageCurve {
  /** Index of the stage in the config's `posttrain` list. */
  stage: number
  kind: string
  /** Steps done at each point (best-of-n: the n of the point), ascending. */
  steps: number[]
  /** `reward`, `gold_reward`, `kl` (to the stage's input) and the run's metrics, by name. */
  values: Record<string, (number | null)[]>
  /** The stage's training losses, by name. */
  losses: Record<string, (number | null)[]>
  /** What a reward stage optimised, in words (its first point's `reward_description`). */
  rewardDescription?: string
}

export interface GenerationStages {
  generation: number
  stages: StageCurve[]
}

export interface ChainPosttrain {
  chain: string
  cell: number
  replicate: number
  generations: GenerationStages[]
}

/**
 * Caps on what one run contributes: a curve of thousands of evaluations is drawn through an even
 * spread of them, a selector offers a few generations, and ten replicates show a spread.
 */
export const MAX_STAGE_POINTS = 200
const MAX_POSTTRAIN_GENERATIONS = 5
export const MAX_POSTTRAIN_REPLICATES = 10

const FILE = /^gen-(\d+)\.posttrain\.ndjson$/

/** The generations of a chain with a curve file, an even spread of at most MAX_POSTTRAIN_GENERATIONS (first and last kept). */
export function loadChainPosttrain(runDir: string, chain: string, problems: string[]): GenerationStages[] {
  const dir = chainDir(runDir, chain)
  if (!existsSync(dir)) return []
  const files = readdirSync(dir)
    .map((f) => ({ f, m: FILE.exec(f) }))
    .filter((x): x is { f: string; m: RegExpExecArray } => x.m !== null)
    .map((x) => ({ file: join(dir, x.f), generation: Number(x.m[1]) }))
    .sort((a, b) => a.generation - b.generation)
  const out: GenerationStages[] = []
  for (const { file, generation } of evenSpread(files, MAX_POSTTRAIN_GENERATIONS)) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      problems.push(`${relative(runDir, file)}: ${(err as Error).message}`)
      continue
    }
    const stages = parseStageCurves(text)
    if (stages.length > 0) out.push({ generation, stages })
  }
  return out
}

interface Point {
  stage: number
  kind: string
  step: number
  values: Record<string, number | null>
  losses: Record<string, number | null>
}

const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

function numbers(value: unknown): Record<string, number | null> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {}
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, finite(v)]))
}

/**
 * The curve of each stage, in stage order, through at most MAX_STAGE_POINTS of its points. A
 * line torn by a crash, or any line without a stage, kind and step, is skipped.
 */
export function parseStageCurves(text: string): StageCurve[] {
  const byStage = new Map<number, Point[]>()
  const described = new Map<number, string>()
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    let row: Record<string, unknown>
    try {
      row = JSON.parse(line) as Record<string, unknown>
    } catch {
      continue
    }
    if (typeof row !== 'object' || row === null) continue
    const { stage, kind, step } = row
    if (typeof stage !== 'number' || !Number.isInteger(stage) || stage < 0 || typeof kind !== 'string' || finite(step) === null) continue
    // The stage's own quantities win over a metric of the same name.
    const values = { ...numbers(row.metrics), reward: finite(row.reward), gold_reward: finite(row.gold_reward), kl: finite(row.kl) }
    if (typeof row.reward_description === 'string' && !described.has(stage)) described.set(stage, row.reward_description)
    const list = byStage.get(stage) ?? []
    list.push({ stage, kind, step: step as number, values, losses: numbers(row.losses) })
    byStage.set(stage, list)
  }
  return [...byStage.keys()]
    .sort((a, b) => a - b)
    .map((stage) => {
      const points = evenSpread(
        [...byStage.get(stage)!].sort((a, b) => a.step - b.step),
        MAX_STAGE_POINTS,
      )
      const description = described.get(stage)
      return {
        stage,
        kind: points[0]!.kind,
        steps: points.map((p) => p.step),
        values: columns(points.map((p) => p.values)),
        losses: columns(points.map((p) => p.losses)),
        ...(description === undefined ? {} : { rewardDescription: description }),
      }
    })
}

/** Rows of named values to a column per name (null where a row lacks it). */
function columns(rows: readonly Record<string, number | null>[]): Record<string, (number | null)[]> {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  return Object.fromEntries(names.map((name) => [name, rows.map((r) => r[name] ?? null)]))
}

/** A quantity of a stage curve at point i: a named value, or one derived from the point's values. */
export type Quantity = (curve: StageCurve, i: number) => number | null

export const named =
  (name: string): Quantity =>
  (curve, i) =>
    curve.values[name]?.[i] ?? null

export const namedLoss =
  (name: string): Quantity =>
  (curve, i) =>
    curve.losses[name]?.[i] ?? null

/**
 * d = √KL, Gao et al.'s axis. A sampled KL estimate can fall a little below 0, where the true KL
 * is about 0: it is drawn at d = 0.
 */
export const sqrtKl: Quantity = (curve, i) => {
  const kl = curve.values.kl?.[i]
  return kl === null || kl === undefined ? null : Math.sqrt(Math.max(0, kl))
}

/** Per step, the values of every replicate that has one, steps ascending. */
export interface StepValues {
  steps: number[]
  lists: number[][]
}

export function valuesByStep(curves: readonly StageCurve[], quantity: Quantity): StepValues {
  const byStep = new Map<number, number[]>()
  for (const curve of curves) {
    curve.steps.forEach((step, i) => {
      const v = quantity(curve, i)
      if (v === null) return
      const list = byStep.get(step) ?? []
      list.push(v)
      byStep.set(step, list)
    })
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b)
  return { steps, lists: steps.map((s) => byStep.get(s)!) }
}

/** Per step, the mean of x and of y over the replicates that have both there, steps ascending. */
export interface PairedMeans {
  steps: number[]
  x: number[]
  y: number[]
  count: number[]
}

export function pairedMeans(curves: readonly StageCurve[], fx: Quantity, fy: Quantity): PairedMeans {
  const byStep = new Map<number, { x: number; y: number; n: number }>()
  for (const curve of curves) {
    curve.steps.forEach((step, i) => {
      const x = fx(curve, i)
      const y = fy(curve, i)
      if (x === null || y === null) return
      const sum = byStep.get(step) ?? { x: 0, y: 0, n: 0 }
      byStep.set(step, { x: sum.x + x, y: sum.y + y, n: sum.n + 1 })
    })
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b)
  const sums = steps.map((s) => byStep.get(s)!)
  return { steps, x: sums.map((s) => s.x / s.n), y: sums.map((s) => s.y / s.n), count: sums.map((s) => s.n) }
}

/** One replicate's (x, y) along its steps, where both are defined. */
export function pairs(curve: StageCurve, fx: Quantity, fy: Quantity): { steps: number[]; x: number[]; y: number[] } {
  const out = { steps: [] as number[], x: [] as number[], y: [] as number[] }
  curve.steps.forEach((step, i) => {
    const x = fx(curve, i)
    const y = fy(curve, i)
    if (x === null || y === null) return
    out.steps.push(step)
    out.x.push(x)
    out.y.push(y)
  })
  return out
}
