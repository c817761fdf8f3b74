import { existsSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { readSamples, samplesPath, vocabularyPath, type ChainInfo, type RunInfo } from '@ouroboros/store'
import type { Samples } from '@ouroboros/core'
import { greyscalePng } from './png.js'

/**
 * Samples that are looked at rather than plotted: image data (MNIST) as a grid of digits per
 * generation, token data as a few generated sentences per generation.
 */
export interface GalleryFrame {
  /** -1 for the real data. */
  generation: number
  /** Base64 PNG of a grid of samples (image data). */
  png?: string
  /** A few samples as text (token data); '' for an empty sequence. */
  sentences?: string[]
}

export interface ChainGallery {
  chain: string
  cell: number
  kind: 'images' | 'text'
  real: GalleryFrame | null
  frames: GalleryFrame[]
  /** How many generations have a sample file; `frames` are those `shownGenerations` picks. */
  saved: number
}

export const MAX_GALLERY_GENERATIONS = 8
const GRID_COLUMNS = 8
const GRID_ROWS = 4
const SENTENCES = 6
const MAX_SENTENCE_TOKENS = 40

export { VOCABULARY_FILE } from '@ouroboros/store'

/** The image shape of vector data, from run.json's dataset facts. */
export function imageShape(info: RunInfo): { width: number; height: number } | undefined {
  const image = (info.dataset as { image?: { width?: unknown; height?: unknown } }).image
  return typeof image?.width === 'number' && typeof image.height === 'number' ? { width: image.width, height: image.height } : undefined
}

export function loadGallery(runDir: string, info: RunInfo, chain: ChainInfo, generations: readonly number[], shown: readonly number[], problems: string[]): ChainGallery | null {
  const image = imageShape(info)
  const kind = info.modality === 'tokens' ? 'text' : image !== undefined ? 'images' : undefined
  if (kind === undefined) return null
  const vocabulary = kind === 'text' ? readVocabulary(runDir, chain.id, problems) : undefined
  const frame = (path: string, generation: number): GalleryFrame | null => {
    let s: Samples
    try {
      s = readSamples(path)
    } catch (err) {
      problems.push(`${relative(runDir, path)}: ${(err as Error).message}`)
      return null
    }
    if (s.n === 0) return null
    if (s.modality === 'tokens') return { generation, sentences: sentences(s, vocabulary) }
    if (image === undefined || s.d !== image.width * image.height) return null
    return { generation, png: imageGrid(s.data, s.n, image.width, image.height).toString('base64') }
  }
  const frames = shown
    .map((g) => frame(samplesPath(runDir, chain.id, g, info.modality), g))
    .filter((f): f is GalleryFrame => f !== null)
  if (frames.length === 0) return null
  const realPath = samplesPath(runDir, chain.id, 'real', info.modality)
  return { chain: chain.id, cell: chain.cell, kind, real: existsSync(realPath) ? frame(realPath, -1) : null, frames, saved: generations.length }
}

/** The words of a chain's cell. */
function readVocabulary(runDir: string, chain: string, problems: string[]): readonly string[] | undefined {
  const path = vocabularyPath(runDir, chain)
  if (!existsSync(path)) return undefined
  try {
    const words = JSON.parse(readFileSync(path, 'utf8')) as unknown
    return Array.isArray(words) ? words.map(String) : undefined
  } catch (err) {
    problems.push(`${relative(runDir, path)}: ${(err as Error).message}`)
    return undefined
  }
}

/** A strided handful of sequences, as words (or token ids where no vocabulary was saved). */
function sentences(s: Extract<Samples, { modality: 'tokens' }>, vocabulary: readonly string[] | undefined): string[] {
  const out: string[] = []
  const count = Math.min(SENTENCES, s.n)
  for (let i = 0; i < count; i++) {
    const row = Math.floor((i * s.n) / count)
    const start = s.offsets[row]!
    const end = Math.min(s.offsets[row + 1]!, start + MAX_SENTENCE_TOKENS)
    const words: string[] = []
    for (let t = start; t < end; t++) words.push(vocabulary?.[s.tokens[t]!] ?? `#${s.tokens[t]}`)
    const length = s.offsets[row + 1]! - start
    // Cut short, with its length: a model's degenerate repeats run to its longest sentence.
    out.push(words.join(' ') + (length > end - start ? ` … (${length} tokens)` : ''))
  }
  return out
}

/** Up to GRID_COLUMNS × GRID_ROWS strided samples side by side, values in [0, 1] as grey levels. */
function imageGrid(data: Float64Array, n: number, width: number, height: number): Buffer {
  const count = Math.min(n, GRID_COLUMNS * GRID_ROWS)
  const columns = Math.min(GRID_COLUMNS, count)
  const rows = Math.ceil(count / columns)
  // One pixel of mid grey between images.
  const W = columns * (width + 1) - 1
  const H = rows * (height + 1) - 1
  const pixels = new Uint8Array(W * H).fill(128)
  for (let k = 0; k < count; k++) {
    const row = Math.floor((k * n) / count)
    const ox = (k % columns) * (width + 1)
    const oy = Math.floor(k / columns) * (height + 1)
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = data[row * width * height + y * width + x]!
        pixels[(oy + y) * W + ox + x] = Math.round(255 * Math.min(1, Math.max(0, v)))
      }
    }
  }
  return greyscalePng(pixels, W, H)
}
