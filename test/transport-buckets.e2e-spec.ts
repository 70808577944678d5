import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Registry, type OpenMetricsContentType } from 'prom-client';
import request from 'supertest';
import {
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_TRANSPORT_BUCKETS,
  MetricsModule,
  MetricsService,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { resolveOptions } from '../lib/metrics.options.js';
import { RequestMetrics } from '../lib/recorder/request-metrics.js';
import type { Transport } from '../lib/recorder/request-record.js';
import {
  OPENMETRICS_TEXT,
  PROMETHEUS_TEXT,
} from '../lib/scrape/exposition-format.js';
import { renderExposition } from '../lib/scrape/render-exposition.js';
import { HttpFixtureModule } from './fixtures/http-fixture.module.js';
import { ADAPTERS, createApp } from './helpers/create-app.js';
import { find, parseSamples, type Sample } from './helpers/metrics-text.js';
import {
  expectPromtoolAccepts,
  findSystemBinary,
} from './helpers/system-binary.js';

const promtool = findSystemBinary(
  'promtool',
  'prometheus',
  'the promtool check',
);

function promtoolCheck(text: string): void {
  expectPromtoolAccepts(promtool, text);
}

const TRANSPORTS: readonly Transport[] = ['http', 'rpc', 'ws', 'queue'];

const withoutUptime = (text: string): string =>
  text.replace(/^(app_uptime_seconds(?:\{[^}]*\})?) \S+$/m, '$1 0');

/** The `le` values of the duration series of one transport. */
const leOf = (samples: Sample[], transport: Transport, prefix = 'app_') =>
  find(samples, `${prefix}request_duration_seconds_bucket`, {
    transport,
  }).map((s) => s.labels.le);

const leList = (bounds: readonly number[]) => [...bounds.map(String), '+Inf'];

/** One family whose series have each their transport's buckets, with a value in every bucket. */
function populate(registry: Registry): void {
  const metrics = new RequestMetrics('app_', DEFAULT_TRANSPORT_BUCKETS);
  metrics.register(registry);
  for (const transport of TRANSPORTS) {
    const route = metrics.route(transport, 'RUN', `/${transport}`);
    for (const seconds of [0.001, 0.3, 9, 45, 100, 1500, 4000]) {
      metrics.record(route, {
        status: transport === 'http' ? '200' : 'OK',
        durationSeconds: seconds,
        requestBytes: 1,
        responseBytes: 1,
        errorType: undefined,
      });
    }
  }
}

describe('Duration buckets per transport', () => {
  it('defaults: HTTP to 10 s, rpc and ws to 1 min, queue jobs to 30 min', () => {
    expect(DEFAULT_TRANSPORT_BUCKETS.http).toEqual(DEFAULT_DURATION_BUCKETS);
    expect(DEFAULT_TRANSPORT_BUCKETS.http.at(-1)).toBe(10);
    expect(DEFAULT_TRANSPORT_BUCKETS.rpc).toEqual([
      ...DEFAULT_DURATION_BUCKETS,
      30,
      60,
    ]);
    expect(DEFAULT_TRANSPORT_BUCKETS.ws).toEqual(DEFAULT_TRANSPORT_BUCKETS.rpc);
    expect(DEFAULT_TRANSPORT_BUCKETS.queue.at(-1)).toBe(1800);
    expect(resolveOptions({}).buckets).toBe(DEFAULT_TRANSPORT_BUCKETS);
  });

  it('renders one family whose series have their own le sets, byte for byte as prom-client, and promtool accepts it', async () => {
    for (const defaultLabels of [{}, { service: 'api' }]) {
      const registry = new Registry();
      populate(registry);
      registry.setDefaultLabels(defaultLabels);
      const rendered = await renderExposition(registry, PROMETHEUS_TEXT);
      expect(withoutUptime(rendered.text)).toBe(
        withoutUptime(await Registry.prototype.metrics.call(registry)),
      );
      promtoolCheck(rendered.text);
      const samples = parseSamples(rendered.text);
      for (const transport of TRANSPORTS) {
        expect(leOf(samples, transport)).toEqual(
          leList(DEFAULT_TRANSPORT_BUCKETS[transport]),
        );
      }
      // A 25-minute job falls below the queue's 1800 s bucket; on HTTP only +Inf holds it.
      expect(
        find(samples, 'app_request_duration_seconds_bucket', {
          transport: 'queue',
          le: '1800',
        })[0].value,
      ).toBe(6);
      expect(
        find(samples, 'app_request_duration_seconds_bucket', {
          transport: 'http',
          le: '10',
        })[0].value,
      ).toBe(3);
    }
  });

  it('renders OpenMetrics byte for byte as prom-client', async () => {
    const registry = new Registry();
    populate(registry);
    const reference = new Registry();
    populate(reference);
    (reference as unknown as Registry<OpenMetricsContentType>).setContentType(
      Registry.OPENMETRICS_CONTENT_TYPE,
    );
    const rendered = await renderExposition(registry, OPENMETRICS_TEXT);
    expect(withoutUptime(rendered.text)).toBe(
      withoutUptime(await Registry.prototype.metrics.call(reference)),
    );
  });

  it.each<[string, unknown, string]>([
    [
      'a string',
      'fast',
      'nestjs-metrics: option "buckets" must be a non-empty array of finite, positive, strictly increasing numbers, or an object of such arrays by transport { http, rpc, ws, queue, graphql }; got "fast".',
    ],
    [
      'an unknown transport',
      { grpc: [1] },
      'nestjs-metrics: option "buckets.grpc" must be one of http, rpc, ws, queue, graphql (unknown option); got "grpc".',
    ],
    [
      'a bad list of one transport',
      { queue: [60, 30] },
      'nestjs-metrics: option "buckets.queue" must be a non-empty array of finite, positive, strictly increasing numbers; got an array ([60,30]).',
    ],
  ])('rejects %s, naming the option', (_, buckets, message) => {
    expect(() =>
      resolveOptions({ buckets: buckets as MetricsModuleOptions['buckets'] }),
    ).toThrow(message);
  });

  it('takes one list for every transport, as before', () => {
    const { buckets } = resolveOptions({ buckets: [0.1, 1] });
    for (const transport of TRANSPORTS)
      expect(buckets[transport]).toEqual([0.1, 1]);
  });

  it('takes a map by transport; those left out keep their default', () => {
    const { buckets } = resolveOptions({
      buckets: { http: [0.05, 0.5], queue: [1, 60, 3600] },
    });
    expect(buckets).toEqual({
      http: [0.05, 0.5],
      rpc: DEFAULT_TRANSPORT_BUCKETS.rpc,
      ws: DEFAULT_TRANSPORT_BUCKETS.ws,
      queue: [1, 60, 3600],
      graphql: DEFAULT_TRANSPORT_BUCKETS.graphql,
    });
  });
});

describe.each(ADAPTERS)('Duration buckets per transport on %s', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function boot(
    options: MetricsModuleOptions,
  ): Promise<INestApplication> {
    app = await createApp(
      {
        imports: [
          MetricsModule.forRoot({ defaultMetrics: false, ...options }),
          HttpFixtureModule,
        ],
      },
      undefined,
      adapter,
    );
    return app;
  }

  it('HTTP requests take the http list of a map; MetricsService.histogram() takes it too', async () => {
    const target = await boot({
      prefix: 'app_',
      buckets: { http: [0.25, 2], queue: [1, 60] },
    });
    await request(target.getHttpServer()).get('/items').expect(200);
    target.get(MetricsService).histogram('render_seconds').observe(1);
    const text = (
      await request(target.getHttpServer()).get('/metrics').expect(200)
    ).text;
    promtoolCheck(text);
    const samples = parseSamples(text);
    expect(leOf(samples, 'http')).toEqual(['0.25', '2', '+Inf']);
    expect(
      find(samples, 'app_render_seconds_bucket').map((s) => s.labels.le),
    ).toEqual(['0.25', '2', '+Inf']);
  });

  it('HTTP requests keep the OpenTelemetry buckets by default', async () => {
    const target = await boot({});
    await request(target.getHttpServer()).get('/items').expect(200);
    const samples = parseSamples(
      (await request(target.getHttpServer()).get('/metrics').expect(200)).text,
    );
    expect(leOf(samples, 'http', '')).toEqual(leList(DEFAULT_DURATION_BUCKETS));
  });
});
