import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  NotFoundException,
  type INestApplication,
} from '@nestjs/common';
import request from 'supertest';
import {
  MetricsModule,
  MetricsService,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { createApp } from './helpers/create-app.js';
import { freePort } from './helpers/free-port.js';
import { eventually, find, parseSamples } from './helpers/metrics-text.js';
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedExport,
  type ReceivedMetric,
} from './helpers/otlp-receiver.js';

@Controller('orders')
class OrdersController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('missing')
  missing() {
    throw new NotFoundException();
  }

  @Get(':id')
  order() {
    this.metrics
      .histogram('order_value_dollars', {
        labelNames: ['currency'],
        buckets: [10, 100],
      })
      .observe({ currency: 'EUR' }, 42);
    return { ok: true };
  }
}

const OTEL_VARIABLES = [
  'OTEL_METRICS_EXPORTER',
  'OTEL_SDK_DISABLED',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_METRIC_EXPORT_TIMEOUT',
];

const metric = (received: ReceivedExport, name: string): ReceivedMetric => {
  const found = received.metrics.find((m) => m.name === name);
  if (!found)
    throw new Error(
      `${name} not exported; got ${received.metrics.map((m) => m.name).join(', ')}`,
    );
  return found;
};

const pointSum = (m: ReceivedMetric, attributes: Record<string, string>) =>
  m.points
    .filter((p) =>
      Object.entries(attributes).every(([k, v]) => p.attributes[k] === v),
    )
    .reduce((total, p) => total + (p.value ?? 0), 0);

describe('OTLP export', () => {
  let app: INestApplication | undefined;
  let receiver: OtlpReceiver | undefined;
  let logger: CaptureLogger;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
    for (const name of OTEL_VARIABLES) delete process.env[name];
  });

  async function start(
    otlp: MetricsModuleOptions['otlp'],
    extra: MetricsModuleOptions = {},
  ) {
    logger = new CaptureLogger();
    app = await createApp(
      {
        imports: [
          MetricsModule.forRoot({ otlp, defaultMetrics: false, ...extra }),
        ],
        controllers: [OrdersController],
      },
      undefined,
      'express',
      { logger },
    );
    return app;
  }

  async function traffic(
    started: INestApplication,
    ok: number,
    missing: number,
  ) {
    for (let i = 0; i < ok; i++)
      await request(started.getHttpServer()).get(`/orders/${i}`).expect(200);
    for (let i = 0; i < missing; i++)
      await request(started.getHttpServer()).get('/orders/missing').expect(404);
  }

  describe.each(['http/protobuf', 'http/json'] as const)('%s', (protocol) => {
    it('exports N requests as a sum of N, histograms equal to the scrape, default labels as resource', async () => {
      receiver = await startOtlpReceiver();
      process.env.OTEL_SERVICE_NAME = 'orders-api';
      process.env.OTEL_RESOURCE_ATTRIBUTES =
        'deployment.environment=test,team=pay%20ments';
      const started = await start(
        {
          endpoint: receiver.url,
          protocol,
          headers: { 'x-api-key': 'k-123' },
          intervalSeconds: 3600,
          resource: { 'service.version': '1.4.0' },
        },
        { defaultLabels: { region: 'eu-1' } },
      );
      await traffic(started, 7, 2);
      const scraped = parseSamples(
        (await request(started.getHttpServer()).get('/metrics').expect(200))
          .text,
      );
      await app!.close();
      app = undefined;

      expect(receiver.exports).toHaveLength(1);
      const [received] = receiver.exports;
      expect(received.encoding).toBe(
        protocol === 'http/json' ? 'json' : 'protobuf',
      );
      expect(received.path).toBe('/v1/metrics');
      expect(received.headers['x-api-key']).toBe('k-123');
      expect(received.resource).toMatchObject({
        'service.name': 'orders-api',
        'service.version': '1.4.0',
        'deployment.environment': 'test',
        team: 'pay ments',
        region: 'eu-1',
        'telemetry.sdk.language': 'nodejs',
      });
      expect(received.scopes).toEqual(['nestjs-metrics']);

      const requests = metric(received, 'requests_total');
      expect(requests).toMatchObject({
        kind: 'sum',
        isMonotonic: true,
        aggregationTemporality: 2,
      });
      expect(pointSum(requests, { route: '/orders/:id', status: '200' })).toBe(
        7,
      );
      expect(
        pointSum(requests, { route: '/orders/missing', status: '404' }),
      ).toBe(2);
      for (const point of requests.points) {
        expect(point.attributes.region).toBeUndefined();
        expect(point.startTimeUnixNano).toBeLessThan(point.timeUnixNano);
      }
      expect(
        pointSum(metric(received, 'errors_total'), { error_type: 'not_found' }),
      ).toBe(2);

      const value = metric(received, 'order_value_dollars');
      expect(value.kind).toBe('histogram');
      expect(value.points).toEqual([
        expect.objectContaining({
          attributes: { currency: 'EUR' },
          count: 7,
          sum: 7 * 42,
          explicitBounds: [10, 100],
          bucketCounts: [0, 7, 0],
        }),
      ]);
      const duration = metric(received, 'request_duration_seconds');
      expect(duration.unit).toBe('s');
      const [route] = duration.points.filter(
        (p) => p.attributes.route === '/orders/:id',
      );
      const scrapedBuckets = find(scraped, 'request_duration_seconds_bucket', {
        route: '/orders/:id',
      });
      expect(route.explicitBounds).toEqual(
        scrapedBuckets
          .filter((s) => s.labels.le !== '+Inf')
          .map((s) => Number(s.labels.le)),
      );
      let below = 0;
      expect(route.bucketCounts).toEqual(
        scrapedBuckets.map((s) => {
          const inBucket = s.value - below;
          below = s.value;
          return inBucket;
        }),
      );
      expect(route.count).toBe(7);
      expect(metric(received, 'uptime_seconds').kind).toBe('gauge');
    });
  });

  it('gzip: a compressed body, the same values', async () => {
    receiver = await startOtlpReceiver();
    const started = await start({
      endpoint: receiver.url,
      compression: 'gzip',
      intervalSeconds: 3600,
    });
    await traffic(started, 3, 0);
    await app!.close();
    app = undefined;
    const [received] = receiver.exports;
    expect(received.headers['content-encoding']).toBe('gzip');
    expect(
      pointSum(metric(received, 'requests_total'), { route: '/orders/:id' }),
    ).toBe(3);
  });

  it('periodic exports keep one start time for a counter; OTEL_METRIC_EXPORT_INTERVAL is read', async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_METRICS_EXPORTER = 'otlp';
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${receiver.port}`;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'authorization=Bearer%20t0ken';
    process.env.OTEL_METRIC_EXPORT_INTERVAL = '300';
    const started = await start(undefined);
    await traffic(started, 2, 0);
    await eventually(() =>
      expect(receiver!.exports.length).toBeGreaterThanOrEqual(2),
    );
    const [first, second] = receiver.exports;
    expect(first.path).toBe('/v1/metrics');
    expect(first.headers.authorization).toBe('Bearer t0ken');
    const startOf = (received: ReceivedExport) =>
      metric(received, 'requests_total').points.map((p) => p.startTimeUnixNano);
    expect(startOf(second)).toEqual(startOf(first));
  });

  it('after MetricsService.reset() a counter starts a new stream: its start time is the reset', async () => {
    receiver = await startOtlpReceiver();
    const started = await start({
      endpoint: receiver.url,
      intervalSeconds: 3600,
    });
    await traffic(started, 2, 0);
    const resetAt = BigInt(Date.now()) * 1_000_000n;
    await started.get(MetricsService).reset();
    await traffic(started, 1, 0);
    await app!.close();
    app = undefined;
    const requests = metric(receiver.exports[0], 'requests_total');
    expect(pointSum(requests, { route: '/orders/:id' })).toBe(1);
    for (const point of requests.points)
      expect(point.startTimeUnixNano).toBeGreaterThanOrEqual(
        resetAt - 1_000_000n,
      );
  });

  it('otlp with cluster fails start-up, as each worker would export the same series', async () => {
    await expect(
      start(
        { endpoint: 'http://127.0.0.1:4318/v1/metrics' },
        { cluster: true },
      ),
    ).rejects.toThrow('option "otlp" must be left out when "cluster" is on');
  });

  it('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is used as is and wins; OTEL_SDK_DISABLED turns it off', async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_METRICS_EXPORTER = 'otlp';
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://127.0.0.1:1';
    process.env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT = `http://127.0.0.1:${receiver.port}/custom/path`;
    await start(undefined);
    await app!.close();
    app = undefined;
    expect(receiver.exports.map((e) => e.path)).toEqual(['/custom/path']);

    process.env.OTEL_SDK_DISABLED = 'true';
    await start({ endpoint: receiver.url });
    await app!.close();
    app = undefined;
    expect(receiver.exports).toHaveLength(1);
  });

  it.each([
    [
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'grpc',
      'environment variable OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (gRPC is not supported',
    ],
    [
      'OTEL_METRIC_EXPORT_INTERVAL',
      '5s',
      'environment variable OTEL_METRIC_EXPORT_INTERVAL must be a whole number of milliseconds above 0; got "5s"',
    ],
    [
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT',
      'localhost:4318',
      'environment variable OTEL_EXPORTER_OTLP_METRICS_ENDPOINT must be an http:// or https:// URL',
    ],
    [
      'OTEL_EXPORTER_OTLP_HEADERS',
      'secret-token',
      'environment variable OTEL_EXPORTER_OTLP_HEADERS must be comma-separated key=value pairs; got "part 1 of 1 without a key"',
    ],
  ])(
    'an invalid %s fails start-up naming it',
    async (variable, value, message) => {
      process.env.OTEL_METRICS_EXPORTER = 'otlp';
      process.env[variable] = value;
      const failure = start(undefined);
      await expect(failure).rejects.toThrow(message);
      await expect(failure).rejects.not.toThrow('secret-token');
    },
  );

  it('a receiver that is down, then answers 503, then is up: the app is unaffected, one warning per streak', async () => {
    const port = await freePort();
    const started = await start({
      endpoint: `http://127.0.0.1:${port}/v1/metrics`,
      intervalSeconds: 0.3,
      timeoutSeconds: 0.25,
    });
    await traffic(started, 1, 0);
    await eventually(
      () =>
        expect(
          logger.messagesAt('warn').filter((l) => l.startsWith('otlp:')),
        ).toHaveLength(1),
      15_000,
    );
    receiver = await startOtlpReceiver(port);
    receiver.respondWith(503);
    await traffic(started, 2, 0);
    receiver.respondWith(200);
    await eventually(
      () => expect(receiver!.exports.length).toBeGreaterThan(0),
      15_000,
    );
    expect(
      pointSum(metric(receiver.exports.at(-1)!, 'requests_total'), {
        route: '/orders/:id',
      }),
    ).toBe(3);
    expect(
      logger.messagesAt('warn').filter((l) => l.startsWith('otlp:')),
    ).toHaveLength(1);
    await eventually(() =>
      expect(logger.messagesAt('log')).toContain(
        `otlp: exports to http://127.0.0.1:${port}/v1/metrics succeed again`,
      ),
    );
  });

  it('app.close() with the receiver down finishes and says the final export failed', async () => {
    const port = await freePort();
    await start({
      endpoint: `http://127.0.0.1:${port}/v1/metrics`,
      intervalSeconds: 3600,
      timeoutSeconds: 0.5,
    });
    await app!.close();
    app = undefined;
    expect(
      logger.messagesAt('warn').some((line) => line.startsWith('otlp:')),
    ).toBe(true);
  });
});
