import { createHash } from 'node:crypto'
import { isAbsolute } from 'node:path'
import { z } from 'zod'
import { changedFileError, defineDataset, inputError, OuroborosError, Rng, takeSamples, UNKNOWN_WORD, type DatasetInstance, type Samples, type VectorSamples } from '@ouroboros/core'
import { readInput, readTokenFile, readVectorFile } from '@ouroboros/store'

/**
 * Data of one's own, from a file, read as `ouroboros eval` reads its files: `text-file` holds one
 * sequence a line (words lower-cased and split on whitespace, as the Brown corpus is tokenised),
 * `vector-file` one sample a row (.npy, .csv with an optional header row, or .json). As with the
 * Brown corpus and MNIST, the rows are split once, by `splitSeed`, into training rows (what
 * `sample` draws from, without replacement) and held-out rows (`heldout`), the same split for every
 * chain; a config's data.n defaults to every training row.
 */
const params = z.strictObject({
  /** The file; a config's relative path is taken from the config file's folder. */
  path: z.string().min(1),
  /** Share of the rows held out from training. */
  heldoutFraction: z.number().gt(0).lt(1).default(0.1),
  splitSeed: z.int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  /** The file's SHA-256 (hex); a run records it, and a resume of the run refuses a file that has changed. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits').optional(),
})
type FileParams = z.output<typeof params>

export const textFile = defineDataset({
  id: 'text-file',
  modality: 'tokens',
  description: 'Your own text: one sequence a line of a .txt file (lower-cased words), split into training and held-out lines',
  params,
  limits: (p) => sizes(text(p).samples.n, p),
  pin,
  create(p): DatasetInstance {
    const file = text(p)
    return {
      // The vocabulary starts with <unk>, as Brown's: the text models write the words they do not keep as it.
      info: { kind: 'text-file', modality: 'tokens', vocabulary: file.vocabulary },
      ...drawers(file.samples, p, 'lines'),
    }
  },
})

export const vectorFile = defineDataset({
  id: 'vector-file',
  modality: 'vectors',
  description: 'Your own vectors: one sample a row of a .npy, .csv or .json file, split into training and held-out rows',
  params,
  limits: (p) => sizes(vectorRows(p).n, p),
  pin,
  create(p): DatasetInstance {
    const file = vectorRows(p)
    return {
      info: { kind: 'vector-file', modality: 'vectors', d: file.d },
      ...drawers(file, p, 'rows'),
    }
  },
})

/**
 * The file's SHA-256 recorded in its parameters, for a resume to check. One the config gives must
 * be the file's: it is not the run's (a run records its own), so its words are not a resume's.
 */
function pin(p: FileParams): FileParams {
  const now = sha256Of(p.path)
  if (p.sha256 !== undefined && p.sha256 !== now) {
    throw inputError(`data.sha256: ${p.sha256.slice(0, 12)}… is not the SHA-256 of ${p.path}, which is ${now}`, 'correct data.sha256, or leave it out: a run records the SHA-256 of its files itself')
  }
  return { ...p, sha256: now }
}

/** One parsed copy of each file per thread. */
const texts = new Map<string, ReturnType<typeof readTokenFile>>()
const tables = new Map<string, VectorSamples>()

function text(p: FileParams): ReturnType<typeof readTokenFile> {
  unchanged(p)
  let file = texts.get(p.path)
  if (file === undefined) texts.set(p.path, (file = read(() => readTokenFile(checked(p.path), [UNKNOWN_WORD]))))
  return file
}

function vectorRows(p: FileParams): VectorSamples {
  unchanged(p)
  let file = tables.get(p.path)
  if (file === undefined) tables.set(p.path, (file = read(() => readVectorFile(checked(p.path)))))
  return file
}

/** SHA-256 of each file, once per thread. */
const hashes = new Map<string, string>()

function sha256Of(path: string): string {
  let hash = hashes.get(path)
  if (hash === undefined) hashes.set(path, (hash = read(() => createHash('sha256').update(readInput(checked(path))).digest('hex'))))
  return hash
}

/** A file pinned by its run (`sha256`) must still be the file the run began with. */
function unchanged(p: FileParams): void {
  if (p.sha256 === undefined) return
  const now = sha256Of(p.path)
  if (now !== p.sha256) throw changedFileError('data', p.path, p.sha256, now)
}

/** The reader's error (the file, and the row or what is wrong) under the config field that named the file. */
function read<T>(reader: () => T): T {
  try {
    return reader()
  } catch (err) {
    if (err instanceof OuroborosError) throw new OuroborosError(err.code, `data.path: ${err.message}`, { cause: err, ...(err.hint === undefined ? {} : { hint: err.hint }) })
    throw err
  }
}

/** A relative path here would depend on the folder each worker was started in: configs anchor theirs to the config file. */
function checked(path: string): string {
  if (!isAbsolute(path)) throw inputError(`'${path}' is not an absolute path`, 'give it in a config file (a relative path is taken from the config\'s folder) or as an absolute path')
  return path
}

function sizes(rowsInFile: number, p: FileParams): { n: number; heldout: number } {
  const { train, heldout } = split(rowsInFile, p)
  return { n: train.length, heldout: heldout.length }
}

function drawers(all: Samples, p: FileParams, unit: string): Pick<DatasetInstance, 'sample' | 'heldout'> {
  const { train, heldout } = split(all.n, p)
  const draw = (pool: Uint32Array, what: string, n: number, rng: Rng): Samples => {
    if (n > pool.length) {
      throw inputError(`${p.path}: its ${what} split has ${pool.length} ${unit}, ${n} were asked for`, `ask for at most ${pool.length} (data.n, heldout, policy sizes) or change data.heldoutFraction`)
    }
    const order = rng.permutation(pool.length)
    return takeSamples(all, Array.from(order.subarray(0, n), (i) => pool[i]!))
  }
  return {
    sample: (n, rng) => draw(train, 'training', n, rng),
    // Distinct held-out rows in random order; `sample` never returns them.
    heldout: (n, rng) => draw(heldout, 'held-out', n, rng),
  }
}

/** The rows held out (at least one) and the training rows, each in file order. */
function split(rowsInFile: number, p: FileParams): { train: Uint32Array; heldout: Uint32Array } {
  if (rowsInFile < 2) throw inputError(`data.path: ${p.path}: ${rowsInFile} row${rowsInFile === 1 ? '' : 's'}; a training row and a held-out one are the least`)
  const order = Rng.from(p.splitSeed, 'file-split').permutation(rowsInFile)
  const h = Math.min(rowsInFile - 1, Math.max(1, Math.round(rowsInFile * p.heldoutFraction)))
  return { heldout: order.slice(0, h).sort(), train: order.slice(h).sort() }
}
