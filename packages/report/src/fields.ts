/** Typed reads from the untyped parts of run.json (configs and dataset info are open records). */

export function field(value: unknown, ...path: string[]): unknown {
  let node = value
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

export function numberField(value: unknown, ...path: string[]): number | undefined {
  const v = field(value, ...path)
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

export function stringField(value: unknown, ...path: string[]): string | undefined {
  const v = field(value, ...path)
  return typeof v === 'string' ? v : undefined
}

export function numberArrayField(value: unknown, ...path: string[]): number[] | undefined {
  const v = field(value, ...path)
  return Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined
}
