import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { ErrorCode, OuroborosError, type RowSource } from '@ouroboros/core'
import { npyLayout, type NpyLayout } from './npy.js'

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * The rows of a .npy sample file, read from disk when asked for: a generation's samples in a
 * training set that is too large to load whole. Consecutive rows are read in one call.
 */
export function fileRows(path: string): RowSource {
  let fd: number | undefined = open(path)
  let layout: NpyLayout
  try {
    const head = new Uint8Array(4096)
    const got = readSync(fd, head, 0, head.length, 0)
    layout = npyLayout(head.subarray(0, got), fstatSync(fd).size, path)
  } catch (err) {
    closeSync(fd)
    throw err
  }
  const { n, d, width, bigEndian, offset } = layout
  const rowBytes = d * width
  const direct = width === 8 && bigEndian !== isLittleEndian
  return {
    n,
    d,
    read(rows, out) {
      fd ??= open(path)
      let i = 0
      while (i < rows.length) {
        const first = rows[i]!
        if (!(first >= 0 && first < n)) throw new RangeError(`${path}: row ${first} is outside 0..${n - 1}`)
        let run = 1
        while (i + run < rows.length && rows[i + run] === first + run && first + run < n) run++
        const bytes = new Uint8Array(run * rowBytes)
        const got = readSync(fd, bytes, 0, bytes.length, offset + first * rowBytes)
        if (got !== bytes.length) throw new OuroborosError(ErrorCode.RUN_DIR, `${path} is damaged: rows ${first}..${first + run - 1} are missing`)
        if (direct) out.set(new Float64Array(bytes.buffer, 0, run * d), i * d)
        else {
          const view = new DataView(bytes.buffer)
          for (let k = 0; k < run * d; k++) {
            out[i * d + k] = width === 8 ? view.getFloat64(k * 8, !bigEndian) : view.getFloat32(k * 4, !bigEndian)
          }
        }
        i += run
      }
    },
    close() {
      if (fd !== undefined) closeSync(fd)
      fd = undefined
    },
  }
}

function open(path: string): number {
  try {
    return openSync(path, 'r')
  } catch (err) {
    throw new OuroborosError(ErrorCode.RUN_DIR, `cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
}
