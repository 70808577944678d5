import {
  Inject,
  Injectable,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Counter, Histogram } from 'prom-client';
import { METRICS_RESOLVED_OPTIONS } from '../metrics.constants.js';
import { MetricsService } from '../metrics.service.js';
import type { ResolvedMetricsOptions } from '../interfaces/metrics-module-options.interface.js';
import {
  CLIENT_FAMILIES,
  CLIENT_ERROR_LABELS,
  CLIENT_STATUS_LABELS,
  HTTP_CLIENT_TRANSPORT,
} from './client-families.js';
import { listenToOutboundCalls, type OutboundCall } from './outbound-calls.js';

type StatusLabel = (typeof CLIENT_STATUS_LABELS)[number];
type ErrorLabel = (typeof CLIENT_ERROR_LABELS)[number];

/**
 * With `clientMetrics: true`, counts every outbound HTTP call of the process into this app's
 * registry from module init until the app has closed (two apps in one process each count every
 * call). The `host` label goes through the cardinality guard like any label.
 */
@Injectable()
export class ClientMetricsLifecycle
  implements OnModuleInit, OnApplicationShutdown
{
  private stop: (() => void) | undefined;

  constructor(
    private readonly service: MetricsService,
    @Inject(METRICS_RESOLVED_OPTIONS)
    private readonly options: ResolvedMetricsOptions,
  ) {}

  onModuleInit(): void {
    if (!this.options.enabled || !this.options.clientMetrics || this.stop)
      return;
    const { requests, duration, errors } = CLIENT_FAMILIES;
    const requestCounter: Counter<StatusLabel> = this.service.counter(
      requests.name,
      { help: requests.help, labelNames: requests.labels },
    );
    const durationHistogram: Histogram<StatusLabel> = this.service.histogram(
      duration.name,
      {
        help: duration.help,
        labelNames: duration.labels,
        buckets: [...this.options.buckets.http],
      },
    );
    const errorCounter: Counter<ErrorLabel> = this.service.counter(
      errors.name,
      { help: errors.help, labelNames: errors.labels },
    );
    this.stop = listenToOutboundCalls((call: OutboundCall) => {
      const labels = {
        transport: HTTP_CLIENT_TRANSPORT,
        method: call.method,
        host: call.host,
        status: call.status,
      };
      requestCounter.inc(labels);
      durationHistogram.observe(labels, call.durationSeconds);
      if (call.errorType !== undefined)
        errorCounter.inc({
          transport: HTTP_CLIENT_TRANSPORT,
          method: call.method,
          host: call.host,
          error_type: call.errorType,
        });
    });
  }

  /** After Nest drained the app's server: calls made by requests still in flight are counted. */
  onApplicationShutdown(): void {
    this.stop?.();
    this.stop = undefined;
  }
}
