import type { Registry } from 'prom-client';
import { readFamily } from '../read/registry-reading.js';
import type { CumulativeBucket } from '../read/histogram-quantile.js';

/** The cumulative request numbers of one route (all statuses together), as read at one time. */
export interface RouteTotals {
  readonly transport: string;
  readonly method: string;
  readonly route: string;
  /** Upper bounds of the buckets, ascending, ending with `Infinity` (shared between routes). */
  readonly les: readonly number[];
  /** Cumulative counts of `les`; the last one is the request count. */
  readonly counts: Float64Array;
  /** Requests that ended in an error, every `error_type` together. */
  readonly errors: number;
}

/** The request families read at one time: routes by key, in-flight and errors by type per transport. */
export interface RequestTotals {
  readonly routes: ReadonlyMap<string, RouteTotals>;
  readonly inFlight: ReadonlyMap<string, number>;
  readonly errorsByType: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** Totals before anything was recorded: the baseline of a window that starts with the module. */
export const NO_REQUESTS: RequestTotals = {
  routes: new Map(),
  inFlight: new Map(),
  errorsByType: new Map(),
};

/** The key of a route in `RequestTotals.routes`. */
export function routeKey(
  transport: string,
  method: string,
  route: string,
): string {
  return `${transport}\u0000${method}\u0000${route}`;
}

/**
 * Reads `request_duration_seconds`, `errors_total` and `concurrent_requests` (names after
 * `prefix`) from `registry`, summing the series of a route over its statuses and over any
 * default labels.
 */
export async function readRequestTotals(
  registry: Registry,
  prefix: string,
): Promise<RequestTotals> {
  const [duration, errors, concurrent] = await Promise.all([
    readFamily(registry, `${prefix}request_duration_seconds`),
    readFamily(registry, `${prefix}errors_total`),
    readFamily(registry, `${prefix}concurrent_requests`),
  ]);
  const buckets = new Map<
    string,
    {
      transport: string;
      method: string;
      route: string;
      byLe: Map<number, number>;
    }
  >();
  if (duration?.type === 'histogram') {
    for (const series of duration.series) {
      const { transport = '', method = '', route = '' } = series.labels;
      const key = routeKey(transport, method, route);
      let entry = buckets.get(key);
      if (entry === undefined) {
        entry = { transport, method, route, byLe: new Map() };
        buckets.set(key, entry);
      }
      for (const { le, count } of series.buckets)
        entry.byLe.set(le, (entry.byLe.get(le) ?? 0) + count);
    }
  }
  const routeErrors = new Map<string, number>();
  const errorsByType = new Map<string, Map<string, number>>();
  if (errors?.type === 'counter') {
    for (const { labels, value } of errors.series) {
      const { transport = '', method = '', route = '' } = labels;
      const key = routeKey(transport, method, route);
      routeErrors.set(key, (routeErrors.get(key) ?? 0) + value);
      let types = errorsByType.get(transport);
      if (types === undefined) {
        types = new Map();
        errorsByType.set(transport, types);
      }
      const type = labels.error_type ?? '';
      types.set(type, (types.get(type) ?? 0) + value);
    }
  }
  const inFlight = new Map<string, number>();
  if (concurrent?.type === 'gauge') {
    for (const { labels, value } of concurrent.series) {
      const transport = labels.transport ?? '';
      inFlight.set(transport, (inFlight.get(transport) ?? 0) + value);
    }
  }
  const shared = new Map<string, readonly number[]>();
  const routes = new Map<string, RouteTotals>();
  for (const [key, { transport, method, route, byLe }] of buckets) {
    const sorted = [...byLe.keys()].sort((a, b) => a - b);
    const id = sorted.join(',');
    let les = shared.get(id);
    if (les === undefined) {
      les = sorted;
      shared.set(id, les);
    }
    routes.set(key, {
      transport,
      method,
      route,
      les,
      counts: Float64Array.from(les, (le) => byLe.get(le) ?? 0),
      errors: routeErrors.get(key) ?? 0,
    });
  }
  return { routes, inFlight, errorsByType };
}

/** The cumulative buckets of a route, in the form `histogramQuantile()` takes. */
export function bucketsOf(totals: RouteTotals): CumulativeBucket[] {
  return totals.les.map((le, i) => ({ le, count: totals.counts[i] }));
}
