import { Writable } from 'node:stream';
import { isError, isStack, messageOf } from './log-call-details.js';
import type { LogErrorCounter } from './log-error-counter.js';
import type { LogErrorLevel } from './log-error-events.js';

/** winston's own key for the level before any format (colorize) changed `info.level`. */
const LEVEL = Symbol.for('level');

/** winston and syslog level names, by the level they are counted at. */
const LEVELS: Readonly<Record<string, LogErrorLevel>> = {
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  err: 'error',
  fatal: 'fatal',
  crit: 'fatal',
  alert: 'fatal',
  emerg: 'fatal',
};

/**
 * A winston transport (an object-mode `Writable` with `log(info, callback)`, which is what
 * `logger.add()` takes) that counts error-level entries: `error`/`err` as error, `fatal`, `crit`,
 * `alert`, `emerg` as fatal, `warn`/`warning` as warn when counted. The logger name is the
 * entry's `context` (what nest-winston writes), else its `label`; the error is the entry itself
 * when it is one (`format.errors()`), else its `error`/`err`; else its `stack`.
 */
export class LogErrorTransport extends Writable {
  constructor(private readonly counter: LogErrorCounter) {
    super({ objectMode: true });
  }

  log(info: unknown, callback?: () => void): void {
    try {
      count(this.counter, info);
    } catch {
      // Counting never stops the entry.
    }
    callback?.();
  }

  override _write(
    info: unknown,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.log(info);
    callback();
  }
}

function count(counter: LogErrorCounter, info: unknown): void {
  if (typeof info !== 'object' || info === null) return;
  const entry = info as Record<string | symbol, unknown>;
  const raw = entry[LEVEL] ?? entry.level;
  const level = typeof raw === 'string' ? LEVELS[raw] : undefined;
  if (level === undefined || !counter.counts(level)) return;
  const inner = entry.error ?? entry.err;
  const error = isError(info) ? info : isError(inner) ? inner : undefined;
  const stacks = Array.isArray(entry.stack) ? entry.stack : [entry.stack];
  const logger =
    typeof entry.context === 'string'
      ? entry.context
      : typeof entry.label === 'string'
        ? entry.label
        : undefined;
  counter.count({
    level,
    logger,
    message: messageOf(info),
    error,
    stack: error === undefined ? stacks.find(isStack) : undefined,
    code: typeof entry.code === 'string' ? entry.code : undefined,
  });
}
