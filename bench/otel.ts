import {
  type CallHandler,
  type ExecutionContext,
  HttpException,
  type NestInterceptor,
} from '@nestjs/common';
import type { Counter, Histogram } from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import type { Request, Response } from 'express';
import type { MetricService } from 'nestjs-otel';
import { type Observable, tap } from 'rxjs';

// The nestjs-otel peer. nestjs-otel 8 has no HTTP metrics of its own (its `apiMetrics` middleware
// was removed in 8.0): its users record them with its MetricService, as below, on an
// OpenTelemetry MeterProvider registered globally with a reader.

/**
 * A pull reader, as a Prometheus exporter is: the SDK aggregates every measurement and nothing is
 * exported until someone collects (the bench never does, so no export cost is measured).
 */
class PullMetricReader extends MetricReader {
  constructor() {
    super({
      aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
    });
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Registers a global MeterProvider with a pull reader; nestjs-otel's MetricService creates its instruments there. */
export function registerMeterProvider(): void {
  metrics.setGlobalMeterProvider(
    new MeterProvider({ readers: [new PullMetricReader()] }),
  );
}

/**
 * The interceptor a nestjs-otel user writes: a counter and a duration histogram by route template
 * (bound with a factory provider, as its buckets are not injectable).
 */
export class OtelRouteMetricsInterceptor implements NestInterceptor {
  private readonly requests: Counter;
  private readonly duration: Histogram;

  constructor(metricService: MetricService, buckets: number[]) {
    this.requests = metricService.getCounter('http.server.requests', {
      description: 'Requests handled, by method, route and status.',
    });
    this.duration = metricService.getHistogram('http.server.request.duration', {
      description: 'Request duration in seconds, by method, route and status.',
      unit: 's',
      advice: { explicitBucketBoundaries: buckets },
    });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const startedAt = performance.now();
    const record = (status: number): void => {
      const attributes = {
        'http.request.method': req.method,
        'http.route':
          (req.route as { path?: string } | undefined)?.path ?? 'unknown',
        'http.response.status_code': status,
      };
      this.requests.add(1, attributes);
      this.duration.record((performance.now() - startedAt) / 1000, attributes);
    };
    return next.handle().pipe(
      tap({
        next: () => record(res.statusCode),
        error: (error: unknown) =>
          record(error instanceof HttpException ? error.getStatus() : 500),
      }),
    );
  }
}
