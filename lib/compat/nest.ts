// ---- ExceptionsHandler (HTTP exception capture) -------------------------------------------
import type { ArgumentsHost } from '@nestjs/common';
import { reportDegraded } from './degraded.js';

type Next = (exception: unknown, host: ArgumentsHost) => void;

/** `ExceptionsHandler.prototype.next`, reached through a deep import of `@nestjs/core`. */
export const EXCEPTIONS_HANDLER_NEXT = {
  internal:
    '@nestjs/core: ExceptionsHandler.prototype.next (@nestjs/core/exceptions/exceptions-handler.js)',
  loss: 'error_type of route exceptions from the status alone (400 is client_error, never validation; a TimeoutError answered 500 is internal)',
};

/** The prototypes this copy of the library wrapped: each copy wraps at most once, privately. */
const wrappedByThisCopy = new WeakSet<object>();

/**
 * Wraps Nest's `ExceptionsHandler.prototype.next` once for this copy of the library, so that
 * `note(exception, host)` sees every exception of an HTTP route before the app's filters run;
 * resolves with false (after one warning) when the method is not there or cannot be replaced.
 * The wrapper calls the method that was in place before it with the same arguments, so another
 * copy's wrapper (or Nest's own method) runs unchanged.
 */
export async function wrapExceptionsHandlerNext(
  note: (exception: unknown, host: ArgumentsHost) => void,
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
    reportDegraded(EXCEPTIONS_HANDLER_NEXT);
    return false;
  }
  if (wrappedByThisCopy.has(prototype)) return true;
  const descriptor = Object.getOwnPropertyDescriptor(prototype, 'next');
  const next = descriptor?.value as Next | undefined;
  if (
    typeof next !== 'function' ||
    descriptor?.writable !== true ||
    next.length !== 2
  ) {
    reportDegraded(EXCEPTIONS_HANDLER_NEXT);
    return false;
  }
  prototype.next = function (
    this: unknown,
    exception: unknown,
    host: ArgumentsHost,
  ) {
    try {
      note(exception, host);
    } catch {
      // Recording never gets in the way of the app's exception handling.
    }
    return next.call(this, exception, host);
  };
  wrappedByThisCopy.add(prototype);
  return true;
}
// ---- end ExceptionsHandler ----------------------------------------------------------------
