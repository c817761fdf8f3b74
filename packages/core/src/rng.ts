/**
 * Seeded random numbers. Every random draw in a run comes from an Rng derived from
 * (run seed, chain, generation, stage), so results never depend on worker count or
 * scheduling order.
 *
 * The generator is xoshiro128** (Blackman & Vigna) seeded through splitmix32. It is written
 * here rather than taken from pure-rand because sampling loops draw millions of normals per
 * generation and need a mutable generator with no allocation per draw, plus streams keyed by
 * strings.
 */
export type StreamKey = string | number

export class Rng {
  private s0: number
  private s1: number
  private s2: number
  private s3: number
  private spare = 0
  private hasSpare = false

  private constructor(s0: number, s1: number, s2: number, s3: number) {
    this.s0 = s0
    this.s1 = s1
    this.s2 = s2
    this.s3 = s3
  }

  /** A generator for the stream named by `keys` under `seed`. */
  static from(seed: number, ...keys: StreamKey[]): Rng {
    let h = hashKeys(seed, keys)
    const next = (): number => {
      h = (h + 0x9e3779b9) | 0
      let z = h
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad)
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97)
      return (z ^ (z >>> 15)) >>> 0
    }
    const r = new Rng(next(), next(), next(), next())
    if ((r.s0 | r.s1 | r.s2 | r.s3) === 0) r.s0 = 1
    return r
  }

  /** An independent child stream; does not advance this generator. */
  derive(...keys: StreamKey[]): Rng {
    return Rng.from(this.s0 ^ Math.imul(this.s1, 31) ^ Math.imul(this.s2, 131) ^ this.s3, ...keys)
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0
    const t = this.s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5
    const b = this.nextUint32() >>> 6
    return (a * 67108864 + b) / 9007199254740992
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (n <= 0x100000000) {
      // Lemire's method would avoid the division, but rejection keeps it exactly uniform and simple.
      const limit = 0x100000000 - (0x100000000 % n)
      for (;;) {
        const x = this.nextUint32()
        if (x < limit) return x % n
      }
    }
    return Math.floor(this.uniform() * n)
  }

  /** Standard normal draw (Marsaglia polar method, spare value kept). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false
      return this.spare
    }
    for (;;) {
      const u = 2 * this.uniform() - 1
      const v = 2 * this.uniform() - 1
      const s = u * u + v * v
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s)
        this.spare = v * m
        this.hasSpare = true
        return u * m
      }
    }
  }

  /**
   * out[i] = mean + std · z for `end − start` standard normal draws z: the same values, in the same
   * order, as that many normal() calls, about two and a half times as fast: cheap chains spend most
   * of their time here. The generator's state and the polar method are inlined, and the draws go in
   * two passes over a chunk of pairs: first the uniforms, each accepted pair kept without a branch
   * (a rejection is random, so a branch on it is mispredicted one time in five), then the
   * logarithms, whose independent calls the processor overlaps.
   */
  fillNormal(out: Float64Array, mean = 0, std = 1, start = 0, end = out.length): Float64Array {
    let i = start
    if (i < end && this.hasSpare) {
      this.hasSpare = false
      out[i++] = mean + std * this.spare
    }
    let s0 = this.s0
    let s1 = this.s1
    let s2 = this.s2
    let s3 = this.s3
    while (i < end) {
      // Exactly the pairs this chunk needs: the generator stops where normal() calls would leave it.
      const pairs = Math.min(CHUNK_PAIRS, (end - i + 1) >> 1)
      let accepted = 0
      while (accepted < pairs) {
        // Four nextUint32 draws: two 53-bit uniforms, as uniform() makes them.
        let r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
        let t = s1 << 9
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 11)
        const a0 = r >>> 5
        r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
        t = s1 << 9
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 11)
        const u = 2 * ((a0 * 67108864 + (r >>> 6)) / 9007199254740992) - 1
        r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
        t = s1 << 9
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 11)
        const b0 = r >>> 5
        r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
        t = s1 << 9
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 11)
        const v = 2 * ((b0 * 67108864 + (r >>> 6)) / 9007199254740992) - 1
        const q = u * u + v * v
        // Written always, kept when 0 < q < 1: the next pair overwrites a rejected one.
        pairU[accepted] = u
        pairV[accepted] = v
        pairQ[accepted] = q
        accepted += ((q > 0) as unknown as number) & ((q < 1) as unknown as number)
      }
      let k = 0
      for (; k < pairs && i + 1 < end; k++) {
        const q = pairQ[k]!
        const m = Math.sqrt((-2 * Math.log(q)) / q)
        out[i] = mean + std * (pairU[k]! * m)
        out[i + 1] = mean + std * (pairV[k]! * m)
        i += 2
      }
      if (k < pairs) {
        // An odd count: the last pair's second value is the spare, as normal() keeps it.
        const q = pairQ[k]!
        const m = Math.sqrt((-2 * Math.log(q)) / q)
        out[i++] = mean + std * (pairU[k]! * m)
        this.spare = pairV[k]! * m
        this.hasSpare = true
      }
    }
    this.s0 = s0
    this.s1 = s1
    this.s2 = s2
    this.s3 = s3
    return out
  }

  /** Index drawn from unnormalised non-negative weights. */
  categorical(weights: ArrayLike<number>, total?: number): number {
    let sum = total ?? 0
    if (total === undefined) for (let i = 0; i < weights.length; i++) sum += weights[i]!
    let u = this.uniform() * sum
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i]!
      if (u < 0) return i
    }
    return weights.length - 1
  }

  /** Fisher-Yates permutation of 0..n-1. */
  permutation(n: number): Uint32Array {
    const p = new Uint32Array(n)
    for (let i = 0; i < n; i++) p[i] = i
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const t = p[i]!
      p[i] = p[j]!
      p[j] = t
    }
    return p
  }
}

/** fillNormal's accepted pairs (u, v, u² + v²), a chunk at a time; a thread's fills never overlap. */
const CHUNK_PAIRS = 256
const pairU = new Float64Array(CHUNK_PAIRS)
const pairV = new Float64Array(CHUNK_PAIRS)
const pairQ = new Float64Array(CHUNK_PAIRS)

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}

/** FNV-1a over the seed's two 32-bit halves and the keys' UTF-16 code units. */
function hashKeys(seed: number, keys: readonly StreamKey[]): number {
  let h = 0x811c9dc5
  const mix = (x: number): void => {
    h ^= x & 0xffff
    h = Math.imul(h, 0x01000193)
    h ^= x >>> 16
    h = Math.imul(h, 0x01000193)
  }
  mix(seed >>> 0)
  mix(Math.floor(seed / 0x100000000) >>> 0)
  for (const key of keys) {
    mix(typeof key === 'number' ? 0x6e756d00 : 0x73747200)
    if (typeof key === 'number') {
      mix(key >>> 0)
      mix(Math.floor(key / 0x100000000) >>> 0)
    } else {
      for (let i = 0; i < key.length; i++) mix(key.charCodeAt(i))
      mix(key.length)
    }
  }
  return h >>> 0
}
