import { Counter, type Registry } from 'prom-client';
import { limitLabelSets } from '../cardinality/limit-label-sets.js';
import {
  categorize,
  type CompiledCategoryRules,
} from './log-error-categories.js';
import {
  cut,
  errorCodeOf,
  exceptionTypeOf,
  exceptionTypeOfStack,
  NO_EXCEPTION,
  NO_LOGGER,
} from './log-call-details.js';
import type { LogErrorEvents, LogErrorLevel } from './log-error-events.js';
import { LOG_ERRORS_FAMILY } from './log-errors-family.js';

/** What one log call is counted from, as each source (Nest logger, pino, winston) reads it. */
export interface LogCall {
  readonly level: LogErrorLevel;
  /** The logger's name (Nest context, pino `context`/`name`, winston `context`/`label`). */
  readonly logger: string | undefined;
  /** The logged text. */
  readonly message: string;
  /** The logged error, when one was logged. */
  readonly error: Error | undefined;
  /** A logged stack string, when no error was. */
  readonly stack: string | undefined;
  /** An error code logged beside the error (winston copies an error's `code` into the entry). */
  readonly code?: string;
}

export interface LogErrorCounterSettings {
  readonly warn: boolean;
  readonly rules: CompiledCategoryRules;
  /** Prepended to `log_errors_total`. */
  readonly prefix: string;
  readonly maxSeries: number;
}

/**
 * `log_errors_total` of one registry: counts the log calls the wrapper, the pino hook and the
 * winston transport hand it, and emits each as a `LogErrorRecord` when a sink listens. It never
 * throws into a log call.
 */
export class LogErrorCounter {
  private counter: Counter<string> | undefined;
  /** Set while a call is counted: a log line written by the counting itself is not counted. */
  private counting = false;

  constructor(
    private readonly settings: LogErrorCounterSettings,
    private readonly registry: Registry | undefined,
    private readonly events: LogErrorEvents | undefined,
  ) {}

  /** Whether calls at `level` are counted. */
  counts(level: string): level is LogErrorLevel {
    return (
      level === 'error' ||
      level === 'fatal' ||
      (level === 'warn' && this.settings.warn)
    );
  }

  count(call: LogCall): void {
    if (this.counting || this.registry === undefined) return;
    this.counting = true;
    try {
      const logger =
        call.logger === undefined || call.logger === ''
          ? NO_LOGGER
          : cut(call.logger);
      const exceptionType =
        call.error !== undefined
          ? exceptionTypeOf(call.error)
          : ((call.stack !== undefined
              ? exceptionTypeOfStack(call.stack)
              : undefined) ?? NO_EXCEPTION);
      const category = categorize(this.settings.rules, {
        logger,
        message: call.message,
        exceptionType: exceptionType === NO_EXCEPTION ? '' : exceptionType,
        code:
          (call.error === undefined ? '' : errorCodeOf(call.error)) ||
          (call.code ?? ''),
      });
      this.family().inc({
        level: call.level,
        category,
        logger,
        exception_type: exceptionType,
      });
      if (this.events?.listened) {
        this.events.emit({
          timestamp: Date.now(),
          level: call.level,
          category,
          logger,
          exceptionType,
        });
      }
    } catch {
      // Counting never breaks a log call.
    } finally {
      this.counting = false;
    }
  }

  /** The counter, registered on first use: apps that count no log errors expose no family. */
  private family(): Counter<string> {
    if (this.counter !== undefined) return this.counter;
    const name = `${this.settings.prefix}${LOG_ERRORS_FAMILY.name}`;
    const known = this.registry!.getSingleMetric(name);
    this.counter =
      known instanceof Counter
        ? (known as Counter<string>)
        : limitLabelSets(
            new Counter({
              name,
              help: LOG_ERRORS_FAMILY.help,
              labelNames: [...LOG_ERRORS_FAMILY.labels],
              registers: [this.registry!],
            }),
            this.settings.maxSeries,
          );
    return this.counter;
  }

  /** Registers the family now (so it is scraped before the first error, with no series). */
  register(): void {
    if (this.registry !== undefined) this.family();
  }
}
