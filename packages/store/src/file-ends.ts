import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

/**
 * Up to `length` bytes at the start or the end of the file at `path`, as Latin-1 text (one
 * character a byte, so that binary bytes cannot break it), and the file's size; undefined where it
 * cannot be opened. Enough to tell what wrote a file without reading it whole.
 */
export function fileEnd(path: string, length: number, end: 'start' | 'end'): { text: string; size: number } | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return undefined
  }
  try {
    const size = fstatSync(fd).size
    const bytes = Buffer.alloc(Math.min(size, length))
    const read = readSync(fd, bytes, 0, bytes.length, end === 'start' ? 0 : size - bytes.length)
    return { text: bytes.subarray(0, read).toString('latin1'), size }
  } finally {
    closeSync(fd)
  }
}
