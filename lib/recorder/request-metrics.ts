import type { Registry } from 'prom-client';
import {
  FamilyView,
  type FamilyValue,
  type LabelValues,
} from './family-view.js';
import type {
  ErrorType,
  RequestRecord,
  RouteKey,
  Transport,
} from './request-record.js';

class StatusSeries {
  count = 0;
  requestBytes = 0;
  responseBytes = 0;
  durationSum = 0;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly bucketCounts: Float64Array;

  constructor(
    readonly labels: LabelValues,
    bucketCount: number,
  ) {
    this.bucketCounts = new Float64Array(bucketCount + 1);
  }
}

/** The series of one transport, method and route. Adapters keep it and hand it back with each record. */
export class RouteSeries implements RouteKey {
  readonly statuses = new Map<string, StatusSeries>();
  readonly errors = new Map<ErrorType, number>();

  constructor(
    readonly transport: Transport,
    readonly method: string,
    readonly route: string,
  ) {}
}

/** Names of the families the recorder exports, before the prefix. */
export const REQUEST_FAMILY_NAMES = [
  'requests_total',
  'request_bytes_total',
  'response_bytes_total',
  'request_duration_seconds',
  'concurrent_requests',
  'errors_total',
  'uptime_seconds',
] as const;

/**
 * The one writer of the request families shared by every transport. The hot path touches plain
 * numbers in series resolved once per route and status; label objects are built only at scrape time.
 */
export class RequestMetrics {
  private readonly routes = new Map<string, RouteSeries>();
  private readonly inFlight = new Map<Transport, number>();
  private readonly startedAt = performance.now();

  constructor(
    private readonly prefix: string,
    private readonly bounds: readonly number[],
  ) {}

  /** Creates the families in `registry`. */
  register(registry: Registry): void {
    const p = this.prefix;
    const requestLabels = ['transport', 'method', 'route', 'status'];
    const views = [
      new FamilyView(
        `${p}requests_total`,
        'Requests handled, by transport, method, route and status.',
        'counter',
        requestLabels,
        () => this.readStatuses((s) => s.count),
        () => this.clear(),
      ),
      new FamilyView(
        `${p}request_bytes_total`,
        'Body bytes received with requests.',
        'counter',
        requestLabels,
        () => this.readStatuses((s) => s.requestBytes),
        () => this.clear(),
      ),
      new FamilyView(
        `${p}response_bytes_total`,
        'Body bytes sent with responses.',
        'counter',
        requestLabels,
        () => this.readStatuses((s) => s.responseBytes),
        () => this.clear(),
      ),
      new FamilyView(
        `${p}request_duration_seconds`,
        'Time from the arrival of a request until its response ended, in seconds.',
        'histogram',
        requestLabels,
        (name) => this.readHistogram(name),
        () => this.clear(),
      ),
      new FamilyView(
        `${p}concurrent_requests`,
        'Requests in flight.',
        'gauge',
        ['transport'],
        () => this.readInFlight(),
        () => undefined,
      ),
      new FamilyView(
        `${p}errors_total`,
        'Requests that ended in an error, by error_type.',
        'counter',
        ['transport', 'method', 'route', 'error_type'],
        () => this.readErrors(),
        () => this.clear(),
      ),
      new FamilyView(
        `${p}uptime_seconds`,
        'Seconds since the metrics module started.',
        'gauge',
        [],
        () => [
          { value: (performance.now() - this.startedAt) / 1000, labels: {} },
        ],
        () => undefined,
      ),
    ];
    for (const view of views) view.register(registry);
  }

  /** The series of a route; resolve it once and keep it. */
  route(transport: Transport, method: string, route: string): RouteSeries {
    const key = `${transport} ${method} ${route}`;
    let series = this.routes.get(key);
    if (series === undefined) {
      series = new RouteSeries(transport, method, route);
      this.routes.set(key, series);
    }
    return series;
  }

  /** Shows the transport in `concurrent_requests` (at 0) before its first request. */
  declareTransport(transport: Transport): void {
    if (!this.inFlight.has(transport)) this.inFlight.set(transport, 0);
  }

  started(transport: Transport): void {
    this.inFlight.set(transport, (this.inFlight.get(transport) ?? 0) + 1);
  }

  ended(transport: Transport): void {
    this.inFlight.set(transport, (this.inFlight.get(transport) ?? 1) - 1);
  }

  record(route: RouteSeries, record: RequestRecord): void {
    let series = route.statuses.get(record.status);
    if (series === undefined) {
      series = new StatusSeries(
        {
          transport: route.transport,
          method: route.method,
          route: route.route,
          status: record.status,
        },
        this.bounds.length,
      );
      route.statuses.set(record.status, series);
    }
    series.count += 1;
    series.requestBytes += record.requestBytes;
    series.responseBytes += record.responseBytes;
    series.durationSum += record.durationSeconds;
    series.bucketCounts[this.bucketIndex(record.durationSeconds)] += 1;
    if (record.errorType !== undefined) {
      route.errors.set(
        record.errorType,
        (route.errors.get(record.errorType) ?? 0) + 1,
      );
    }
  }

  /** Counts an error that is not the end of a request (a queue job that stalled). */
  recordError(route: RouteSeries, errorType: ErrorType): void {
    route.errors.set(errorType, (route.errors.get(errorType) ?? 0) + 1);
  }

  private bucketIndex(seconds: number): number {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]) i++;
    return i;
  }

  /** Zeroes every series in place: adapters keep their route series across a reset. */
  private clear(): void {
    for (const route of this.routes.values()) {
      route.statuses.clear();
      route.errors.clear();
    }
  }

  private readStatuses(pick: (series: StatusSeries) => number): FamilyValue[] {
    const values: FamilyValue[] = [];
    for (const route of this.routes.values()) {
      for (const series of route.statuses.values()) {
        values.push({ value: pick(series), labels: series.labels });
      }
    }
    return values;
  }

  private readHistogram(name: string): FamilyValue[] {
    const values: FamilyValue[] = [];
    const bucketName = `${name}_bucket`;
    for (const route of this.routes.values()) {
      for (const series of route.statuses.values()) {
        let cumulative = 0;
        for (let i = 0; i < this.bounds.length; i++) {
          cumulative += series.bucketCounts[i];
          values.push({
            value: cumulative,
            labels: { le: this.bounds[i] },
            metricName: bucketName,
            sharedLabels: series.labels,
          });
        }
        values.push({
          value: series.count,
          labels: { le: '+Inf' },
          metricName: bucketName,
          sharedLabels: series.labels,
        });
        values.push({
          value: series.durationSum,
          labels: {},
          metricName: `${name}_sum`,
          sharedLabels: series.labels,
        });
        values.push({
          value: series.count,
          labels: {},
          metricName: `${name}_count`,
          sharedLabels: series.labels,
        });
      }
    }
    return values;
  }

  private readInFlight(): FamilyValue[] {
    return [...this.inFlight].map(([transport, value]) => ({
      value,
      labels: { transport },
    }));
  }

  private readErrors(): FamilyValue[] {
    const values: FamilyValue[] = [];
    for (const route of this.routes.values()) {
      for (const [errorType, count] of route.errors) {
        values.push({
          value: count,
          labels: {
            transport: route.transport,
            method: route.method,
            route: route.route,
            error_type: errorType,
          },
        });
      }
    }
    return values;
  }
}
