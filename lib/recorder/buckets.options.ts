import { DEFAULT_TRANSPORT_BUCKETS } from '../metrics.constants.js';
import { invalid, resolveObject } from '../options/option-checks.js';
import type { Transport } from './request-record.js';
import type { TransportBuckets } from './series-store.js';

const RULE =
  'a non-empty array of finite, positive, strictly increasing numbers';

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
  if (!valid) throw invalid(option, RULE, buckets);
  return Object.freeze([...(buckets as number[])]);
}

const TRANSPORTS: ReadonlySet<string> = new Set<Transport>([
  'http',
  'rpc',
  'ws',
  'queue',
  'graphql',
]);

/**
 * Checks the `buckets` option: one list for every transport, or a map by transport whose missing
 * entries take `DEFAULT_TRANSPORT_BUCKETS`.
 */
export function resolveTransportBuckets(buckets: unknown): TransportBuckets {
  if (buckets === undefined) return DEFAULT_TRANSPORT_BUCKETS;
  if (Array.isArray(buckets)) {
    const list = resolveBuckets(buckets, 'buckets') as readonly number[];
    return Object.freeze({
      http: list,
      rpc: list,
      ws: list,
      queue: list,
      graphql: list,
    });
  }
  const given = resolveObject(
    buckets,
    'buckets',
    TRANSPORTS,
    `${RULE}, or an object of such arrays by transport { http, rpc, ws, queue, graphql }`,
  );
  const resolved = { ...DEFAULT_TRANSPORT_BUCKETS };
  for (const transport of TRANSPORTS as ReadonlySet<Transport>) {
    const list = resolveBuckets(given[transport], `buckets.${transport}`);
    if (list !== undefined) resolved[transport] = list;
  }
  return Object.freeze(resolved);
}
