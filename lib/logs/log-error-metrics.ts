import {
  Inject,
  Injectable,
  Logger,
  type LoggerService,
  type OnModuleInit,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import {
  METRICS_REGISTRY,
  METRICS_RESOLVED_OPTIONS,
} from '../metrics.constants.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { countingLogger } from './counting-logger.js';
import { LogErrorCounter } from './log-error-counter.js';
import { LogErrorEvents } from './log-error-events.js';
import { pinoLogMethod, type PinoLogMethodHook } from './pino-log-method.js';
import { LogErrorTransport } from './winston-transport.js';

/**
 * `log_errors_total` of the app: wraps a Nest logger, or gives pino a hook and winston a
 * transport, all counting into the module's registry (with its `prefix` and `maxSeries`) and
 * emitting each counted call to the module's `LogErrorEvents`. With `logErrors.logger` it
 * installs the wrapper as the app's logger when the module starts.
 */
@Injectable()
export class LogErrorMetrics implements OnModuleInit {
  private readonly counter: LogErrorCounter;
  private readonly installing: LoggerService | undefined;

  constructor(
    @Inject(METRICS_RESOLVED_OPTIONS) options: ResolvedMetricsOptions,
    @Inject(METRICS_REGISTRY) registry: Registry,
    events: LogErrorEvents,
  ) {
    const settings = options.logErrors;
    this.counter = new LogErrorCounter(
      {
        warn: settings.warn,
        rules: settings.rules,
        prefix: options.prefix,
        maxSeries: options.maxSeries,
      },
      options.enabled ? registry : undefined,
      events,
    );
    this.installing = settings.logger;
  }

  onModuleInit(): void {
    if (this.installing === undefined) return;
    // The public equivalent of app.useLogger(); buffered bootstrap lines are flushed through it
    // when the app finishes initializing.
    Logger.overrideLogger(this.wrap(this.installing));
  }

  /**
   * A `LoggerService` that forwards every call to `logger` unchanged and counts its error and
   * fatal calls (and warn ones with `logErrors.warn`). Install it with `app.useLogger()`.
   */
  wrap(logger: LoggerService): LoggerService {
    this.counter.register();
    return countingLogger(logger, this.counter);
  }

  /** pino `hooks` that count the error calls of a pino logger: `pino({ hooks: …pinoHooks() })`. */
  pinoHooks(): { logMethod: PinoLogMethodHook } {
    this.counter.register();
    return { logMethod: pinoLogMethod(this.counter) };
  }

  /** A winston transport that counts error entries: `winstonLogger.add(…winstonTransport())`. */
  winstonTransport(): LogErrorTransport {
    this.counter.register();
    return new LogErrorTransport(this.counter);
  }
}
