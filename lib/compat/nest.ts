// ---- ExceptionsHandler (HTTP exception capture) -------------------------------------------
// A section of its own, so that other Nest internals can sit in this file beside it: its imports
// are aliased and its names prefixed, so sections never declare the same name.
import type { ArgumentsHost as ExceptionHost } from '@nestjs/common';
import { reportDegraded as reportExceptionsHandlerDegraded } from './degraded.js';

type ExceptionsHandlerNext = (exception: unknown, host: ExceptionHost) => void;

/** `ExceptionsHandler.prototype.next`, reached through a deep import of `@nestjs/core`. */
export const EXCEPTIONS_HANDLER_NEXT = {
  internal:
    '@nestjs/core: ExceptionsHandler.prototype.next (@nestjs/core/exceptions/exceptions-handler.js)',
  loss: 'error_type of route exceptions from the status alone (400 is client_error, never validation; a TimeoutError answered 500 is internal)',
};

/** The prototypes this copy of the library wrapped: each copy wraps at most once, privately. */
const exceptionsHandlerWrappedByThisCopy = new WeakSet<object>();

/**
 * Wraps Nest's `ExceptionsHandler.prototype.next` once for this copy of the library, so that
 * `note(exception, host)` sees every exception of an HTTP route before the app's filters run;
 * resolves with false (after one warning) when the method is not there or cannot be replaced.
 * The wrapper calls the method that was in place before it with the same arguments, so another
 * copy's wrapper (or Nest's own method) runs unchanged.
 */
export async function wrapExceptionsHandlerNext(
  note: (exception: unknown, host: ExceptionHost) => void,
): Promise<boolean> {
  let prototype: Record<string, unknown> | undefined;
  try {
    const module =
      (await import('@nestjs/core/exceptions/exceptions-handler.js')) as unknown as {
        ExceptionsHandler?: { prototype?: Record<string, unknown> };
      };
    prototype = module.ExceptionsHandler?.prototype;
  } catch {
    prototype = undefined;
  }
  if (prototype === undefined) {
    reportExceptionsHandlerDegraded(EXCEPTIONS_HANDLER_NEXT);
    return false;
  }
  if (exceptionsHandlerWrappedByThisCopy.has(prototype)) return true;
  const descriptor = Object.getOwnPropertyDescriptor(prototype, 'next');
  const next = descriptor?.value as ExceptionsHandlerNext | undefined;
  if (
    typeof next !== 'function' ||
    descriptor?.writable !== true ||
    next.length !== 2
  ) {
    reportExceptionsHandlerDegraded(EXCEPTIONS_HANDLER_NEXT);
    return false;
  }
  prototype.next = function (
    this: unknown,
    exception: unknown,
    host: ExceptionHost,
  ) {
    try {
      note(exception, host);
    } catch {
      // Recording never gets in the way of the app's exception handling.
    }
    return next.call(this, exception, host);
  };
  exceptionsHandlerWrappedByThisCopy.add(prototype);
  return true;
}
// ---- end ExceptionsHandler ----------------------------------------------------------------
