import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import {
  METRICS_REGISTRY,
  METRICS_RESOLVED_OPTIONS,
} from '../metrics.constants.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import type { ResolvedPushgatewayOptions } from '../interfaces/pushgateway-options.interface.js';
import {
  finishWithin,
  formatMs,
  pause,
} from '../lifecycle/bounded-shutdown.js';
import {
  groupUrl,
  putMetrics,
  redactedUrl,
  unlessAborted,
} from './pushgateway-request.js';

/** Attempts per push: the first one and two retries. */
const ATTEMPTS_PER_PUSH = 3;
/** Wait before the first retry; doubled for each further one, never longer than the interval. */
const FIRST_BACKOFF_MS = 500;

/** How one push went: filled in as it goes, so a push cut short at a deadline still tells why. */
interface PushOutcome {
  delivered: boolean;
  attempts: number;
  reason: string;
}

/**
 * Pushes the module's registry to a Pushgateway every `intervalSeconds` and once more when the app
 * shuts down. Pushes never overlap; a gateway that is down or slow costs a bounded wait and one
 * log line per failure streak, and never reaches the app. Between shutdowns nothing it holds keeps
 * the process alive; during `app.close()` it keeps the process alive until the final push is done,
 * at most `timeoutSeconds`.
 */
@Injectable()
export class PushgatewayPusher
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger('MetricsModule');
  private readonly options: ResolvedPushgatewayOptions | undefined;
  private readonly url: URL | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly cancel = new AbortController();
  private stopped = false;
  private failedAttempts = 0;

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(METRICS_RESOLVED_OPTIONS) options: ResolvedMetricsOptions,
  ) {
    this.options = options.enabled ? options.pushgateway : undefined;
    this.url = this.options && groupUrl(this.options);
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  /**
   * Stops the interval, cancels a push in progress and pushes the final values. All of it shares
   * one budget of `timeoutSeconds` from the moment the shutdown starts; when the final values are
   * not delivered within it, one warning says so. Never rejects.
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.options === undefined || this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.cancel.abort(new Error('push cancelled'));
    const started = performance.now();
    const budgetMs = this.options.timeoutSeconds * 1000;
    const deadline = started + budgetMs;
    const outcome: PushOutcome = {
      delivered: false,
      attempts: 0,
      reason: `the push in progress did not stop within ${formatMs(budgetMs)}`,
    };
    await finishWithin(
      budgetMs,
      async (signal) => {
        await this.running;
        await this.push(deadline, signal, outcome, true);
      },
      (error) => (outcome.reason = describeFailure(error)),
    );
    if (outcome.delivered) return;
    this.logger.warn(
      `Final push of metrics to ${redactedUrl(this.url!)} gave up after ${outcome.attempts} attempt(s) in ${formatMs(performance.now() - started)} (timeoutSeconds: ${formatMs(budgetMs)}): ${outcome.reason}; the gateway keeps the values of the last push that succeeded`,
    );
  }

  private schedule(): void {
    if (this.options === undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      const outcome = { delivered: false, attempts: 0, reason: '' };
      this.running = this.push(
        Infinity,
        this.cancel.signal,
        outcome,
        false,
      ).finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /**
   * One push with bounded retries and backoff, none of it past `deadline`; stops quietly when
   * `signal` aborts. Never rejects. The final push logs nothing itself: its caller logs once.
   */
  private async push(
    deadline: number,
    signal: AbortSignal,
    outcome: PushOutcome,
    final: boolean,
  ): Promise<void> {
    const options = this.options!;
    for (let attempt = 1; attempt <= ATTEMPTS_PER_PUSH; attempt++) {
      const timeoutMs = Math.min(
        options.timeoutSeconds * 1000,
        deadline - performance.now(),
      );
      if (timeoutMs <= 0 || signal.aborted) return;
      outcome.attempts = attempt;
      // Also the reason when the shutdown deadline cuts this attempt short.
      outcome.reason = `no answer within ${formatMs(timeoutMs)}`;
      try {
        await this.attempt(timeoutMs, signal, outcome.reason);
        outcome.delivered = true;
        this.succeeded();
        return;
      } catch (error) {
        if (signal.aborted) return;
        outcome.reason = describeFailure(error);
        this.failed(outcome.reason, final);
      }
      if (attempt < ATTEMPTS_PER_PUSH) {
        const backoffMs = Math.min(
          FIRST_BACKOFF_MS * 2 ** (attempt - 1),
          options.intervalSeconds * 1000,
          deadline - performance.now(),
        );
        await pause(backoffMs, signal);
      }
    }
  }

  /** Renders and sends the registry; rejects after `timeoutMs` for both, or when `signal` aborts. */
  private async attempt(
    timeoutMs: number,
    signal: AbortSignal,
    timeoutMessage: string,
  ): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(timeoutMessage)),
      timeoutMs,
    );
    timer.unref();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const body = await unlessAborted(
        this.registry.metrics(),
        controller.signal,
      );
      await putMetrics(
        this.url!,
        body,
        this.registry.contentType,
        controller.signal,
      );
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  private succeeded(): void {
    if (this.failedAttempts > 0) {
      this.logger.log(
        `Pushing metrics to ${redactedUrl(this.url!)} works again after ${this.failedAttempts} failed attempt(s)`,
      );
    }
    this.failedAttempts = 0;
  }

  private failed(reason: string, final: boolean): void {
    this.failedAttempts += 1;
    if (this.failedAttempts > 1 || final) return;
    this.logger.warn(
      `Pushing metrics to ${redactedUrl(this.url!)} failed (${reason}); the app is not affected, pushes go on and the next success will be logged`,
    );
  }
}

/** The error's message, with its code (`ECONNRESET`, ...) when the message does not show it. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && !error.message.includes(code)
    ? `${error.message} (${code})`
    : error.message;
}
