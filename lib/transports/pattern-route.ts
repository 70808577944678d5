/**
 * A message pattern as a stable `route` label: a string pattern as it is, anything else as JSON
 * with the keys of every object sorted, so `{ cmd: 'sum', v: 1 }` and `{ v: 1, cmd: 'sum' }` are
 * one series.
 */
export function patternRoute(pattern: unknown): string {
  if (typeof pattern === 'string') return pattern;
  return JSON.stringify(sortKeys(pattern)) ?? String(pattern);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  }
  return sorted;
}
