import { isError, isStack, messageOf } from './log-call-details.js';
import type { LogErrorCounter } from './log-error-counter.js';

/** The part of a pino logger the hook reads (`this` of `hooks.logMethod`). */
interface PinoLike {
  readonly levels?: { readonly labels?: Readonly<Record<number, string>> };
  bindings?(): Record<string, unknown>;
}

/** pino's `hooks.logMethod`: `this` is the logger, `method` the log method to call. */
export type PinoLogMethodHook = (
  this: unknown,
  args: unknown[],
  method: (...args: unknown[]) => unknown,
  level: number,
) => unknown;

/** pino's level numbers, for a logger whose `levels` cannot be read. */
const PINO_LEVELS: Readonly<Record<number, string>> = {
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/**
 * A `hooks.logMethod` for pino that counts error and fatal calls (and warn, when counted) and
 * then calls pino's method with the same arguments. The logger name is the `context` of the
 * logged object, else the `context` or `name` of the logger's bindings (`pino({ name })`,
 * `logger.child({ context })`); the error is the logged `Error`, or the `err`/`error` of the
 * logged object.
 */
export function pinoLogMethod(counter: LogErrorCounter): PinoLogMethodHook {
  return function logMethod(this: unknown, args, method, level) {
    try {
      const pino = this as PinoLike;
      const label = pino?.levels?.labels?.[level] ?? PINO_LEVELS[level] ?? '';
      if (counter.counts(label)) count(counter, pino, label, args);
    } catch {
      // Counting never stops the line.
    }
    return method.apply(this, args);
  };
}

function count(
  counter: LogErrorCounter,
  pino: PinoLike,
  level: 'warn' | 'error' | 'fatal',
  args: readonly unknown[],
): void {
  const first = args[0];
  let error: Error | undefined;
  let logger: unknown;
  let message = typeof first === 'string' ? first : '';
  if (isError(first)) {
    error = first;
  } else if (typeof first === 'object' && first !== null) {
    const inner =
      (first as { err?: unknown }).err ?? (first as { error?: unknown }).error;
    if (isError(inner)) error = inner;
    logger = (first as { context?: unknown }).context;
  }
  if (message === '' && typeof args[1] === 'string') message = args[1];
  if (message === '' && error !== undefined) message = messageOf(error);
  if (typeof logger !== 'string') {
    const bindings = pino.bindings?.() ?? {};
    logger =
      typeof bindings.context === 'string' ? bindings.context : bindings.name;
  }
  const stack = args.find(isStack);
  counter.count({
    level,
    logger: typeof logger === 'string' ? logger : undefined,
    message,
    error,
    stack: error === undefined ? stack : undefined,
  });
}
