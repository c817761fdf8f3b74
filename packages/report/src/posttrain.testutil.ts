/**
 * Synthetic post-training runs for the report's tests: curve files whose values are simple
 * functions of step, replicate and generation, so that every plotted mean is known by construction.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { posttrainCurvePath } from '@ouroboros/store'
import { ringDataset, writeSyntheticRun, type SyntheticRun } from './runs.testutil.js'

export interface CurveLine {
  stage: number
  kind: string
  step: number
  reward: number | null
  gold_reward: number | null
  kl: number | null
  kl_estimator: string | null
  losses: Record<string, number>
  metrics: Record<string, number | null>
}

export function writeCurve(dir: string, chain: string, generation: number, lines: readonly (CurveLine | string)[]): void {
  const path = posttrainCurvePath(dir, chain, generation)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n')
}

/** Replicate offsets −0.01, 0, +0.01 (replicates 0, 1, 2): the mean over three is the offset-free value. */
export const offset = (replicate: number): number => 0.01 * (replicate - 1)

export const FT_STEPS = [0, 5, 10]

/**
 * Finetuning, cells replay 0 and 0.1, 3 replicates. At step s of generation g, cell c, replicate r:
 * task_share = 0.2 + 0.07·s·(1 − c/2) + 0.05·g + offset(r), modes_covered = 8 − 0.5·s·(1 − c/2) + 100·offset(r),
 * reverse_kl = 0.1·s + offset(r), task_nll = 2 − 0.1·s, kl = 0.1·s, loss = 1/(s + 1).
 */
export const finetuneValues = (cell: number, r: number, g: number, s: number): Record<string, number> => ({
  task_share: 0.2 + 0.07 * s * (1 - cell / 2) + 0.05 * g + offset(r),
  modes_covered: 8 - 0.5 * s * (1 - cell / 2) + 100 * offset(r),
  reverse_kl: 0.1 * s + offset(r),
  task_nll: 2 - 0.1 * s,
})

export function writeFinetuneRun(dir: string, name: string, generations: number, taskOf?: (cell: number) => Record<string, unknown>): void {
  const spec: SyntheticRun = {
    name,
    dataset: ringDataset,
    base: { generations, samplesPerGeneration: 500, data: { kind: 'ring', n: 500 }, model: { kind: 'gmm', components: 8 }, policy: { kind: 'replace' }, posttrain: [{ kind: 'finetune', steps: 10, evalEvery: 5 }] },
    cells: [0, 0.1].map((replay, cell) => ({ 'posttrain.0.replay': replay, ...(taskOf === undefined ? {} : { 'posttrain.0.data': taskOf(cell) }) })),
    replicates: 3,
    metrics: (cell, r, g) => (g === -1 ? { modes_covered: 8, reverse_kl: 0.002 } : { ...finetuneValues(cell, r, g, 10), reward: null, gold_reward: null, kl: 1 }),
  }
  writeSyntheticRun(dir, spec)
  for (let cell = 0; cell < 2; cell++) {
    for (let r = 0; r < 3; r++) {
      for (let g = 0; g < generations; g++) {
        writeCurve(
          dir,
          `c${cell}-r${r}`,
          g,
          FT_STEPS.map((s) => ({ stage: 0, kind: 'finetune', step: s, reward: null, gold_reward: null, kl: 0.1 * s, kl_estimator: s === 0 ? 'exact' : 'monte-carlo', losses: s === 0 ? {} : { loss: 1 / (s + 1) }, metrics: finetuneValues(cell, r, g, s) })),
        )
      }
    }
  }
}

export const RL_STEPS = [0, 10, 20]

/**
 * RL, cells beta 0.1 and 1, 3 replicates, one generation. At step s (d = s/10 = √KL):
 * kl = d², gold_reward = 0.3 + 0.2·d − 0.05·d²·(1 + c) + offset(r), reward (a proxy) = 0.3 + 0.25·d + offset(r),
 * modes_covered = 8 − 2·d.
 */
export const rlValues = (cell: number, r: number, s: number): { kl: number; gold: number; proxy: number; modes: number } => {
  const d = s / 10
  return { kl: d * d, gold: 0.3 + 0.2 * d - 0.05 * d * d * (1 + cell) + offset(r), proxy: 0.3 + 0.25 * d + offset(r), modes: 8 - 2 * d }
}

export function writeRlRun(dir: string, name: string, betas: readonly number[] = [0.1, 1], rewardOf?: (cell: number) => string, kind = 'rl'): void {
  writeSyntheticRun(dir, {
    name,
    dataset: ringDataset,
    base: { generations: 1, samplesPerGeneration: 500, data: { kind: 'ring', n: 500 }, model: { kind: 'gmm', components: 8 }, policy: { kind: 'replace' } },
    cells: betas.map((beta) => ({ 'posttrain.0.beta': beta })),
    replicates: 3,
    metrics: (cell, r, g) => {
      if (g === -1) return { modes_covered: 8 }
      const v = rlValues(cell, r, 20)
      return { modes_covered: v.modes, reward: v.proxy, gold_reward: v.gold, kl: v.kl }
    },
  })
  for (let cell = 0; cell < betas.length; cell++) {
    for (let r = 0; r < 3; r++) {
      writeCurve(
        dir,
        `c${cell}-r${r}`,
        0,
        RL_STEPS.map((s) => {
          const v = rlValues(cell, r, s)
          // A policy-gradient stage records its trainer's loss and the batch's KL-penalised reward.
          const losses = s === 0 ? {} : { loss: 1 / s, penalised_reward: v.proxy - betas[cell]! * v.kl }
          const described = s === 0 && rewardOf !== undefined ? { reward_description: rewardOf(cell) } : {}
          return { stage: 0, kind, step: s, reward: v.proxy, gold_reward: v.gold, kl: v.kl, kl_estimator: 'monte-carlo', losses, metrics: { modes_covered: v.modes }, ...described }
        }),
      )
    }
  }
}

export const BON_STEPS = [1, 2, 4, 8]

/** Offsets of two replicates that cancel in their mean. */
export const pair = (replicate: number): number => (replicate === 0 ? -0.01 : 0.01)

/**
 * Best-of-n with a gold reward (no proxy), 2 replicates: gold = log2(n)/10 ∓ 0.01, kl = ln n − (n − 1)/n.
 * One cell without a reward in its config, or a cell per reward of `rewards` (`posttrain.0.reward` swept).
 */
export function writeBestOfNRun(dir: string, name: string, rewards?: readonly Record<string, unknown>[]): void {
  const cells = rewards === undefined ? [{}] : rewards.map((reward) => ({ 'posttrain.0.reward': reward }))
  writeSyntheticRun(dir, {
    name,
    dataset: ringDataset,
    base: {
      generations: 1,
      samplesPerGeneration: 500,
      data: { kind: 'ring', n: 500 },
      model: { kind: 'gmm', components: 8 },
      policy: { kind: 'replace' },
      ...(rewards === undefined ? {} : { posttrain: [{ kind: 'best-of-n', n: 8 }] }),
    },
    cells,
    replicates: 2,
    metrics: (_c, r, g) => (g === -1 ? { modes_covered: 8 } : { modes_covered: 5, reward: 0.3 + pair(r), gold_reward: 0.3 + pair(r), kl: Math.log(8) - 7 / 8 }),
  })
  for (let cell = 0; cell < cells.length; cell++) {
    for (let r = 0; r < 2; r++) writeBestOfNCurve(dir, `c${cell}-r${r}`, r)
  }
}

function writeBestOfNCurve(dir: string, chain: string, r: number): void {
  writeCurve(
    dir,
    chain,
    0,
    BON_STEPS.map((n) => {
      const gold = Math.log2(n) / 10 + pair(r)
      return { stage: 0, kind: 'best-of-n', step: n, reward: gold, gold_reward: gold, kl: Math.log(n) - (n - 1) / n, kl_estimator: 'best-of-n ranks', losses: {}, metrics: { modes_covered: 8 - n / 2 } }
    }),
  )
}
