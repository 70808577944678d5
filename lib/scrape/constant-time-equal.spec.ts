import { createHash } from 'node:crypto';
import {
  constantTimeEqual,
  digestOf,
  matchesDigest,
} from './constant-time-equal.js';

describe('constantTimeEqual', () => {
  it.each<[string, string, boolean]>([
    ['s3cret-token', 's3cret-token', true],
    ['', '', true],
    ['pässwörd', 'pässwörd', true],
    ['s3cret-token', 's3cret-tokem', false],
    ['s3cret-token', 's3cret-token ', false],
    ['s3cret-token', 's3cret', false],
    ['', 'x', false],
    ['pässwörd', 'passwörd', false],
    ['a'.repeat(10_000), 'a'.repeat(10_000), true],
    ['a'.repeat(10_000), `${'a'.repeat(9_999)}b`, false],
  ])('%j vs %j is %s', (a, b, equal) => {
    expect(constantTimeEqual(a, b)).toBe(equal);
    expect(constantTimeEqual(b, a)).toBe(equal);
  });

  it('compares fixed-length SHA-256 digests, whatever the lengths of the inputs', () => {
    expect(digestOf('x')).toHaveLength(32);
    expect(digestOf('x'.repeat(1000))).toHaveLength(32);
    expect(digestOf('token')).toEqual(
      createHash('sha256').update('token').digest(),
    );
    expect(matchesDigest('token', digestOf('token'))).toBe(true);
    expect(matchesDigest('token2', digestOf('token'))).toBe(false);
  });
});
