import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  DEFAULT_DURATION_BUCKETS,
  MetricsModule,
  MetricsService,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { HttpFixtureModule } from './fixtures/http-fixture.module.js';
import { ADAPTERS, createApp } from './helpers/create-app.js';
import {
  find,
  parseSamples,
  sum,
  type Sample,
} from './helpers/metrics-text.js';
import {
  expectPromtoolAccepts,
  findSystemBinary,
} from './helpers/system-binary.js';

const promtool = findSystemBinary(
  'promtool',
  'prometheus',
  'the promtool check',
);

/** Scrapes `/metrics`, has promtool check the text where installed, and parses it. */
async function scrapeChecked(app: INestApplication): Promise<Sample[]> {
  const text = (await request(app.getHttpServer()).get('/metrics').expect(200))
    .text;
  expectPromtoolAccepts(promtool, text);
  return parseSamples(text);
}

const names = (samples: Sample[]) => new Set(samples.map((s) => s.name));

describe.each(ADAPTERS)('Conventional defaults on %s', (adapter) => {
  let app: INestApplication | undefined;
  const saved = process.env.METRICS_PREFIX;

  async function boot(
    options: MetricsModuleOptions,
  ): Promise<INestApplication> {
    app = await createApp(
      { imports: [MetricsModule.forRoot(options), HttpFixtureModule] },
      undefined,
      adapter,
    );
    return app;
  }

  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (saved === undefined) delete process.env.METRICS_PREFIX;
    else process.env.METRICS_PREFIX = saved;
  });

  it('prefix names the app metrics only: process_* and nodejs_* keep their standard names', async () => {
    const target = await boot({ prefix: 'shop_' });
    await request(target.getHttpServer()).get('/items').expect(200);
    const samples = await scrapeChecked(target);
    expect(sum(samples, 'shop_requests_total', { route: '/items' })).toBe(1);
    expect(find(samples, 'process_cpu_user_seconds_total')).toHaveLength(1);
    expect(find(samples, 'process_resident_memory_bytes')).toHaveLength(1);
    expect(find(samples, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
    expect(find(samples, 'nodejs_heap_size_used_bytes')).toHaveLength(1);
    expect(
      [...names(samples)].filter(
        (name) =>
          name.startsWith('shop_process_') || name.startsWith('shop_nodejs_'),
      ),
    ).toEqual([]);
    expect(
      [...names(samples)].filter(
        (name) =>
          !name.startsWith('shop_') &&
          !name.startsWith('process_') &&
          !name.startsWith('nodejs_'),
      ),
    ).toEqual([]);
  });

  it('METRICS_PREFIX does the same', async () => {
    process.env.METRICS_PREFIX = 'env_';
    const target = await boot({});
    await request(target.getHttpServer()).get('/items').expect(200);
    const samples = await scrapeChecked(target);
    expect(sum(samples, 'env_requests_total', { route: '/items' })).toBe(1);
    expect(find(samples, 'process_cpu_user_seconds_total')).toHaveLength(1);
    expect(find(samples, 'env_process_cpu_user_seconds_total')).toHaveLength(0);
  });

  it('defaultMetrics.prefix prefixes the default metrics, beside the app prefix', async () => {
    const target = await boot({
      prefix: 'shop_',
      defaultMetrics: { prefix: 'node_' },
    });
    await request(target.getHttpServer()).get('/items').expect(200);
    const samples = await scrapeChecked(target);
    expect(sum(samples, 'shop_requests_total', { route: '/items' })).toBe(1);
    expect(find(samples, 'node_process_cpu_user_seconds_total')).toHaveLength(
      1,
    );
    expect(find(samples, 'node_nodejs_heap_size_used_bytes')).toHaveLength(1);
    expect(find(samples, 'process_cpu_user_seconds_total')).toHaveLength(0);
    // The gauges named like counters are still removed under their prefixed name.
    expect(find(samples, 'node_nodejs_active_handles_total')).toHaveLength(0);
  });

  it("defaultMetrics takes prom-client's labels, gcDurationBuckets and eventLoopMonitoringPrecision", async () => {
    const target = await boot({
      defaultLabels: { service: 'api' },
      defaultMetrics: {
        labels: { runtime: 'node' },
        gcDurationBuckets: [0.01, 0.1, 1],
        eventLoopMonitoringPrecision: 20,
      },
    });
    await request(target.getHttpServer()).get('/items').expect(200);
    const samples = await scrapeChecked(target);
    const heap = find(samples, 'nodejs_heap_size_used_bytes');
    expect(heap).toHaveLength(1);
    expect(heap[0].labels).toEqual({ service: 'api', runtime: 'node' });
    // The labels are the default metrics' only.
    expect(
      find(samples, 'requests_total').every(
        (s) => s.labels.runtime === undefined,
      ),
    ).toBe(true);
    // prom-client's gc histogram shows its buckets only once a collection was seen.
    const gcBuckets = find(samples, 'nodejs_gc_duration_seconds_bucket');
    for (const s of gcBuckets) {
      expect(['0.01', '0.1', '1', '+Inf']).toContain(s.labels.le);
    }
    // With labels, prom-client sets the lag gauge after a scrape's collect, for the next one.
    const next = await scrapeChecked(target);
    expect(
      find(next, 'nodejs_eventloop_lag_seconds', { runtime: 'node' }),
    ).toHaveLength(1);
  });

  it('defaultMetrics: false still leaves them out', async () => {
    const target = await boot({ defaultMetrics: false, prefix: 'shop_' });
    const samples = await scrapeChecked(target);
    expect(
      [...names(samples)].filter((n) => /^(shop_)?(process|nodejs)_/.test(n)),
    ).toEqual([]);
  });
});

describe('defaultMetrics checks', () => {
  it.each<[string, unknown, string]>([
    [
      'a string',
      'yes',
      'nestjs-metrics: option "defaultMetrics" must be true, false or an object of prom-client default metrics settings { prefix, eventLoopMonitoringPrecision, gcDurationBuckets, labels }; got "yes".',
    ],
    [
      'an unknown key',
      { timeout: 5 },
      'nestjs-metrics: option "defaultMetrics.timeout" must be one of prefix, eventLoopMonitoringPrecision, gcDurationBuckets, labels (unknown option); got "timeout".',
    ],
    [
      'register',
      { register: {} },
      'nestjs-metrics: option "defaultMetrics.register" must be left out (the default metrics go to the module\'s registry; give the "registry" option to choose it); got "a value".',
    ],
    [
      'a bad prefix',
      { prefix: 'my-app_' },
      'nestjs-metrics: option "defaultMetrics.prefix" must be',
    ],
    [
      'a fractional precision',
      { eventLoopMonitoringPrecision: 0.5 },
      'nestjs-metrics: option "defaultMetrics.eventLoopMonitoringPrecision" must be a whole number of milliseconds, 1 or more; got number 0.5.',
    ],
    [
      'unsorted gc buckets',
      { gcDurationBuckets: [1, 0.1] },
      'nestjs-metrics: option "defaultMetrics.gcDurationBuckets" must be a non-empty array of finite, positive, strictly increasing numbers; got an array ([1,0.1]).',
    ],
    [
      'a reserved label',
      { labels: { le: 'x' } },
      'nestjs-metrics: option "defaultMetrics.labels" must be an object of label names to strings',
    ],
    [
      'a label the default metrics set themselves',
      { labels: { kind: 'x' } },
      'nestjs-metrics: option "defaultMetrics.labels" must be free of the labels the default metrics set themselves (kind, major, minor, patch, space, type, version); got "kind".',
    ],
    [
      'a label that is not a string',
      { labels: { runtime: 1 } },
      'nestjs-metrics: option "defaultMetrics.labels.runtime" must be a string; got number 1.',
    ],
  ])(
    'rejects %s at start-up, naming the key',
    async (_, defaultMetrics, message) => {
      await expect(
        createApp({
          imports: [
            MetricsModule.forRoot({
              defaultMetrics:
                defaultMetrics as MetricsModuleOptions['defaultMetrics'],
            }),
          ],
        }),
      ).rejects.toThrow(message);
    },
  );
});

describe('MetricsService defaults', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function boot(options: MetricsModuleOptions): Promise<MetricsService> {
    app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false, ...options })],
    });
    return app.get(MetricsService);
  }

  const bucketsOf = (text: string, name: string) =>
    find(parseSamples(text), `${name}_bucket`).map((s) => s.labels.le);

  it('histogram() and startTimer() take the module buckets, like @Timed', async () => {
    const metrics = await boot({ buckets: [0.5, 2, 30] });
    metrics.histogram('render_seconds').observe(1);
    metrics.startTimer('export_seconds', { format: 'csv' })();
    metrics.histogram('own_seconds', { buckets: [1] }).observe(1);
    const text = await metrics.metrics();
    expect(bucketsOf(text, 'render_seconds')).toEqual([
      '0.5',
      '2',
      '30',
      '+Inf',
    ]);
    expect(bucketsOf(text, 'export_seconds')).toEqual([
      '0.5',
      '2',
      '30',
      '+Inf',
    ]);
    expect(bucketsOf(text, 'own_seconds')).toEqual(['1', '+Inf']);
  });

  it('histogram() without buckets takes the default duration buckets', async () => {
    const metrics = await boot({});
    metrics.histogram('render_seconds').observe(1);
    expect(bucketsOf(await metrics.metrics(), 'render_seconds')).toEqual([
      ...DEFAULT_DURATION_BUCKETS.map(String),
      '+Inf',
    ]);
  });

  it('gives a metric created without help a help text that says so', async () => {
    const metrics = await boot({ prefix: 'shop_' });
    metrics.counter('orders_created_total');
    metrics.gauge('carts_open');
    metrics.histogram('checkout_seconds');
    metrics.summary('basket_items');
    metrics.counter('described_total', { help: 'Described.' });
    const text = await metrics.metrics();
    expect(text).toContain(
      '# HELP shop_orders_created_total Counter shop_orders_created_total, created by MetricsService without a help text (set the help option to describe it).\n',
    );
    expect(text).toContain(
      '# HELP shop_carts_open Gauge shop_carts_open, created by MetricsService without a help text (set the help option to describe it).\n',
    );
    expect(text).toContain(
      '# HELP shop_checkout_seconds Histogram shop_checkout_seconds, created by MetricsService without a help text (set the help option to describe it).\n',
    );
    expect(text).toContain(
      '# HELP shop_basket_items Summary shop_basket_items, created by MetricsService without a help text (set the help option to describe it).\n',
    );
    expect(text).toContain('# HELP shop_described_total Described.\n');
  });
});
