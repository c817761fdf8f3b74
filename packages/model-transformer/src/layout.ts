import { inputError, type Rng } from '@ouroboros/core'
import type { NamedWeights } from '@ouroboros/tf'

/** The sizes of a network. */
export interface Dimensions {
  /** V: outcomes (kept words, `<unk>`, end of sentence); the token embedding has V rows. */
  readonly vocab: number
  /** T: positions (learned positional embeddings). */
  readonly context: number
  readonly layers: number
  readonly heads: number
  /** C: the residual width. */
  readonly dModel: number
  /** F: the MLP's hidden width. */
  readonly ffn: number
}

/** One parameter tensor's place in the flat parameter array. */
export interface Slot {
  readonly name: string
  readonly shape: readonly number[]
  readonly offset: number
  readonly size: number
  /** AdamW decays the 2-D tensors (matrices and embeddings), not biases and LayerNorm gains. */
  readonly decay: boolean
  readonly init: 'normal' | 'zeros' | 'ones'
}

/** Offsets of one block's tensors. Linear weights are [in, out] (y = x·W + b). */
export interface BlockSlots {
  readonly ln1Gain: Slot
  readonly ln1Bias: Slot
  readonly qkvWeight: Slot
  readonly qkvBias: Slot
  readonly projWeight: Slot
  readonly projBias: Slot
  readonly ln2Gain: Slot
  readonly ln2Bias: Slot
  readonly fcWeight: Slot
  readonly fcBias: Slot
  readonly outWeight: Slot
  readonly outBias: Slot
}

/**
 * Every parameter in one Float32Array, named as nanoGPT names them: wte [V, C] (the token
 * embedding, which is also the output layer: logits = x·wteᵀ), wpe [T, C], per block h.l.ln_1,
 * attn.c_attn (the query, key and value projections side by side, [C, 3C]), attn.c_proj, ln_2,
 * mlp.c_fc, mlp.c_proj, and ln_f.
 */
export class Layout {
  readonly slots: readonly Slot[]
  readonly size: number
  readonly wte: Slot
  readonly wpe: Slot
  readonly blocks: readonly BlockSlots[]
  readonly lnfGain: Slot
  readonly lnfBias: Slot

  constructor(readonly dims: Dimensions) {
    const { vocab: V, context: T, layers, dModel: C, ffn: F } = dims
    const slots: Slot[] = []
    let offset = 0
    const add = (name: string, shape: number[], init: Slot['init']): Slot => {
      const size = shape.reduce((a, b) => a * b, 1)
      const slot = { name, shape, offset, size, decay: shape.length === 2, init }
      slots.push(slot)
      offset += size
      return slot
    }
    this.wte = add('wte', [V, C], 'normal')
    this.wpe = add('wpe', [T, C], 'normal')
    const blocks: BlockSlots[] = []
    for (let l = 0; l < layers; l++) {
      blocks.push({
        ln1Gain: add(`h.${l}.ln_1.weight`, [C], 'ones'),
        ln1Bias: add(`h.${l}.ln_1.bias`, [C], 'zeros'),
        qkvWeight: add(`h.${l}.attn.c_attn.weight`, [C, 3 * C], 'normal'),
        qkvBias: add(`h.${l}.attn.c_attn.bias`, [3 * C], 'zeros'),
        projWeight: add(`h.${l}.attn.c_proj.weight`, [C, C], 'normal'),
        projBias: add(`h.${l}.attn.c_proj.bias`, [C], 'zeros'),
        ln2Gain: add(`h.${l}.ln_2.weight`, [C], 'ones'),
        ln2Bias: add(`h.${l}.ln_2.bias`, [C], 'zeros'),
        fcWeight: add(`h.${l}.mlp.c_fc.weight`, [C, F], 'normal'),
        fcBias: add(`h.${l}.mlp.c_fc.bias`, [F], 'zeros'),
        outWeight: add(`h.${l}.mlp.c_proj.weight`, [F, C], 'normal'),
        outBias: add(`h.${l}.mlp.c_proj.bias`, [C], 'zeros'),
      })
    }
    this.blocks = blocks
    this.lnfGain = add('ln_f.weight', [C], 'ones')
    this.lnfBias = add('ln_f.bias', [C], 'zeros')
    this.slots = slots
    this.size = offset
  }

  /** GPT-2's initialisation as the spec states it: weights and embeddings N(0, 0.02²), biases 0, gains 1. */
  init(params: Float32Array, rng: Rng): void {
    for (const s of this.slots) {
      const view = this.view(params, s)
      if (s.init === 'normal') for (let i = 0; i < s.size; i++) view[i] = 0.02 * rng.normal()
      else view.fill(s.init === 'ones' ? 1 : 0)
    }
  }

  view(params: Float32Array, s: Slot): Float32Array {
    return params.subarray(s.offset, s.offset + s.size)
  }

  /** 1 where AdamW decays the parameter. */
  decayMask(): Uint8Array {
    const mask = new Uint8Array(this.size)
    for (const s of this.slots) if (s.decay) mask.fill(1, s.offset, s.offset + s.size)
    return mask
  }

  /** Named copies of every tensor, for a state. */
  export(params: Float32Array): NamedWeights[] {
    return this.slots.map((s) => ({ name: s.name, shape: [...s.shape], data: params.slice(s.offset, s.offset + s.size) }))
  }

  /** Reads named tensors of the same shapes into params. */
  import(params: Float32Array, weights: readonly NamedWeights[], what: string): void {
    const byName = new Map(weights.map((w) => [w.name, w]))
    for (const s of this.slots) {
      const w = byName.get(s.name)
      if (w === undefined || w.shape.join('x') !== s.shape.join('x')) {
        throw inputError(`${what}: the state has ${w === undefined ? `no ${s.name}` : `${s.name} of shape ${w.shape.join('x')}`}, expected ${s.shape.join('x')}`, 'a warm start needs the same vocabulary and network sizes')
      }
      params.set(w.data, s.offset)
    }
  }
}
