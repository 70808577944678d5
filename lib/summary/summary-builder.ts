import {
  bucketIncrease,
  histogramQuantile,
  type CumulativeBucket,
} from '../read/histogram-quantile.js';
import type {
  LatencyQuantiles,
  MetricsSummary,
  RouteSummary,
  TransportSummary,
} from './metrics-summary.interface.js';
import { bucketsOf, type RequestTotals } from './request-totals.js';

/** What the output says about its percentiles. */
export const QUANTILE_ESTIMATE =
  "p50/p95/p99 are estimated from histogram buckets by linear interpolation, as Prometheus' histogram_quantile does";

/** Routes listed in each top list. */
export const TOP_ROUTES = 5;

/** Everything `buildSummary()` reads: two cumulative readings and the times around them. */
export interface SummaryInput {
  /** The reading now. */
  readonly now: RequestTotals;
  /** The reading at the start of the window. */
  readonly baseline: RequestTotals;
  /** Seconds between the two readings. */
  readonly windowSeconds: number;
  readonly uptimeSeconds: number;
  readonly timestamp: Date;
}

interface RouteWindow extends RouteSummary {
  readonly transport: string;
}

/** The summary of `SUMMARY-SHAPE`: lifetime totals from `now`, rates and window percentiles from `now - baseline`. */
export function buildSummary(input: SummaryInput): MetricsSummary {
  const { now, baseline, windowSeconds } = input;
  const lifetime = new Map<string, CumulativeBucket[][]>();
  const window = new Map<string, CumulativeBucket[][]>();
  const routes = new Map<string, RouteWindow[]>();
  const requests = new Map<string, number>();
  for (const [key, totals] of now.routes) {
    const { transport } = totals;
    const later = bucketsOf(totals);
    const before = baseline.routes.get(key);
    const increase = bucketIncrease(later, before && bucketsOf(before));
    const windowCount = increase[increase.length - 1]?.count ?? 0;
    // A reset in between (a count went down) reads as the later reading alone, as in increase().
    const reset =
      before !== undefined &&
      (wentDown(later, bucketsOf(before)) || totals.errors < before.errors);
    const windowErrors =
      before === undefined || reset
        ? totals.errors
        : totals.errors - before.errors;
    push(lifetime, transport, later);
    push(window, transport, increase);
    requests.set(
      transport,
      (requests.get(transport) ?? 0) + (later[later.length - 1]?.count ?? 0),
    );
    if (windowCount > 0) {
      push(routes, transport, {
        transport,
        method: totals.method,
        route: totals.route,
        requests: windowCount,
        errors: windowErrors,
        p95: quantile(0.95, increase),
      });
    }
  }
  const transports: Record<string, TransportSummary> = {};
  const names = new Set([...requests.keys(), ...now.inFlight.keys()]);
  for (const transport of [...names].sort()) {
    const total = requests.get(transport) ?? 0;
    const inFlight = now.inFlight.get(transport) ?? 0;
    if (total === 0 && inFlight <= 0) continue;
    const windowRoutes = routes.get(transport) ?? [];
    const windowRequests = sumOf(windowRoutes.map((r) => r.requests));
    const windowErrors = sumOf(windowRoutes.map((r) => r.errors));
    const byType = now.errorsByType.get(transport) ?? new Map();
    transports[transport] = {
      requests: total,
      request_rate_per_second:
        windowSeconds > 0 ? windowRequests / windowSeconds : 0,
      errors: sumOf([...byType.values()]),
      error_ratio: windowRequests > 0 ? windowErrors / windowRequests : 0,
      errors_by_type: Object.fromEntries(
        [...byType].filter(([, count]) => count > 0).sort(),
      ),
      in_flight: inFlight,
      latency_seconds: {
        window: quantiles(merged(window.get(transport))),
        lifetime: quantiles(merged(lifetime.get(transport))),
      },
      top_routes_by_p95: [...windowRoutes]
        .sort(
          (a, b) =>
            (b.p95 ?? -1) - (a.p95 ?? -1) ||
            b.requests - a.requests ||
            byName(a, b),
        )
        .slice(0, TOP_ROUTES)
        .map(entry),
      top_routes_by_errors: windowRoutes
        .filter((r) => r.errors > 0)
        .sort((a, b) => b.errors - a.errors || byName(a, b))
        .slice(0, TOP_ROUTES)
        .map(entry),
    };
  }
  return {
    timestamp: input.timestamp.toISOString(),
    uptime_seconds: input.uptimeSeconds,
    window_seconds: windowSeconds,
    quantile_estimate: QUANTILE_ESTIMATE,
    transports,
  };
}

/** `histogramQuantile()` as JSON: `null` where there is no estimate. */
export function quantile(
  q: number,
  buckets: readonly CumulativeBucket[],
): number | null {
  const value = histogramQuantile(q, buckets);
  return Number.isFinite(value) ? value : null;
}

export function quantiles(
  buckets: readonly CumulativeBucket[],
): LatencyQuantiles {
  return {
    p50: quantile(0.5, buckets),
    p95: quantile(0.95, buckets),
    p99: quantile(0.99, buckets),
  };
}

/** Bucket lists summed by `le`, as `sum by (le)` does. */
function merged(lists: CumulativeBucket[][] = []): CumulativeBucket[] {
  const byLe = new Map<number, number>();
  for (const list of lists)
    for (const { le, count } of list) byLe.set(le, (byLe.get(le) ?? 0) + count);
  return [...byLe]
    .sort(([a], [b]) => a - b)
    .map(([le, count]) => ({ le, count }));
}

function wentDown(
  later: readonly CumulativeBucket[],
  earlier: readonly CumulativeBucket[],
): boolean {
  const before = new Map(earlier.map(({ le, count }) => [le, count]));
  return later.some(({ le, count }) => count < (before.get(le) ?? 0));
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function sumOf(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function byName(a: RouteWindow, b: RouteWindow): number {
  return a.route < b.route
    ? -1
    : a.route > b.route
      ? 1
      : a.method < b.method
        ? -1
        : a.method > b.method
          ? 1
          : 0;
}

function entry({
  method,
  route,
  requests,
  errors,
  p95,
}: RouteWindow): RouteSummary {
  return { method, route, requests, errors, p95 };
}
