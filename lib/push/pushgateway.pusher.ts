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
import { groupUrl, putMetrics, redactedUrl } from './pushgateway-request.js';

/** Attempts per push: the first one and two retries. */
const ATTEMPTS_PER_PUSH = 3;
/** Wait before the first retry; doubled for each further one, never longer than the interval. */
const FIRST_BACKOFF_MS = 500;

/**
 * Pushes the module's registry to a Pushgateway every `intervalSeconds` and once more when the app
 * shuts down. Pushes never overlap; a gateway that is down or slow costs a bounded wait and one
 * log line per failure streak, and never reaches the app.
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
  private cancel = new AbortController();
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

  /** Stops the interval, cancels a push in progress and pushes the final values, within the timeout. */
  async onApplicationShutdown(): Promise<void> {
    if (this.options === undefined || this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.cancel.abort();
    await this.running;
    this.cancel = new AbortController();
    const deadline = performance.now() + this.options.timeoutSeconds * 1000;
    await this.push(deadline);
  }

  private schedule(): void {
    if (this.options === undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.push(Infinity).finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** One push with bounded retries and backoff; never rejects. */
  private async push(deadline: number): Promise<void> {
    const options = this.options!;
    const signal = this.cancel.signal;
    for (let attempt = 1; attempt <= ATTEMPTS_PER_PUSH; attempt++) {
      const timeoutMs = Math.min(
        options.timeoutSeconds * 1000,
        deadline - performance.now(),
      );
      if (timeoutMs <= 0 || signal.aborted) return;
      try {
        const body = await this.registry.metrics();
        await putMetrics(
          this.url!,
          body,
          this.registry.contentType,
          timeoutMs,
          signal,
        );
        this.succeeded();
        return;
      } catch (error) {
        if (signal.aborted) return;
        this.failed(error);
      }
      if (attempt < ATTEMPTS_PER_PUSH) {
        const backoffMs = Math.min(
          FIRST_BACKOFF_MS * 2 ** (attempt - 1),
          options.intervalSeconds * 1000,
          deadline - performance.now(),
        );
        await sleep(backoffMs, signal);
      }
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

  private failed(error: unknown): void {
    this.failedAttempts += 1;
    if (this.failedAttempts > 1) return;
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(
      `Pushing metrics to ${redactedUrl(this.url!)} failed (${reason}); the app is not affected, pushes go on and the next success will be logged`,
    );
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
