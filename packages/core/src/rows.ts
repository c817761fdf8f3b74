import { vectors, type VectorSamples } from './samples.js'

/**
 * A vector training set read on demand instead of held whole. `accumulate` over many generations
 * of MNIST-sized samples reaches gigabytes; a model that trains on minibatches needs only the rows
 * of one batch at a time, so the scheduler hands it the training set as rows that stay in the
 * generations' sample files until read.
 */
export interface RowSource {
  readonly n: number
  readonly d: number
  /** Copies row rows[i] to out[i·d ..], in that order; out holds at least rows.length · d values. */
  read(rows: ArrayLike<number>, out: Float64Array | Float32Array): void
  /** Releases what reading holds open (file handles); the owner calls it when done. */
  close?(): void
}

/** The rows of samples held in memory. */
export function memoryRows(s: VectorSamples): RowSource {
  const { n, d, data } = s
  return {
    n,
    d,
    read(rows, out) {
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!
        if (!(r >= 0 && r < n)) throw new RangeError(`row ${r} is outside 0..${n - 1}`)
        for (let j = 0; j < d; j++) out[i * d + j] = data[r * d + j]!
      }
    },
  }
}

/** Rows start .. start + count of src, in order, into `out`. */
export function readRange<T extends Float64Array | Float32Array>(src: RowSource, start: number, count: number, out: T): T {
  const rows = new Uint32Array(count)
  for (let i = 0; i < count; i++) rows[i] = start + i
  src.read(rows, out)
  return out
}

/** Every row of src in order, `chunk` rows at a time: a pass over the data in bounded memory. */
export function* rowChunks(src: RowSource, chunk = 4096): Generator<VectorSamples> {
  for (let start = 0; start < src.n; start += chunk) {
    const count = Math.min(chunk, src.n - start)
    yield vectors(count, src.d, readRange(src, start, count, new Float64Array(count * src.d)))
  }
}

/** All rows of src in one array (for models that need the whole set at once). */
export function allRows(src: RowSource): VectorSamples {
  return vectors(src.n, src.d, readRange(src, 0, src.n, new Float64Array(src.n * src.d)))
}

/** The parts one after another. */
export function concatRows(parts: readonly RowSource[]): RowSource {
  if (parts.length === 0) throw new RangeError('concatRows: nothing to concatenate')
  const d = parts[0]!.d
  const starts = new Float64Array(parts.length + 1)
  for (const [i, p] of parts.entries()) {
    if (p.d !== d) throw new RangeError(`concatRows: dimension ${p.d} differs from ${d}`)
    starts[i + 1] = starts[i]! + p.n
  }
  const n = starts[parts.length]!
  return {
    n,
    d,
    read(rows, out) {
      // Rows are grouped by part (a counting sort, keeping their order within a part) so that each
      // part reads all of its rows in one call.
      const first = new Uint32Array(parts.length + 1)
      const partOf = new Uint32Array(rows.length)
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!
        if (!(r >= 0 && r < n)) throw new RangeError(`row ${r} is outside 0..${n - 1}`)
        let lo = 0
        let hi = parts.length - 1
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1
          if (starts[mid]! <= r) lo = mid
          else hi = mid - 1
        }
        partOf[i] = lo
        first[lo + 1]!++
      }
      for (let p = 0; p < parts.length; p++) first[p + 1]! += first[p]!
      const local = new Uint32Array(rows.length)
      const where = new Uint32Array(rows.length)
      const next = first.slice(0, parts.length)
      for (let i = 0; i < rows.length; i++) {
        const p = partOf[i]!
        const k = next[p]!++
        local[k] = rows[i]! - starts[p]!
        where[k] = i
      }
      const buf = new Float64Array(rows.length * d)
      for (let p = 0; p < parts.length; p++) {
        const from = first[p]!
        const to = first[p + 1]!
        if (from === to) continue
        parts[p]!.read(local.subarray(from, to), buf.subarray(from * d, to * d))
      }
      for (let k = 0; k < rows.length; k++) for (let j = 0; j < d; j++) out[where[k]! * d + j] = buf[k * d + j]!
    },
    close() {
      for (const p of parts) p.close?.()
    },
  }
}

/** Rows picked[0], picked[1], … of src: a subsample, or the first rows. */
export function pickRows(src: RowSource, picked: ArrayLike<number>): RowSource {
  return {
    n: picked.length,
    d: src.d,
    read(rows, out) {
      const mapped = new Float64Array(rows.length)
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!
        if (!(r >= 0 && r < picked.length)) throw new RangeError(`row ${r} is outside 0..${picked.length - 1}`)
        mapped[i] = picked[r]!
      }
      src.read(mapped, out)
    },
    close() {
      src.close?.()
    },
  }
}
