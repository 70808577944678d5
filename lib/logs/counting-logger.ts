import type { LoggerService, LogLevel } from '@nestjs/common';
import { isError, isStack, messageOf } from './log-call-details.js';
import type { LogErrorCounter } from './log-error-counter.js';
import type { LogErrorLevel } from './log-error-events.js';

type LogMethod = (message: unknown, ...optionalParams: unknown[]) => unknown;

/** The methods of `LoggerService` a wrapper has only when the wrapped logger has them. */
const OPTIONAL_METHODS = ['debug', 'verbose', 'fatal'] as const;

/**
 * Wraps `target`: every call is forwarded to it unchanged (same arguments, called on `target`,
 * its result returned, its exceptions thrown), and `error`, `fatal` (and `warn` when counted)
 * calls are counted first. `debug`, `verbose`, `fatal` and `setLogLevels` exist only when
 * `target` has them, so Nest's `logger.debug?.(…)` checks see the same logger.
 */
export function countingLogger(
  target: LoggerService,
  counter: LogErrorCounter,
): LoggerService {
  // Called as methods of `target`, so `this` is the wrapped logger, as in a direct call.
  const methods = target as unknown as Record<string, LogMethod>;
  const forward =
    (name: string): LogMethod =>
    (...args) =>
      methods[name]!(...args);
  const counted =
    (level: LogErrorLevel): LogMethod =>
    (...args) => {
      if (counter.counts(level)) count(counter, target, level, args);
      return methods[level]!(...args);
    };

  const wrapper: LoggerService = {
    log: forward('log'),
    error: counted('error'),
    warn: counted('warn'),
  };
  for (const name of OPTIONAL_METHODS) {
    if (typeof target[name] !== 'function') continue;
    wrapper[name] = name === 'fatal' ? counted('fatal') : forward(name);
  }
  if (typeof target.setLogLevels === 'function') {
    wrapper.setLogLevels = (levels: LogLevel[]) => target.setLogLevels!(levels);
  }
  return wrapper;
}

/**
 * Reads a Nest log call the way `ConsoleLogger` does: the context is the last argument when it is
 * a string that is not a stack (a `Logger` with a context appends it), else the wrapped logger's
 * own `context`; the error is the first `Error` among the arguments (or the `err`/`error` of a
 * logged object, nestjs-pino style); else the first stack string.
 */
function count(
  counter: LogErrorCounter,
  target: LoggerService,
  level: LogErrorLevel,
  args: readonly unknown[],
): void {
  try {
    let end = args.length;
    let logger: string | undefined;
    const last = args[end - 1];
    if (end >= 2 && typeof last === 'string' && !isStack(last)) {
      logger = last;
      end -= 1;
    } else {
      const own = (target as { context?: unknown }).context;
      if (typeof own === 'string') logger = own;
    }
    let error: Error | undefined;
    let stack: string | undefined;
    for (let i = 0; i < end && error === undefined; i++) {
      const arg = args[i];
      if (isError(arg)) error = arg;
      else if (typeof arg === 'object' && arg !== null) {
        const inner =
          (arg as { err?: unknown }).err ?? (arg as { error?: unknown }).error;
        if (isError(inner)) error = inner;
      } else if (stack === undefined && isStack(arg)) stack = arg;
    }
    counter.count({
      level,
      logger,
      message: messageOf(args[0]),
      error,
      stack,
    });
  } catch {
    // A hostile argument (a throwing getter): the call is forwarded all the same.
  }
}
