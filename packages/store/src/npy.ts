import { inputError, vectors, type VectorSamples } from '@ouroboros/core'

/**
 * NumPy .npy files (format 1.0/2.0/3.0), the interchange format for vector samples: checkpoints are
 * written as float64 so that `numpy.load` reads them, and `ouroboros eval` reads float32/float64
 * files written by PyTorch or JAX users.
 */
const MAGIC = '\x93NUMPY'

export function encodeNpy(s: VectorSamples): Uint8Array[] {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${s.n}, ${s.d}), }`
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n'
  const head = Buffer.alloc(MAGIC.length + 4)
  head.write(MAGIC, 0, 'latin1')
  head[6] = 1
  head[7] = 0
  head.writeUInt16LE(header.length, 8)
  const data = new Uint8Array(s.data.buffer, s.data.byteOffset, s.data.byteLength)
  return [head, Buffer.from(header, 'latin1'), isLittleEndian ? data : byteSwap64(data)]
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function byteSwap64(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length)
  for (let i = 0; i < data.length; i += 8) for (let j = 0; j < 8; j++) out[i + j] = data[i + 7 - j]!
  return out
}

/** Where the values of a .npy file start, and their layout. */
export interface NpyLayout {
  readonly n: number
  readonly d: number
  /** Bytes per value: 8 (float64) or 4 (float32). */
  readonly width: 4 | 8
  readonly bigEndian: boolean
  /** Byte offset of the first value. */
  readonly offset: number
}

/** Parses the header at the start of a .npy file; `total` is the file's length in bytes. */
export function npyLayout(head: Uint8Array, total: number, file: string): NpyLayout {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength)
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== MAGIC) throw inputError(`${file}: not a NumPy .npy file (bad magic bytes)`)
  const major = bytes[6]!
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8)
  const start = major === 1 ? 10 : 12
  if (bytes.length < start + headerLen) throw inputError(`${file}: truncated .npy header`)
  const header = bytes.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen)
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1]
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1]
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw inputError(`${file}: unreadable .npy header: ${header.trim()}`)
  if (fortran === 'True') throw inputError(`${file}: Fortran-order arrays are not supported; save with numpy.ascontiguousarray`)
  const shape = shapeText.split(',').map((t) => t.trim()).filter((t) => t.length > 0).map(Number)
  if (shape.length === 0 || shape.length > 2 || shape.some((v) => !Number.isInteger(v) || v < 0)) {
    throw inputError(`${file}: expected a 1-D or 2-D array, got shape (${shapeText})`)
  }
  const n = shape[0]!
  const d = shape[1] ?? 1
  const width = descr.endsWith('f8') ? 8 : descr.endsWith('f4') ? 4 : 0
  if (width === 0 || !['<', '>', '='].includes(descr[0]!)) {
    throw inputError(`${file}: dtype '${descr}' is not supported; convert to float32 or float64 (x.astype('float64'))`)
  }
  const offset = start + headerLen
  if (total - offset < n * d * width) throw inputError(`${file}: truncated: ${n}x${d} values need ${n * d * width} bytes, found ${total - offset}`)
  return { n, d, width, bigEndian: descr[0] === '>', offset }
}

export function decodeNpy(buf: Uint8Array, file: string): VectorSamples {
  const { n, d, width, bigEndian: big, offset } = npyLayout(buf, buf.byteLength, file)
  const body = Buffer.from(buf.buffer, buf.byteOffset + offset, buf.byteLength - offset)
  const out = new Float64Array(n * d)
  for (let i = 0; i < n * d; i++) {
    out[i] = width === 8 ? (big ? body.readDoubleBE(i * 8) : body.readDoubleLE(i * 8)) : big ? body.readFloatBE(i * 4) : body.readFloatLE(i * 4)
  }
  return vectors(n, d, out)
}
