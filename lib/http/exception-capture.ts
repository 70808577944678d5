import type { ArgumentsHost } from '@nestjs/common';
import { wrapExceptionsHandlerNext } from '../compat/nest.js';
import { exchangeOf } from './http-exchange.js';

/**
 * Lets the HTTP recorder see the exception thrown by a route, to refine `error_type` where the
 * status alone is ambiguous, without putting an interceptor in front of every route (Nest's
 * interceptor pipeline is the largest per-request cost an instrumentation can add).
 *
 * Every exception of an HTTP route, from guards, interceptors, pipes or the handler, reaches
 * Nest's `ExceptionsHandler.next()` before the app's filters run. This copy of the library wraps
 * it once (see `compat/nest.ts`) and notes the exception on the exchanges of its own
 * instrumentations only; requests it does not measure pass through untouched, so the wrapper
 * never changes which filter runs or what it answers. Resolves with false when degraded.
 */
export function captureRouteExceptions(): Promise<boolean> {
  return wrapExceptionsHandlerNext(noteException);
}

function noteException(exception: unknown, host: ArgumentsHost): void {
  // The response: its exchange is always attached (the request's only when it has a body).
  const exchange = exchangeOf(host.getArgByIndex(1));
  if (exchange !== undefined && exchange.error === undefined)
    exchange.error = exception;
}
