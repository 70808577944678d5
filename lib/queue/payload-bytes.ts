/**
 * Size of a value as UTF-8 JSON, as BullMQ stores job data and return values. `undefined` and
 * values JSON cannot represent (a function, a cycle) count 0.
 */
export function jsonBytes(value: unknown): number {
  if (value === undefined) return 0;
  try {
    const json = JSON.stringify(value);
    return json === undefined ? 0 : Buffer.byteLength(json);
  } catch {
    return 0;
  }
}
