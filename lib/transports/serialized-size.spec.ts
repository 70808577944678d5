import { serializedSize } from './serialized-size.js';

describe('serializedSize', () => {
  it('counts the UTF-8 bytes of the JSON', () => {
    expect(serializedSize({ a: 'é' })).toBe(Buffer.byteLength('{"a":"é"}'));
    expect(serializedSize('hi')).toBe(4);
    expect(serializedSize(6)).toBe(1);
    expect(serializedSize(null)).toBe(4);
  });

  it('counts buffers as they are, nothing for undefined or a circular value', () => {
    expect(serializedSize(Buffer.from('abc'))).toBe(3);
    expect(serializedSize(undefined)).toBe(0);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(serializedSize(circular)).toBe(0);
  });
});
