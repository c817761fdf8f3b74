import { serialize } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { Rng, concatSamples, headSamples, samplesAreFinite, vectors } from '@ouroboros/core'
import type { DatasetInfo, FitContext, ModelPlugin, ModelTrainer, SampleContext, Samples } from '@ouroboros/core'
import { samplesEqual } from './samples.js'

export interface PosttrainConformanceOptions {
  /** Valid hyperparameters as a config would give them. */
  readonly params: unknown
  /** Training data, drawn from the given generator. Keep it small: the suite fits many times. */
  readonly data: (rng: Rng) => Samples
  readonly dataset: DatasetInfo
  /**
   * Largest difference, per held-out item, between the log-likelihoods of two fits that must give
   * the same distribution (fitWeighted with equal weights and fit; weights and the same weights
   * scaled): about 1e-12 for fits that are closed-form in the weights (rounding in sums), more for
   * iterative fits that stop at a tolerance.
   */
  readonly tolerance: number
  /** Set where klDivergence is exact for states fit with these params: KL(p‖p) = 0 and KL(p‖q) > 0 are checked. */
  readonly exactKl?: boolean
  /** Set for trainers whose steps take only equal weights (a GAN's real batch): unequal ones must be refused. */
  readonly equalStepWeights?: boolean
}

const FIT_SEED = 31
const SAMPLE_SEED = 37

/**
 * Registers the checks of the post-training hooks (fitWeighted, trainer, klDivergence) that hold
 * for every model that has them. Call it at the top level of a test file.
 */
export function runPosttrainConformance<P, S>(model: ModelPlugin<P, S>, options: PosttrainConformanceOptions): void {
  const { dataset, tolerance } = options
  const params = (): P => model.params.parse(options.params)
  const fitCtx = (seed = FIT_SEED): FitContext<S> => ({ rng: Rng.from(seed, 'fit'), generation: 0, dataset })
  const sampleCtx = (seed = SAMPLE_SEED): SampleContext => ({ rng: Rng.from(seed, 'sample'), temperature: 1, dataset })
  const training = (): Samples => options.data(Rng.from(FIT_SEED, 'data'))
  const heldout = (): Samples => options.data(Rng.from(FIT_SEED + 1, 'data'))
  /** Positive weights that differ from item to item, so that a check cannot pass by ignoring them. */
  const unequalWeights = (n: number, seed = 1): Float64Array => {
    const rng = Rng.from(seed, 'weights')
    return Float64Array.from({ length: n }, () => 0.25 + rng.uniform())
  }

  /** Two states give the same distribution: equal log-likelihoods on held-out data, else equal samples. */
  const expectSameDistribution = async (a: S, b: S, within = tolerance): Promise<void> => {
    if (model.logLikelihood === undefined) {
      expect(samplesEqual(await model.sample(a, 200, sampleCtx()), await model.sample(b, 200, sampleCtx()))).toBe(true)
      return
    }
    const data = heldout()
    const la = await model.logLikelihood(a, data)
    const lb = await model.logLikelihood(b, data)
    let worst = 0
    for (let i = 0; i < la.length; i++) worst = Math.max(worst, Math.abs(la[i]! - lb[i]!))
    expect(worst).toBeLessThanOrEqual(within)
  }

  const expectInputError = async (run: () => unknown, message: RegExp): Promise<void> => {
    await expect((async () => run())()).rejects.toMatchObject({ code: 'OUROBOROS_INPUT', message: expect.stringMatching(message) })
  }

  describe(`model '${model.id}' post-training conformance`, () => {
    if (model.fitWeighted !== undefined) {
      const fitWeighted = model.fitWeighted.bind(model)

      it('fitWeighted refuses weights of the wrong length, negative, NaN or all zero, with an input error', async () => {
        const data = training()
        const n = data.n
        await expectInputError(() => fitWeighted(data, new Float64Array(n - 1).fill(1), params(), fitCtx()), new RegExp(`${n - 1} weights for ${n} items`))
        await expectInputError(() => fitWeighted(data, new Float64Array(n + 1).fill(1), params(), fitCtx()), new RegExp(`${n + 1} weights for ${n} items`))
        const negative = new Float64Array(n).fill(1)
        negative[3] = -0.5
        await expectInputError(() => fitWeighted(data, negative, params(), fitCtx()), /weight 3 is -0.5/)
        const nan = new Float64Array(n).fill(1)
        nan[0] = NaN
        await expectInputError(() => fitWeighted(data, nan, params(), fitCtx()), /weight 0 is NaN/)
        await expectInputError(() => fitWeighted(data, new Float64Array(n), params(), fitCtx()), /weight/)
      })

      it('fitWeighted with equal weights gives the distribution fit gives', async () => {
        const data = training()
        const plain = await model.fit(data, params(), fitCtx())
        const weighted = await fitWeighted(data, new Float64Array(data.n).fill(0.37), params(), fitCtx())
        await expectSameDistribution(weighted, plain)
      })

      it('fitWeighted depends only on the ratios of the weights', async () => {
        const data = training()
        const w = unequalWeights(data.n)
        const a = await fitWeighted(data, w, params(), fitCtx())
        const b = await fitWeighted(data, w.map((v) => v * 1e6), params(), fitCtx())
        await expectSameDistribution(a, b)
      })

      it('fitWeighted ignores items of weight 0', async () => {
        const data = training()
        const w = unequalWeights(data.n)
        // Other items, moved far away where they are vectors, so that any influence shows.
        let junk = options.data(Rng.from(FIT_SEED + 2, 'data'))
        if (junk.modality === 'vectors') junk = vectors(junk.n, junk.d, junk.data.map((v) => 100 + 10 * v))
        const padded = concatSamples([data, junk])
        const paddedWeights = new Float64Array(padded.n)
        paddedWeights.set(w)
        const a = await fitWeighted(data, w, params(), fitCtx())
        const b = await fitWeighted(padded, paddedWeights, params(), fitCtx())
        await expectSameDistribution(a, b)
      })

      it('fitWeighted is deterministic for a seed, leaves its inputs alone, and gives a state that survives structuredClone', async () => {
        const data = training()
        const w = unequalWeights(data.n)
        const dataBefore = serialize(data)
        const weightsBefore = serialize(w)
        const a = await fitWeighted(data, w, params(), fitCtx())
        const b = await fitWeighted(data, w, params(), fitCtx())
        expect(Buffer.compare(serialize(a), serialize(b))).toBe(0)
        expect(Buffer.compare(serialize(data), dataBefore)).toBe(0)
        expect(Buffer.compare(serialize(w), weightsBefore)).toBe(0)
        const out = await model.sample(a, 50, sampleCtx())
        expect(out.n).toBe(50)
        expect(samplesAreFinite(out)).toBe(true)
        expect(samplesEqual(await model.sample(structuredClone(a), 50, sampleCtx()), out)).toBe(true)
      })
    }

    if (model.trainer !== undefined) {
      const trainer = model.trainer.bind(model)
      const start = async (seed = 1, anchor = 0): Promise<{ state: S; trainer: ModelTrainer<S> }> => {
        const state = await model.fit(training(), params(), fitCtx())
        return { state, trainer: await trainer(structuredClone(state), params(), { rng: Rng.from(seed, 'trainer'), dataset, anchor, reference: state }) }
      }
      /** Items of other data than the fit's, as many as a step takes. */
      const batchOf = (t: ModelTrainer<S>, seed = 2): Samples => {
        const items = options.data(Rng.from(FIT_SEED + seed, 'data'))
        return t.batch === 'all' ? items : headSamples(items, t.batch)
      }

      it("declares its batch ('all' or a positive integer) and whether steps take signed weights", async () => {
        const { trainer: t } = await start()
        if (t.batch !== 'all') expect(Number.isInteger(t.batch) && t.batch > 0).toBe(true)
        expect(typeof t.signedWeights).toBe('boolean')
      })

      it('starts from the state it was given', async () => {
        const { state, trainer: t } = await start()
        await expectSameDistribution(await t.state(), state, 0)
      })

      it('gives state() snapshots that survive structuredClone and later steps, and reports finite losses', async () => {
        const { trainer: t } = await start()
        const items = batchOf(t)
        const report = await t.step(items, new Float64Array(items.n).fill(1))
        for (const v of Object.values(report.losses ?? {})) expect(Number.isFinite(v)).toBe(true)
        const snapshot = await t.state()
        const bytes = serialize(snapshot)
        const out = await model.sample(snapshot, 50, sampleCtx())
        expect(samplesAreFinite(out)).toBe(true)
        expect(samplesEqual(await model.sample(structuredClone(snapshot), 50, sampleCtx()), out)).toBe(true)
        await t.step(batchOf(t, 3), new Float64Array(items.n).fill(1))
        expect(Buffer.compare(serialize(snapshot), bytes)).toBe(0)
      })

      it('leaves the distribution unchanged after a step whose weights are all 0 (no anchor)', async () => {
        const { state, trainer: t } = await start()
        const items = batchOf(t)
        await t.step(items, new Float64Array(items.n))
        await expectSameDistribution(await t.state(), state, 0)
      })

      it('takes the same steps for the same seed', async () => {
        const run = async (): Promise<Buffer> => {
          const { trainer: t } = await start(5, 0.5)
          for (let s = 0; s < 3; s++) {
            const items = batchOf(t, 2 + s)
            await t.step(items, options.equalStepWeights === true ? new Float64Array(items.n).fill(0.5) : unequalWeights(items.n, s))
          }
          return serialize(await t.state())
        }
        expect(Buffer.compare(await run(), await run())).toBe(0)
      })

      it('refuses step weights of the wrong length (and negative ones unless it takes signed weights)', async () => {
        const { trainer: t } = await start()
        const items = batchOf(t)
        await expectInputError(() => t.step(items, new Float64Array(items.n + 1).fill(1)), new RegExp(`${items.n + 1} weights for ${items.n} items`))
        if (!t.signedWeights) {
          const negative = new Float64Array(items.n).fill(1)
          negative[1] = -1
          await expectInputError(() => t.step(items, negative), /weight 1 is -1/)
        }
        if (options.equalStepWeights === true) await expectInputError(() => t.step(items, unequalWeights(items.n)), /weight/)
      })
    }

    if (model.klDivergence !== undefined && options.exactKl === true) {
      it('gives KL(p‖p) = 0 and a finite KL(p‖q) > 0 between fits to different data', async () => {
        const p = await model.fit(training(), params(), fitCtx())
        const q = await model.fit(heldout(), params(), fitCtx())
        expect(model.klDivergence!(p, structuredClone(p))).toBeCloseTo(0, 12)
        const kl = model.klDivergence!(p, q)
        expect(Number.isFinite(kl)).toBe(true)
        expect(kl).toBeGreaterThan(0)
      })
    }
  })
}
