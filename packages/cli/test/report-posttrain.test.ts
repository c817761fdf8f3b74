import { readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanup, cli, tempDir, writeConfig } from './helpers.js'

afterAll(cleanup)

/** A ring GMM finetuned onto 2 modes, then best-of-4 by a mode reward: both post-training views in seconds. */
const config = {
  name: 'finetune then best-of-n',
  data: { kind: 'ring', n: 600 },
  model: { kind: 'gmm', components: 8 },
  generations: 1,
  replicates: 2,
  samplesPerGeneration: 300,
  metrics: ['modes', 'task'],
  posttrain: [
    { kind: 'finetune', data: { weights: [1, 1, 0, 0, 0, 0, 0, 0], n: 200, heldout: 100 }, steps: 4, evalEvery: 2 },
    { kind: 'best-of-n', n: 4, reward: { kind: 'modes', values: [0, 0, 1, 0, 0, 0, 0, 0] } },
  ],
}

interface Line {
  stage: number
  step: number
  gold_reward: number | null
  kl: number | null
  metrics: Record<string, number | null>
}

function plots(html: string): { data: Record<string, unknown>[]; layout: { title: { text: string } } }[] {
  return JSON.parse(/<script type="application\/json" id="ouroboros-data">([\s\S]*?)<\/script>/.exec(html)![1]!).plots
}

describe('the report of a post-training run', () => {
  it('plots the curves the stages wrote: the frontier from the pretrained model and reward against √KL', () => {
    const dir = tempDir()
    const res = cli(['run', writeConfig(dir, config), '--out', `${dir}/run`])
    expect(res.status, res.stderr).toBe(0)
    const curves = [0, 1].map((r) =>
      readFileSync(`${dir}/run/chains/r${r}/gen-000000.posttrain.ndjson`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Line),
    )
    const html = readFileSync(`${dir}/run/report.html`, 'utf8')
    expect(html).toContain('<section id="posttrain"><h2>Post-training</h2>')
    const byTitle = (title: string) => plots(html).find((p) => p.layout.title.text.replaceAll('<br>', ' ') === title)!
    const mean = (stage: number, step: number, value: (l: Line) => number | null): number =>
      curves.map((c) => value(c.find((l) => l.stage === stage && l.step === step)!)!).reduce((a, b) => a + b) / curves.length

    const frontier = byTitle('Finetuning: task quality against diversity').data.find((t) => t.visible === true && t.name === 'finetune then best-of-n (mean of 2)')!
    expect(frontier.customdata).toEqual([
      [0, 2],
      [2, 2],
      [4, 2],
    ])
    // The means of the two replicates' curve files, step by step.
    const x = frontier.x as number[]
    const y = frontier.y as number[]
    ;[0, 2, 4].forEach((step, i) => {
      // The default diversity axis: modes holding 1 % of the samples, which one stray sample does not cover.
      expect(x[i]).toBeCloseTo(mean(0, step, (l) => l.metrics.modes_covered_1pct ?? null), 4)
      expect(y[i]).toBeCloseTo(mean(0, step, (l) => l.metrics.task_share ?? null), 4)
    })
    // The pretrained model covers the ring's 8 modes; finetuning on 2 leaves fewer (fewer than modes_covered, which counts one sample).
    expect(x[0]).toBe(8)
    expect(x[2]).toBeLessThan(8)

    const rewards = byTitle('Best-of-n: reward against √KL').data.find((t) => t.name === 'finetune then best-of-n (mean of 2)')!
    expect(rewards.customdata).toEqual([
      [1, 2],
      [2, 2],
      [4, 2],
    ])
    ;[1, 2, 4].forEach((n, i) => {
      expect((rewards.x as number[])[i]).toBeCloseTo(Math.sqrt(Math.max(0, mean(1, n, (l) => l.kl))), 4)
      expect((rewards.y as number[])[i]).toBeCloseTo(mean(1, n, (l) => l.gold_reward), 4)
    })
    expect((rewards.x as number[])[0]).toBe(0)
  })
})
