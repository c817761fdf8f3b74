import type { Samples } from '@ouroboros/core'

/** Bitwise equality, so that -0/0 and NaN payloads count as differences. */
export function samplesEqual(a: Samples, b: Samples): boolean {
  if (a.modality !== b.modality || a.n !== b.n) return false
  if (a.modality === 'vectors' && b.modality === 'vectors') return a.d === b.d && bytesEqual(a.data, b.data)
  if (a.modality === 'tokens' && b.modality === 'tokens') return bytesEqual(a.tokens, b.tokens) && bytesEqual(a.offsets, b.offsets)
  return false
}

function bytesEqual(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}
