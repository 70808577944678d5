/**
 * How a Buffer or typed array travels: `raw`, as it is (every Nest transport's default serializer
 * sends it so), or `json`, as the JSON of the object it is (BullMQ stores job data and return
 * values as JSON).
 */
export type BinaryPayload = 'raw' | 'json';

/**
 * The bytes a payload takes: the UTF-8 length of its JSON (`null` is 4), 0 for `undefined`
 * (nothing sent) and for values JSON cannot represent (a function, a cycle). A Buffer or typed
 * array counts as `binary` says.
 */
export function payloadBytes(
  value: unknown,
  binary: BinaryPayload = 'json',
): number {
  if (value === undefined) return 0;
  if (binary === 'raw' && ArrayBuffer.isView(value)) return value.byteLength;
  try {
    const json = JSON.stringify(value);
    return json === undefined ? 0 : Buffer.byteLength(json);
  } catch {
    return 0;
  }
}
