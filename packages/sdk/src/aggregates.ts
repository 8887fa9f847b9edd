/**
 * Groups items by key, keys in the order they first appear: `groupBy(w.items, (m) => m.payload.user)`.
 * For a stream split into windows per key, use the windows' `key` option instead.
 */
export function groupBy<T, K>(items: Iterable<T>, keyOf: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

/**
 * Counts items by key into a plain object, ready for JSON: `countBy(["a", "b", "a"], (w) => w)`
 * is `{ a: 2, b: 1 }`. Keys are in the order they first appear.
 */
export function countBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Record<string, number> {
  // No prototype, so a key such as "__proto__" or "constructor" counts like any other word.
  const counts = Object.create(null) as Record<string, number>;
  for (const item of items) {
    const key = keyOf(item);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
