import { Injectable } from '@nestjs/common';

/** The levels of log call that count as errors. */
export type LogErrorLevel = 'warn' | 'error' | 'fatal';

/** One counted log error, as `log_errors_total` labels it. */
export interface LogErrorRecord {
  /** Milliseconds since the epoch, when the log call was made. */
  readonly timestamp: number;
  readonly level: LogErrorLevel;
  readonly category: string;
  readonly logger: string;
  readonly exceptionType: string;
}

export type LogErrorListener = (record: LogErrorRecord) => void;

/**
 * The module's stream of counted log errors: the log-error counter emits, sinks (the log push)
 * listen. A listener that throws is cut off from that record only; nothing reaches the caller
 * of the log method.
 */
@Injectable()
export class LogErrorEvents {
  private readonly listeners = new Set<LogErrorListener>();

  /** Adds `listener`; the returned function removes it. */
  subscribe(listener: LogErrorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether any sink listens (so a record need not be built when none does). */
  get listened(): boolean {
    return this.listeners.size > 0;
  }

  emit(record: LogErrorRecord): void {
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch {
        // A sink's failure is the sink's to report; the log call goes on.
      }
    }
  }
}
