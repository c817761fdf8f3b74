import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { samplesPath, writeSamples } from './run-dir.js'
import { readTokenFile, readVectorFile } from './sample-files.js'

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

  it("reads a run's token sample file through the run's vocabulary.json, empty sequences kept", () => {
    const run = join(dir, 'run')
    mkdirSync(join(run, 'chains', 'c0-r0'), { recursive: true })
    writeFileSync(join(run, 'vocabulary.json'), JSON.stringify(['the', 'cat', 'sat', 'dog']))
    const path = samplesPath(run, 'c0-r0', 3, 'tokens')
    // "dog sat", "", "the cat the"
    writeSamples(path, { modality: 'tokens', n: 3, vocabSize: 4, tokens: Int32Array.of(3, 2, 0, 1, 0), offsets: Uint32Array.of(0, 2, 2, 5) })
    const read = readTokenFile(path, ['cat'])
    expect(read.samples.n).toBe(3)
    // Named from inside its chain's folder, by its name alone: still in its run.
    const cwd = process.cwd()
    process.chdir(dirname(path))
    try {
      expect(readTokenFile(basename(path), ['cat']).vocabulary).toEqual(read.vocabulary)
    } finally {
      process.chdir(cwd)
    }
    expect([0, 1, 2].map((i) => words(read, i))).toEqual([['dog', 'sat'], [], ['the', 'cat', 'the']])
    // The given vocabulary first, then the file's words by descending count.
    expect(read.vocabulary).toEqual(['cat', 'the', 'dog', 'sat'])

    writeSamples(path, { modality: 'tokens', n: 1, vocabSize: 9, tokens: Int32Array.of(8), offsets: Uint32Array.of(0, 1) })
    expect(() => readTokenFile(path)).toThrow(/word id 8 is outside .*vocabulary\.json's 4 words/)
    const elsewhere = file('lone.tokens', 'x')
    expect(() => readTokenFile(elsewhere)).toThrow(/lone\.tokens: a run's token file is read with its run's vocabulary\.json, and this one is not in a run's chains\/<chain>\/ folder$/)
    // In a chains folder whose run has lost its vocabulary, the vocabulary is named.
    rmSync(join(run, 'vocabulary.json'))
    expect(() => readTokenFile(path)).toThrow(/a run's token file needs the run's vocabulary, .*run\/vocabulary\.json: not found/)
    writeFileSync(join(run, 'vocabulary.json'), JSON.stringify(['the', 'cat', 'sat', 'dog']))
    // Offsets that do not run from 0 to the tokens' end.
    writeSamples(path, { modality: 'tokens', n: 2, vocabSize: 4, tokens: Int32Array.of(0, 1, 2), offsets: Uint32Array.of(0, 2, 5) })
    expect(() => readTokenFile(path)).toThrow(/c0-r0.*: not a run's token sample file/)
    // The same sequences as plain text and as a run's file read alike.
    writeSamples(path, { modality: 'tokens', n: 3, vocabSize: 4, tokens: Int32Array.of(3, 2, 0, 1, 0, 2), offsets: Uint32Array.of(0, 2, 3, 6) })
    const text = readTokenFile(file('same.txt', 'dog sat\nthe\ncat the sat\n'), ['sat'])
    const tokens = readTokenFile(path, ['sat'])
    expect(tokens.vocabulary).toEqual(text.vocabulary)
    expect(Array.from(tokens.samples.tokens)).toEqual(Array.from(text.samples.tokens))
    expect(Array.from(tokens.samples.offsets)).toEqual(Array.from(text.samples.offsets))
    writeFileSync(join(run, 'chains', 'c0-r0', 'bad.tokens'), 'not serialised')
    expect(() => readTokenFile(join(run, 'chains', 'c0-r0', 'bad.tokens'))).toThrow(/bad\.tokens: not a run's token sample file/)
  })

  it('ends lines at \\r alone too, as old Mac files do', () => {
    const cr = readTokenFile(file('cr.txt', 'a b\rc\r\rd e f\r'))
    expect(Array.from(cr.samples.offsets)).toEqual([0, 2, 3, 6])
  })

  it('refuses a file that is not UTF-8, naming its line and byte, and keeps a replacement character the file holds', () => {
    const path = join(dir, 'latin1.txt')
    // "café cafè" in Latin-1 on line 2: é is the byte 0xe9 at byte 6 (after "ok\n" and "caf").
    writeFileSync(path, Buffer.from([...Buffer.from('ok\ncaf'), 0xe9, 0x20, ...Buffer.from('caf'), 0xe8, 0x0a]))
    expect(() => readTokenFile(path)).toThrow(/latin1\.txt: line 2: byte 6 \(0xe9\) is not UTF-8/)
    const replacement = readTokenFile(file('fffd.txt', 'x \uFFFD y\n'))
    expect(replacement.vocabulary).toEqual(['x', '\uFFFD', 'y'])
  })

  it('names the file when it is missing or holds no sequence', () => {
    expect(() => readTokenFile(join(dir, 'missing.txt'))).toThrow(/missing\.txt: no such file$/)
    // A relative name says which folder it was taken from: a tool may have run the command from another.
    expect(() => readVectorFile('missing-here.csv')).toThrow(`missing-here.csv: no such file (looked for ${resolve('missing-here.csv')})`)
    expect(() => readTokenFile(join(dir, 'missing.tokens'))).toThrow(/missing\.tokens: no such file/)
    expect(() => readTokenFile(file('blank.txt', '\n  \n'))).toThrow(/blank\.txt: no sequences/)
  })
})

describe('readVectorFile, .csv', () => {
  it('skips a header row, whose cells are names, and refuses a first row with a bad value instead of dropping it', () => {
    expect(Array.from(readVectorFile(file('header.csv', 'x1,x2\n1,2\n3,4\n')).data)).toEqual([1, 2, 3, 4])
    expect(Array.from(readVectorFile(file('plain.csv', '1,2\n3,4\n')).data)).toEqual([1, 2, 3, 4])
    expect(() => readVectorFile(file('bad.csv', '1,2x\n3,4\n'))).toThrow(/bad\.csv: line 1, column 2: '2x' is not a finite number$/)
  })

  it('says a file separated by semicolons or tabs is not a .csv, at its first line, header or not', () => {
    const semicolons = /semi\.csv: line 1 holds ';' and no ',': the file looks semicolon-separated, and columns of a \.csv are separated by commas$/
    expect(() => readVectorFile(file('semi.csv', 'a;b\n1;2\n3;4\n'))).toThrow(semicolons)
    expect(() => readVectorFile(file('semi.csv', '1;2\n3;4\n'))).toThrow(semicolons)
    expect(() => readVectorFile(file('tabs.csv', 'a\tb\n1\t2\n'))).toThrow(/tabs\.csv: line 1 holds tabs and no ',': the file looks tab-separated/)
    // Good rows first: the first bad line is named.
    expect(() => readVectorFile(file('semi.csv', 'a,b\n1,2\n3;4\n'))).toThrow(/semi\.csv: line 3 holds ';' and no ','/)
    // Decimal commas with semicolons split on the commas: the cell with the semicolon is named.
    expect(() => readVectorFile(file('decimal.csv', '1,5;2,5\n'))).toThrow(/decimal\.csv: line 1, column 2: '5;2' is not a finite number \(columns of a \.csv are separated by commas\)$/)
    // A tab after a lone number is blank space: one column of 1 and 2.
    expect(Array.from(readVectorFile(file('one.csv', '1\t\n2\n')).data)).toEqual([1, 2])
  })

  it("refuses pandas' index column, whose header cell is empty, rather than read it as a dimension", () => {
    // to_csv() of a frame with integer column names: the header is ',0,1'.
    expect(() => readVectorFile(file('index.csv', ',0,1\n0,0.5,0.25\n1,1.5,2\n'))).toThrow(
      /index\.csv: line 1, column 1: '' is not a finite number \(an empty first field of line 1 is how pandas writes its index column: write the file with to_csv\(index=False, header=False\), as a header of numbers would read as data\)$/,
    )
    // With named columns the header ',x,y' has no number, and would have been skipped, the index
    // read as a first column.
    expect(() => readVectorFile(file('named.csv', ',x,y\n0,0.5,0.25\n1,1.5,2\n'))).toThrow(/named\.csv: line 1, column 1: an empty name before named columns is how pandas writes its index column .*to_csv\(index=False\)$/)
    // A blank cell in a data row is not an index column.
    expect(() => readVectorFile(file('blank.csv', '1,2\n,4\n'))).toThrow(/blank\.csv: line 2, column 1: '' is not a finite number$/)
  })

  it('refuses numbers written in hexadecimal, binary or octal, which JavaScript would read', () => {
    expect(() => readVectorFile(file('hex.csv', 'x,y\n0x10,2\n'))).toThrow(/hex\.csv: line 2, column 1: '0x10' is not a finite number \(write numbers in decimal\)$/)
    expect(() => readVectorFile(file('bin.csv', '1,0b11\n'))).toThrow(/bin\.csv: line 1, column 2: '0b11' is not a finite number \(write numbers in decimal\)$/)
    expect(() => readVectorFile(file('oct.csv', '-0o7,1\n'))).toThrow(/'-0o7' is not a finite number/)
    // Decimal forms all read: signs, points at either end, exponents.
    expect(Array.from(readVectorFile(file('forms.csv', '+1.,-.5,2e3,1.5E-2\n')).data)).toEqual([1, -0.5, 2000, 0.015])
  })

  it('says 1 column, not 1 columns, of a ragged row', () => {
    expect(() => readVectorFile(file('ragged.csv', '1,2\n3\n'))).toThrow(/ragged\.csv: line 2 has 1 column, expected 2 \(ragged rows\)$/)
    expect(() => readVectorFile(file('ragged.csv', '1\n3,4\n'))).toThrow(/ragged\.csv: line 2 has 2 columns, expected 1 \(ragged rows\)$/)
  })

  it('reads a header of numbers (to_csv(index=False) of integer column names) as a data row: no rule tells it from one', () => {
    const s = readVectorFile(file('numbers.csv', '0,1\n0.5,0.25\n1.5,2\n'))
    expect(s.n).toBe(3)
    expect(Array.from(s.data)).toEqual([0, 1, 0.5, 0.25, 1.5, 2])
  })
})
