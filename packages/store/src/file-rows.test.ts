import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Rng, takeRows, vectors } from '@ouroboros/core'
import { fileRows } from './file-rows.js'
import { encodeNpy } from './npy.js'
import { writeSamples } from './run-dir.js'

const dir = mkdtempSync(join(tmpdir(), 'ouroboros-file-rows-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const rng = Rng.from(3, 'file-rows')
const s = vectors(500, 4, Float64Array.from({ length: 2000 }, () => rng.normal()))

describe('fileRows', () => {
  it('reads rows of a sample file, scattered or consecutive, as the file holds them', () => {
    const path = join(dir, 'a.npy')
    writeSamples(path, s)
    const src = fileRows(path)
    expect([src.n, src.d]).toEqual([500, 4])
    const idx = [499, 3, 4, 5, 6, 0, 250, 251, 3]
    const out = new Float64Array(idx.length * 4)
    src.read(idx, out)
    expect(out).toEqual(takeRows(s, idx).data)
    src.close!()
    // Reading again after close reopens the file.
    const f32 = new Float32Array(8)
    src.read([10, 11], f32)
    expect(f32).toEqual(Float32Array.from(takeRows(s, [10, 11]).data))
    src.close!()
  })

  it('reads float32 and big-endian files too', () => {
    const be = join(dir, 'be.npy')
    const [head, header, body] = encodeNpy(s)
    const swapped = Buffer.from(body!)
    swapped.swap64()
    writeFileSync(be, Buffer.concat([head!, Buffer.from(Buffer.from(header!).toString('latin1').replace('<f8', '>f8'), 'latin1'), swapped]))
    const out = new Float64Array(8)
    fileRows(be).read([7, 2], out)
    expect(out).toEqual(takeRows(s, [7, 2]).data)
  })

  it('says which file is damaged when rows are missing', () => {
    const path = join(dir, 'short.npy')
    writeSamples(path, s)
    const src = fileRows(path)
    truncateSync(path, 200)
    expect(() => src.read([400], new Float64Array(4))).toThrow(/short\.npy is damaged/)
    expect(() => fileRows(path)).toThrow(/short\.npy: truncated/)
    expect(() => fileRows(join(dir, 'missing.npy'))).toThrow(/cannot read .*missing\.npy/)
  })
})
