import { inputError, memoryRows, type BlockFitContext, type BlockSampleContext, type ModelBlocks, type Rng, type RowSource, type VectorBlock } from '@ouroboros/core'
import { Adam, loadTf, meanSquaredNorm } from '@ouroboros/tf'
import { adamOptions, checkRange, decode, finalCheck, fitStreams, minibatch, negElboGradient, nets, permutation, type VaeParams, type VaeState } from './vae.js'

/**
 * A block of VAEs trained together: chain c's parameters at [c·size, (c + 1)·size) of one array,
 * in the layout of one network's (encoder, then decoder).
 */
export interface VaeBlock {
  readonly chains: number
  readonly d: number
  readonly latent: number
  readonly hidden: readonly number[]
  readonly likelihood: VaeParams['likelihood']
  readonly obsStd: number
  readonly size: number
  readonly weights: Float32Array
  /** Optimiser steps of every chain (they share n and the batch size). */
  readonly steps: number
  readonly negElbo: Float64Array
}

/** Chain c's share of a block fit: its rows, its slot of the parameters, its own streams. */
interface Replicate {
  readonly rows: RowSource
  readonly weights: Float32Array
  readonly batches: Rng
  readonly noise: Rng
  readonly eval: Rng
  readonly dataScale: number
}

/**
 * Trains every chain of the block in one loop: each step computes every chain's gradient into one
 * array with a leading chain axis and applies one Adam update to the whole parameter array (Adam
 * is elementwise and the chains take their steps together, so this is each chain's own Adam).
 * Each chain draws its initial weights, minibatch orders and noise from its own streams exactly as
 * `fitVae` does, and its gradient is the same sequence of tfjs ops on the same shapes as `fitVae`
 * runs alone, so chain c's state is `fitVae`'s bit for bit.
 *
 * The tensor work stays per chain. On the wasm backend a rank-3 tf.matMul (a chain axis in front)
 * runs a scalar loop instead of XNNPACK: 2.2 GFLOP/s against 18.5 for 2-D products of the same
 * size, measured, which costs far more than the per-op overhead it would save. And each chain's
 * gradient has its own tidy scope: holding every chain's intermediate tensors until one read
 * made a step 25% slower per chain than a fit alone.
 */
export async function fitVaeBlock(data: VectorBlock, params: VaeParams, ctx: BlockFitContext): Promise<VaeBlock> {
  const { chains, n, d } = data
  if (n === 0) throw inputError('vae: the training set is empty')
  // Training curves are written chain by chain: a block reports no training steps.
  if (params.evalEvery > 0) throw new Error('vae: a block does not report training steps (evalEvery)')
  const { tf } = await loadTf()
  const { encoder, decoder, size } = nets(d, params.hidden, params.latent)
  const weights = new Float32Array(chains * size)
  const replicates: Replicate[] = []
  for (let c = 0; c < chains; c++) {
    const rows = memoryRows({ modality: 'vectors', n, d, data: data.data.subarray(c * n * d, (c + 1) * n * d) })
    if (params.likelihood === 'bernoulli') checkRange(rows)
    const slot = weights.subarray(c * size, (c + 1) * size)
    const streams = fitStreams(ctx.rng(c))
    encoder.init(slot, streams.init)
    decoder.init(slot, streams.init)
    replicates.push({ rows, weights: slot, batches: streams.batches, noise: streams.noise, eval: streams.eval, dataScale: meanSquaredNorm(rows) })
  }
  const what = `vae generation ${ctx.generation(0)} (a block of ${chains} chains)`
  const optimizer = new Adam(chains * size, adamOptions(params))
  const g = new Float32Array(chains * size)
  let steps = 0
  for (let epoch = 0; epoch < params.epochs; epoch++) {
    const orders = replicates.map((r) => permutation(r.batches, n))
    for (let start = 0; start < n; start += params.batch) {
      replicates.forEach((r, c) => {
        const { values, eps } = minibatch(r.rows, orders[c]!, start, params, r.noise)
        const { grads } = tf.tidy(() => negElboGradient(tf, encoder, decoder, r.weights, values, eps, params))
        g.set(grads.dataSync(), c * size)
        grads.dispose()
      })
      optimizer.step(weights, g, what)
      steps++
    }
  }
  const negElbo = Float64Array.from(replicates, (r, c) => finalCheck(tf, encoder, decoder, r.weights, r.rows, params, r.eval, r.dataScale, `vae generation ${ctx.generation(c)}`))
  return { chains, d, latent: params.latent, hidden: [...params.hidden], likelihood: params.likelihood, obsStd: params.obsStd, size, weights, steps, negElbo }
}

export async function sampleVaeBlock(block: VaeBlock, n: number, ctx: BlockSampleContext): Promise<VectorBlock> {
  const { tf } = await loadTf()
  const { chains, d, latent, size } = block
  const { decoder } = nets(d, block.hidden, latent)
  const out = new Float64Array(chains * n * d)
  for (let c = 0; c < chains; c++) {
    out.set(decode(tf, decoder, block.weights.subarray(c * size, (c + 1) * size), n, latent, d, block.likelihood, ctx.temperature, ctx.rng(c)).data, c * n * d)
  }
  return { chains, n, d, data: out }
}

export function vaeBlockState(block: VaeBlock, c: number): VaeState {
  const { encoder, decoder } = nets(block.d, block.hidden, block.latent)
  const w = block.weights.subarray(c * block.size, (c + 1) * block.size)
  return {
    d: block.d,
    latent: block.latent,
    hidden: [...block.hidden],
    likelihood: block.likelihood,
    obsStd: block.obsStd,
    weights: [...encoder.exportWeights(w, 'encoder'), ...decoder.exportWeights(w, 'decoder')],
    steps: block.steps,
    negElbo: block.negElbo[c]!,
  }
}

export const vaeBlocks = {
  exact: true,
  fit: fitVaeBlock,
  sample: sampleVaeBlock,
  state: vaeBlockState,
  summary: (block) => ({ neg_elbo: block.negElbo, steps: new Float64Array(block.chains).fill(block.steps) }),
} satisfies ModelBlocks<VaeParams, VaeState, VaeBlock>
