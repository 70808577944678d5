import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import {
  Counter,
  Gauge,
  Histogram,
  register,
  Registry,
  Summary,
} from 'prom-client';
import request from 'supertest';
import {
  Counted,
  METRICS_REGISTRY,
  MetricsModule,
  MetricsService,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { createApp } from './helpers/create-app.js';
import { find, parseSamples, scrape, sum } from './helpers/metrics-text.js';
import { stopwatch } from './helpers/stopwatch.js';

const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A user provider that creates its metrics in its constructor, as apps do. */
@Injectable()
class JobsService {
  private readonly processed;

  constructor(private readonly metrics: MetricsService) {
    this.processed = metrics.counter('jobs_processed_total', {
      help: 'Processed jobs.',
      labelNames: ['queue'],
    });
  }

  process(queue: string): void {
    this.processed.inc({ queue });
  }

  get counter() {
    return this.processed;
  }

  @Counted()
  work(): string {
    return 'worked';
  }
}

describe('MetricsService', () => {
  let app: INestApplication | undefined;

  async function boot(
    options: MetricsModuleOptions = {},
  ): Promise<MetricsService> {
    app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false, ...options })],
      providers: [JobsService],
    });
    return app.get(MetricsService);
  }

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  describe('get-or-create', () => {
    it('returns the same metric for the same name, of each type', async () => {
      const metrics = await boot();
      const counter = metrics.counter('hits_total', { labelNames: ['a', 'b'] });
      const gauge = metrics.gauge('queue_depth');
      const histogram = metrics.histogram('latency_seconds', {
        buckets: [0.1, 1],
      });
      const summary = metrics.summary('payload_bytes', { percentiles: [0.5] });

      expect(counter).toBeInstanceOf(Counter);
      expect(gauge).toBeInstanceOf(Gauge);
      expect(histogram).toBeInstanceOf(Histogram);
      expect(summary).toBeInstanceOf(Summary);
      // Label names in another order are the same label names.
      expect(metrics.counter('hits_total', { labelNames: ['b', 'a'] })).toBe(
        counter,
      );
      expect(metrics.gauge('queue_depth')).toBe(gauge);
      expect(metrics.histogram('latency_seconds', { buckets: [0.1, 1] })).toBe(
        histogram,
      );
      expect(metrics.summary('payload_bytes', { percentiles: [0.5] })).toBe(
        summary,
      );
      expect(metrics.registry.getSingleMetric('hits_total')).toBe(counter);
      const names = metrics.registry.getMetricsAsArray().map((m) => m.name);
      for (const name of [
        'hits_total',
        'queue_depth',
        'latency_seconds',
        'payload_bytes',
      ]) {
        expect(names.filter((n) => n === name)).toEqual([name]);
      }
    });

    it('returns the metric a provider created to any other caller', async () => {
      const metrics = await boot();
      const jobs = app!.get(JobsService);
      expect(
        metrics.counter('jobs_processed_total', { labelNames: ['queue'] }),
      ).toBe(jobs.counter);
      jobs.process('mail');
      jobs.process('mail');
      metrics
        .counter('jobs_processed_total', { labelNames: ['queue'] })
        .inc({ queue: 'sms' });

      const s = await scrape(app!);
      expect(find(s, 'jobs_processed_total')).toEqual([
        { name: 'jobs_processed_total', labels: { queue: 'mail' }, value: 2 },
        { name: 'jobs_processed_total', labels: { queue: 'sms' }, value: 1 },
      ]);
    });

    it('throws, naming both types, when the type differs', async () => {
      const metrics = await boot();
      metrics.counter('events_total');
      expect(() => metrics.gauge('events_total')).toThrow(
        'nestjs-metrics: metric "events_total" already exists as a counter, not a gauge.',
      );
      metrics.histogram('wait_seconds');
      expect(() => metrics.summary('wait_seconds')).toThrow(
        'nestjs-metrics: metric "wait_seconds" already exists as a histogram, not a summary.',
      );
      expect(() => metrics.counter('wait_seconds')).toThrow(
        'as a histogram, not a counter',
      );
      // The original is untouched.
      expect(metrics.registry.getSingleMetric('events_total')).toBeInstanceOf(
        Counter,
      );
    });

    it('throws, naming both label sets, when the label names differ', async () => {
      const metrics = await boot();
      metrics.counter('sent_total', { labelNames: ['channel'] });
      expect(() =>
        metrics.counter('sent_total', { labelNames: ['channel', 'status'] }),
      ).toThrow(
        'nestjs-metrics: metric "sent_total" already exists with label names [channel], not [channel, status].',
      );
      expect(() => metrics.counter('sent_total')).toThrow(
        'nestjs-metrics: metric "sent_total" already exists with label names [channel], not [].',
      );
    });

    it('conflicts with the metrics of @Timed/@Counted like with any other', async () => {
      const metrics = await boot();
      expect(() => metrics.histogram('method_calls_total')).toThrow(
        'metric "method_calls_total" already exists as a counter, not a histogram.',
      );
      expect(() =>
        metrics.counter('method_calls_total', { labelNames: ['class'] }),
      ).toThrow(
        'with label names [class, exception, method, result], not [class].',
      );
      const existing = metrics.counter('method_calls_total', {
        labelNames: ['method', 'class', 'exception', 'result'],
      });
      expect(app!.get(JobsService).work()).toBe('worked');
      expect(
        (await existing.get()).values.map((v) => ({
          labels: v.labels,
          value: v.value,
        })),
      ).toEqual([
        {
          labels: {
            class: 'JobsService',
            method: 'work',
            result: 'success',
            exception: 'none',
          },
          value: 1,
        },
      ]);
    });

    it('rejects names that break the Prometheus rules', async () => {
      const metrics = await boot();
      expect(() => metrics.counter('bad-name')).toThrow(
        'nestjs-metrics: "bad-name" is not a valid Prometheus metric name (expected [a-zA-Z_:][a-zA-Z0-9_:]*).',
      );
      expect(() => metrics.gauge('1st')).toThrow(
        '"1st" is not a valid Prometheus metric name',
      );
      expect(() =>
        metrics.histogram('ok_seconds', { labelNames: ['bad label'] }),
      ).toThrow(
        'label "bad label" of metric "ok_seconds" is not a valid Prometheus label name',
      );
      expect(() =>
        metrics.summary('ok_bytes', { labelNames: ['__reserved'] }),
      ).toThrow('label "__reserved" of metric "ok_bytes"');
      expect(metrics.registry.getSingleMetric('ok_seconds')).toBeUndefined();
      expect(metrics.registry.getSingleMetric('ok_bytes')).toBeUndefined();
    });

    it('gives a default help text naming the metric unless given one', async () => {
      const metrics = await boot();
      metrics.gauge('temperature_celsius').set(21.5);
      metrics.counter('logins_total', { help: 'Successful logins.' }).inc(3);
      const text = await metrics.metrics();
      expect(text).toContain(
        '# HELP temperature_celsius Gauge temperature_celsius, created by MetricsService without a help text (set the help option to describe it).\n# TYPE temperature_celsius gauge\ntemperature_celsius 21.5\n',
      );
      expect(text).toContain(
        '# HELP logins_total Successful logins.\n# TYPE logins_total counter\nlogins_total 3\n',
      );
    });
  });

  describe('recording', () => {
    it('records counters, gauges, histograms and summaries with exact values', async () => {
      const metrics = await boot();
      metrics
        .counter('orders_total', { labelNames: ['status'] })
        .inc({ status: 'paid' }, 2);
      const gauge = metrics.gauge('in_flight');
      gauge.inc(5);
      gauge.dec(2);
      const histogram = metrics.histogram('size_bytes', { buckets: [10, 100] });
      histogram.observe(5);
      histogram.observe(50);
      histogram.observe(500);
      const summary = metrics.summary('ratio', { percentiles: [0.5] });
      summary.observe(1);
      summary.observe(3);

      const s = parseSamples(await metrics.metrics());
      expect(find(s, 'orders_total')).toEqual([
        { name: 'orders_total', labels: { status: 'paid' }, value: 2 },
      ]);
      expect(find(s, 'in_flight')).toEqual([
        { name: 'in_flight', labels: {}, value: 3 },
      ]);
      expect(
        find(s, 'size_bytes_bucket').map((b) => [b.labels.le, b.value]),
      ).toEqual([
        ['10', 1],
        ['100', 2],
        ['+Inf', 3],
      ]);
      expect(sum(s, 'size_bytes_sum')).toBe(555);
      expect(sum(s, 'size_bytes_count')).toBe(3);
      expect(sum(s, 'ratio_count')).toBe(2);
      expect(sum(s, 'ratio_sum')).toBe(4);
      expect(find(s, 'ratio', { quantile: '0.5' })).toHaveLength(1);
    });
  });

  describe('startTimer', () => {
    it('records the elapsed seconds in a histogram and returns them', async () => {
      const metrics = await boot();
      const elapsed = stopwatch();
      const end = metrics.startTimer('import_duration_seconds', {
        source: 'csv',
      });
      await sleep(60);
      const seconds = end();
      const seenByCaller = elapsed();

      expect(seconds).toBeGreaterThanOrEqual(0.055);
      expect(seconds).toBeLessThanOrEqual(seenByCaller);
      expect(
        metrics.registry.getSingleMetric('import_duration_seconds'),
      ).toBeInstanceOf(Histogram);
      const s = parseSamples(await metrics.metrics());
      expect(find(s, 'import_duration_seconds_count')).toEqual([
        {
          name: 'import_duration_seconds_count',
          labels: { source: 'csv' },
          value: 1,
        },
      ]);
      expect(
        sum(s, 'import_duration_seconds_sum', { source: 'csv' }),
      ).toBeCloseTo(seconds, 6);
      // Every bucket at or above the measured time holds the one observation, every one below none.
      const buckets = find(s, 'import_duration_seconds_bucket', {
        source: 'csv',
      });
      expect(buckets.length).toBeGreaterThan(2);
      for (const bucket of buckets) {
        const bound = Number(bucket.labels.le.replace('+Inf', 'Infinity'));
        expect([bucket.labels.le, bucket.value]).toEqual([
          bucket.labels.le,
          bound >= seconds ? 1 : 0,
        ]);
      }
      expect(
        sum(s, 'import_duration_seconds_bucket', { source: 'csv', le: '0.05' }),
      ).toBe(0);
    });

    it('merges the labels given at the end and reuses the histogram', async () => {
      const metrics = await boot();
      const first = metrics.startTimer('sync_seconds', {
        target: 'a',
        outcome: 'pending',
      });
      const second = metrics.startTimer('sync_seconds', {
        target: 'b',
        outcome: 'pending',
      });
      first({ outcome: 'ok' });
      second({ outcome: 'failed' });
      metrics.startTimer('sync_seconds', { outcome: 'x', target: 'c' })();

      const s = parseSamples(await metrics.metrics());
      expect(find(s, 'sync_seconds_count')).toEqual([
        {
          name: 'sync_seconds_count',
          labels: { target: 'a', outcome: 'ok' },
          value: 1,
        },
        {
          name: 'sync_seconds_count',
          labels: { target: 'b', outcome: 'failed' },
          value: 1,
        },
        {
          name: 'sync_seconds_count',
          labels: { outcome: 'x', target: 'c' },
          value: 1,
        },
      ]);
    });

    it('works without labels', async () => {
      const metrics = await boot();
      const end = metrics.startTimer('tick_seconds');
      end();
      end();
      const s = parseSamples(await metrics.metrics());
      expect(find(s, 'tick_seconds_count')).toEqual([
        { name: 'tick_seconds_count', labels: {}, value: 2 },
      ]);
    });

    it('uses a histogram declared beforehand, so labels known only at the end can be given', async () => {
      const metrics = await boot();
      metrics.histogram('export_seconds', {
        help: 'Export time.',
        labelNames: ['format', 'outcome'],
        buckets: [1, 10],
      });
      const end = metrics.startTimer('export_seconds', { format: 'csv' });
      end({ outcome: 'ok' });
      const text = await metrics.metrics();
      expect(text).toContain('# HELP export_seconds Export time.');
      const s = parseSamples(text);
      expect(find(s, 'export_seconds_count')).toEqual([
        {
          name: 'export_seconds_count',
          labels: { format: 'csv', outcome: 'ok' },
          value: 1,
        },
      ]);
      expect(find(s, 'export_seconds_bucket').map((b) => b.labels.le)).toEqual([
        '1',
        '10',
        '+Inf',
      ]);
    });

    it('says which label is missing when an end label was never declared', async () => {
      const metrics = await boot();
      const end = metrics.startTimer('job_seconds', { job: 'x' });
      expect(() => end({ outcome: 'ok' })).toThrow(
        'metric "job_seconds" already exists with label names [job]; declare it with histogram() to add [outcome].',
      );
    });

    it('throws like histogram() when the name is taken by another type', async () => {
      const metrics = await boot();
      metrics.counter('busy_total');
      expect(() => metrics.startTimer('busy_total')).toThrow(
        'metric "busy_total" already exists as a counter, not a histogram.',
      );
    });
  });

  describe('metrics() and registry', () => {
    it('metrics() is the exposition text that /metrics serves', async () => {
      const metrics = await boot();
      metrics.counter('exported_total', { help: 'Exported.' }).inc(7);
      const text = await metrics.metrics();
      expect(text).toContain(
        '# HELP exported_total Exported.\n# TYPE exported_total counter\nexported_total 7\n',
      );

      const served = await request(app!.getHttpServer())
        .get('/metrics')
        .expect(200);
      expect(served.text).toContain(
        '# HELP exported_total Exported.\n# TYPE exported_total counter\nexported_total 7\n',
      );
      // Same families and samples as the registry's own text (uptime_seconds moves on between reads).
      const withoutUptime = (t: string) =>
        parseSamples(t).filter((x) => x.name !== 'uptime_seconds');
      expect(withoutUptime(text)).toEqual(
        withoutUptime(await metrics.registry.metrics()),
      );
      expect(withoutUptime(text).length).toBeGreaterThan(0);
      const families = (t: string) =>
        t.split('\n').filter((line) => line.startsWith('# TYPE'));
      expect(families(text)).toEqual(families(served.text));
    });

    it('registry is the module’s own prom-client Registry, not the global one', async () => {
      const metrics = await boot();
      metrics.counter('private_total').inc();

      expect(metrics.registry).toBeInstanceOf(Registry);
      expect(metrics.registry).not.toBe(register);
      expect(metrics.registry).toBe(app!.get(METRICS_REGISTRY));
      expect(metrics.registry.getSingleMetric('private_total')).toBeDefined();
      expect(register.getSingleMetric('private_total')).toBeUndefined();
      expect(await register.metrics()).not.toContain('private_total');
    });

    it('each app gets a registry of its own', async () => {
      const first = await boot();
      first.counter('isolated_total').inc(5);
      const firstApp = app!;
      try {
        const second = await boot();
        expect(second.registry).not.toBe(first.registry);
        expect(second.counter('isolated_total')).not.toBe(
          first.counter('isolated_total'),
        );
        expect(
          sum(parseSamples(await second.metrics()), 'isolated_total'),
        ).toBe(0);
        expect(sum(parseSamples(await first.metrics()), 'isolated_total')).toBe(
          5,
        );
      } finally {
        await firstApp.close();
      }
    });

    it('registry is the one given in the options', async () => {
      const own = new Registry();
      const metrics = await boot({ registry: own });
      const counter = metrics.counter('given_total');
      expect(metrics.registry).toBe(own);
      expect(own.getSingleMetric('given_total')).toBe(counter);
    });
  });

  describe('with the module prefix', () => {
    it('prefixes the names of every getter, of startTimer and of the decorators', async () => {
      const metrics = await boot({ prefix: 'shop_' });
      const counter = metrics.counter('orders_total');
      counter.inc();
      metrics.gauge('carts').set(4);
      metrics.histogram('basket_size', { buckets: [1, 10] }).observe(3);
      metrics.summary('discount_ratio').observe(0.1);
      metrics.startTimer('checkout_seconds')();
      expect(app!.get(JobsService).work()).toBe('worked');

      expect(metrics.counter('orders_total')).toBe(counter);
      expect(metrics.registry.getSingleMetric('shop_orders_total')).toBe(
        counter,
      );
      expect(metrics.registry.getSingleMetric('orders_total')).toBeUndefined();

      const s = parseSamples(await metrics.metrics());
      expect(sum(s, 'shop_orders_total')).toBe(1);
      expect(sum(s, 'shop_carts')).toBe(4);
      expect(sum(s, 'shop_basket_size_count')).toBe(1);
      expect(sum(s, 'shop_discount_ratio_count')).toBe(1);
      expect(sum(s, 'shop_checkout_seconds_count')).toBe(1);
      expect(sum(s, 'shop_jobs_processed_total')).toBe(0);
      expect(
        metrics.registry.getSingleMetric('shop_jobs_processed_total'),
      ).toBeInstanceOf(Counter);
      expect(find(s, 'shop_method_calls_total')).toEqual([
        {
          name: 'shop_method_calls_total',
          labels: {
            class: 'JobsService',
            method: 'work',
            result: 'success',
            exception: 'none',
          },
          value: 1,
        },
      ]);
      expect(
        s.filter((x) =>
          ['orders_total', 'carts', 'method_calls_total'].includes(x.name),
        ),
      ).toEqual([]);
    });

    it('names the prefixed metric in conflicts and in the default help', async () => {
      const metrics = await boot({ prefix: 'shop_' });
      metrics.counter('refunds_total');
      expect(() => metrics.gauge('refunds_total')).toThrow(
        'nestjs-metrics: metric "shop_refunds_total" already exists as a counter, not a gauge.',
      );
      expect(await metrics.metrics()).toContain(
        '# HELP shop_refunds_total Counter shop_refunds_total, created by MetricsService without a help text (set the help option to describe it).\n',
      );
    });
  });
});
