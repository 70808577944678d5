import { describe, expect, it } from '@jest/globals';
import {
  formatDuration,
  formatSeconds,
  renderFrame,
  renderMessage,
} from './render-frame.js';
import type { MetricsSummary, TransportSummary } from './summary-shape.js';

const HTTP: TransportSummary = {
  requests: 1200,
  request_rate_per_second: 4.1,
  errors: 12,
  error_ratio: 0.01,
  errors_by_type: { not_found: 10, internal: 2 },
  in_flight: 3,
  latency_seconds: {
    window: { p50: 0.004, p95: 0.02, p99: 0.09 },
    lifetime: { p50: 0.004, p95: 0.021, p99: 0.1 },
  },
  top_routes_by_p95: [
    { method: 'GET', route: '/users/:id', requests: 800, errors: 1, p95: 0.02 },
  ],
  top_routes_by_errors: [
    { method: 'GET', route: '/missing', requests: 10, errors: 10, p95: 0.003 },
  ],
};

const SUMMARY: MetricsSummary = {
  timestamp: '2026-12-01T12:00:00.000Z',
  uptime_seconds: 123.4,
  window_seconds: 300,
  quantile_estimate: 'bucket estimates',
  transports: { http: HTTP },
};

describe('renderFrame', () => {
  it('renders the agreed example: uptime, window, one row per transport, routes and error types', () => {
    expect(
      renderFrame(SUMMARY, { width: 80, source: 'http://app/metrics/summary' }),
    ).toBe(
      [
        'nestjs-metrics top  http://app/metrics/summary                      12:00:00 UTC',
        'uptime 2m 3s   window 5m 0s (rate, error %, p50/p95/p99: bucket estimates)',
        '',
        'TRANSPORT   REQUESTS   RATE/S  ERRORS  ERROR %     P50     P95     P99 IN FLIGHT',
        'http            1200     4.10      12    1.00%   4.0ms  20.0ms  90.0ms         3',
        '',
        'http: lifetime p50 4.0ms  p95 21.0ms  p99 100.0ms',
        'http error types: not_found 10  internal 2',
        'http top routes by p95',
        '  METHOD  ROUTE                                        REQUESTS  ERRORS      P95',
        '  GET     /users/:id                                        800       1   20.0ms',
        'http top routes by errors',
        '  METHOD  ROUTE                                        REQUESTS  ERRORS      P95',
        '  GET     /missing                                           10      10    3.0ms',
        '',
      ].join('\n'),
    );
  });

  it('cuts every line to the width, marking the cut', () => {
    const frame = renderFrame(SUMMARY, { width: 50 });
    const lines = frame.split('\n');
    expect(lines.every((line) => [...line].length <= 50)).toBe(true);
    expect(lines[3]).toBe('TRANSPORT   REQUESTS   RATE/S  ERRORS  ERROR %   …');
  });

  it('orders transports http, graphql, rpc, ws, queue, then others by name; no data reads "-"', () => {
    const empty: TransportSummary = {
      ...HTTP,
      requests: 0,
      request_rate_per_second: 0,
      errors: 0,
      error_ratio: 0,
      errors_by_type: {},
      in_flight: 0,
      latency_seconds: {
        window: { p50: null, p95: null, p99: null },
        lifetime: { p50: null, p95: null, p99: null },
      },
      top_routes_by_p95: [],
      top_routes_by_errors: [],
    };
    const frame = renderFrame(
      {
        ...SUMMARY,
        transports: {
          zeta: empty,
          queue: empty,
          ws: empty,
          http: HTTP,
          rpc: empty,
        },
      },
      { width: 120 },
    );
    const rows = frame
      .split('\n')
      .filter((line) => /^(http|rpc|ws|queue|zeta) +\d/.test(line));
    expect(rows.map((line) => line.split(' ')[0])).toEqual([
      'http',
      'rpc',
      'ws',
      'queue',
      'zeta',
    ]);
    expect(rows[1]).toBe(
      'rpc                0     0.00       0    0.00%       -       -       -         0',
    );
    expect(frame).toContain('rpc error types: none');
    expect(frame).not.toContain('rpc top routes');
  });

  it('says when nothing was recorded, and shows a notice under the frame', () => {
    const frame = renderFrame(
      { ...SUMMARY, transports: {} },
      { width: 60, notice: 'every 2s; Ctrl-C to quit' },
    );
    expect(frame.split('\n').slice(3)).toEqual([
      'No request recorded yet.',
      '',
      'every 2s; Ctrl-C to quit',
      '',
    ]);
  });
});

describe('renderMessage', () => {
  it('wraps the message to the width', () => {
    expect(
      renderMessage(
        'Cannot reach http://x/metrics/summary: connection refused.',
        {
          width: 30,
        },
      ),
    ).toBe(
      'nestjs-metrics top\n\nCannot reach\nhttp://x/metrics/summary:\nconnection refused.\n',
    );
  });
});

describe('formats', () => {
  it('durations and seconds', () => {
    expect(
      [0.0004, 0.0123, 0.5, 1.234, null].map((value) => formatSeconds(value)),
    ).toEqual(['400µs', '12.3ms', '500.0ms', '1.23s', '-']);
    expect([5.25, 125, 3723, 90_061].map(formatDuration)).toEqual([
      '5.3s',
      '2m 5s',
      '1h 2m',
      '1d 1h',
    ]);
  });
});
