import { describe, expect, it } from '@jest/globals';
import { UsageError, parseTopArguments } from './top-arguments.js';

describe('parseTopArguments', () => {
  it('reads <base URL>/metrics/summary, or a URL whose path ends in /summary as it is', () => {
    expect(parseTopArguments(['http://localhost:3000']).url.href).toBe(
      'http://localhost:3000/metrics/summary',
    );
    expect(parseTopArguments(['localhost:3000/']).url.href).toBe(
      'http://localhost:3000/metrics/summary',
    );
    expect(parseTopArguments(['http://h/api']).url.href).toBe(
      'http://h/api/metrics/summary',
    );
    expect(
      parseTopArguments(['https://h:9464/internal/metrics/summary']).url.href,
    ).toBe('https://h:9464/internal/metrics/summary');
  });

  it('turns --token and --user into an Authorization header; --interval in seconds (default 2)', () => {
    expect(parseTopArguments(['h', '--token', 'abc'])).toMatchObject({
      authorization: 'Bearer abc',
      intervalSeconds: 2,
      once: false,
    });
    expect(
      parseTopArguments(['h', '--user=ops:p:w', '--interval=0.5', '--once']),
    ).toMatchObject({
      authorization: `Basic ${Buffer.from('ops:p:w').toString('base64')}`,
      intervalSeconds: 0.5,
      once: true,
    });
  });

  it.each([
    [[], 'the app URL is missing'],
    [['h', '--token'], '--token needs a value'],
    [['h', '--user', 'nopassword'], '--user takes user:password'],
    [
      ['h', '--interval', '0'],
      '--interval takes seconds between 0.1 and 3600, got "0"',
    ],
    [
      ['h', '--token', 'a', '--user', 'u:p'],
      'give --token or --user, not both',
    ],
    [['h', '--colour'], 'unknown option --colour'],
    [['h', 'i'], 'one URL only, got "h" and "i"'],
    [['ftp://h'], '"ftp://h" is not an http:// or https:// URL'],
  ])('refuses %j: %s', (args, message) => {
    expect(() => parseTopArguments(args)).toThrow(new UsageError(message));
  });
});
