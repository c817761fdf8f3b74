import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { decodeNpyIntegers, encodeNpyInt32 } from './npy.js'

const dir = mkdtempSync(join(tmpdir(), 'ouroboros-npy-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// numpy is the independent reader and writer: Debian's python3 is the one .ci/run installs it for.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const python = (code: string): string => execFileSync(PYTHON, ['-c', code], { encoding: 'utf8' }).trim()

describe('.npy integer arrays', () => {
  it('writes int32 arrays numpy reads back as they are', () => {
    const values = Int32Array.from([0, 1, -1, 2147483647, -2147483648, 40000, 7])
    for (const [name, v] of [['some.npy', values], ['empty.npy', new Int32Array(0)]] as const) {
      writeFileSync(join(dir, name), Buffer.concat(encodeNpyInt32(v)))
      const read = JSON.parse(python(`import numpy as np, json; x = np.load('${join(dir, name)}'); print(json.dumps([str(x.dtype), list(x.shape), x.tolist()]))`))
      expect(read).toEqual(['int32', [v.length], Array.from(v)])
    }
  })

  it('reads the integer arrays numpy writes, of every width, signedness and byte order', () => {
    const values = [0, 1, 2, 100, 127]
    for (const dtype of ['<i1', '|u1', '<i2', '>u2', '<i4', '>i4', '<u4', '<i8', '>i8', '<u8']) {
      const file = join(dir, `${dtype.replace(/[<>|]/g, 'x')}.npy`)
      python(`import numpy as np; np.save('${file}', np.array(${JSON.stringify(values)}, dtype='${dtype}'))`)
      expect(Array.from(decodeNpyIntegers(readFileSync(file), file)), dtype).toEqual(values)
    }
    const negative = join(dir, 'negative.npy')
    python(`import numpy as np; np.save('${negative}', np.array([-5, -2**40, 3], dtype='<i8'))`)
    expect(Array.from(decodeNpyIntegers(readFileSync(negative), negative))).toEqual([-5, -(2 ** 40), 3])
  })

  it('names the file and what to do for floats, 2-D arrays, values past 2^53 and truncated files', () => {
    const write = (name: string, code: string): string => {
      const file = join(dir, name)
      python(`import numpy as np; np.save('${file}', ${code})`)
      return file
    }
    const floats = write('floats.npy', 'np.array([1.0, 2.0])')
    expect(() => decodeNpyIntegers(readFileSync(floats), floats)).toThrow(`${floats}: dtype '<f8' is not an integer type; write integers (x.astype('int64'))`)
    const matrix = write('matrix.npy', 'np.zeros((2, 3), dtype=np.int64)')
    expect(() => decodeNpyIntegers(readFileSync(matrix), matrix)).toThrow('expected a 1-D array of integers, got shape (2, 3)')
    const huge = write('huge.npy', 'np.array([1, 2**60], dtype=np.int64)')
    expect(() => decodeNpyIntegers(readFileSync(huge), huge)).toThrow('value 1152921504606846976 at index 1 is too large')
    const ints = write('ints.npy', 'np.arange(10, dtype=np.int32)')
    const cut = readFileSync(ints).subarray(0, -4)
    expect(() => decodeNpyIntegers(cut, ints)).toThrow(`${ints}: truncated: 10 values need 40 bytes, found 36`)
  })
})
