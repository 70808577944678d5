import { HttpException } from '@nestjs/common';
import { statusErrorType } from '../http/error-type.js';
import type { ErrorType } from '../recorder/request-record.js';

/**
 * Errors BullMQ uses for control flow: the job is moved (delayed, waiting for children, rate
 * limited), not failed. Names are compared so that `bullmq` need not be imported.
 */
const CONTROL_FLOW_ERRORS = new Set([
  'DelayedError',
  'WaitingError',
  'WaitingChildrenError',
  'RateLimitError',
]);
const RATE_LIMIT_MESSAGE = 'bullmq:rateLimitExceeded';

/** True when a processor's error only moves the job and is not a failed attempt. */
export function isControlFlowError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (CONTROL_FLOW_ERRORS.has(error.name) ||
      error.message === RATE_LIMIT_MESSAGE)
  );
}

/**
 * Maps the error of a failed job attempt to the closed `error_type` set: an aborted job (its
 * signal fired) is `aborted`, a `TimeoutError` is `timeout`, an `HttpException` maps like an HTTP
 * response of its status, anything else is `internal`.
 */
export function queueErrorType(
  error: unknown,
  signal: AbortSignal | undefined,
): ErrorType {
  if (signal?.aborted) return 'aborted';
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
  if (error instanceof HttpException) {
    return statusErrorType(error.getStatus(), error) ?? 'internal';
  }
  return 'internal';
}
