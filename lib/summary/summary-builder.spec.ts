import { describe, expect, it } from '@jest/globals';
import { buildSummary } from './summary-builder.js';
import {
  NO_REQUESTS,
  routeKey,
  type RequestTotals,
  type RouteTotals,
} from './request-totals.js';

const LES = [0.1, 0.5, 1, Infinity];

function route(
  path: string,
  counts: number[],
  errors = 0,
  method = 'GET',
): RouteTotals {
  return {
    transport: 'http',
    method,
    route: path,
    les: LES,
    counts: Float64Array.from(counts),
    errors,
  };
}

function totals(
  routes: RouteTotals[],
  errorsByType: Record<string, number> = {},
  inFlight = 0,
): RequestTotals {
  return {
    routes: new Map(
      routes.map((r) => [routeKey(r.transport, r.method, r.route), r]),
    ),
    inFlight: new Map([['http', inFlight]]),
    errorsByType: new Map([['http', new Map(Object.entries(errorsByType))]]),
  };
}

const at = { uptimeSeconds: 100, timestamp: new Date(0) };

describe('buildSummary', () => {
  it('orders the top routes by p95 and by errors over the window, at most 5', () => {
    const now = totals(
      [
        route('/a', [10, 10, 10, 10]),
        route('/b', [0, 10, 10, 10], 1),
        route('/c', [0, 0, 10, 10], 4),
        route('/d', [0, 0, 0, 10], 2),
        route('/e', [5, 10, 10, 10], 2),
        route('/f', [9, 10, 10, 10]),
        route('/idle', [0, 0, 0, 0]),
      ],
      { internal: 6, not_found: 3 },
      2,
    );
    const summary = buildSummary({
      ...at,
      now,
      baseline: NO_REQUESTS,
      windowSeconds: 50,
    });
    const http = summary.transports.http;
    expect(http.requests).toBe(60);
    expect(http.errors).toBe(9);
    expect(http.errors_by_type).toEqual({ internal: 6, not_found: 3 });
    expect(http.in_flight).toBe(2);
    expect(http.request_rate_per_second).toBe(60 / 50);
    expect(http.error_ratio).toBe(9 / 60);
    expect(http.top_routes_by_p95.map((r) => [r.route, r.p95])).toEqual([
      // in +Inf: the upper bound of the last finite bucket, as histogram_quantile answers
      ['/d', 1],
      ['/c', expect.closeTo(0.975, 12)],
      ['/b', expect.closeTo(0.48, 12)],
      ['/e', expect.closeTo(0.46, 12)],
      ['/f', expect.closeTo(0.3, 12)],
    ]);
    expect(http.top_routes_by_errors.map((r) => [r.route, r.errors])).toEqual([
      ['/c', 4],
      ['/d', 2],
      ['/e', 2],
      ['/b', 1],
    ]);
  });

  it('counts the window from the baseline, and a reset as the later reading alone', () => {
    const baseline = totals([
      route('/old', [4, 4, 4, 4], 4),
      route('/reset', [8, 8, 8, 8], 3),
    ]);
    const now = totals(
      [
        route('/old', [4, 4, 4, 4], 4),
        route('/reset', [2, 2, 2, 2], 1),
        route('/new', [0, 3, 3, 3]),
      ],
      { internal: 5 },
    );
    const summary = buildSummary({
      ...at,
      now,
      baseline,
      windowSeconds: 10,
    });
    const http = summary.transports.http;
    expect(http.requests).toBe(9);
    expect(http.errors).toBe(5);
    expect(http.request_rate_per_second).toBe(0.5);
    expect(http.error_ratio).toBe(1 / 5);
    expect(http.top_routes_by_p95.map((r) => [r.route, r.requests])).toEqual([
      ['/new', 3],
      ['/reset', 2],
    ]);
    // Window: /reset's 2 in the first bucket, /new's 3 in the second; rank 2.5
    expect(http.latency_seconds.window.p50).toBeCloseTo(
      0.1 + 0.4 * (0.5 / 3),
      12,
    );
    // 6 of 9 lifetime observations in the first bucket: rank 4.5 at 0.1 × 4.5 / 6
    expect(http.latency_seconds.lifetime.p50).toBeCloseTo(0.075, 12);
  });

  it('leaves out transports without requests, and gives null quantiles without observations', () => {
    const idle = buildSummary({
      ...at,
      now: totals([]),
      baseline: NO_REQUESTS,
      windowSeconds: 0,
    });
    expect(idle.transports).toEqual({});
    const quiet = buildSummary({
      ...at,
      now: totals([route('/a', [1, 1, 1, 1])]),
      baseline: totals([route('/a', [1, 1, 1, 1])]),
      windowSeconds: 30,
    });
    expect(quiet.transports.http).toMatchObject({
      requests: 1,
      request_rate_per_second: 0,
      error_ratio: 0,
      latency_seconds: {
        window: { p50: null, p95: null, p99: null },
        lifetime: { p50: 0.05, p95: expect.closeTo(0.095), p99: 0.099 },
      },
      top_routes_by_p95: [],
    });
  });
});
