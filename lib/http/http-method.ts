import { OTHER_METHOD } from '../metrics.constants.js';

/** The methods of RFC 9110 and PATCH (RFC 5789): the only values the `method` label takes as sent. */
export const STANDARD_HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'CONNECT',
  'TRACE',
]);

/**
 * The `method` label of a request: the method when it is standard, `_OTHER` otherwise (WebDAV's
 * `PROPFIND`, `PURGE`, ...), so clients cannot add a series per method token they send.
 */
export function methodLabel(method: string | undefined): string {
  if (method === undefined) return 'GET';
  return STANDARD_HTTP_METHODS.has(method) ? method : OTHER_METHOD;
}
