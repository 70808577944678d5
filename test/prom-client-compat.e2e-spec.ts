import 'reflect-metadata';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Counter, Registry } from 'prom-client';
import request from 'supertest';
import { forgetReportedDegradations } from '../lib/compat/degraded.js';
import { forgetSeriesInternalsCheck } from '../lib/compat/prom-client.js';
import {
  METRICS_REGISTRY,
  MetricsModule,
  MetricsService,
} from '../lib/index.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { ADAPTERS } from './helpers/create-app.js';
import { parseSamples, sum } from './helpers/metrics-text.js';

const TEXT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const OPENMETRICS_TYPE =
  'application/openmetrics-text; version=1.0.0; charset=utf-8';
const OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0';

@Controller('ping')
class PingController {
  @Get()
  ping(): string {
    return 'pong';
  }
}

type RenderOne = (this: unknown, metric: unknown) => Promise<string>;
interface RegistryInternals {
  getMetricsAsString?: RenderOne;
  metrics(this: Registry): Promise<string>;
  setDefaultLabels(this: Registry, labels: object): void;
}
const proto = Registry.prototype as unknown as RegistryInternals;

/**
 * A prom-client that renders only whole registries: `Registry#getMetricsAsString` is gone, and
 * `metrics()` works without it. Returns the undo.
 */
function withoutOneMetricRenderer(): () => void {
  const render = proto.getMetricsAsString!;
  const metrics = proto.metrics;
  delete proto.getMetricsAsString;
  proto.metrics = function (this: Registry) {
    return metrics.call(
      Object.create(this, { getMetricsAsString: { value: render } }),
    );
  };
  return () => {
    proto.getMetricsAsString = render;
    proto.metrics = metrics;
  };
}

/**
 * A prom-client that keeps the default labels somewhere other than `_defaultLabels` (which stays
 * an empty object) and renders them itself. Returns the undo.
 */
function withDefaultLabelsElsewhere(): () => void {
  const render = proto.getMetricsAsString!;
  const setDefaultLabels = proto.setDefaultLabels;
  proto.setDefaultLabels = function (labels: object) {
    (this as unknown as { _labels: object })._labels = labels;
  };
  proto.getMetricsAsString = function (metric: unknown) {
    const labels = (this as { _labels?: object })._labels ?? {};
    return render.call(
      Object.create(this as object, { _defaultLabels: { value: labels } }),
      metric,
    );
  };
  return () => {
    proto.getMetricsAsString = render;
    proto.setDefaultLabels = setDefaultLabels;
  };
}

interface CounterInternals {
  hashMap: Record<string, { labels: object; value?: number; total?: number }>;
  incWithoutExemplar(labels?: object | number, value?: number): unknown;
  get(): Promise<{ values: { value?: number }[] }>;
}

/**
 * A prom-client whose counters keep their values as `total` rather than `value` in their
 * entries, and whose `get()` reads them there. Returns the undo.
 */
function withCounterValuesElsewhere(): () => void {
  const proto = Counter.prototype as unknown as CounterInternals;
  const { incWithoutExemplar, get } = proto;
  proto.incWithoutExemplar = function (this: CounterInternals, ...args) {
    // prom-client adds to `value`: it starts from 0 each time and is moved to `total` after.
    for (const entry of Object.values(this.hashMap)) entry.value = 0;
    const result = incWithoutExemplar.apply(this, args);
    for (const entry of Object.values(this.hashMap)) {
      entry.total = (entry.total ?? 0) + (entry.value ?? 0);
      delete entry.value;
    }
    return result;
  };
  proto.get = async function (this: CounterInternals) {
    const snapshot = await get.call(this);
    return {
      ...snapshot,
      values: Object.values(this.hashMap).map((entry) => ({
        ...entry,
        value: entry.total ?? 0,
      })),
    };
  };
  return () => {
    proto.incWithoutExemplar = incWithoutExemplar;
    proto.get = get;
  };
}

/** The body with the one value that changes between two renders (the uptime) blanked. */
function stable(text: string): string {
  return text.replace(/^(uptime_seconds(?:\{[^}]*\})?) \S+$/m, '$1 _');
}

describe.each(ADAPTERS)('prom-client internals, on %s', (adapter) => {
  let app: INestApplication | undefined;
  let logger: CaptureLogger;
  let undo: (() => void) | undefined;

  beforeEach(() => {
    forgetReportedDegradations();
    forgetSeriesInternalsCheck();
    logger = new CaptureLogger();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    undo?.();
    undo = undefined;
    forgetSeriesInternalsCheck();
  });

  async function start(): Promise<Registry> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MetricsModule.forRoot({
          defaultMetrics: false,
          defaultLabels: { service: 'api' },
        }),
      ],
      controllers: [PingController],
    })
      .setLogger(logger)
      .compile();
    const started =
      adapter === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
        : moduleRef.createNestApplication({ logger });
    app = started;
    await started.init();
    if (adapter === 'fastify')
      await (
        started.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }
      ).ready();
    await request(started.getHttpServer()).get('/ping').expect(200);
    return started.get<Registry>(METRICS_REGISTRY);
  }

  const warnings = (internal: string) =>
    logger.matching(
      new RegExp(
        `^nestjs-metrics: ${internal.replace(/[#.]/g, '\\$&')} is not as this version expects`,
      ),
    );

  it('without Registry#getMetricsAsString, the scrape is prom-client’s own metrics(), with one warning', async () => {
    undo = withoutOneMetricRenderer();
    const registry = await start();
    expect(warnings('prom-client: Registry#getMetricsAsString')).toHaveLength(
      1,
    );
    expect(
      warnings('prom-client: Registry#getMetricsAsString')[0].message,
    ).toContain(
      'the scrape renders through registry.metrics(), slower and without yielding',
    );

    for (const accept of [undefined, OPENMETRICS_ACCEPT]) {
      const scrape = request(app!.getHttpServer()).get('/metrics');
      const response = await (accept ? scrape.set('Accept', accept) : scrape)
        .expect(200)
        .expect('Content-Type', TEXT_TYPE);
      const expected = await Registry.prototype.metrics.call(registry);
      expect(stable(response.text)).toBe(stable(expected));
      expect(
        sum(parseSamples(response.text), 'requests_total', {
          route: '/ping',
          service: 'api',
        }),
      ).toBe(1);
    }
    expect(warnings('prom-client: Registry#getMetricsAsString')).toHaveLength(
      1,
    );
  });

  it('without _defaultLabels as expected, the request families render through prom-client, with one warning', async () => {
    undo = withDefaultLabelsElsewhere();
    const registry = await start();
    expect(warnings('prom-client: Registry#_defaultLabels')).toHaveLength(1);
    expect(
      warnings('prom-client: Registry#_defaultLabels')[0].message,
    ).toContain(
      "the request families render through prom-client's own formatting",
    );

    const text = await request(app!.getHttpServer())
      .get('/metrics')
      .expect(200)
      .expect('Content-Type', TEXT_TYPE);
    expect(stable(text.text)).toBe(
      stable(await Registry.prototype.metrics.call(registry)),
    );
    expect(
      sum(parseSamples(text.text), 'requests_total', {
        route: '/ping',
        service: 'api',
      }),
    ).toBe(1);

    const openMetrics = await request(app!.getHttpServer())
      .get('/metrics')
      .set('Accept', OPENMETRICS_ACCEPT)
      .expect(200)
      .expect('Content-Type', OPENMETRICS_TYPE);
    expect(openMetrics.text).toContain(
      'requests_total{transport="http",method="GET",route="/ping",status="200",service="api"} 1\n',
    );
    expect(openMetrics.text).toMatch(/\n# EOF\n$/);
    expect(warnings('prom-client: Registry#_defaultLabels')).toHaveLength(1);
  });
  it('without the metric internals as expected, prom-client renders its metrics, with one warning', async () => {
    undo = withCounterValuesElsewhere();
    const registry = await start();
    const internal =
      'prom-client: Counter/Gauge/Histogram#hashMap, #upperBounds, #collect';
    expect(warnings(internal)).toHaveLength(1);
    expect(warnings(internal)[0].message).toContain(
      "render through prom-client's own formatting",
    );
    const jobs = app!
      .get(MetricsService)
      .counter('jobs_total', { labelNames: ['queue'] });
    jobs.inc({ queue: 'mail' }, 3);
    jobs.inc({ queue: 'mail' }, 2);

    const text = await request(app!.getHttpServer())
      .get('/metrics')
      .expect(200)
      .expect('Content-Type', TEXT_TYPE);
    expect(stable(text.text)).toBe(
      stable(await Registry.prototype.metrics.call(registry)),
    );
    expect(text.text).toContain('\njobs_total{queue="mail",service="api"} 5\n');
    const openMetrics = await request(app!.getHttpServer())
      .get('/metrics')
      .set('Accept', OPENMETRICS_ACCEPT)
      .expect(200)
      .expect('Content-Type', OPENMETRICS_TYPE);
    expect(openMetrics.text).toContain(
      '\njobs_total{queue="mail",service="api"} 5\n',
    );
    expect(warnings(internal)).toHaveLength(1);
  });
});
