import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { readTokenFile } from './sample-files.js'

const dir = mkdtempSync(join(tmpdir(), 'ouroboros-tokens-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const words = (f: ReturnType<typeof readTokenFile>, i: number): string[] =>
  Array.from(f.samples.tokens.subarray(f.samples.offsets[i]!, f.samples.offsets[i + 1]!), (id) => f.vocabulary[id]!)

describe('readTokenFile', () => {
  it('reads one lower-cased, whitespace-split sequence a line, numbering words by descending count', () => {
    const real = readTokenFile(file('real.txt', 'The cat sat .\n\n  the dog\tsat .  \r\nthe END\n'))
    expect(real.samples.n).toBe(3)
    // the ×3, sat ×2, . ×2, then cat, dog, end once each in order of appearance.
    expect(real.vocabulary).toEqual(['the', 'sat', '.', 'cat', 'dog', 'end'])
    expect(real.samples.vocabSize).toBe(6)
    expect(words(real, 1)).toEqual(['the', 'dog', 'sat', '.'])
    expect(Array.from(real.samples.offsets)).toEqual([0, 4, 8, 10])
  })

  it('numbers a second file in the first one\'s vocabulary, its new words after it', () => {
    const real = readTokenFile(file('a.txt', 'a b b\n'))
    const generated = readTokenFile(file('b.txt', 'b c\nc d b\n'), real.vocabulary)
    expect(generated.vocabulary).toEqual(['b', 'a', 'c', 'd'])
    expect(Array.from(generated.samples.tokens)).toEqual([0, 2, 2, 3, 0])
    expect(generated.samples.vocabSize).toBe(4)
  })

  it('names the file when it is missing or holds no sequence', () => {
    expect(() => readTokenFile(join(dir, 'missing.txt'))).toThrow(/missing\.txt: no such file/)
    expect(() => readTokenFile(file('blank.txt', '\n  \n'))).toThrow(/blank\.txt: no sequences/)
  })
})
