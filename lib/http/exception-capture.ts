import { ExceptionsHandler } from '@nestjs/core/exceptions/exceptions-handler.js';
import type { ArgumentsHost } from '@nestjs/common';
import { exchangeOf } from './http-exchange.js';

const CAPTURING = Symbol.for('nestjs-metrics:captures-route-exceptions');

type Next = (exception: unknown, host: ArgumentsHost) => void;

/**
 * Lets the HTTP recorder see the exception that decided a response, for `error_type`, without
 * putting an interceptor in front of every route (Nest's interceptor pipeline is the largest
 * per-request cost an instrumentation can add).
 *
 * Every exception of an HTTP route, from guards, interceptors, pipes or the handler, reaches
 * Nest's `ExceptionsHandler.next()` before the app's filters run. That method is wrapped once
 * per process: it notes the exception on the request's exchange and calls the original with
 * the same arguments. Requests that no `MetricsModule` measures carry no exchange and pass
 * through untouched, so the wrapper never changes which filter runs or what it answers.
 */
export function captureRouteExceptions(): void {
  const prototype = ExceptionsHandler.prototype as unknown as {
    next: Next;
    [CAPTURING]?: true;
  };
  if (prototype[CAPTURING]) return;
  const next = prototype.next;
  prototype.next = function (
    this: unknown,
    exception: unknown,
    host: ArgumentsHost,
  ) {
    noteException(exception, host);
    return next.call(this, exception, host);
  };
  Object.defineProperty(prototype, CAPTURING, { value: true });
}

function noteException(exception: unknown, host: ArgumentsHost): void {
  try {
    // The response: its exchange is always attached (the request's only when it has a body).
    const exchange = exchangeOf(host.getArgByIndex(1));
    if (exchange !== undefined && exchange.error === undefined)
      exchange.error = exception;
  } catch {
    // Recording never gets in the way of the app's exception handling.
  }
}
