/**
 * Interns (context, word) pairs of non-negative int32s to dense ids 0, 1, 2, ... in order of first
 * insertion: open addressing with linear probing over typed arrays. Counting a million-token
 * corpus through a Map with string or packed-number keys is several times slower and allocates
 * per entry; this is the table the n-gram fit spends its time in.
 */
export class PairTable {
  private slots: Int32Array
  private mask: number
  private ctxs: Int32Array
  private words: Int32Array
  size = 0

  constructor(expected = 1024) {
    let capacity = 1024
    while (capacity < expected * 2) capacity *= 2
    this.slots = new Int32Array(capacity).fill(-1)
    this.mask = capacity - 1
    this.ctxs = new Int32Array(capacity >>> 1)
    this.words = new Int32Array(capacity >>> 1)
  }

  /** The id of (ctx, word); a new pair gets the next id. */
  intern(ctx: number, word: number): number {
    // Room for one more pair at a load factor of at most 1/2, so that probes stay short.
    if ((this.size + 1) * 2 > this.slots.length) this.grow()
    let i = hash(ctx, word) & this.mask
    for (;;) {
      const id = this.slots[i]!
      if (id === -1) break
      if (this.ctxs[id] === ctx && this.words[id] === word) return id
      i = (i + 1) & this.mask
    }
    const id = this.size++
    this.slots[i] = id
    this.ctxs[id] = ctx
    this.words[id] = word
    return id
  }

  ctxOf(id: number): number {
    return this.ctxs[id]!
  }

  wordOf(id: number): number {
    return this.words[id]!
  }

  private grow(): void {
    const capacity = this.slots.length * 2
    this.slots = new Int32Array(capacity).fill(-1)
    this.mask = capacity - 1
    const ctxs = new Int32Array(capacity >>> 1)
    const words = new Int32Array(capacity >>> 1)
    ctxs.set(this.ctxs)
    words.set(this.words)
    this.ctxs = ctxs
    this.words = words
    for (let id = 0; id < this.size; id++) {
      let i = hash(ctxs[id]!, words[id]!) & this.mask
      while (this.slots[i] !== -1) i = (i + 1) & this.mask
      this.slots[i] = id
    }
  }
}

function hash(a: number, b: number): number {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)
  h ^= h >>> 15
  h = Math.imul(h, 0xc2b2ae3d)
  return (h ^ (h >>> 13)) >>> 0
}
