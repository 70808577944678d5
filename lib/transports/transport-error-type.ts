import { BadRequestException, HttpException } from '@nestjs/common';
import { statusErrorType } from '../http/error-type.js';
import type { ErrorType } from '../recorder/request-record.js';

/** Errors a handler throws to answer its caller on purpose; matched by class name (the packages are optional). */
const DELIBERATE_ERRORS = new Set(['RpcException', 'WsException']);

/**
 * Maps what a message handler (or its pipes and interceptors) raised to the closed `error_type`
 * set: RxJS `TimeoutError` -> `timeout`, `BadRequestException` (what `ValidationPipe` throws) ->
 * `validation`, another `HttpException` by its status alone (the HTTP table, `statusErrorType`), `RpcException`/`WsException` ->
 * `client_error`, anything else -> `internal`.
 */
export function transportErrorType(error: unknown): ErrorType {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timeout';
  if (error instanceof BadRequestException) return 'validation';
  if (error instanceof HttpException)
    return statusErrorType(error.getStatus()) ?? 'internal';
  if (isDeliberate(error)) return 'client_error';
  return 'internal';
}

function isDeliberate(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  for (
    let proto: unknown = Object.getPrototypeOf(error);
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor
      ?.name;
    if (typeof name === 'string' && DELIBERATE_ERRORS.has(name)) return true;
  }
  return false;
}
