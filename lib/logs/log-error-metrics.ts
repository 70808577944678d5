import {
  Inject,
  Injectable,
  Logger,
  type LoggerService,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import {
  METRICS_REGISTRY,
  METRICS_RESOLVED_OPTIONS,
} from '../metrics.constants.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { staticLogger } from '../compat/nest.js';
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
export class LogErrorMetrics implements OnModuleInit, OnApplicationShutdown {
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

  private replaced:
    | { previous: LoggerService | false | undefined; installed: LoggerService }
    | undefined;

  onModuleInit(): void {
    if (this.installing === undefined) return;
    this.replaced = {
      previous: staticLogger(),
      installed: this.wrap(this.installing),
    };
    // The public equivalent of app.useLogger(); buffered bootstrap lines are flushed through it
    // when the app finishes initializing.
    Logger.overrideLogger(this.replaced.installed);
  }

  /**
   * Puts back the logger this module replaced, unless another was installed since: the static
   * logger is the whole process', and a closed app must not keep counting another app's lines.
   */
  onApplicationShutdown(): void {
    const replaced = this.replaced;
    this.replaced = undefined;
    if (replaced?.previous === undefined) return;
    if (staticLogger() === replaced.installed)
      Logger.overrideLogger(
        replaced.previous === false ? false : replaced.previous,
      );
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
