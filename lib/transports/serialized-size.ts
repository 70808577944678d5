/**
 * Bytes of `value` as every Nest transport's default serializer puts it on the wire: the UTF-8
 * length of its JSON, the length of a Buffer or typed array as it is, 0 for `undefined` (nothing
 * sent) and for values JSON cannot represent (a circular object).
 */
export function serializedSize(value: unknown): number {
  if (value === undefined || value === null) return value === null ? 4 : 0;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  try {
    const json = JSON.stringify(value);
    return json === undefined ? 0 : Buffer.byteLength(json);
  } catch {
    return 0;
  }
}
