import { acceptsGzip } from './content-encoding.js';
import {
  negotiateFormat,
  OPENMETRICS_TEXT,
  PROMETHEUS_TEXT,
} from './exposition-format.js';
import { parseWeightedHeader } from './weighted-header.js';

describe('parseWeightedHeader', () => {
  it('reads values, parameters (quoted too) and q, dropping malformed elements only', () => {
    const parsed = parseWeightedHeader(
      'Text/Plain;Version="0.0.4";q=0.5, a/b;x="1,2;3";q=1.000, bad;q=1.5, c/d;q=0.1234, ,e/f;p',
    );
    expect(
      parsed.map(({ value, params, q }) => [
        value,
        Object.fromEntries(params),
        q,
      ]),
    ).toEqual([
      ['text/plain', { version: '0.0.4' }, 0.5],
      ['a/b', { x: '1,2;3' }, 1],
    ]);
  });

  it('joins repeated headers', () => {
    expect(parseWeightedHeader(['gzip;q=0', 'br']).map((e) => e.value)).toEqual(
      ['gzip', 'br'],
    );
    expect(parseWeightedHeader(undefined)).toEqual([]);
  });
});

describe('negotiateFormat', () => {
  it.each<[string | undefined, typeof OPENMETRICS_TEXT]>([
    [undefined, PROMETHEUS_TEXT],
    ['', PROMETHEUS_TEXT],
    ['*/*', PROMETHEUS_TEXT],
    ['application/openmetrics-text', OPENMETRICS_TEXT],
    ['application/openmetrics-text;version=1.0.0;q=0.1', OPENMETRICS_TEXT],
    ['application/openmetrics-text;version=2.0.0', PROMETHEUS_TEXT],
    ['application/openmetrics-text;charset=latin1', PROMETHEUS_TEXT],
    ['*/*;version=1.0.0', PROMETHEUS_TEXT],
    // The more specific range wins even with a lower q.
    ['application/openmetrics-text;q=0, application/*', PROMETHEUS_TEXT],
    ['application/*;q=0, application/openmetrics-text;q=0.2', OPENMETRICS_TEXT],
    [
      'text/plain;version=0.0.4;q=0, text/plain;q=1, */*;q=0.5',
      OPENMETRICS_TEXT,
    ],
    ['text/*;q=0.4, application/*;q=0.3', PROMETHEUS_TEXT],
    ['text/plain;q=0, application/openmetrics-text;q=0', PROMETHEUS_TEXT],
  ])('%j -> %o', (accept, format) => {
    expect(negotiateFormat(accept).name).toBe(format.name);
  });
});

describe('acceptsGzip', () => {
  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ['GZIP', true],
    ['gzip;q=0.001', true],
    ['gzip;q=0.001, identity;q=0.002', false],
    ['gzip;q=0, x-gzip;q=0.5', true],
    ['*;q=0.5', true],
    ['*;q=0', false],
    ['deflate, br', false],
  ])('%j -> %s', (header, gzip) => {
    expect(acceptsGzip(header)).toBe(gzip);
  });
});
