import 'reflect-metadata';
import {
  Controller,
  Get,
  Injectable,
  NotFoundException,
  Param,
  type INestApplication,
} from '@nestjs/common';
import { Counter } from 'prom-client';
import request from 'supertest';
import {
  Counted,
  MetricsModule,
  MetricsService,
  Timed,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { ADAPTERS, createApp, type AdapterName } from './helpers/create-app.js';
import {
  find,
  parseSamples,
  scrape,
  type Sample,
} from './helpers/metrics-text.js';

@Injectable()
class OrdersService {
  @Timed('order_work_seconds')
  @Counted('order_work_total')
  work(n: number): number {
    return n * 2;
  }

  @Timed('order_work_seconds')
  @Counted('order_work_total')
  fail(): never {
    throw new RangeError('no such order');
  }

  @Timed('order_work_seconds')
  async later(n: number): Promise<number> {
    await new Promise((resolve) => setImmediate(resolve));
    return n + 1;
  }
}

@Controller('orders')
class OrdersController {
  @Get(':id')
  one(@Param('id') id: string): { id: string } {
    if (id === 'missing') throw new NotFoundException();
    return { id };
  }
}

/** The samples of `name` as `{labels} value` lines, in scrape order. */
function lines(samples: Sample[], name: string): string[] {
  return find(samples, name).map(
    (s) => `${JSON.stringify(s.labels)} ${s.value}`,
  );
}

describe('MetricsService collector API', () => {
  let app: INestApplication | undefined;

  async function boot(
    options: MetricsModuleOptions = {},
    adapter: AdapterName = 'express',
  ): Promise<MetricsService> {
    app = await createApp(
      {
        imports: [MetricsModule.forRoot({ defaultMetrics: false, ...options })],
        controllers: [OrdersController],
        providers: [OrdersService],
      },
      undefined,
      adapter,
    );
    return app.get(MetricsService);
  }

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  describe('recording', () => {
    it('increment() counts in <name>_total, with the prefix, by 1 or an amount', async () => {
      const metrics = await boot({ prefix: 'shop_' });
      metrics.increment('cache.hits');
      metrics.increment('cache.hits', 4);
      metrics.increment('jobs.done', 1, { queue: 'mail' });
      metrics.increment('jobs.done', 2, { queue: 'sms' });
      metrics.increment('jobs.done', 1, { queue: 'mail' });
      const s = await scrape(app!);
      expect(lines(s, 'shop_cache_hits_total')).toEqual(['{} 5']);
      expect(lines(s, 'shop_jobs_done_total')).toEqual([
        '{"queue":"mail"} 2',
        '{"queue":"sms"} 2',
      ]);
      const text = await metrics.metrics();
      expect(text).toContain('# TYPE shop_cache_hits_total counter');
    });

    it('timing() and timer() observe in <name>_seconds with the module http buckets', async () => {
      const metrics = await boot({ buckets: { http: [0.1, 1] } });
      metrics.timing('event.processing', 0.05);
      metrics.timing('event.processing', 0.5);
      metrics.timing('event.processing', 3);
      metrics.timing('db.query', 0.2, { table: 'orders' });
      const end = metrics.timer('db.query', { table: 'orders' });
      const seconds = end();
      expect(seconds).toBeGreaterThanOrEqual(0);
      // Ending twice records once and returns the same seconds.
      expect(end()).toBe(seconds);
      const s = await scrape(app!);
      expect(lines(s, 'event_processing_seconds_bucket')).toEqual([
        '{"le":"0.1"} 1',
        '{"le":"1"} 2',
        '{"le":"+Inf"} 3',
      ]);
      expect(lines(s, 'event_processing_seconds_sum')).toEqual(['{} 3.55']);
      expect(lines(s, 'event_processing_seconds_count')).toEqual(['{} 3']);
      expect(lines(s, 'db_query_seconds_count')).toEqual([
        '{"table":"orders"} 2',
      ]);
      const sum = find(s, 'db_query_seconds_sum')[0].value;
      expect(sum).toBeCloseTo(0.2 + seconds, 9);
    });

    it('gauge() sets <name>; increment() and decrement() then move it', async () => {
      const metrics = await boot();
      metrics.gauge('queue.depth', 7, { queue: 'mail' });
      metrics.increment('queue.depth', 3, { queue: 'mail' });
      metrics.decrement('queue.depth', 1, { queue: 'mail' });
      metrics.decrement('queue.depth', 2, { queue: 'mail' });
      metrics.increment('queue.depth', 1, { queue: 'sms' });
      metrics.gauge('temperature', -4.5);
      const s = await scrape(app!);
      expect(lines(s, 'queue_depth')).toEqual([
        '{"queue":"mail"} 7',
        '{"queue":"sms"} 1',
      ]);
      expect(lines(s, 'temperature')).toEqual(['{} -4.5']);
      expect(find(s, 'queue_depth_total')).toEqual([]);
    });

    it('keeps a name already ending in _seconds or _total as it is', async () => {
      const metrics = await boot();
      metrics.timing('render_seconds', 0.01);
      metrics.increment('sent_total');
      const s = await scrape(app!);
      expect(lines(s, 'render_seconds_count')).toEqual(['{} 1']);
      expect(lines(s, 'sent_total')).toEqual(['{} 1']);
      expect(find(s, 'render_seconds_seconds_count')).toEqual([]);
      expect(find(s, 'sent_total_total')).toEqual([]);
    });

    it('uses a histogram declared first with histogram(), with its buckets', async () => {
      const metrics = await boot();
      metrics.histogram('upload_seconds', { buckets: [5], labelNames: [] });
      metrics.timing('upload', 2);
      const s = await scrape(app!);
      expect(lines(s, 'upload_seconds_bucket')).toEqual([
        '{"le":"5"} 1',
        '{"le":"+Inf"} 1',
      ]);
    });
  });

  describe('errors', () => {
    it('refuses invalid names, naming the rule', async () => {
      const metrics = await boot();
      const rule =
        'expected segments of [a-zA-Z0-9_] joined by single dots, starting with a letter or "_"; dots become "_", timings end in "_seconds", counters in "_total", gauges in neither.';
      for (const name of [
        '9lives',
        'a..b',
        'a.',
        '.a',
        'has space',
        'a-b',
        'a:b',
        '',
      ]) {
        expect(() => metrics.increment(name)).toThrow(
          `nestjs-metrics: ${JSON.stringify(name)} is not a valid collector name for increment(): ${rule}`,
        );
      }
      expect(() => metrics.timing('a/b', 1)).toThrow(
        'is not a valid collector name for timing()/timer()',
      );
      expect(() => metrics.gauge('open.total', 1)).toThrow(
        'nestjs-metrics: "open.total" ends in "_total", which only counters do; name a gauge without it',
      );
      expect(() => metrics.timing('jobs_total', 1)).toThrow(
        'name a timing without it',
      );
      expect(await metrics.metrics()).not.toMatch(/^open_total/m);
    });

    it('refuses decrement() on a counter and on a name that is no gauge, saying what to use', async () => {
      const metrics = await boot();
      metrics.increment('logins');
      const advice =
        'a counter only goes up. For a value that goes up and down, make "logins" a gauge first with gauge("logins", initialValue); increment() and decrement() then move it.';
      expect(() => metrics.decrement('logins')).toThrow(
        `nestjs-metrics: decrement("logins") refused: "logins_total" is a counter, and ${advice}`,
      );
      expect(() => metrics.decrement('sessions')).toThrow(
        'decrement("sessions") refused: "sessions_total" is a counter',
      );
      expect(() => metrics.increment('logins', -1)).toThrow(
        'decrement("logins") refused',
      );
      const s = await scrape(app!);
      expect(lines(s, 'logins_total')).toEqual(['{} 1']);
      expect(find(s, 'sessions_total')).toEqual([]);
    });

    it('takes the label names of the first call and refuses others', async () => {
      const metrics = await boot();
      metrics.increment('jobs', 1, { queue: 'mail' });
      const message =
        'nestjs-metrics: "jobs" was first recorded with the label names [queue]; got [';
      expect(() => metrics.increment('jobs', 1, { kind: 'x' })).toThrow(
        `${message}kind]. Every call of one name takes the label names of its first call.`,
      );
      expect(() => metrics.increment('jobs')).toThrow(`${message}]`);
      expect(() =>
        metrics.increment('jobs', 1, { queue: 'a', kind: 'b' }),
      ).toThrow(`${message}queue, kind]`);
      metrics.timing('plain', 1);
      expect(() => metrics.timer('plain', { a: '1' })).toThrow(
        '"plain" was first recorded with the label names []; got [a]',
      );
      const s = await scrape(app!);
      expect(lines(s, 'jobs_total')).toEqual(['{"queue":"mail"} 1']);
    });

    it('refuses one name for two kinds, and values that are no numbers', async () => {
      const metrics = await boot();
      metrics.timing('checkout', 0.1);
      expect(() => metrics.increment('checkout')).toThrow(
        'nestjs-metrics: "checkout" is recorded as a timing; increment() cannot record it.',
      );
      expect(() => metrics.gauge('checkout', 1)).toThrow(
        '"checkout" is recorded as a timing; gauge() cannot record it.',
      );
      expect(() => metrics.timing('checkout', -1)).toThrow(
        'timing("checkout"): seconds must be a finite number ≥ 0; got -1.',
      );
      expect(() => metrics.timing('checkout', NaN)).toThrow('got NaN');
      expect(() => metrics.gauge('level', Infinity)).toThrow(
        'gauge("level"): the value must be a finite number; got Infinity.',
      );
      expect(() => metrics.increment('hits', Number('x'))).toThrow(
        'increment("hits"): the amount must be a finite number; got NaN.',
      );
    });
  });

  it('folds label sets beyond maxSeries into one OVERFLOW series, gauge statistics too', async () => {
    const metrics = await boot({ maxSeries: 2 });
    for (const user of ['a', 'b', 'c', 'd'])
      metrics.increment('visits', 1, { user });
    for (const user of ['a', 'b', 'c', 'd'])
      metrics.timing('work', 0.01, { user });
    metrics.gauge('level', 1, { user: 'a' });
    metrics.gauge('level', 2, { user: 'b' });
    metrics.gauge('level', 30, { user: 'c' });
    metrics.gauge('level', 40, { user: 'd' });
    const s = await scrape(app!);
    expect(lines(s, 'visits_total')).toEqual([
      '{"user":"a"} 1',
      '{"user":"b"} 1',
      '{"user":"OVERFLOW"} 2',
    ]);
    expect(lines(s, 'work_seconds_count')).toEqual([
      '{"user":"a"} 1',
      '{"user":"b"} 1',
      '{"user":"OVERFLOW"} 2',
    ]);
    expect(lines(s, 'level')).toEqual([
      '{"user":"a"} 1',
      '{"user":"b"} 2',
      '{"user":"OVERFLOW"} 40',
    ]);
    expect(await metrics.get('level', { user: 'OVERFLOW' })).toEqual({
      type: 'gauge',
      current: 40,
      min: 30,
      max: 40,
      mean: 35,
    });
    await expect(metrics.get('visits', { user: 'c' })).rejects.toThrow(
      'nestjs-metrics: get("visits", {"user":"c"}): no such series. Series of "visits": {"user":"a"}, {"user":"b"}, {"user":"OVERFLOW"}.',
    );
  });

  describe('get()', () => {
    it('reads a counter, a gauge with min/max/mean and a timing with percentiles', async () => {
      const metrics = await boot({ buckets: { http: [0.1, 0.2, 0.4, 0.8] } });
      metrics.increment('orders', 3, { shop: 'eu' });
      metrics.increment('orders', 2, { shop: 'eu' });
      expect(await metrics.get('orders', { shop: 'eu' })).toEqual({
        type: 'counter',
        value: 5,
      });
      metrics.gauge('queue.depth', 10);
      metrics.increment('queue.depth', 5);
      metrics.decrement('queue.depth', 13);
      metrics.gauge('queue.depth', 4);
      // Values 10, 15, 2, 4.
      expect(await metrics.get('queue.depth')).toEqual({
        type: 'gauge',
        current: 4,
        min: 2,
        max: 15,
        mean: 7.75,
      });
      for (let i = 0; i < 100; i++)
        metrics.timing('render', i < 50 ? 0.05 : 0.3);
      // 50 in (0, 0.1], 50 in (0.2, 0.4]: p50 ends bucket 1, p95 and p99 inside bucket 3.
      expect(await metrics.get('render')).toEqual({
        type: 'histogram',
        count: 100,
        sum: expect.closeTo(17.5, 9) as number,
        mean: expect.closeTo(0.175, 9) as number,
        p50: 0.1,
        p95: expect.closeTo(0.38, 9) as number,
        p99: expect.closeTo(0.396, 9) as number,
      });
    });

    it('reads MetricsService metrics, request families and label values given as numbers', async () => {
      const metrics = await boot({
        prefix: 'app_',
        defaultLabels: { env: 'test' },
      });
      metrics
        .counter('hits_total', { labelNames: ['code'] })
        .inc({ code: 200 }, 2);
      metrics.gauge('pool_size').set(8);
      await request(app!.getHttpServer()).get('/orders/1').expect(200);
      await request(app!.getHttpServer()).get('/orders/2').expect(200);
      expect(await metrics.get('hits_total', { code: 200 })).toEqual({
        type: 'counter',
        value: 2,
      });
      expect(await metrics.get('app_hits_total', { code: '200' })).toEqual({
        type: 'counter',
        value: 2,
      });
      // A gauge the collector did not make has no statistics.
      expect(await metrics.get('pool_size')).toEqual({
        type: 'gauge',
        current: 8,
      });
      const labels = {
        transport: 'http',
        method: 'GET',
        route: '/orders/:id',
        status: '200',
      };
      expect(await metrics.get('requests_total', labels)).toEqual({
        type: 'counter',
        value: 2,
      });
      const duration = await metrics.get('request_duration_seconds', labels);
      expect(duration).toMatchObject({ type: 'histogram', count: 2 });
    });

    it('names what exists for an unknown name or series, and refuses a summary', async () => {
      const metrics = await boot();
      metrics.increment('cache.hits', 1, { tier: 'l1' });
      metrics.summary('payload_bytes');
      await expect(metrics.get('cache.miss')).rejects.toThrow(
        /^nestjs-metrics: get\("cache\.miss"\): no such metric\. Known: cache\.hits \(cache_hits_total\), requests_total, .*payload_bytes\.$/,
      );
      await expect(metrics.get('cache.hits')).rejects.toThrow(
        'get("cache.hits", {}): no such series. Series of "cache.hits": {"tier":"l1"}.',
      );
      await expect(
        metrics.get('cache.hits', { tier: 'l1', extra: 'x' }),
      ).rejects.toThrow('no such series');
      await expect(metrics.get('payload_bytes')).rejects.toThrow(
        'get("payload_bytes"): a summary is not read by get() (counters, gauges and histograms are)',
      );
    });
  });

  it("prom-client's own Counter.reset() drops a labelled counter's series (what reset() makes up for)", async () => {
    const counter = new Counter({
      name: 'plain_reset_total',
      help: 'h',
      labelNames: ['kind'],
      registers: [],
    });
    counter.inc({ kind: 'a' });
    counter.reset();
    expect((await counter.get()).values).toEqual([]);
  });

  describe.each(ADAPTERS)('reset on %s', (adapter) => {
    it('reset() zeroes every family, request families included, and keeps the label sets', async () => {
      const metrics = await boot({ buckets: { http: [0.1, 1] } }, adapter);
      const server = app!.getHttpServer();
      await request(server).get('/orders/1').expect(200);
      await request(server).get('/orders/missing').expect(404);
      metrics.increment('jobs', 2, { queue: 'mail' });
      metrics.increment('plain');
      metrics.timing('render', 0.5, { page: 'home' });
      metrics.gauge('queue.depth', 9, { queue: 'mail' });
      metrics.gauge('level', 3);
      metrics
        .counter('direct_total', { labelNames: ['kind'] })
        .inc({ kind: 'a' });
      app!.get(OrdersService).work(1);
      metrics
        .summary('payload_bytes', { labelNames: ['kind'], percentiles: [0.5] })
        .observe({ kind: 'json' }, 120);

      await metrics.reset();
      const s = await scrape(app!);
      expect(lines(s, 'jobs_total')).toEqual(['{"queue":"mail"} 0']);
      expect(lines(s, 'plain_total')).toEqual(['{} 0']);
      expect(lines(s, 'direct_total')).toEqual(['{"kind":"a"} 0']);
      expect(
        find(s, 'render_seconds_bucket', { page: 'home' }).map((x) => [
          x.labels.le,
          x.value,
        ]),
      ).toEqual([
        ['0.1', 0],
        ['1', 0],
        ['+Inf', 0],
      ]);
      expect(lines(s, 'render_seconds_count')).toEqual(['{"page":"home"} 0']);
      expect(lines(s, 'queue_depth')).toEqual(['{"queue":"mail"} 0']);
      expect(lines(s, 'level')).toEqual(['{} 0']);
      expect(lines(s, 'payload_bytes_count')).toEqual(['{"kind":"json"} 0']);
      expect(lines(s, 'payload_bytes_sum')).toEqual(['{"kind":"json"} 0']);
      expect(lines(s, 'order_work_total')).toEqual([
        '{"class":"OrdersService","method":"work","result":"success","exception":"none"} 0',
      ]);
      const http = { transport: 'http', method: 'GET', route: '/orders/:id' };
      expect(
        find(s, 'requests_total', http).map((x) => [x.labels.status, x.value]),
      ).toEqual([
        ['200', 0],
        ['404', 0],
      ]);
      expect(
        find(s, 'request_duration_seconds_count', http).map((x) => x.value),
      ).toEqual([0, 0]);
      expect(
        find(s, 'request_duration_seconds_bucket', http).map((x) => x.value),
      ).toEqual([0, 0, 0, 0, 0, 0]);
      expect(
        find(s, 'errors_total', http).map((x) => [
          x.labels.error_type,
          x.value,
        ]),
      ).toEqual([['not_found', 0]]);
      expect(find(s, 'response_bytes_total', http).map((x) => x.value)).toEqual(
        [0, 0],
      );
      // The scrape itself was a request in flight; reset() does not touch it.
      expect(
        find(s, 'concurrent_requests', { transport: 'http' }),
      ).toHaveLength(1);

      // Counting starts again from 0, and gauge statistics from the reset's 0.
      await request(server).get('/orders/3').expect(200);
      metrics.increment('jobs', 1, { queue: 'mail' });
      metrics.gauge('queue.depth', 4, { queue: 'mail' });
      const after = await scrape(app!);
      expect(lines(after, 'jobs_total')).toEqual(['{"queue":"mail"} 1']);
      expect(
        find(after, 'requests_total', { ...http, status: '200' })[0].value,
      ).toBe(1);
      expect(await metrics.get('queue.depth', { queue: 'mail' })).toEqual({
        type: 'gauge',
        current: 4,
        min: 0,
        max: 4,
        mean: 2,
      });
      expect(await metrics.get('render', { page: 'home' })).toEqual({
        type: 'histogram',
        count: 0,
        sum: 0,
        mean: NaN,
        p50: NaN,
        p95: NaN,
        p99: NaN,
      });
    });

    it('resetCounters() zeroes counters and histograms and leaves gauges as they are', async () => {
      const metrics = await boot({}, adapter);
      await request(app!.getHttpServer()).get('/orders/1').expect(200);
      metrics.increment('jobs', 2, { queue: 'mail' });
      metrics.timing('render', 0.5);
      metrics.gauge('queue.depth', 9, { queue: 'mail' });
      metrics.gauge('queue.depth', 5, { queue: 'mail' });

      await metrics.resetCounters();
      const s = await scrape(app!);
      expect(lines(s, 'jobs_total')).toEqual(['{"queue":"mail"} 0']);
      expect(lines(s, 'render_seconds_count')).toEqual(['{} 0']);
      expect(lines(s, 'queue_depth')).toEqual(['{"queue":"mail"} 5']);
      expect(
        find(s, 'requests_total', { route: '/orders/:id' }).map((x) => x.value),
      ).toEqual([0]);
      expect(await metrics.get('queue.depth', { queue: 'mail' })).toEqual({
        type: 'gauge',
        current: 5,
        min: 5,
        max: 9,
        mean: 7,
      });
    });
  });

  describe('enabled: false', () => {
    it('records nothing; decorated methods return and throw as they do; names are still checked', async () => {
      const metrics = await boot({ enabled: false });
      const orders = app!.get(OrdersService);
      expect(orders.work(21)).toBe(42);
      expect(() => orders.fail()).toThrow(new RangeError('no such order'));
      await expect(orders.later(1)).resolves.toBe(2);
      await request(app!.getHttpServer()).get('/orders/1').expect(200);
      await request(app!.getHttpServer()).get('/metrics').expect(404);

      metrics.increment('jobs', 1, { queue: 'mail' });
      metrics.timing('render', 0.5);
      metrics.gauge('queue.depth', 3);
      metrics.increment('queue.depth');
      metrics.decrement('queue.depth');
      const end = metrics.timer('export');
      expect(end()).toBeGreaterThanOrEqual(0);
      const counter = metrics.counter('direct_total', { labelNames: ['kind'] });
      counter.inc({ kind: 'a' });
      counter.labels('a').inc();
      metrics.histogram('direct_seconds').startTimer()();
      metrics.gauge('direct_level').set(3);
      metrics.summary('direct_bytes').observe(10);
      // The same shared no-op for every counter.
      expect(metrics.counter('other_total')).toBe(counter);
      expect(
        metrics.startTimer('legacy', { a: 'x' })({ b: 'y' }),
      ).toBeGreaterThanOrEqual(0);

      expect(parseSamples(await metrics.metrics())).toEqual([]);
      expect(metrics.registry.getMetricsAsArray()).toEqual([]);
      await metrics.reset();
      await metrics.resetCounters();
      await expect(metrics.get('jobs', { queue: 'mail' })).rejects.toThrow(
        'nestjs-metrics: get("jobs"): metrics are disabled (option "enabled" or METRICS_ENABLED is false), so nothing is recorded to read.',
      );
      // A name that fails when enabled fails when disabled too, so no surprise in production.
      expect(() => metrics.increment('bad name')).toThrow(
        'is not a valid collector name',
      );
      expect(() => metrics.decrement('jobs')).toThrow('a counter only goes up');
      expect(() => metrics.counter('bad name')).toThrow(
        'is not a valid Prometheus metric name',
      );
    });

    it('METRICS_ENABLED=false turns the collector off the same way', async () => {
      process.env.METRICS_ENABLED = 'false';
      try {
        const metrics = await boot();
        metrics.increment('jobs');
        metrics.counter('direct_total').inc();
        expect(await metrics.metrics()).toBe('\n');
      } finally {
        delete process.env.METRICS_ENABLED;
      }
    });
  });
});
