import { inputError, vectors, type VectorSamples } from '@ouroboros/core'

/**
 * NumPy .npy files (format 1.0/2.0/3.0), the interchange format for vector samples: checkpoints are
 * written as float64 so that `numpy.load` reads them, and `ouroboros eval` reads float32/float64
 * files written by PyTorch or JAX users.
 */
const MAGIC = '\x93NUMPY'

export function encodeNpy(s: VectorSamples): Uint8Array[] {
  return npyParts('<f8', [s.n, s.d], s.data)
}

/** A 1-D int32 array (token ids, say) as a .npy file's parts. */
export function encodeNpyInt32(values: Int32Array): Uint8Array[] {
  return npyParts('<i4', [values.length], values)
}

function npyParts(descr: string, shape: readonly number[], values: Float64Array | Int32Array): Uint8Array[] {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n'
  const head = Buffer.alloc(MAGIC.length + 4)
  head.write(MAGIC, 0, 'latin1')
  head[6] = 1
  head[7] = 0
  head.writeUInt16LE(header.length, 8)
  const data = new Uint8Array(values.buffer, values.byteOffset, values.byteLength)
  return [head, Buffer.from(header, 'latin1'), isLittleEndian ? data : byteSwap(data, values.BYTES_PER_ELEMENT)]
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function byteSwap(data: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(data.length)
  for (let i = 0; i < data.length; i += width) for (let j = 0; j < width; j++) out[i + j] = data[i + width - 1 - j]!
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

interface NpyHeader {
  readonly descr: string
  readonly shape: readonly number[]
  /** Byte offset of the first value. */
  readonly offset: number
}

/** The header at the start of a .npy file: dtype, shape (1-D or 2-D, C order) and where the values start. */
function npyHeader(head: Uint8Array, file: string): NpyHeader {
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
  return { descr, shape, offset: start + headerLen }
}

/** Parses the header at the start of a .npy file of floats; `total` is the file's length in bytes. */
export function npyLayout(head: Uint8Array, total: number, file: string): NpyLayout {
  const { descr, shape, offset } = npyHeader(head, file)
  const n = shape[0]!
  const d = shape[1] ?? 1
  const width = descr.endsWith('f8') ? 8 : descr.endsWith('f4') ? 4 : 0
  if (width === 0 || !['<', '>', '='].includes(descr[0]!)) {
    throw inputError(`${file}: dtype '${descr}' is not supported; convert to float32 or float64 (x.astype('float64'))`)
  }
  if (total - offset < n * d * width) throw inputError(`${file}: truncated: ${n}x${d} values need ${n * d * width} bytes, found ${total - offset}`)
  return { n, d, width, bigEndian: descr[0] === '>', offset }
}

/**
 * The values of a 1-D .npy file of integers (any signed or unsigned width, either byte order) as
 * numbers: what another process writes as token ids or offsets, whichever integer type it used.
 */
export function decodeNpyIntegers(buf: Uint8Array, file: string): Float64Array {
  const { descr, shape, offset } = npyHeader(buf, file)
  const kind = /^([<>=|])([iu])([1248])$/.exec(descr)
  if (kind === null) throw inputError(`${file}: dtype '${descr}' is not an integer type; write integers (x.astype('int64'))`)
  if (shape.length !== 1) throw inputError(`${file}: expected a 1-D array of integers, got shape (${shape.join(', ')})`)
  const n = shape[0]!
  const width = Number(kind[3])
  if (buf.byteLength - offset < n * width) throw inputError(`${file}: truncated: ${n} values need ${n * width} bytes, found ${buf.byteLength - offset}`)
  const view = new DataView(buf.buffer, buf.byteOffset + offset, n * width)
  const little = kind[1] !== '>'
  const signed = kind[2] === 'i'
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const at = i * width
    if (width === 1) out[i] = signed ? view.getInt8(at) : view.getUint8(at)
    else if (width === 2) out[i] = signed ? view.getInt16(at, little) : view.getUint16(at, little)
    else if (width === 4) out[i] = signed ? view.getInt32(at, little) : view.getUint32(at, little)
    else {
      const v = signed ? view.getBigInt64(at, little) : view.getBigUint64(at, little)
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw inputError(`${file}: value ${v} at index ${i} is too large`)
      out[i] = Number(v)
    }
  }
  return out
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
