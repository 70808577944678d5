import { BadRequestException } from '@nestjs/common';
import type { ErrorType } from '../recorder/request-record.js';

const BODY_PARSE_FAILURES = new Set([
  'entity.parse.failed',
  'entity.verify.failed',
  'charset.unsupported',
  'encoding.unsupported',
]);

/** Fastify's codes for a body it received but could not parse. */
const FASTIFY_BODY_PARSE_FAILURES = new Set([
  'FST_ERR_CTP_INVALID_JSON_BODY',
  'FST_ERR_CTP_EMPTY_JSON_BODY',
]);

/** What went wrong with an HTTP exchange, as far as the library could see it. */
export interface HttpOutcome {
  status: number;
  /** The exception a handler, pipe, interceptor or the body parser raised, when one was seen. */
  error: unknown;
  /** The response ended without being finished. */
  aborted: boolean;
  /** The body stream failed after the headers were sent. */
  streamFailed: boolean;
}

/** Maps an outcome to the closed `error_type` set; `undefined` for 1xx-3xx responses that finished. */
export function httpErrorType(outcome: HttpOutcome): ErrorType | undefined {
  if (outcome.streamFailed) return 'response_stream';
  if (outcome.aborted) return 'aborted';
  return statusErrorType(outcome.status, outcome.error);
}

/**
 * The one status table of `error_type`, shared by HTTP responses and by the `HttpException`s that
 * message handlers and queue processors throw: `undefined` below 400; a body that could not be
 * parsed is `deserialization`; 408, 504 or a `TimeoutError` is `timeout`; other 5xx `internal`;
 * 401 `unauthorized`, 403 `forbidden`, 404 `not_found`; 400 with a `BadRequestException` (what
 * `ValidationPipe` throws) `validation`; any other 4xx `client_error`. Without `error`, the
 * status alone decides.
 */
export function statusErrorType(
  status: number,
  error?: unknown,
): ErrorType | undefined {
  if (status < 400) return undefined;
  if (isDeserializationError(error, status)) return 'deserialization';
  if (status === 408 || status === 504 || isTimeoutError(error))
    return 'timeout';
  if (status >= 500) return 'internal';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 400 && error instanceof BadRequestException)
    return 'validation';
  return 'client_error';
}

/**
 * A body that could not be parsed: body-parser's `type`s (Express), Fastify's content-type parser
 * codes, or, answered with 400, a `SyntaxError` (the JSON parser's, Fastify's prototype-poisoning
 * check) or a zlib error (a compressed body that does not inflate). Body limits (413) and unsupported media types (415 on Fastify) are not: they map by
 * status.
 */
function isDeserializationError(error: unknown, status: number): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { type, code } = error as { type?: unknown; code?: unknown };
  if (typeof type === 'string' && BODY_PARSE_FAILURES.has(type)) return true;
  if (typeof code === 'string' && FASTIFY_BODY_PARSE_FAILURES.has(code))
    return true;
  if (status === 400) {
    if (error instanceof SyntaxError) return true;
    // zlib could not inflate a body sent with Content-Encoding gzip/deflate/br.
    if (typeof code === 'string' && code.startsWith('Z_')) return true;
  }
  const cause = (error as { cause?: unknown }).cause;
  return (
    cause !== undefined &&
    cause !== error &&
    isDeserializationError(cause, status)
  );
}

function isTimeoutError(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}
