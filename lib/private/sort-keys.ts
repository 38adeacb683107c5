/**
 * `map` with its keys in order, so that rendered labels, selectors and variables never depend on
 * the order in which props were written.
 */
export function sortKeys<T>(map: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(map).sort(([a], [b]) => a.localeCompare(b)));
}
