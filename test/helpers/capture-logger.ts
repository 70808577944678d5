import type { LoggerService } from '@nestjs/common';

export interface LogLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: string;
}

/** A Nest logger that keeps every line, to assert what the app logged. */
export class CaptureLogger implements LoggerService {
  readonly lines: LogLine[] = [];

  log(message: unknown) {
    this.keep('log', message);
  }
  error(message: unknown) {
    this.keep('error', message);
  }
  warn(message: unknown) {
    this.keep('warn', message);
  }
  debug(message: unknown) {
    this.keep('debug', message);
  }
  verbose(message: unknown) {
    this.keep('verbose', message);
  }
  fatal(message: unknown) {
    this.keep('fatal', message);
  }

  /** The lines whose message matches `pattern`. */
  matching(pattern: RegExp): LogLine[] {
    return this.lines.filter((line) => pattern.test(line.message));
  }

  /** The messages logged at `level`, in order. */
  messagesAt(level: LogLine['level']): string[] {
    return this.lines
      .filter((line) => line.level === level)
      .map((line) => line.message);
  }

  private keep(level: LogLine['level'], message: unknown) {
    this.lines.push({ level, message: String(message) });
  }
}
