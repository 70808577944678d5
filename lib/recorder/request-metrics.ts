import type { Registry } from 'prom-client';
import { SeriesLimit } from '../cardinality/series-limit.js';
import {
  DEFAULT_MAX_SERIES,
  OVERFLOW_LABEL_VALUE,
} from '../metrics.constants.js';
import {
  escapeLabelValue,
  labelPairs,
  sampleValue,
} from '../scrape/sample-text.js';
import {
  FamilyView,
  type FamilyValue,
  type LabelValues,
  type SampleTextContext,
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
  /** `labels` as exposition text, written at the first scrape: they never change. */
  labelText: string | undefined;

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
  /** transport, method and route as exposition text, written at the first scrape. */
  labelText: string | undefined;

  constructor(
    readonly transport: Transport,
    readonly method: string,
    readonly route: string,
    /** The series of a transport that label sets beyond `maxSeries` fold into. */
    readonly overflow = false,
  ) {}
}

const REQUEST_LABELS = ['transport', 'method', 'route', 'status'] as const;
const ERROR_LABELS = ['transport', 'method', 'route', 'error_type'] as const;
const BUCKET_EXCLUDED_DEFAULTS = [...REQUEST_LABELS, 'le'] as const;

/** Sample lines per run a scrape writes before it may yield to the event loop. */
const LINES_PER_RUN = 2048;

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
 *
 * Cardinality is bounded by `maxSeries`: at most that many routes, label sets of the request
 * families (which share theirs) and label sets of `errors_total`. Beyond it, `method`, `route` and
 * `status` read `OVERFLOW` (one series per transport; `errors_total` keeps its closed `error_type`).
 */
export class RequestMetrics {
  private readonly routes = new Map<string, RouteSeries>();
  private readonly overflowRoutes = new Map<Transport, RouteSeries>();
  private readonly inFlight = new Map<Transport, number>();
  private readonly startedAt = performance.now();
  private readonly requestSeries: SeriesLimit;
  private readonly errorSeries: SeriesLimit;

  constructor(
    private readonly prefix: string,
    private readonly bounds: readonly number[],
    maxSeries = DEFAULT_MAX_SERIES,
  ) {
    this.requestSeries = new SeriesLimit(
      [
        `${prefix}requests_total`,
        `${prefix}request_bytes_total`,
        `${prefix}response_bytes_total`,
        `${prefix}request_duration_seconds`,
      ],
      maxSeries,
    );
    this.errorSeries = new SeriesLimit([`${prefix}errors_total`], maxSeries);
  }

  /** Creates the families in `registry`. */
  register(registry: Registry): void {
    const p = this.prefix;
    const requestLabels = REQUEST_LABELS;
    const views = [
      new FamilyView(
        `${p}requests_total`,
        'Requests handled, by transport, method, route and status.',
        'counter',
        requestLabels,
        () => this.readStatuses((s) => s.count),
        () => this.clear(),
        'sum',
        (context) => this.counterLines(context, (s) => s.count),
      ),
      new FamilyView(
        `${p}request_bytes_total`,
        'Body bytes received with requests.',
        'counter',
        requestLabels,
        () => this.readStatuses((s) => s.requestBytes),
        () => this.clear(),
        'sum',
        (context) => this.counterLines(context, (s) => s.requestBytes),
      ),
      new FamilyView(
        `${p}response_bytes_total`,
        'Body bytes sent with responses.',
        'counter',
        requestLabels,
        () => this.readStatuses((s) => s.responseBytes),
        () => this.clear(),
        'sum',
        (context) => this.counterLines(context, (s) => s.responseBytes),
      ),
      new FamilyView(
        `${p}request_duration_seconds`,
        'Time from the arrival of a request until its response ended, in seconds.',
        'histogram',
        requestLabels,
        (name) => this.readHistogram(name),
        () => this.clear(),
        'sum',
        (context) => this.histogramLines(context),
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
        ERROR_LABELS,
        () => this.readErrors(),
        () => this.clear(),
        'sum',
        (context) => this.errorLines(context),
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
        'max',
      ),
    ];
    for (const view of views) view.register(registry);
  }

  /**
   * The series of a route; resolve it once and keep it. Beyond `maxSeries` routes, new ones get
   * the transport's overflow series, so values from user code (job names, patterns) stay bounded.
   */
  route(transport: Transport, method: string, route: string): RouteSeries {
    const key = `${transport} ${method} ${route}`;
    let series = this.routes.get(key);
    if (series === undefined) {
      if (this.routes.size >= this.requestSeries.max) {
        this.requestSeries.refuse();
        return this.overflowRoute(transport);
      }
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
    const series =
      route.statuses.get(record.status) ??
      this.newStatusSeries(route, record.status);
    series.count += 1;
    series.requestBytes += record.requestBytes;
    series.responseBytes += record.responseBytes;
    series.durationSum += record.durationSeconds;
    series.bucketCounts[this.bucketIndex(record.durationSeconds)] += 1;
    if (record.errorType !== undefined)
      this.countError(route, record.errorType);
  }

  /** Adds one error on the route, or on the overflow series once errors_total is full. */
  private countError(route: RouteSeries, errorType: ErrorType): void {
    const errors =
      route.overflow || route.errors.has(errorType) || this.errorSeries.take()
        ? route.errors
        : this.overflowRoute(route.transport).errors;
    errors.set(errorType, (errors.get(errorType) ?? 0) + 1);
  }

  /** Counts an error that is not the end of a request (a queue job that stalled). */
  recordError(route: RouteSeries, errorType: ErrorType): void {
    this.countError(route, errorType);
  }

  /** A status not seen yet on this route: a new series, or the overflow one once the families are full. */
  private newStatusSeries(route: RouteSeries, status: string): StatusSeries {
    if (!route.overflow && !this.requestSeries.take()) {
      route = this.overflowRoute(route.transport);
    }
    if (route.overflow) {
      status = OVERFLOW_LABEL_VALUE;
      const existing = route.statuses.get(status);
      if (existing !== undefined) return existing;
    }
    const series = new StatusSeries(
      {
        transport: route.transport,
        method: route.method,
        route: route.route,
        status,
      },
      this.bounds.length,
    );
    route.statuses.set(status, series);
    return series;
  }

  private overflowRoute(transport: Transport): RouteSeries {
    let series = this.overflowRoutes.get(transport);
    if (series === undefined) {
      series = new RouteSeries(
        transport,
        OVERFLOW_LABEL_VALUE,
        OVERFLOW_LABEL_VALUE,
        true,
      );
      this.overflowRoutes.set(transport, series);
    }
    return series;
  }

  /** Every route series, the overflow ones last. */
  private allRoutes(): RouteSeries[] {
    return [...this.routes.values(), ...this.overflowRoutes.values()];
  }

  private bucketIndex(seconds: number): number {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]) i++;
    return i;
  }

  /** Zeroes every series in place: adapters keep their route series across a reset. */
  private clear(): void {
    for (const route of this.allRoutes()) {
      route.statuses.clear();
      route.errors.clear();
    }
    this.requestSeries.clear();
    this.errorSeries.clear();
  }

  /** Every status series, in the order `readStatuses` gives them. */
  private allStatuses(): StatusSeries[] {
    const all: StatusSeries[] = [];
    for (const route of this.allRoutes()) {
      for (const series of route.statuses.values()) all.push(series);
    }
    return all;
  }

  // The writers below take the list of series once, when their family starts rendering, and write
  // each series whole between two yields: a series created during a scrape is in a family or not.

  private *counterLines(
    context: SampleTextContext,
    pick: (series: StatusSeries) => number,
  ): Generator<string> {
    const all = this.allStatuses();
    const head = `\n${context.sampleName}{`;
    const defaults = context.defaultLabelPairs(REQUEST_LABELS);
    const tail = defaults === '' ? '} ' : `,${defaults}} `;
    const run: string[] = [];
    for (let i = 0; i < all.length; i++) {
      const series = all[i];
      series.labelText ??= labelPairs(series.labels);
      run.push(head + series.labelText + tail + sampleValue(pick(series)));
      if ((i + 1) % LINES_PER_RUN === 0) {
        yield run.join('');
        run.length = 0;
      }
    }
    if (run.length > 0) yield run.join('');
  }

  /** prom-client's histogram lines: `le` first, then default labels, then the shared labels. */
  private *histogramLines(context: SampleTextContext): Generator<string> {
    const all = this.allStatuses();
    const name = context.sampleName;
    const bucketDefaults = context.defaultLabelPairs(BUCKET_EXCLUDED_DEFAULTS);
    const defaults = context.defaultLabelPairs(REQUEST_LABELS);
    const bucketHeads = [...this.bounds, '+Inf'].map(
      (le) =>
        `\n${name}_bucket{le="${escapeLabelValue(le)}",${bucketDefaults === '' ? '' : `${bucketDefaults},`}`,
    );
    const otherDefaults = defaults === '' ? '' : `${defaults},`;
    const sumHead = `\n${name}_sum{${otherDefaults}`;
    const countHead = `\n${name}_count{${otherDefaults}`;
    const bucketCount = this.bounds.length;
    const linesPerSeries = bucketCount + 3;
    const run: string[] = [];
    let lines = 0;
    for (const series of all) {
      series.labelText ??= labelPairs(series.labels);
      const tail = `${series.labelText}} `;
      let cumulative = 0;
      for (let i = 0; i < bucketCount; i++) {
        cumulative += series.bucketCounts[i];
        run.push(bucketHeads[i] + tail + sampleValue(cumulative));
      }
      const count = sampleValue(series.count);
      run.push(
        bucketHeads[bucketCount] +
          tail +
          count +
          sumHead +
          tail +
          sampleValue(series.durationSum) +
          countHead +
          tail +
          count,
      );
      lines += linesPerSeries;
      if (lines >= LINES_PER_RUN) {
        yield run.join('');
        run.length = 0;
        lines = 0;
      }
    }
    if (run.length > 0) yield run.join('');
  }

  private *errorLines(context: SampleTextContext): Generator<string> {
    const routes = this.allRoutes();
    const head = `\n${context.sampleName}{`;
    const defaults = context.defaultLabelPairs(ERROR_LABELS);
    const tail = defaults === '' ? '"} ' : `",${defaults}} `;
    const run: string[] = [];
    let lines = 0;
    for (const route of routes) {
      if (route.errors.size === 0) continue;
      route.labelText ??= labelPairs({
        transport: route.transport,
        method: route.method,
        route: route.route,
      });
      for (const [errorType, count] of route.errors) {
        run.push(
          head +
            route.labelText +
            ',error_type="' +
            escapeLabelValue(errorType) +
            tail +
            sampleValue(count),
        );
        lines += 1;
      }
      if (lines >= LINES_PER_RUN) {
        yield run.join('');
        run.length = 0;
        lines = 0;
      }
    }
    if (run.length > 0) yield run.join('');
  }

  private readStatuses(pick: (series: StatusSeries) => number): FamilyValue[] {
    const values: FamilyValue[] = [];
    for (const route of this.allRoutes()) {
      for (const series of route.statuses.values()) {
        values.push({ value: pick(series), labels: series.labels });
      }
    }
    return values;
  }

  private readHistogram(name: string): FamilyValue[] {
    const values: FamilyValue[] = [];
    const bucketName = `${name}_bucket`;
    for (const route of this.allRoutes()) {
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
    for (const route of this.allRoutes()) {
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
