import { patternRoute } from './pattern-route.js';

describe('patternRoute', () => {
  it('keeps a string pattern as it is', () => {
    expect(patternRoute('orders.get')).toBe('orders.get');
    expect(patternRoute('{"not":"parsed"}')).toBe('{"not":"parsed"}');
  });

  it('sorts the keys of object patterns, recursively', () => {
    const route =
      '{"a":[{"x":1,"y":2}],"cmd":"sum","nested":{"b":true,"c":null}}';
    expect(
      patternRoute({
        nested: { c: null, b: true },
        cmd: 'sum',
        a: [{ y: 2, x: 1 }],
      }),
    ).toBe(route);
    expect(
      patternRoute({
        a: [{ x: 1, y: 2 }],
        nested: { b: true, c: null },
        cmd: 'sum',
      }),
    ).toBe(route);
  });

  it('writes numbers as JSON', () => {
    expect(patternRoute(42)).toBe('42');
  });
});
