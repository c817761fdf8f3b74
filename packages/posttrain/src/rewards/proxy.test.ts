import { describe, expect, it } from 'vitest'
import { Rng, vectors } from '@ouroboros/core'
import type { TokenSamples } from '@ouroboros/core'
import { fitProxy } from './proxy.js'

/** Solves A x = b by Gauss–Jordan elimination with partial pivoting, on plain arrays. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length
  const m = a.map((row, i) => [...row, b[i]!])
  for (let c = 0; c < n; c++) {
    let p = c
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r
    ;[m[c], m[p]] = [m[p]!, m[c]!]
    for (let r = 0; r < n; r++) {
      if (r === c) continue
      const f = m[r]![c]! / m[c]![c]!
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!
    }
  }
  return m.map((row, i) => row[n]! / row[i]!)
}

/** Kernel ridge regression as the textbook writes it: f(x) = ȳ + k(x)ᵀ(K + λ·n·I)⁻¹(y − ȳ). */
function ridgeRegression(gram: number[][], y: number[], ridge: number): (k: number[]) => number {
  const n = y.length
  const mean = y.reduce((a, b) => a + b, 0) / n
  const alpha = solve(
    gram.map((row, i) => row.map((v, j) => v + (i === j ? ridge * n : 0))),
    y.map((v) => v - mean),
  )
  return (k) => mean + k.reduce((s, v, j) => s + v * alpha[j]!, 0)
}

/** Sentences over a vocabulary of 6 words, as TokenSamples. */
function sentences(list: number[][]): TokenSamples {
  const offsets = new Uint32Array(list.length + 1)
  list.forEach((s, i) => (offsets[i + 1] = offsets[i]! + s.length))
  return { modality: 'tokens', n: list.length, vocabSize: 6, tokens: Int32Array.from(list.flat()), offsets }
}

function randomSentences(n: number, rng: Rng): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: 1 + rng.int(6) }, () => rng.int(6)))
}

const counts = (s: number[]): number[] => Array.from({ length: 6 }, (_, w) => s.filter((t) => t === w).length)
const dot = (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i]!, 0)
/** A gold reward over word counts: word 1 is good, word 4 bad, length a little good. */
const goldOf = (s: number[]): number => 2 * counts(s)[1]! - 3 * counts(s)[4]! + 0.1 * s.length

describe('the reward model (proxy)', () => {
  it('is kernel ridge regression with an RBF kernel of the median pairwise distance on vectors', async () => {
    const rng = Rng.from(1, 'data')
    const x = Array.from({ length: 15 }, () => 3 * rng.uniform())
    const y = x.map((v) => Math.sin(2 * v))
    const dists = x.flatMap((a, i) => x.slice(i + 1).map((b) => Math.abs(a - b))).sort((a, b) => a - b)
    const h = dists[dists.length >> 1]!
    const k = (a: number, b: number): number => Math.exp(-((a - b) ** 2) / (2 * h * h))
    const f = ridgeRegression(
      x.map((a) => x.map((b) => k(a, b))),
      y,
      1e-3,
    )
    const reward = fitProxy(vectors(15, 1, Float64Array.from(x)), Float64Array.from(y), { noise: 0, preferences: false, ridge: 1e-3 }, Rng.from(2))
    const at = [0.1, 0.77, 1.5, 2.2, 2.95, 4]
    const got = await reward.score(vectors(at.length, 1, Float64Array.from(at)))
    at.forEach((a, i) => expect(Math.abs(got[i]! - f(x.map((b) => k(a, b))))).toBeLessThan(1e-9))
    expect(reward.rows).toEqual([Int32Array.from({ length: 15 }, (_, i) => i)])
  })

  it('an ensemble: models fit to bootstrap resamples of the labels, their rewards averaged, minimised or penalised by their variance', async () => {
    const rng = Rng.from(3, 'data')
    const labelled = randomSentences(20, rng)
    const gold = Float64Array.from(labelled, goldOf)
    const probe = randomSentences(12, rng)
    for (const [combine, penalty] of [
      ['mean', 1],
      ['min', 1],
      ['uwo', 0.5],
    ] as const) {
      const reward = fitProxy(sentences(labelled), gold, { noise: 0, preferences: false, ridge: 0.05, members: 5, combine, variancePenalty: penalty }, Rng.from(4))
      expect(reward.rows.length).toBe(5)
      for (const rows of reward.rows) {
        expect(rows.length).toBe(20)
        for (const i of rows) expect(i >= 0 && i < 20).toBe(true)
      }
      // Resamples, not the labels in order: some label is drawn twice in every member.
      for (const rows of reward.rows) expect(new Set(rows).size).toBeLessThan(20)
      expect(new Set(reward.rows.map((r) => r.join())).size).toBe(5)
      // Each member written out: the linear kernel on word counts over its resample.
      const members = reward.rows.map((rows) => {
        const picked = Array.from(rows, (i) => labelled[i]!)
        const f = ridgeRegression(
          picked.map((a) => picked.map((b) => dot(counts(a), counts(b)))),
          Array.from(rows, (i) => gold[i]!),
          0.05,
        )
        return (s: number[]) => f(picked.map((b) => dot(counts(s), counts(b))))
      })
      const got = await reward.score(sentences(probe))
      probe.forEach((s, i) => {
        const v = members.map((m) => m(s))
        const mean = v.reduce((a, b) => a + b, 0) / v.length
        const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length
        const want = combine === 'mean' ? mean : combine === 'min' ? Math.min(...v) : mean - penalty * variance
        expect(Math.abs(got[i]! - want)).toBeLessThan(1e-9)
      })
      expect(reward.description).toContain('5 regression reward models on bootstrap resamples of 20 labels')
    }
  })

  it('one member is the single model, bit for bit, whatever the combination', async () => {
    const rng = Rng.from(5, 'data')
    const labelled = sentences(randomSentences(30, rng))
    const gold = Float64Array.from({ length: 30 }, () => rng.normal())
    const probe = sentences(randomSentences(10, rng))
    for (const preferences of [false, true]) {
      const single = await fitProxy(labelled, gold, { noise: 0.3, preferences, ridge: 1e-2 }, Rng.from(6)).score(probe)
      for (const combine of ['mean', 'min', 'uwo'] as const) {
        const one = await fitProxy(labelled, gold, { noise: 0.3, preferences, ridge: 1e-2, members: 1, combine }, Rng.from(6)).score(probe)
        expect(Array.from(one)).toEqual(Array.from(single))
      }
    }
  })

  it('under preferences, members resample whole pairs, each with the one preference it was given', async () => {
    // Gold 200·x, and within each pair x at least 0.3 apart, in either order: the preference is
    // certain (σ(60) rounds to 1), the larger x wins.
    const rng = Rng.from(7, 'data')
    const n = 24
    const x = new Float64Array(n)
    for (let p = 0; p < n / 2; p++) {
      const low = 0.4 * rng.uniform()
      const high = low + 0.3 + 0.3 * rng.uniform()
      const swap = rng.int(2)
      x[2 * p + swap] = low
      x[2 * p + 1 - swap] = high
    }
    const gold = Float64Array.from(x, (v) => 200 * v)
    const ridge = 0.01
    const reward = fitProxy(vectors(n, 1, x), gold, { noise: 0, preferences: true, ridge, members: 3 }, Rng.from(8))
    for (const rows of reward.rows) {
      expect(rows.length).toBe(n)
      for (let q = 0; q < n / 2; q++) {
        expect(rows[2 * q]! % 2).toBe(0)
        expect(rows[2 * q + 1]).toBe(rows[2 * q]! + 1)
      }
    }
    // Every pair a member saw is ordered as its preference says, in every member's eyes and so in the mean's.
    const fitted = await reward.score(vectors(n, 1, x))
    for (const p of new Set(reward.rows.flatMap((rows) => Array.from(rows.filter((_, i) => i % 2 === 0), (i) => i >> 1)))) {
      expect(Math.sign(fitted[2 * p]! - fitted[2 * p + 1]!)).toBe(Math.sign(gold[2 * p]! - gold[2 * p + 1]!))
    }
    // A single preference model at its optimum: f = Kα with α = −Dᵀ(σ(Df) − y) / (λ·n), the
    // stationarity condition of the penalised likelihood, checked at the labelled points.
    const single = fitProxy(vectors(n, 1, x), gold, { noise: 0, preferences: true, ridge }, Rng.from(8))
    const f = Array.from(await single.score(vectors(n, 1, x)))
    const dists = Array.from(x).flatMap((a, i) => Array.from(x.subarray(i + 1), (b) => Math.abs(a - b))).sort((a, b) => a - b)
    const h = dists[dists.length >> 1]!
    const alpha = new Array<number>(n).fill(0)
    for (let p = 0; p < n / 2; p++) {
      const won = gold[2 * p]! > gold[2 * p + 1]! ? 1 : 0
      const r = 1 / (1 + Math.exp(-(f[2 * p]! - f[2 * p + 1]!))) - won
      alpha[2 * p] = -r / (ridge * n)
      alpha[2 * p + 1] = r / (ridge * n)
    }
    for (let i = 0; i < n; i++) {
      const kf = alpha.reduce((s, a, j) => s + a * Math.exp(-((x[i]! - x[j]!) ** 2) / (2 * h * h)), 0)
      expect(Math.abs(kf - f[i]!)).toBeLessThan(1e-6)
    }
  })
})
