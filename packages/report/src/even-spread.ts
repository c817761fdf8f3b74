/** `max` items spread evenly over `items`, always keeping the first and the last. */
export function evenSpread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items]
  const picked = new Set<number>()
  for (let i = 0; i < max; i++) picked.add(Math.round((i * (items.length - 1)) / (max - 1)))
  return [...picked].map((i) => items[i]!)
}
