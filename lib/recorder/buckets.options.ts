import { invalid } from '../options/option-checks.js';

/**
 * Checks a bucket list (`buckets`, `queueWaitBuckets`, a decorator's `buckets`): finite, positive,
 * strictly increasing. Returns undefined when not given.
 */
export function resolveBuckets(
  buckets: unknown,
  option: string,
): readonly number[] | undefined {
  if (buckets === undefined) return undefined;
  const valid =
    Array.isArray(buckets) &&
    buckets.length > 0 &&
    buckets.every(
      (bound, i) =>
        typeof bound === 'number' &&
        Number.isFinite(bound) &&
        bound > 0 &&
        (i === 0 || bound > (buckets[i - 1] as number)),
    );
  if (!valid) {
    throw invalid(
      option,
      'a non-empty array of finite, positive, strictly increasing numbers',
      buckets,
    );
  }
  return Object.freeze([...(buckets as number[])]);
}
