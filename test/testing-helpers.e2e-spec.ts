import {
  Controller,
  Get,
  NotFoundException,
  Param,
  type INestApplication,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import request from 'supertest';
import { MetricsService } from '../lib/index.js';
import { resolveOptions } from '../lib/metrics.options.js';
import {
  MetricsTestingModule,
  expectMetrics,
  getHistogram,
  getMetricValue,
  snapshotDelta,
} from '../lib/testing/index.js';
import { ADAPTERS, createApp } from './helpers/create-app.js';

@Controller('orders')
class OrdersController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  list(): string[] {
    this.metrics
      .counter('orders_listed_total', {
        help: 'Order lists served.',
        labelNames: ['kind', 'region'],
      })
      .inc({ kind: 'all', region: 'eu' });
    return [];
  }

  @Get(':id')
  one(@Param('id') id: string): never {
    throw new NotFoundException(`no order ${id}`);
  }
}

const appWith = (adapter: (typeof ADAPTERS)[number]) =>
  createApp(
    {
      imports: [MetricsTestingModule.forRoot()],
      controllers: [OrdersController],
    },
    undefined,
    adapter,
  );

describe.each(ADAPTERS)('nestjs-metrics/testing on %s', (adapter) => {
  let app: INestApplication;
  let other: INestApplication;

  beforeAll(async () => {
    app = await appWith(adapter);
    other = await appWith(adapter);
    for (let i = 0; i < 3; i++)
      await request(app.getHttpServer()).get('/orders').expect(200);
    await request(app.getHttpServer()).get('/orders/7').expect(404);
    await request(other.getHttpServer()).get('/orders').expect(200);
  });
  afterAll(async () => {
    await app.close();
    await other.close();
  });

  it('reads one series by some of its labels, from the app or its registry; each app has its own registry', async () => {
    expect(
      await getMetricValue(app, 'requests_total', { route: '/orders' }),
    ).toBe(3);
    expect(
      await getMetricValue(other, 'requests_total', { route: '/orders' }),
    ).toBe(1);
    expect(
      await getMetricValue(app.get(MetricsService).registry, 'errors_total', {
        route: '/orders/:id',
        error_type: 'not_found',
      }),
    ).toBe(1);
    expect(
      await getMetricValue(app, 'orders_listed_total', { kind: 'all' }),
    ).toBe(3);
  });

  it('has no default metrics', async () => {
    await expect(
      getMetricValue(app, 'process_cpu_user_seconds_total'),
    ).rejects.toThrow(
      /^No metric named "process_cpu_user_seconds_total" in the registry\. The registry has: .*requests_total/,
    );
  });

  it('reads a histogram series: count, sum and cumulative buckets', async () => {
    const histogram = await getHistogram(app, 'request_duration_seconds', {
      route: '/orders',
    });
    expect(histogram.count).toBe(3);
    expect(histogram.sum).toBeGreaterThan(0);
    expect(histogram.buckets).toHaveLength(15);
    expect(histogram.buckets[14]).toEqual({ le: Infinity, count: 3 });
    await expect(
      getHistogram(app, 'requests_total', { route: '/orders' }),
    ).rejects.toThrow(
      'getHistogram: "requests_total" is a counter, not a histogram; read it with getMetricValue()',
    );
  });

  it('a missing series fails listing the series that exist for that name', async () => {
    await expect(
      getMetricValue(app, 'requests_total', { route: '/nothing' }),
    ).rejects.toThrow(
      'getMetricValue: no series requests_total{route="/nothing"}. The series of "requests_total" are:\n' +
        '  requests_total{method="GET",route="/orders",status="200",transport="http"} 3\n' +
        '  requests_total{method="GET",route="/orders/:id",status="404",transport="http"} 1',
    );
    await expect(
      getMetricValue(app, 'requests_total', { transport: 'http' }),
    ).rejects.toThrow(
      'getMetricValue: 2 series match requests_total{transport="http"}; give the labels that tell them apart.',
    );
  });

  it('snapshotDelta: what changed between two points of a test', async () => {
    const since = await snapshotDelta(app);
    await request(app.getHttpServer()).get('/orders').expect(200);
    await request(app.getHttpServer()).get('/orders').expect(200);
    await request(app.getHttpServer()).get('/orders/8').expect(404);
    expect(await since.delta('requests_total', { route: '/orders' })).toBe(2);
    expect(await since.delta('requests_total', { route: '/orders/:id' })).toBe(
      1,
    );
    const changes = (await since.changes()).filter(
      ({ name }) => name !== 'uptime_seconds',
    );
    expect(
      changes.map(({ name, labels, delta }) => ({
        name,
        route: labels.route,
        delta,
      })),
    ).toEqual([
      { name: 'errors_total', route: '/orders/:id', delta: 1 },
      { name: 'orders_listed_total', route: undefined, delta: 2 },
      { name: 'request_duration_seconds', route: '/orders', delta: 2 },
      { name: 'request_duration_seconds', route: '/orders/:id', delta: 1 },
      { name: 'requests_total', route: '/orders', delta: 2 },
      { name: 'requests_total', route: '/orders/:id', delta: 1 },
      // Two bodies of `[]`, one of Nest's 404 JSON.
      { name: 'response_bytes_total', route: '/orders', delta: 4 },
      { name: 'response_bytes_total', route: '/orders/:id', delta: 61 },
    ]);
    expect(
      changes.find(({ name }) => name === 'request_duration_seconds')!.sumDelta,
    ).toBeGreaterThan(0);
  });

  it('runs no summary timer and serves no summary path, while MetricsService.summary() answers', async () => {
    await request(app.getHttpServer()).get('/metrics/summary').expect(404);
    const summary = await other.get(MetricsService).summary();
    expect(summary.transports.http!.requests).toBe(1);
  });
});

describe('expectMetrics', () => {
  const registry = new Registry();
  const service = new MetricsService(
    registry,
    resolveOptions({
      defaultMetrics: false,
      maxSeries: 100,
      buckets: { http: [0.1, 1] },
    }),
  );
  service
    .counter('jobs_total', {
      help: 'Jobs done.',
      labelNames: ['kind', 'queue'],
    })
    .inc({ kind: 'import', queue: 'a' }, 3);
  service
    .counter('jobs_total', { labelNames: ['kind', 'queue'] })
    .inc({ kind: 'export', queue: 'b' });
  const histogram = service.histogram('job_seconds', {
    help: 'Job duration.',
    buckets: [0.1, 1],
  });
  histogram.observe(0.05);
  histogram.observe(0.5);
  service.gauge('workers', { help: 'Workers.' }).set(2);

  it('compares the families of the expected text, ordering of families, samples and labels normalised', async () => {
    await expectMetrics(
      registry,
      `# TYPE job_seconds histogram
# HELP job_seconds Job duration.
job_seconds_count 2
job_seconds_sum 0.55
job_seconds_bucket{le="+Inf"} 2
job_seconds_bucket{le="1.0"} 2
job_seconds_bucket{le="0.1"} 1
# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total{queue="b",kind="export"} 1
jobs_total{queue="a",kind="import"} 3
`,
    );
  });

  it('fails with a readable line diff (- expected, + actual), on the families named', async () => {
    const expected = `# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total{kind="import",queue="a"} 4
jobs_total{kind="export",queue="b"} 1
`;
    await expect(expectMetrics(registry, expected, ['jobs_total', 'workers']))
      .rejects
      .toThrow(`expectMetrics: the metrics jobs_total, workers differ from the expected text (- expected, + actual):
  # HELP jobs_total Jobs done.
  # TYPE jobs_total counter
  jobs_total{kind="export",queue="b"} 1
- jobs_total{kind="import",queue="a"} 4
+ jobs_total{kind="import",queue="a"} 3
+ # HELP workers Workers.
+ # TYPE workers gauge
+ workers 2`);
  });
});

describe('MetricsTestingModule', () => {
  it('gives each testing module its own registry, usable from the TestingModule', async () => {
    const compile = () =>
      Test.createTestingModule({
        imports: [MetricsTestingModule.forRoot({ prefix: 'shop_' })],
      }).compile();
    const first = await compile();
    const second = await compile();
    first.get(MetricsService).counter('sales_total').inc(2);
    second.get(MetricsService).counter('sales_total').inc(5);
    expect(await getMetricValue(first, 'shop_sales_total')).toBe(2);
    expect(await getMetricValue(second, 'shop_sales_total')).toBe(5);
    await first.close();
    await second.close();
  });

  it('refuses the options that share a registry or run in the background', () => {
    expect(() =>
      MetricsTestingModule.forRoot({ registry: new Registry() }),
    ).toThrow(
      'MetricsTestingModule: option "registry" is not available in tests',
    );
    expect(() =>
      MetricsTestingModule.forRoot({
        pushgateway: { url: 'http://127.0.0.1:1', jobName: 'x' },
      }),
    ).toThrow('option "pushgateway" is not available in tests');
    expect(() => MetricsTestingModule.forRoot({ cluster: true })).toThrow(
      'option "cluster" is not available in tests',
    );
  });
});
