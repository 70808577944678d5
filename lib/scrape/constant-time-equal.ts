import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 of a string's UTF-8 bytes: a fixed-length digest to compare in constant time. */
export function digestOf(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/**
 * Compares a presented credential with the digest of the expected one in time that depends
 * on neither: both sides are hashed to 32 bytes first, so neither the content nor the length
 * of the secret shows in the timing.
 */
export function matchesDigest(presented: string, expected: Buffer): boolean {
  return timingSafeEqual(digestOf(presented), expected);
}

/** Constant-time string equality (see `matchesDigest`). */
export function constantTimeEqual(a: string, b: string): boolean {
  return matchesDigest(a, digestOf(b));
}
