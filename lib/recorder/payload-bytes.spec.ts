import { payloadBytes } from './payload-bytes.js';

describe('payloadBytes', () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;

  it.each(['json', 'raw'] as const)(
    'counts the UTF-8 bytes of the JSON (%s binaries)',
    (binary) => {
      expect(payloadBytes({ a: 'é' }, binary)).toBe(
        Buffer.byteLength('{"a":"é"}'),
      );
      expect(payloadBytes('hi', binary)).toBe(4);
      expect(payloadBytes(6, binary)).toBe(1);
      expect(payloadBytes(null, binary)).toBe(4);
      expect(payloadBytes(undefined, binary)).toBe(0);
      expect(payloadBytes(circular, binary)).toBe(0);
      expect(payloadBytes(() => 1, binary)).toBe(0);
      expect(payloadBytes(10n, binary)).toBe(0);
    },
  );

  it('counts a Buffer or typed array as it is when binaries travel raw', () => {
    expect(payloadBytes(Buffer.from('abc'), 'raw')).toBe(3);
    expect(payloadBytes(new Uint16Array(4), 'raw')).toBe(8);
  });

  it('counts a Buffer as its JSON when binaries travel as JSON (BullMQ)', () => {
    const buffer = Buffer.from('abc');
    expect(payloadBytes(buffer)).toBe(
      Buffer.byteLength(JSON.stringify(buffer)),
    );
    expect(payloadBytes({ file: buffer })).toBe(
      Buffer.byteLength(JSON.stringify({ file: buffer })),
    );
  });
});
