import { parseWeightedHeader } from './weighted-header.js';

/**
 * Whether to gzip the response for an `Accept-Encoding` header (RFC 9110 §12.5.3): gzip (or
 * `x-gzip`, or `*`) must have q > 0 and be weighed at least as high as `identity`.
 * `identity` is acceptable at q=1 unless the header says otherwise.
 */
export function acceptsGzip(
  acceptEncoding: string | string[] | undefined,
): boolean {
  let gzip: number | undefined;
  let identity: number | undefined;
  let wildcard: number | undefined;
  for (const { value, q } of parseWeightedHeader(acceptEncoding)) {
    if (value === 'gzip' || value === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (value === 'identity') identity = q;
    else if (value === '*') wildcard = q;
  }
  const gzipQuality = gzip ?? wildcard ?? 0;
  const identityQuality = identity ?? wildcard ?? 1;
  return gzipQuality > 0 && gzipQuality >= identityQuality;
}
