import { describe, expect, it } from 'vitest'
import { Rng, vectors } from '@ouroboros/core'
import type { DatasetInfo, ModelTrainer, VectorSamples } from '@ouroboros/core'
import { klRegularisedOptimum, refitStandardErrors, ringDataset, ringSamples, ringTask } from '@ouroboros/testkit'
import { model } from './index.js'
import type { GmmParams, GmmState } from './index.js'

const params = (raw: Partial<GmmParams> = {}): GmmParams => model.params.parse(raw)
const fitCtx = (seed: number, dataset: DatasetInfo, init?: GmmState) => ({
  rng: Rng.from(seed, 'fit'),
  generation: 0,
  dataset,
  ...(init === undefined ? {} : { init }),
})
const { centers, std } = ringDataset.modes!
const K = 8

function nearestMode(x: number, y: number): number {
  let best = 0
  for (let m = 1; m < K; m++) {
    if (Math.hypot(x - centers[2 * m]!, y - centers[2 * m + 1]!) < Math.hypot(x - centers[2 * best]!, y - centers[2 * best + 1]!)) best = m
  }
  return best
}

/** Component c of the state sits at mode modeOf[c]. */
function modesOf(state: GmmState): number[] {
  return Array.from({ length: state.k }, (_, c) => nearestMode(state.means[2 * c]!, state.means[2 * c + 1]!))
}

const mean = (v: ArrayLike<number>): number => Array.from(v).reduce((a, b) => a + b, 0) / v.length

describe('gmm fitWeighted', () => {
  it('gives, with integer weights, the EM of the points repeated that many times', async () => {
    // Four overlapping blobs keep EM busy for all 30 iterations (tol 0); both runs start from
    // the same mixture.
    const rng = Rng.from(1, 'data')
    const n = 400
    const x = new Float64Array(2 * n)
    for (let i = 0; i < n; i++) {
      const b = rng.int(4)
      x[2 * i] = (b % 2) * 1.5 + 0.7 * rng.normal()
      x[2 * i + 1] = Math.floor(b / 2) * 1.5 + 0.7 * rng.normal()
    }
    const data = vectors(n, 2, x)
    const counts = Float64Array.from({ length: n }, () => rng.int(4))
    const repeated: number[] = []
    counts.forEach((c, i) => {
      for (let r = 0; r < c; r++) repeated.push(x[2 * i]!, x[2 * i + 1]!)
    })
    const dataset: DatasetInfo = { kind: 'blobs', modality: 'vectors', d: 2 }
    const init = await model.fit(data, params({ components: 4, maxIter: 2, tol: 0 }), fitCtx(1, dataset))
    const p = params({ components: 4, maxIter: 30, tol: 0 })
    const weighted = await model.fitWeighted!(data, counts, p, fitCtx(2, dataset, init))
    const copies = await model.fit(vectors(repeated.length / 2, 2, Float64Array.from(repeated)), p, fitCtx(2, dataset, init))
    expect(weighted.iterations).toBe(30)
    for (const key of ['weights', 'means', 'covariances'] as const) {
      weighted[key].forEach((v, j) => expect(Math.abs(v - copies[key][j]!)).toBeLessThan(1e-9))
    }
    expect(Math.abs(weighted.lowerBound - copies.lowerBound)).toBeLessThan(1e-9)
    // The same EM without the weights ends elsewhere: the weights are not a no-op here.
    const unweighted = await model.fit(data, p, fitCtx(2, dataset, init))
    expect(Math.max(...unweighted.means.map((v, j) => Math.abs(v - copies.means[j]!)))).toBeGreaterThan(1e-3)
  })

  describe('reward-weighted refitting of the mode weights', () => {
    // The reference: one component per ring mode, with unequal weights π_ref.
    const piRef = Float64Array.from([3, 1, 2, 1, 1, 2, 1, 1], (v) => v / 12)
    const reference: GmmState = {
      d: 2,
      k: K,
      weights: piRef,
      means: centers.slice(),
      covariances: Float64Array.from({ length: 4 * K }, (_, j) => (j % 4 === 0 || j % 4 === 3 ? std * std : 0)),
      converged: true,
      iterations: 0,
      lowerBound: 0,
    }
    const rewards = [1, 0.8, 0.6, 0.4, 0.2, 0, 0, 0]
    const n = 20_000

    for (const beta of [0.1, 1, 10]) {
      it(`gives mode weights ∝ π_ref·exp(r/β), the KL-regularised optimum, at β = ${beta}`, async () => {
        const draws = (await model.sample(reference, n, { rng: Rng.from(3, 'draws', beta), temperature: 1, dataset: ringDataset })) as VectorSamples
        const r = Array.from({ length: n }, (_, i) => rewards[nearestMode(draws.data[2 * i]!, draws.data[2 * i + 1]!)]!)
        const weights = Float64Array.from(r, (v) => Math.exp((v - 1) / beta))
        const refit = await model.fitWeighted!(draws, weights, params(), fitCtx(4, ringDataset, reference))
        const optimum = klRegularisedOptimum(piRef, rewards, beta)
        // Monte Carlo error of n draws (delta method on the multinomial mode counts); every mode
        // within 4 standard errors. The largest standard error is below 0.006 at these β.
        const se = refitStandardErrors(piRef, rewards, beta, n)
        expect(Math.max(...se.p)).toBeLessThan(0.006)
        expect(modesOf(refit)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
        for (let k = 0; k < K; k++) expect(Math.abs(refit.weights[k]! - optimum.p[k]!)).toBeLessThanOrEqual(4 * se.p[k]! + 1e-12)
      })
    }
  })
})

describe('gmm trainer (EM from the pretrained state)', () => {
  const task = ringTask([1, 1, 0, 0, 0, 0, 0, 0])
  const p = params()
  let pretrained: Promise<GmmState> | undefined
  const pretrain = (): Promise<GmmState> => (pretrained ??= Promise.resolve(model.fit(ringSamples(8000, Rng.from(5, 'data')), p, fitCtx(5, ringDataset))))
  const items = task.sample(4000, Rng.from(6, 'task'))
  const heldout = task.sample(2000, Rng.from(7, 'task'))
  const ones = new Float64Array(items.n).fill(1)
  const start = async (anchor: number): Promise<{ reference: GmmState; trainer: ModelTrainer<GmmState> }> => {
    const reference = await pretrain()
    return { reference, trainer: await model.trainer!(reference, p, { rng: Rng.from(8, 'trainer'), dataset: task.dataset, anchor, reference }) }
  }

  it('converges to the fit of the task data: held-out task likelihood as a direct fit, no mass left at the other 6 modes', async () => {
    const { reference, trainer } = await start(0)
    expect(trainer.batch).toBe('all')
    expect(trainer.signedWeights).toBe(false)
    expect(modesOf(reference).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    for (let s = 0; s < 200; s++) await trainer.step(items, ones)
    const tuned = await trainer.state()
    const direct = await model.fit(items, p, fitCtx(9, task.dataset))
    const otherMass = (state: GmmState): number => modesOf(state).reduce((m, mode, c) => m + (mode >= 2 ? state.weights[c]! : 0), 0)
    expect(otherMass(tuned)).toBeLessThan(1e-9)
    expect(otherMass(direct)).toBeLessThan(1e-9)
    // The task's own density, ½ N(c_0, std² I) + ½ N(c_1, std² I), on the same held-out points;
    // the fits are within their estimation error (about 47 parameters / 2n = 0.006 nats) of it.
    const truth = Array.from({ length: heldout.n }, (_, i) => {
      let density = 0
      for (const m of [0, 1]) {
        const q = ((heldout.data[2 * i]! - centers[2 * m]!) ** 2 + (heldout.data[2 * i + 1]! - centers[2 * m + 1]!) ** 2) / (std * std)
        density += (0.5 * Math.exp(-0.5 * q)) / (2 * Math.PI * std * std)
      }
      return Math.log(density)
    })
    const llTuned = mean(await model.logLikelihood!(tuned, heldout))
    const llDirect = mean(await model.logLikelihood!(direct, heldout))
    expect(Math.abs(llTuned - llDirect)).toBeLessThan(0.02)
    expect(Math.abs(llTuned - mean(truth))).toBeLessThan(0.03)
  })

  for (const anchor of [0.25, 1, 4]) {
    it(`keeps components the task does not reach at the reference with weight a/(1 + a)·π_ref under anchor a = ${anchor}`, async () => {
      const { reference, trainer } = await start(anchor)
      for (let s = 0; s < 20; s++) await trainer.step(items, ones)
      const tuned = await trainer.state()
      const modes = modesOf(reference)
      let taskMass = 0
      for (let c = 0; c < K; c++) {
        if (modes[c]! < 2) {
          taskMass += tuned.weights[c]!
          continue
        }
        expect(tuned.weights[c]! / ((anchor / (1 + anchor)) * reference.weights[c]!)).toBeCloseTo(1, 12)
        for (let j = 0; j < 2; j++) expect(tuned.means[2 * c + j]).toBeCloseTo(reference.means[2 * c + j]!, 14)
        for (let j = 0; j < 4; j++) expect(tuned.covariances[4 * c + j]! / std ** 2).toBeCloseTo(reference.covariances[4 * c + j]! / std ** 2, 10)
      }
      const refTaskMass = modes.reduce((m, mode, c) => m + (mode < 2 ? reference.weights[c]! : 0), 0)
      expect(taskMass).toBeCloseTo((1 + anchor * refTaskMass) / (1 + anchor), 12)
    })
  }

  it('stays at the reference under a huge anchor', async () => {
    const { reference, trainer } = await start(1e7)
    for (let s = 0; s < 20; s++) await trainer.step(items, ones)
    const tuned = await trainer.state()
    tuned.weights.forEach((v, c) => expect(Math.abs(v - reference.weights[c]!)).toBeLessThan(1e-6))
    tuned.means.forEach((v, j) => expect(Math.abs(v - reference.means[j]!)).toBeLessThan(1e-6))
    tuned.covariances.forEach((v, j) => expect(Math.abs(v - reference.covariances[j]!)).toBeLessThan(1e-9))
  })

  it('never lowers the MAP objective Σ w log p(x | θ) + a·Σw·E_ref[log p(x, z | θ)] from step to step', async () => {
    // Overlapping modes (std 0.3) and unequal weights; regCovar 0 keeps the M-step exact.
    const pr = params({ regCovar: 0 })
    const wide = (n: number, rng: Rng, modes: number): VectorSamples => {
      const out = new Float64Array(2 * n)
      for (let i = 0; i < n; i++) {
        const m = rng.int(modes)
        out[2 * i] = centers[2 * m]! + 0.3 * rng.normal()
        out[2 * i + 1] = centers[2 * m + 1]! + 0.3 * rng.normal()
      }
      return vectors(n, 2, out)
    }
    const reference = await model.fit(wide(3000, Rng.from(10, 'data'), 8), pr, fitCtx(10, ringDataset))
    const x = wide(1500, Rng.from(11, 'data'), 3)
    const wRng = Rng.from(12, 'weights')
    const w = Float64Array.from({ length: x.n }, () => 0.2 + 2 * wRng.uniform())
    const W = w.reduce((a, b) => a + b, 0)
    const anchor = 0.5
    const trainer = await model.trainer!(reference, pr, { rng: Rng.from(13, 'trainer'), dataset: ringDataset, anchor, reference })
    // E_{(x,z)~ref} log(π_z N(x | μ_z, Σ_z)) for 2-D components, written out.
    const priorTerm = (s: GmmState): number => {
      let total = 0
      for (let c = 0; c < K; c++) {
        const [a, b, , d] = Array.from(s.covariances.subarray(4 * c, 4 * c + 4))
        const det = a! * d! - b! * b!
        const inv = [d! / det, -b! / det, -b! / det, a! / det]
        const R = reference.covariances.subarray(4 * c, 4 * c + 4)
        const trace = inv[0]! * R[0]! + inv[1]! * R[2]! + inv[2]! * R[1]! + inv[3]! * R[3]!
        const dx = reference.means[2 * c]! - s.means[2 * c]!
        const dy = reference.means[2 * c + 1]! - s.means[2 * c + 1]!
        const maha = inv[0]! * dx * dx + 2 * inv[1]! * dx * dy + inv[3]! * dy * dy
        total += reference.weights[c]! * (Math.log(s.weights[c]!) - 0.5 * (2 * Math.log(2 * Math.PI) + Math.log(det) + trace + maha))
      }
      return total
    }
    const objective = async (s: GmmState): Promise<number> => {
      const ll = await model.logLikelihood!(s, x)
      return ll.reduce((acc, v, i) => acc + w[i]! * v, 0) + anchor * W * priorTerm(s)
    }
    let previous = await objective(await trainer.state())
    const first = previous
    for (let s = 0; s < 40; s++) {
      await trainer.step(x, w)
      const now = await objective(await trainer.state())
      expect(now).toBeGreaterThanOrEqual(previous - 1e-9 * Math.abs(previous))
      previous = now
    }
    expect(previous - first).toBeGreaterThan(1)
  })

  it('reports the weighted mean negative log-likelihood of the items before the step as its loss', async () => {
    const { reference, trainer } = await start(0)
    const w = Float64Array.from({ length: items.n }, (_, i) => 1 + (i % 3))
    const report = await trainer.step(items, w)
    const ll = await model.logLikelihood!(reference, items)
    const expected = -ll.reduce((acc, v, i) => acc + w[i]! * v, 0) / w.reduce((a, b) => a + b, 0)
    expect(report.losses!['loss']).toBeCloseTo(expected, 10)
  })
})
