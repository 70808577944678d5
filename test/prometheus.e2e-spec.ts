import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AppModule } from '../sample-app/app.module.js';
import { configureSampleApp } from '../sample-app/configure-app.js';
import {
  panelQueries,
  substituteVariables,
} from './helpers/grafana-dashboard.js';
import { eventually, find, parseSamples, sum } from './helpers/metrics-text.js';
import { metricNames } from './helpers/promql.js';
import {
  startPrometheus,
  type PrometheusServer,
  type VectorSample,
} from './helpers/prometheus-server.js';
import { findSystemBinary } from './helpers/system-binary.js';
import { QUEUE_DEPTH_FAMILIES } from '../lib/queue/queue-depth.families.js';
import { WS_CONNECTION_FAMILIES } from '../lib/transports/ws-connections.families.js';

const prometheusBinary = findSystemBinary(
  'prometheus',
  'prometheus',
  'the tests against a real Prometheus are',
);
const JOB = 'sample-app';
const OBSERVABILITY = resolve(process.cwd(), 'observability');
/** Families exported by other parts of the library than the sample app's HTTP requests. */
const OTHER_FAMILIES = [
  'queue_wait_seconds',
  ...Object.values(QUEUE_DEPTH_FAMILIES).map((family) => family.name),
  ...Object.values(WS_CONNECTION_FAMILIES).map((family) => family.name),
  // Outbound HTTP calls (`clientMetrics: true`), as the README's metric table names them.
  'client_requests_total',
  'client_request_duration_seconds',
  'client_errors_total',
];

/** The traffic sent to the sample app: successful requests by route, then failures. */
const OK = { '/orders/1': 25, '/slow': 5 };
const VALIDATION_FAILURES = 5;
const SERVER_ERRORS = 3;
const EXCLUDED = 4;
const COUNTED =
  OK['/orders/1'] + OK['/slow'] + VALIDATION_FAILURES + SERVER_ERRORS;
/** /slow sleeps this long, which puts it in the (1, 2.5] bucket of the default buckets. */
const SLOW_MS = 1_100;

/**
 * The bucket (lower, upper] that holds the median of `route` in the app's own exposition, as
 * `histogram_quantile(0.5, …)` finds it: the first whose cumulative count reaches half the total.
 */
async function medianBucket(
  appUrl: string,
  route: string,
): Promise<[number, number]> {
  const samples = parseSamples(await (await fetch(`${appUrl}/metrics`)).text());
  const byBound = new Map<number, number>();
  for (const sample of find(samples, 'request_duration_seconds_bucket', {
    transport: 'http',
    route,
  })) {
    const le =
      sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
    byBound.set(le, (byBound.get(le) ?? 0) + sample.value);
  }
  const bounds = [...byBound.keys()].sort((a, b) => a - b);
  const half = byBound.get(Infinity)! / 2;
  const index = bounds.findIndex((le) => byBound.get(le)! >= half);
  return [index > 0 ? bounds[index - 1] : 0, bounds[index]];
}

(prometheusBinary ? describe : describe.skip)(
  'A real Prometheus scraping the sample app',
  () => {
    let app: INestApplication;
    let appUrl: string;
    let prometheus: PrometheusServer;

    beforeAll(async () => {
      app = await NestFactory.create(AppModule, { logger: false });
      configureSampleApp(app);
      await app.listen(0, '127.0.0.1');
      appUrl = await app.getUrl();
      prometheus = await startPrometheus(prometheusBinary!, {
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [resolve(OBSERVABILITY, 'alerts.rules.yml')],
        scrape_configs: [
          {
            job_name: JOB,
            metrics_path: '/metrics',
            scrape_timeout: '1s',
            static_configs: [{ targets: [new URL(appUrl).host] }],
          },
        ],
      });

      await sendTraffic(appUrl);
      // Responses are recorded when their socket says they ended: wait for the app's own count.
      await eventually(async () => {
        const samples = parseSamples(
          await (await fetch(`${appUrl}/metrics`)).text(),
        );
        expect(sum(samples, 'requests_total', { transport: 'http' })).toBe(
          COUNTED,
        );
      });
      await prometheus.waitForScrapeAfter(JOB, Date.now());
    }, 60_000);

    afterAll(async () => {
      await prometheus?.stop();
      await app?.close();
    });

    it('counts every request exactly once, excluded routes left out', async () => {
      expect(
        values(await prometheus.query('sum(requests_total{transport="http"})')),
      ).toEqual([COUNTED]);
      expect(
        byLabel(
          await prometheus.query(
            'sum by (status) (requests_total{transport="http"})',
          ),
          'status',
        ),
      ).toEqual({
        '200': OK['/orders/1'] + OK['/slow'],
        '400': VALIDATION_FAILURES,
        '500': SERVER_ERRORS,
      });
      expect(await prometheus.query('requests_total{route="/health"}')).toEqual(
        [],
      );
    });

    it('gives the error ratio by error_type', async () => {
      const ratios = byLabel(
        await prometheus.query(
          `sum by (error_type) (errors_total{transport="http"})
             / ignoring (error_type) group_left
           sum(requests_total{transport="http"})`,
        ),
        'error_type',
      );
      expect(Object.keys(ratios).sort()).toEqual(['internal', 'validation']);
      expect(ratios.validation).toBeCloseTo(VALIDATION_FAILURES / COUNTED, 12);
      expect(ratios.internal).toBeCloseTo(SERVER_ERRORS / COUNTED, 12);
    });

    it('puts the median of a route with a known delay in its bucket', async () => {
      const [median] = values(
        await prometheus.query(
          `histogram_quantile(0.5, sum by (le) (request_duration_seconds_bucket{transport="http", route="/slow"}))`,
        ),
      );
      expect(median).toBeGreaterThan(1);
      // In the bucket the app's own exposition puts the median in, however slow the machine.
      const [lower, upper] = await medianBucket(appUrl, '/slow');
      if (upper === Infinity) expect(median).toBe(lower);
      else {
        expect(median).toBeGreaterThan(lower);
        expect(median).toBeLessThanOrEqual(upper);
      }
      // The same through the count: every /slow request is above 1s.
      expect(
        values(
          await prometheus.query(
            `sum(request_duration_seconds_count{route="/slow"}) - sum(request_duration_seconds_bucket{route="/slow", le="1"})`,
          ),
        ),
      ).toEqual([OK['/slow']]);
    });

    it('loads the alert rules, which evaluate without error on real series', async () => {
      const rules = await eventually(async () => {
        const { groups } = await prometheus.api<{
          groups: {
            rules: {
              name: string;
              query: string;
              health: string;
              lastError?: string;
            }[];
          }[];
        }>('/api/v1/rules');
        const all = groups.flatMap((g) => g.rules);
        expect(
          all.map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`.trim()),
        ).toEqual(all.map((r) => `${r.name}: ok`));
        return all;
      }, 10_000);
      expect(rules.map((r) => r.name).sort()).toEqual([
        'DependencyHighErrorRatio',
        'DependencyHighLatencyP95',
        'HighErrorRatio',
        'HighLatencyP95',
        'QueueBacklogGrowing',
        'QueueFailedJobsRising',
        'QueueWaitTooLong',
        'QueueWithoutWorkers',
        'RequestsStuckInFlight',
        'TargetDown',
        'WebSocketConnectionsDropped',
      ]);
      const exported = await exportedNames(appUrl);
      for (const rule of rules) {
        expect({
          rule: rule.name,
          unknown: unknownNames(rule.query, exported),
        }).toEqual({
          rule: rule.name,
          unknown: [],
        });
      }
    });

    describe('Grafana dashboard (observability/grafana-dashboard.json)', () => {
      let queries: { panel: string; expr: string }[];

      beforeAll(async () => {
        const dashboard = JSON.parse(
          await readFile(
            resolve(OBSERVABILITY, 'grafana-dashboard.json'),
            'utf8',
          ),
        );
        queries = panelQueries(dashboard);
      });

      it('has queries for every panel it promises', () => {
        const metrics = new Set(queries.flatMap((q) => metricNames(q.expr)));
        for (const name of [
          'requests_total',
          'errors_total',
          'request_duration_seconds_bucket',
          'concurrent_requests',
          'request_bytes_total',
          'response_bytes_total',
          'queue_wait_seconds_bucket',
          'queue_jobs',
          'queue_workers',
          'ws_connections',
          'ws_connections_total',
          'client_requests_total',
          'client_request_duration_seconds_bucket',
          'client_errors_total',
          'process_cpu_seconds_total',
          'process_resident_memory_bytes',
          'nodejs_eventloop_lag_seconds',
          'nodejs_heap_size_used_bytes',
        ]) {
          expect(metrics).toContain(name);
        }
      });

      it('only has queries Prometheus accepts, which return data once the app served traffic', async () => {
        for (const { panel, expr } of queries) {
          const promql = substituteVariables(expr);
          expect(promql).not.toContain('$');
          const selectsOtherFamilies = metricNames(promql).some((name) =>
            OTHER_FAMILIES.some((family) => name.startsWith(family)),
          );
          // Throws unless Prometheus accepts the query. Rates need two scrapes of a series,
          // so data may take a scrape or two more.
          await eventually(async () => {
            const samples = await prometheus.query(promql);
            if (samples.length === 0 && !selectsOtherFamilies) {
              throw new Error(`panel "${panel}": no data for ${promql}`);
            }
          }, 10_000);
        }
      });

      it('only refers to metrics the library exports', async () => {
        const exported = await exportedNames(appUrl);
        for (const { panel, expr } of queries) {
          expect({ panel, unknown: unknownNames(expr, exported) }).toEqual({
            panel,
            unknown: [],
          });
        }
      });
    });
  },
);

describe('metricNames (used to check the dashboard and the rules)', () => {
  it('finds the selected metrics and nothing else', () => {
    expect(
      metricNames(
        `histogram_quantile(0.95, sum by (route, le) (rate(request_duration_seconds_bucket{job=~"a|b", le!="1e3"}[$__rate_interval])))
          / on (job) group_left max without (instance) (up offset 5m) > bool 1e3 unless vector(1) or sum(rate(errors_total[5m])) by (error_type)`,
      ),
    ).toEqual(['errors_total', 'request_duration_seconds_bucket', 'up']);
  });
});

async function sendTraffic(baseUrl: string): Promise<void> {
  const send = async (path: string, expected: number, init?: RequestInit) => {
    const response = await fetch(`${baseUrl}${path}`, init);
    await response.arrayBuffer();
    expect({ path, status: response.status }).toEqual({
      path,
      status: expected,
    });
  };
  const slow = Array.from({ length: OK['/slow'] }, () =>
    send(`/slow?ms=${SLOW_MS}`, 200),
  );
  for (let i = 0; i < OK['/orders/1']; i++) await send('/orders/1', 200);
  for (let i = 0; i < VALIDATION_FAILURES; i++) {
    await send('/orders', 400, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ product: 'pen', quantity: 0 }),
    });
  }
  for (let i = 0; i < SERVER_ERRORS; i++) await send('/boom', 500);
  for (let i = 0; i < EXCLUDED; i++) await send('/health', 200);
  await Promise.all(slow);
}

function values(samples: VectorSample[]): number[] {
  return samples.map((s) => s.value);
}

function byLabel(
  samples: VectorSample[],
  label: string,
): Record<string, number> {
  return Object.fromEntries(samples.map((s) => [s.metric[label], s.value]));
}

/** Sample names of a real scrape of the app, the other families' and Prometheus' `up`. */
async function exportedNames(baseUrl: string): Promise<Set<string>> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const names = new Set(parseSamples(text).map((s) => s.name));
  for (const family of OTHER_FAMILIES) {
    for (const suffix of ['', '_bucket', '_sum', '_count'])
      names.add(family + suffix);
  }
  names.add('up');
  return names;
}

function unknownNames(expr: string, exported: Set<string>): string[] {
  return metricNames(expr).filter((name) => !exported.has(name));
}
