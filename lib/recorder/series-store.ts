import { SeriesLimit } from '../cardinality/series-limit.js';
import {
  DEFAULT_MAX_SERIES,
  OVERFLOW_LABEL_VALUE,
} from '../metrics.constants.js';
import {
  SeriesExemplars,
  type TraceLabels,
} from '../exemplars/trace-exemplars.js';
import type { LabelValues } from './family-view.js';
import type {
  ErrorType,
  RequestRecord,
  RouteKey,
  Transport,
} from './request-record.js';

/** The counters of one transport, method, route and status. */
export class StatusSeries {
  count = 0;
  requestBytes = 0;
  responseBytes = 0;
  durationSum = 0;
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly bucketCounts: Float64Array;
  /** A cache the text writer owns: `labels` as exposition text, written at the first scrape. */
  labelText: string | undefined;
  /** The last exemplar per bucket and of the count; only with `exemplars` on, at the first one. */
  exemplars: SeriesExemplars | undefined = undefined;

  constructor(
    readonly labels: LabelValues,
    /** Upper bounds of the duration buckets of the series' transport, in seconds. */
    readonly bounds: readonly number[],
  ) {
    this.bucketCounts = new Float64Array(bounds.length + 1);
  }
}

/** The series of one transport, method and route. Adapters keep it and hand it back with each record. */
export class RouteSeries implements RouteKey {
  readonly statuses = new Map<string, StatusSeries>();
  readonly errors = new Map<ErrorType, number>();
  /** A cache the text writer owns: transport, method and route as exposition text. */
  labelText: string | undefined;

  constructor(
    readonly transport: Transport,
    readonly method: string,
    readonly route: string,
    /** The series of a transport that label sets beyond `maxSeries` fold into. */
    readonly overflow = false,
  ) {}
}

/** The family names a `SeriesStore` names in its `maxSeries` warnings. */
export interface SeriesStoreFamilies {
  /** The families that share the label sets of a route and status. */
  readonly status: readonly string[];
  /** The families whose label sets are a route and an `error_type`. */
  readonly error: readonly string[];
}

/**
 * The values of the request families: plain numbers in series resolved once per route and
 * status, the in-flight count per transport, and the start time. It knows nothing of how the
 * families are exported (see `request-families.ts`).
 *
 * Cardinality is bounded by `maxSeries`: at most that many routes, label sets of the status
 * families (which share theirs) and label sets of `errors_total`. Beyond it, `method`, `route` and
 * `status` read `OVERFLOW` (one series per transport; `errors_total` keeps its closed `error_type`).
 */
export class SeriesStore {
  private readonly routes = new Map<string, RouteSeries>();
  private readonly overflowRoutes = new Map<Transport, RouteSeries>();
  /** Requests in flight per transport; a plain property per transport rather than a Map entry. */
  private readonly inFlightCounts: Record<Transport, number> = {
    http: 0,
    rpc: 0,
    ws: 0,
    queue: 0,
    graphql: 0,
  };
  /** The transports declared or seen in flight, in the order they were first. */
  private readonly inFlightTransports: Transport[] = [];
  private readonly declared: Record<Transport, boolean> = {
    http: false,
    rpc: false,
    ws: false,
    queue: false,
    graphql: false,
  };
  readonly startedAt = performance.now();
  /** The budget of the transports whose route values come from the app (templates, patterns, queues). */
  private readonly appBudget: Budget;
  /**
   * The budget of the transports whose route values a client chooses (GraphQL operation names):
   * a flood of made-up names fills this one, never the app's routes.
   */
  private readonly clientBudget: Budget;

  /** Upper bounds of the duration buckets of each transport, in seconds. */
  readonly bounds: TransportBuckets;

  constructor(
    /** One list for every transport, or one per transport. */
    bounds: readonly number[] | TransportBuckets,
    maxSeries = DEFAULT_MAX_SERIES,
    families: SeriesStoreFamilies = { status: [], error: [] },
  ) {
    this.bounds = isBucketList(bounds)
      ? {
          http: bounds,
          rpc: bounds,
          ws: bounds,
          queue: bounds,
          graphql: bounds,
        }
      : bounds;
    const budget = (): Budget => ({
      status: new SeriesLimit(families.status, maxSeries),
      error: new SeriesLimit(families.error, maxSeries),
      routes: 0,
    });
    this.appBudget = budget();
    this.clientBudget = budget();
  }

  /**
   * The series of a route; resolve it once and keep it. Beyond `maxSeries` routes, new ones get
   * the transport's overflow series, so values from user code (job names, patterns) stay bounded.
   */
  route(transport: Transport, method: string, route: string): RouteSeries {
    const key = `${transport} ${method} ${route}`;
    let series = this.routes.get(key);
    if (series === undefined) {
      const budget = this.budgetOf(transport);
      if (budget.routes >= budget.status.max) {
        budget.status.refuse();
        return this.overflowRoute(transport);
      }
      budget.routes += 1;
      series = new RouteSeries(transport, method, route);
      this.routes.set(key, series);
    }
    return series;
  }

  /** Requests in flight per transport, in the order the transports were first declared or seen. */
  get inFlight(): ReadonlyMap<Transport, number> {
    return new Map(
      this.inFlightTransports.map((transport) => [
        transport,
        this.inFlightCounts[transport],
      ]),
    );
  }

  /** Shows the transport in `concurrent_requests` (at 0) before its first request. */
  declareTransport(transport: Transport): void {
    if (this.declared[transport]) return;
    this.declared[transport] = true;
    this.inFlightTransports.push(transport);
  }

  started(transport: Transport): void {
    this.inFlightCounts[transport] += 1;
    if (!this.declared[transport]) this.declareTransport(transport);
  }

  ended(transport: Transport): void {
    this.inFlightCounts[transport] -= 1;
  }

  /** Counts the request; returns the series it was counted in (for `keepExemplar`). */
  record(route: RouteSeries, record: RequestRecord): StatusSeries {
    const series =
      route.statuses.get(record.status) ??
      this.newStatusSeries(route, record.status);
    series.count += 1;
    series.requestBytes += record.requestBytes;
    series.responseBytes += record.responseBytes;
    series.durationSum += record.durationSeconds;
    series.bucketCounts[bucketIndex(series.bounds, record.durationSeconds)] +=
      1;
    if (record.errorType !== undefined)
      this.countError(route, record.errorType);
    return series;
  }

  /** Keeps `trace` as the last exemplar of the series' count and of the bucket of `durationSeconds`. */
  keepExemplar(
    series: StatusSeries,
    trace: TraceLabels,
    durationSeconds: number,
  ): void {
    const exemplars = (series.exemplars ??= new SeriesExemplars(
      series.bucketCounts.length,
    ));
    const timestamp = Date.now() / 1000;
    exemplars.count = { ...trace, value: 1, timestamp };
    exemplars.buckets[bucketIndex(series.bounds, durationSeconds)] = {
      ...trace,
      value: durationSeconds,
      timestamp,
    };
  }

  /** Counts an error that is not the end of a request (a queue job that stalled). */
  recordError(route: RouteSeries, errorType: ErrorType): void {
    this.countError(route, errorType);
  }

  /** Every route series, the overflow ones last. */
  allRoutes(): RouteSeries[] {
    return [...this.routes.values(), ...this.overflowRoutes.values()];
  }

  /** Every status series, route by route, the overflow ones last. */
  allStatuses(): StatusSeries[] {
    const all: StatusSeries[] = [];
    for (const route of this.allRoutes()) {
      for (const series of route.statuses.values()) all.push(series);
    }
    return all;
  }

  /** Zeroes every series in place: adapters keep their route series across a reset. */
  clear(): void {
    for (const route of this.allRoutes()) {
      route.statuses.clear();
      route.errors.clear();
    }
    for (const budget of [this.appBudget, this.clientBudget]) {
      budget.status.clear();
      budget.error.clear();
    }
  }

  /** Adds one error on the route, or on the overflow series once errors_total is full. */
  private countError(route: RouteSeries, errorType: ErrorType): void {
    const errors =
      route.overflow ||
      route.errors.has(errorType) ||
      this.budgetOf(route.transport).error.take()
        ? route.errors
        : this.overflowRoute(route.transport).errors;
    errors.set(errorType, (errors.get(errorType) ?? 0) + 1);
  }

  /** A status not seen yet on this route: a new series, or the overflow one once the families are full. */
  private newStatusSeries(route: RouteSeries, status: string): StatusSeries {
    if (!route.overflow && !this.budgetOf(route.transport).status.take()) {
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
      this.bounds[route.transport],
    );
    route.statuses.set(status, series);
    return series;
  }

  private budgetOf(transport: Transport): Budget {
    return CLIENT_NAMED_TRANSPORTS.has(transport)
      ? this.clientBudget
      : this.appBudget;
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
}

/** Slots of `maxSeries` for the routes, status label sets and error label sets of some transports. */
interface Budget {
  readonly status: SeriesLimit;
  readonly error: SeriesLimit;
  routes: number;
}

/** Transports whose `route` values are chosen by clients, with a budget of their own. */
const CLIENT_NAMED_TRANSPORTS: ReadonlySet<Transport> = new Set(['graphql']);

/** Duration bucket bounds, in seconds, of each transport. */
export type TransportBuckets = Readonly<Record<Transport, readonly number[]>>;

function isBucketList(
  bounds: readonly number[] | TransportBuckets,
): bounds is readonly number[] {
  return Array.isArray(bounds);
}

function bucketIndex(bounds: readonly number[], seconds: number): number {
  let i = 0;
  while (i < bounds.length && seconds > bounds[i]) i++;
  return i;
}
