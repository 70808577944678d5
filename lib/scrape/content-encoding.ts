import { parseWeightedHeader } from './weighted-header.js';

/**
 * Whether to gzip the response for an `Accept-Encoding` header (RFC 9110 §12.5.3): gzip (or
 * `x-gzip`, or `*`) must have q > 0 and be weighed at least as high as `identity`. When the
 * header does not weigh `identity` (itself or through `*`), it gets the lowest non-zero q the
 * header lists, as in the `negotiator` package Express uses: `gzip;q=0.5` still gzips.
 */
export function acceptsGzip(
  acceptEncoding: string | string[] | undefined,
): boolean {
  let gzip: number | undefined;
  let identity: number | undefined;
  let wildcard: number | undefined;
  let lowest = 1;
  for (const { value, q } of parseWeightedHeader(acceptEncoding)) {
    if (q > 0) lowest = Math.min(lowest, q);
    if (value === 'gzip' || value === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (value === 'identity') identity = q;
    else if (value === '*') wildcard = q;
  }
  const gzipQuality = gzip ?? wildcard ?? 0;
  const identityQuality = identity ?? wildcard ?? lowest;
  return gzipQuality > 0 && gzipQuality >= identityQuality;
}
