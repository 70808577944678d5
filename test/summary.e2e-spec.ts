import 'reflect-metadata';
import {
  BadRequestException,
  Controller,
  Get,
  Module,
  NotFoundException,
  Param,
  type INestApplication,
} from '@nestjs/common';
import { Registry } from 'prom-client';
import request from 'supertest';
import {
  MetricsModule,
  MetricsServer,
  MetricsService,
  type MetricsModuleOptions,
  type MetricsSnapshot,
  type MetricsSummary,
} from '../lib/index.js';
import { ADAPTERS, createApp, type AdapterName } from './helpers/create-app.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { eventually } from './helpers/metrics-text.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request held open until the test releases it. */
class Gate {
  private release: (() => void) | undefined;
  wait(): Promise<void> {
    return new Promise((resolve) => (this.release = resolve));
  }
  open(): void {
    this.release?.();
  }
}
const gate = new Gate();

@Controller()
class ShopController {
  @Get('ok')
  ok() {
    return 'ok';
  }

  @Get('users/:id')
  user(@Param('id') id: string) {
    return { id };
  }

  @Get('missing')
  missing() {
    throw new NotFoundException();
  }

  @Get('boom')
  boom() {
    throw new Error('boom');
  }

  @Get('bad')
  bad() {
    throw new BadRequestException('bad');
  }

  @Get('slow')
  async slow() {
    await sleep(300);
    return 'slow';
  }

  @Get('hold')
  async hold() {
    await gate.wait();
    return 'released';
  }
}

function appModule(options: MetricsModuleOptions = {}) {
  @Module({
    imports: [MetricsModule.forRoot({ defaultMetrics: false, ...options })],
    controllers: [ShopController],
  })
  class AppModule {}
  return AppModule;
}

/** The requests of the first test: route, path, how many, and the error type they end with. */
const TRAFFIC = [
  { route: '/ok', path: '/ok', times: 6, status: 200 },
  { route: '/users/:id', path: '/users/1', times: 2, status: 200 },
  { route: '/users/:id', path: '/users/2', times: 2, status: 200 },
  { route: '/missing', path: '/missing', times: 3, status: 404 },
  { route: '/boom', path: '/boom', times: 1, status: 500 },
  { route: '/bad', path: '/bad', times: 2, status: 400 },
  { route: '/slow', path: '/slow', times: 2, status: 200 },
];
const TOTAL = TRAFFIC.reduce((total, t) => total + t.times, 0);
const ERRORS = 3 + 1 + 2;

async function send(app: INestApplication, path: string, times: number) {
  for (let i = 0; i < times; i++) await request(app.getHttpServer()).get(path);
}

async function summaryOf(
  app: INestApplication,
  path = '/metrics/summary',
): Promise<MetricsSummary> {
  const response = await request(app.getHttpServer()).get(path).expect(200);
  expect(response.headers['content-type']).toBe(
    'application/json; charset=utf-8',
  );
  return response.body as MetricsSummary;
}

/** Waits until the app has recorded `count` HTTP requests (they are recorded when the socket ends). */
function recorded(app: INestApplication, count: number, path?: string) {
  return eventually(async () => {
    const summary = await summaryOf(app, path);
    expect(summary.transports.http?.requests).toBe(count);
    return summary;
  });
}

describe.each(ADAPTERS)('The summary on %s', (adapter: AdapterName) => {
  let app: INestApplication;
  let logger: CaptureLogger;

  afterEach(async () => {
    gate.open();
    await app?.close();
  });

  async function start(options: MetricsModuleOptions = {}) {
    logger = new CaptureLogger();
    app = await createApp(
      { imports: [appModule(options)] },
      undefined,
      adapter,
      {
        logger,
      },
    );
    return app;
  }

  it('counts requests, errors by type, in-flight and top routes exactly', async () => {
    await start();
    for (const { path, times } of TRAFFIC) await send(app, path, times);
    const summary = await recorded(app, TOTAL);

    // Reading the summary is not measured: asking again changes nothing.
    const again = await summaryOf(app);
    expect(again.transports.http.requests).toBe(TOTAL);
    expect(Object.keys(again.transports)).toEqual(['http']);

    expect(summary.window_seconds).toBeGreaterThan(0);
    expect(summary.window_seconds).toBeLessThanOrEqual(300);
    expect(summary.uptime_seconds).toBeGreaterThanOrEqual(
      summary.window_seconds,
    );
    expect(summary.quantile_estimate).toMatch(/histogram_quantile/);
    const http = summary.transports.http;
    expect(http.requests).toBe(TOTAL);
    expect(http.errors).toBe(ERRORS);
    expect(http.errors_by_type).toEqual({
      not_found: 3,
      internal: 1,
      validation: 2,
    });
    // The app is younger than the window: the window holds every request.
    expect(http.error_ratio).toBeCloseTo(ERRORS / TOTAL, 12);
    expect(http.request_rate_per_second).toBeCloseTo(
      TOTAL / summary.window_seconds,
      9,
    );
    expect(http.in_flight).toBe(0);

    // At most 5 routes, p95 descending; /slow sleeps 300 ms, so its p95 is above 0.25 s.
    const byP95 = http.top_routes_by_p95;
    expect(byP95).toHaveLength(5);
    for (let i = 1; i < byP95.length; i++)
      expect(byP95[i - 1].p95!).toBeGreaterThanOrEqual(byP95[i].p95!);
    const slow = byP95.find((r) => r.route === '/slow');
    expect(slow).toMatchObject({ method: 'GET', requests: 2, errors: 0 });
    expect(slow!.p95).toBeGreaterThan(0.25);
    expect(http.top_routes_by_errors).toEqual([
      {
        method: 'GET',
        route: '/missing',
        requests: 3,
        errors: 3,
        p95: expect.any(Number),
      },
      {
        method: 'GET',
        route: '/bad',
        requests: 2,
        errors: 2,
        p95: expect.any(Number),
      },
      {
        method: 'GET',
        route: '/boom',
        requests: 1,
        errors: 1,
        p95: expect.any(Number),
      },
    ]);
    const { window, lifetime } = http.latency_seconds;
    expect(window).toEqual(lifetime);
    expect(lifetime.p50!).toBeGreaterThan(0);
    expect(lifetime.p50!).toBeLessThanOrEqual(lifetime.p95!);
    expect(lifetime.p95!).toBeLessThanOrEqual(lifetime.p99!);

    // MetricsService.summary() is the same reading.
    const direct = await app.get(MetricsService).summary();
    expect(direct.transports.http.requests).toBe(TOTAL);
    expect(direct.transports.http.errors_by_type).toEqual(http.errors_by_type);
    expect(direct.transports.http.top_routes_by_errors).toEqual(
      http.top_routes_by_errors,
    );
    // The summary path is excluded from measuring without a start-up warning.
    expect(logger.matching(/excludePaths|summary path/)).toEqual([]);
  });

  it('shows a request in flight, and in_flight back at 0 when it ended', async () => {
    await start();
    const held = request(app.getHttpServer())
      .get('/hold')
      .then((r) => r);
    await eventually(async () => {
      expect((await summaryOf(app)).transports.http?.in_flight).toBe(1);
    });
    gate.open();
    expect((await held).status).toBe(200);
    const summary = await recorded(app, 1);
    expect(summary.transports.http.in_flight).toBe(0);
    expect(summary.transports.http.top_routes_by_p95).toEqual([
      {
        method: 'GET',
        route: '/hold',
        requests: 1,
        errors: 0,
        p95: expect.any(Number),
      },
    ]);
  });

  it('leaves requests older than the window out of the window, not out of the lifetime', async () => {
    await start({ summary: { windowSeconds: 2 } });
    await send(app, '/missing', 3);
    await recorded(app, 3);
    // Longer than the window: every snapshot taken from now on already holds these 3 requests.
    await sleep(2_500);
    await send(app, '/ok', 2);
    const summary = await recorded(app, 5);
    const http = summary.transports.http;
    expect(summary.window_seconds).toBeLessThanOrEqual(2);
    expect(http.requests).toBe(5);
    expect(http.errors).toBe(3);
    expect(http.errors_by_type).toEqual({ not_found: 3 });
    expect(http.error_ratio).toBe(0);
    expect(http.top_routes_by_errors).toEqual([]);
    expect(http.top_routes_by_p95.map((r) => [r.route, r.requests])).toEqual([
      ['/ok', 2],
    ]);
    expect(http.request_rate_per_second).toBeCloseTo(
      2 / summary.window_seconds,
      9,
    );
  });

  it('answers ?full=1 with every family, request families and custom ones included', async () => {
    await start();
    const metrics = app.get(MetricsService);
    const jobs = metrics.histogram('job_duration_seconds', {
      help: 'Jobs.',
      labelNames: ['job'],
      buckets: [0.1, 0.5, 1],
    });
    for (const seconds of [0.05, 0.2, 0.3, 0.7])
      jobs.observe({ job: 'mail' }, seconds);
    metrics.counter('orders_total', { help: 'Orders.' }).inc(4);
    const sizes = metrics.summary('order_size', {
      help: 'Sizes.',
      percentiles: [0.5],
    });
    sizes.observe(3);
    await send(app, '/users/7', 2);
    await send(app, '/missing', 1);
    await recorded(app, 3);

    const response = await request(app.getHttpServer())
      .get('/metrics/summary?full=1')
      .expect(200);
    expect(response.headers['content-type']).toBe(
      'application/json; charset=utf-8',
    );
    const snapshot = response.body as MetricsSnapshot;
    expect(Object.keys(snapshot).sort()).toEqual([
      'counters',
      'gauges',
      'histograms',
      'quantile_estimate',
      'summaries',
      'timestamp',
      'uptime_seconds',
    ]);
    expect(new Date(snapshot.timestamp).toISOString()).toBe(snapshot.timestamp);
    expect(snapshot.uptime_seconds).toBeGreaterThan(0);
    expect(snapshot.histograms.job_duration_seconds).toEqual({
      help: 'Jobs.',
      series: [
        {
          labels: { job: 'mail' },
          count: 4,
          sum: expect.closeTo(1.25, 12),
          mean: expect.closeTo(0.3125, 12),
          // Interpolated within the buckets as histogram_quantile does.
          p50: expect.closeTo(0.3, 12),
          p95: expect.closeTo(0.9, 12),
          p99: expect.closeTo(0.98, 12),
        },
      ],
    });
    expect(snapshot.counters.orders_total.series).toEqual([
      { labels: {}, value: 4 },
    ]);
    expect(snapshot.summaries.order_size.series).toEqual([
      { labels: {}, count: 1, sum: 3, mean: 3, quantiles: { '0.5': 3 } },
    ]);
    const durations = snapshot.histograms.request_duration_seconds.series;
    expect(
      durations.map((s) => [s.labels.route, s.labels.status, s.count]).sort(),
    ).toEqual([
      ['/missing', '404', 1],
      ['/users/:id', '200', 2],
    ]);
    for (const series of durations) {
      expect(series.labels.transport).toBe('http');
      expect(series.mean).toBeCloseTo(series.sum / series.count, 12);
      expect(series.p50).not.toBeNull();
    }
    expect(
      snapshot.counters.requests_total.series
        .map((s) => [s.labels.route, s.value])
        .sort(),
    ).toEqual([
      ['/missing', 1],
      ['/users/:id', 2],
    ]);
    expect(snapshot.counters.errors_total.series).toEqual([
      {
        labels: {
          transport: 'http',
          method: 'GET',
          route: '/missing',
          error_type: 'not_found',
        },
        value: 1,
      },
    ]);
    expect(snapshot.gauges.concurrent_requests.series).toEqual([
      { labels: { transport: 'http' }, value: 0 },
    ]);
    expect(snapshot.gauges.uptime_seconds.series[0].value).toBeGreaterThan(0);

    // MetricsService.snapshot() is the same reading.
    const direct = await metrics.snapshot();
    expect(direct.histograms.job_duration_seconds).toEqual(
      snapshot.histograms.job_duration_seconds,
    );
    expect(Object.keys(direct.counters).sort()).toEqual(
      Object.keys(snapshot.counters).sort(),
    );
  });

  it('serves the summary behind the metrics auth', async () => {
    await start({ auth: { bearer: 'sesame' } });
    await send(app, '/ok', 2);
    for (const path of ['/metrics/summary', '/metrics/summary?full=1']) {
      const refused = await request(app.getHttpServer()).get(path);
      expect(refused.status).toBe(401);
      expect(refused.headers['www-authenticate']).toBe(
        'Bearer realm="metrics"',
      );
      const wrong = await request(app.getHttpServer())
        .get(path)
        .set('Authorization', 'Bearer nope');
      expect(wrong.status).toBe(401);
    }
    const summary = await eventually(async () => {
      const response = await request(app.getHttpServer())
        .get('/metrics/summary')
        .set('Authorization', 'Bearer sesame')
        .expect(200);
      expect(response.body.transports.http.requests).toBe(2);
      return response.body as MetricsSummary;
    });
    expect(summary.transports.http.errors).toBe(0);
    const full = await request(app.getHttpServer())
      .get('/metrics/summary?full=1')
      .set('Authorization', 'Bearer sesame')
      .expect(200);
    expect(full.body.counters.requests_total.series[0].value).toBe(2);
    // The refused requests were not measured either.
    expect(summary.transports.http.requests).toBe(2);
  });

  it('takes its path from the summary option, answers only GET and HEAD, and is gone with summary: false or enabled: false', async () => {
    await start({ path: '/stats', summary: { path: '/stats/json' } });
    await send(app, '/ok', 1);
    await recorded(app, 1, '/stats/json');
    await request(app.getHttpServer()).get('/metrics/summary').expect(404);
    const head = await request(app.getHttpServer()).head('/stats/json');
    expect(head.status).toBe(200);
    await app.close();

    await start({ path: '/stats' });
    await send(app, '/ok', 1);
    await recorded(app, 1, '/stats/summary');
    await app.close();

    await start({ summary: false });
    await request(app.getHttpServer()).get('/metrics/summary').expect(404);
    await request(app.getHttpServer()).get('/metrics').expect(200);
    // MetricsService.summary() still answers; /metrics/summary is now an ordinary unknown path.
    await send(app, '/ok', 1);
    const direct = await eventually(async () => {
      const summary = await app.get(MetricsService).summary();
      expect(summary.transports.http?.requests).toBe(2);
      return summary;
    });
    expect(direct.transports.http.errors_by_type).toEqual({ not_found: 1 });
    expect(direct.window_seconds).toBeGreaterThan(0);
    await app.close();

    await start({ enabled: false });
    await request(app.getHttpServer()).get('/metrics/summary').expect(404);
    await send(app, '/ok', 1);
    expect((await app.get(MetricsService).summary()).transports).toEqual({});
  });
  it('lets an app GET route at the summary path answer, with a warning', async () => {
    @Controller('metrics')
    class OwnSummaryController {
      @Get('summary')
      own() {
        return 'app route';
      }
    }
    @Module({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      controllers: [OwnSummaryController],
    })
    class OwnSummaryModule {}
    logger = new CaptureLogger();
    app = await createApp({ imports: [OwnSummaryModule] }, undefined, adapter, {
      logger,
    });
    const response = await request(app.getHttpServer()).get('/metrics/summary');
    expect(response.text).toBe('app route');
    expect(
      logger.matching(
        /^The summary path \/metrics\/summary is not served: the app has a GET route there\.$/,
      ),
    ).toHaveLength(1);
  });

  it('reads on its timer while the app runs, and stops in app.close()', async () => {
    /** A real registry that counts the timer's readings of the duration family. */
    class CountingRegistry extends Registry {
      readings = 0;
      override getSingleMetric(name: string) {
        if (name === 'request_duration_seconds') this.readings += 1;
        return super.getSingleMetric(name);
      }
    }
    const registry = new CountingRegistry();
    // A tenth of a 1 s window: a reading every 100 ms.
    await start({ registry, summary: { windowSeconds: 1 } });
    await eventually(() => expect(registry.readings).toBeGreaterThan(2));
    await app.close();
    const after = registry.readings;
    await sleep(350);
    expect(registry.readings).toBe(after);
  });
});

describe('The summary on the metrics port', () => {
  it('is served there, behind auth, and not on the app server', async () => {
    const app = await createApp({
      imports: [
        appModule({ port: 0, host: '127.0.0.1', auth: { bearer: 'sesame' } }),
      ],
    });
    try {
      const port = app.get(MetricsServer).port!;
      const url = `http://127.0.0.1:${port}/metrics/summary`;
      await send(app, '/ok', 3);
      // On the app's server it is an ordinary unknown path, measured as such.
      await request(app.getHttpServer()).get('/metrics/summary').expect(404);
      expect((await fetch(url)).status).toBe(401);
      const summary = await eventually(async () => {
        const response = await fetch(url, {
          headers: { Authorization: 'Bearer sesame' },
        });
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe(
          'application/json; charset=utf-8',
        );
        const body = (await response.json()) as MetricsSummary;
        expect(body.transports.http?.requests).toBe(4);
        return body;
      });
      expect(summary.transports.http.errors_by_type).toEqual({ not_found: 1 });
      expect(summary.transports.http.in_flight).toBe(0);
      const full = await fetch(`${url}/?full=1`, {
        headers: { Authorization: 'Bearer sesame' },
      });
      expect(full.status).toBe(200);
      const snapshot = (await full.json()) as MetricsSnapshot;
      expect(
        snapshot.counters.requests_total.series.map((s) => s.value).sort(),
      ).toEqual([1, 3]);
      const post = await fetch(url, {
        method: 'POST',
        headers: { Authorization: 'Bearer sesame' },
      });
      expect(post.status).toBe(405);
      expect(
        (
          await fetch(`http://127.0.0.1:${port}/metrics`, {
            headers: { Authorization: 'Bearer sesame' },
          })
        ).status,
      ).toBe(200);
    } finally {
      await app.close();
    }
  });
});
