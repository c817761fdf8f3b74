import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { Rng, type TokenSamples, type VectorSamples } from '@ouroboros/core'
import { textFile, vectorFile } from './files.js'

const dir = mkdtempSync(join(tmpdir(), 'ouroboros-files-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

/** Line i of the 20-line text: its number, then `the` (every line), then `odd` on odd lines. */
const TEXT = Array.from({ length: 20 }, (_, i) => `Line${i} the${i % 2 === 1 ? ' odd' : ''}`).join('\n') + '\n\n'
const words = (s: TokenSamples, vocabulary: readonly string[]): string[] =>
  Array.from({ length: s.n }, (_, i) => Array.from(s.tokens.subarray(s.offsets[i]!, s.offsets[i + 1]!), (id) => vocabulary[id]).join(' '))
const rows = (s: VectorSamples): string[] => Array.from({ length: s.n }, (_, i) => s.data.subarray(i * s.d, (i + 1) * s.d).join(','))

describe('text-file', () => {
  it('numbers the words after <unk> by count, and splits the lines once into training and held-out lines', async () => {
    const path = file('text.txt', TEXT)
    const p = textFile.params.parse({ path, heldoutFraction: 0.25 })
    // 20 lines (the blank ones skipped): 5 held out.
    expect(textFile.limits!(p)).toEqual({ n: 15, heldout: 5 })
    const ds = await textFile.create(p, Rng.from(0))
    const vocabulary = ds.info.vocabulary!
    // `the` on 20 lines, `odd` on 10, then each line's number once, in order of appearance.
    expect(vocabulary.slice(0, 4)).toEqual(['<unk>', 'the', 'odd', 'line0'])
    expect(vocabulary).toHaveLength(3 + 20)
    const train = words(ds.sample(15, Rng.from(1)), vocabulary)
    const heldout = words(ds.heldout!(5, Rng.from(2)), vocabulary)
    const all = Array.from({ length: 20 }, (_, i) => `line${i} the${i % 2 === 1 ? ' odd' : ''}`)
    expect([...train, ...heldout].sort()).toEqual([...all].sort())
    // Another chain's stream draws the same split in another order; another splitSeed splits otherwise.
    const again = await textFile.create(p, Rng.from(7))
    expect(words(again.heldout!(5, Rng.from(3)), vocabulary).sort()).toEqual([...heldout].sort())
    const other = await textFile.create(textFile.params.parse({ path, heldoutFraction: 0.25, splitSeed: 1 }), Rng.from(0))
    expect(words(other.heldout!(5, Rng.from(2)), vocabulary).sort()).not.toEqual([...heldout].sort())
    expect(() => ds.sample(16, Rng.from(1))).toThrow(/its training split has 15 lines, 16 were asked for/)
  })

  it('refuses a relative path, a missing file and a file of one line, naming them', () => {
    expect(() => textFile.limits!(textFile.params.parse({ path: 'text.txt' }))).toThrow(/^data.path: 'text.txt' is not an absolute path$/)
    expect(() => textFile.limits!(textFile.params.parse({ path: join(dir, 'none.txt') }))).toThrow(/^data.path: .*none.txt: no such file$/)
    // A path written on Windows names a file whose name holds the backslashes.
    expect(() => textFile.limits!(textFile.params.parse({ path: `${dir}/data\\text.txt` }))).toThrow(
      /data\\text.txt: no such file \(a backslash is part of a file name here, not a folder separator: write \/ between folders\)$/,
    )
    expect(() => textFile.limits!(textFile.params.parse({ path: file('one.txt', 'just one line\n') }))).toThrow(/one.txt: 1 row; a training row and a held-out one are the least/)
  })
})

describe('a data file pinned by its run', () => {
  it('records the SHA-256 of the file, and refuses it once it has changed', async () => {
    const path = file('pinned.txt', TEXT)
    const pinned = textFile.pin!(textFile.params.parse({ path }))
    expect(pinned.sha256).toBe(createHash('sha256').update(TEXT).digest('hex'))
    expect(textFile.limits!(pinned).n).toBe(18)
    writeFileSync(path, TEXT + 'one line more\n')
    // Another process (a resume) reads the changed file under the run's parameters.
    vi.resetModules()
    const fresh = await import('./files.js')
    expect(() => fresh.textFile.limits!(pinned)).toThrow(/^data\.path: .*pinned\.txt is not the file this run began with \(SHA-256 [0-9a-f]{12}… then, [0-9a-f]{12}… now\)$/)
    expect(() => textFile.params.parse({ path, sha256: 'abc' })).toThrow(/expected 64 lower-case hex digits/)
  })

  it('refuses a SHA-256 a config gives that is not the file\'s, in words that are not a resume\'s', async () => {
    const path = file('given.txt', TEXT)
    const other = createHash('sha256').update('another text').digest('hex')
    const fresh = await import('./files.js')
    for (const plugin of [fresh.textFile, fresh.vectorFile]) {
      expect(() => plugin.pin!(plugin.params.parse({ path, sha256: other }))).toThrow(`data.sha256: ${other.slice(0, 12)}… is not the SHA-256 of ${path}, which is ${createHash('sha256').update(TEXT).digest('hex')}`)
    }
    const right = createHash('sha256').update(TEXT).digest('hex')
    expect(fresh.textFile.pin!(fresh.textFile.params.parse({ path, sha256: right })).sha256).toBe(right)
  })
})

describe('vector-file', () => {
  it('draws distinct rows of a CSV with a header, the held-out rows apart', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `${i},${-i / 2}`)
    const path = file('points.csv', ['x,y', ...lines].join('\n'))
    const p = vectorFile.params.parse({ path })
    expect(vectorFile.limits!(p)).toEqual({ n: 27, heldout: 3 })
    const ds = await vectorFile.create(p, Rng.from(0))
    expect(ds.info).toEqual({ kind: 'vector-file', modality: 'vectors', d: 2 })
    const train = rows(ds.sample(27, Rng.from(1)) as VectorSamples)
    const heldout = rows(ds.heldout!(3, Rng.from(2)) as VectorSamples)
    expect([...train, ...heldout].sort()).toEqual([...lines].sort())
    expect(new Set(train).size).toBe(27)
  })
})
