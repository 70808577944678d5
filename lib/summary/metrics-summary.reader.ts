import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import {
  METRICS_REGISTRY,
  METRICS_RESOLVED_OPTIONS,
} from '../metrics.constants.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import { finishWithin } from '../lifecycle/bounded-shutdown.js';
import { readRegistry } from '../read/registry-reading.js';
import { RequestMetrics } from '../recorder/request-metrics.js';
import type {
  MetricsSnapshot,
  MetricsSummary,
} from './metrics-summary.interface.js';
import {
  NO_REQUESTS,
  readRequestTotals,
  type RequestTotals,
} from './request-totals.js';
import { buildSnapshot } from './snapshot-builder.js';
import { SnapshotRing } from './snapshot-ring.js';
import { buildSummary } from './summary-builder.js';
import { DEFAULT_SUMMARY_WINDOW_SECONDS } from './summary.options.js';

/** How long `app.close()` waits for a snapshot being read when it stops the timer. */
export const SNAPSHOT_STOP_MS = 1000;

/**
 * Reads the module's registry for `MetricsService.summary()` and `snapshot()`. The window of the
 * summary is a `SnapshotRing` of cumulative readings of the request families, offered by an
 * unref'd timer once per step (a tenth of the window) and by every `summary()`; the timer runs
 * while the app runs (not with `enabled: false` or `summary: false`) and stops in `app.close()`.
 */
@Injectable()
export class MetricsSummaryReader
  implements OnModuleInit, OnApplicationShutdown
{
  private readonly logger = new Logger('MetricsModule');
  private readonly ring: SnapshotRing<RequestTotals>;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private failureLogged = false;

  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
    private readonly metrics: RequestMetrics,
  ) {
    const seconds =
      options.summary?.windowSeconds ?? DEFAULT_SUMMARY_WINDOW_SECONDS;
    this.ring = new SnapshotRing(seconds * 1000, {
      at: metrics.startedAt,
      value: NO_REQUESTS,
    });
  }

  onModuleInit(): void {
    if (!this.options.enabled || this.options.summary === undefined) return;
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.ring.stepMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const reading = this.reading;
    if (reading !== undefined)
      await finishWithin(SNAPSHOT_STOP_MS, () => reading);
  }

  /** Seconds since the module started: what `uptime_seconds` measures. */
  uptimeSeconds(): number {
    return (performance.now() - this.metrics.startedAt) / 1000;
  }

  async summary(): Promise<MetricsSummary> {
    const at = performance.now();
    const now = await readRequestTotals(this.registry, this.options.prefix);
    const baseline = this.ring.baseline(at) ?? { at, value: now };
    this.ring.offer(now, at);
    return buildSummary({
      now,
      baseline: baseline.value,
      windowSeconds: Math.max(0, (at - baseline.at) / 1000),
      uptimeSeconds: (at - this.metrics.startedAt) / 1000,
      timestamp: new Date(),
    });
  }

  async snapshot(): Promise<MetricsSnapshot> {
    const families = await readRegistry(this.registry);
    return buildSnapshot(families, this.uptimeSeconds(), new Date());
  }

  private tick(): void {
    if (this.reading !== undefined) return;
    const at = performance.now();
    this.reading = readRequestTotals(this.registry, this.options.prefix)
      .then(
        (totals) => this.ring.offer(totals, at),
        (error: unknown) => {
          if (this.failureLogged) return;
          this.failureLogged = true;
          this.logger.warn(
            `Reading the request families for the summary window failed (${error instanceof Error ? error.message : String(error)}); the window covers only the readings that worked.`,
          );
        },
      )
      .finally(() => (this.reading = undefined));
  }
}
