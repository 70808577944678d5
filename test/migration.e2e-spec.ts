import 'reflect-metadata';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import {
  Controller,
  Logger,
  Get,
  Injectable,
  Module,
  Post,
  type INestApplication,
  type ModuleMetadata,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register as globalRegistry } from 'prom-client';
import type { Counter, Gauge, Histogram, Summary } from 'prom-client';
import request from 'supertest';
import {
  Counted,
  InjectMetric,
  MetricsModule,
  MetricsService,
  OVERFLOW_LABEL_VALUE,
  Timed,
  getMetricToken,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
  makeSummaryProvider,
} from '../lib/index.js';
import {
  REGISTRY_METRICS,
  forgetRegistryShapeCheck,
  ownRegistryKeepsPlainObject,
  registryPackage,
} from '../lib/compat/registry-package.js';
import { forgetReportedDegradations } from '../lib/compat/degraded.js';
import { ADAPTERS, createApp, type AdapterName } from './helpers/create-app.js';
import { find, scrape, sum } from './helpers/metrics-text.js';

// The README's "Migrating from @willsoto/nestjs-prometheus and nestjs-otel", example by example.

@Controller('orders')
class OrdersController {
  constructor(
    @InjectMetric('orders_total') private readonly orders: Counter<string>,
    @InjectMetric('orders_in_flight') private readonly inFlight: Gauge<string>,
    @InjectMetric('order_value_euros')
    private readonly value: Histogram<string>,
  ) {}

  @Post()
  place(): { placed: boolean } {
    this.inFlight.inc();
    this.orders.inc({ channel: 'web' });
    this.value.observe(42);
    this.inFlight.dec();
    return { placed: true };
  }
}

const ORDER_PROVIDERS = [
  makeCounterProvider({
    name: 'orders_total',
    help: 'Orders placed.',
    labelNames: ['channel'],
  }),
  makeGaugeProvider({ name: 'orders_in_flight', help: 'Orders being placed.' }),
  makeHistogramProvider({
    name: 'order_value_euros',
    help: 'Order value.',
    buckets: [10, 50, 100],
  }),
];

@Module({ controllers: [OrdersController], providers: ORDER_PROVIDERS })
class OrdersModule {}

@Controller('items')
class ItemsController {
  @Get()
  list(): string[] {
    return ['pen'];
  }
}

async function boot(
  metadata: ModuleMetadata,
  adapter: AdapterName,
): Promise<INestApplication> {
  return createApp(metadata, undefined, adapter);
}

describe.each(ADAPTERS)('Migration guide examples (%s)', (adapter) => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('PrometheusModule.register({ path, defaultMetrics, defaultLabels }) → MetricsModule.forRoot', async () => {
    app = await boot(
      {
        imports: [
          MetricsModule.forRoot({
            path: '/metrics',
            defaultMetrics: true,
            defaultLabels: { service: 'orders-api' },
          }),
        ],
        controllers: [ItemsController],
      },
      adapter,
    );
    await request(app.getHttpServer()).get('/items').expect(200);
    await request(app.getHttpServer()).get('/items').expect(200);
    const samples = await scrape(app);
    expect(
      sum(samples, 'requests_total', {
        route: '/items',
        status: '200',
        service: 'orders-api',
      }),
    ).toBe(2);
    expect(find(samples, 'process_cpu_user_seconds_total')).toHaveLength(1);
    expect(find(samples, 'nodejs_heap_size_used_bytes')).toHaveLength(1);
  });

  it('makeCounterProvider/makeGaugeProvider/makeHistogramProvider + @InjectMetric record in the module registry, with the prefix', async () => {
    app = await boot(
      {
        imports: [
          MetricsModule.forRoot({ prefix: 'shop_', defaultMetrics: false }),
          OrdersModule,
        ],
      },
      adapter,
    );
    for (let i = 0; i < 3; i++)
      await request(app.getHttpServer()).post('/orders').expect(201);
    const samples = await scrape(app);
    expect(sum(samples, 'shop_orders_total', { channel: 'web' })).toBe(3);
    expect(sum(samples, 'shop_orders_in_flight')).toBe(0);
    expect(find(samples, 'shop_orders_in_flight')).toHaveLength(1);
    expect(sum(samples, 'shop_order_value_euros_count')).toBe(3);
    expect(sum(samples, 'shop_order_value_euros_bucket', { le: '10' })).toBe(0);
    expect(sum(samples, 'shop_order_value_euros_bucket', { le: '50' })).toBe(3);
    // The injected metric is the one MetricsService holds under that name.
    expect(app.get(getMetricToken('orders_total'))).toBe(
      app.get(MetricsService).counter('orders_total', {
        labelNames: ['channel'],
      }),
    );
    expect(globalRegistry.getSingleMetric('shop_orders_total')).toBeUndefined();
  });

  it('makeSummaryProvider, and maxSeries bounds a provided metric', async () => {
    @Injectable()
    class Checkout {
      constructor(
        @InjectMetric('checkout_seconds') readonly seconds: Summary<string>,
        @InjectMetric('coupons_total') readonly coupons: Counter<string>,
      ) {}
    }
    app = await boot(
      {
        imports: [
          MetricsModule.forRoot({ maxSeries: 2, defaultMetrics: false }),
        ],
        providers: [
          Checkout,
          makeSummaryProvider({
            name: 'checkout_seconds',
            help: 'Checkout time.',
            percentiles: [0.5],
          }),
          makeCounterProvider({
            name: 'coupons_total',
            help: 'Coupons used.',
            labelNames: ['code'],
          }),
        ],
      },
      adapter,
    );
    const checkout = app.get(Checkout);
    checkout.seconds.observe(1);
    checkout.seconds.observe(3);
    for (const code of ['A', 'B', 'C', 'D']) checkout.coupons.inc({ code });
    const samples = await scrape(app);
    expect(sum(samples, 'checkout_seconds_count')).toBe(2);
    expect(sum(samples, 'checkout_seconds_sum')).toBe(4);
    expect(find(samples, 'coupons_total')).toHaveLength(3);
    expect(sum(samples, 'coupons_total', { code: OVERFLOW_LABEL_VALUE })).toBe(
      2,
    );
  });

  it('overrideProvider(getMetricToken(name)) replaces the metric in a test', async () => {
    const calls: unknown[][] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [MetricsModule.forRoot({ defaultMetrics: false }), OrdersModule],
    })
      .overrideProvider(getMetricToken('orders_total'))
      .useValue({ inc: (...args: unknown[]) => calls.push(args) })
      .compile();
    app =
      adapter === 'fastify'
        ? moduleRef.createNestApplication(
            new (await import('@nestjs/platform-fastify')).FastifyAdapter(),
            { logger: false },
          )
        : moduleRef.createNestApplication({ logger: false });
    await app.init();
    if (adapter === 'fastify')
      await (
        app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }
      ).ready();
    await request(app.getHttpServer()).post('/orders').expect(201);
    expect(calls).toEqual([[{ channel: 'web' }]]);
    const samples = await scrape(app);
    expect(find(samples, 'orders_total')).toHaveLength(0);
    expect(sum(samples, 'order_value_euros_count')).toBe(1);
  });

  it('the /metrics controller is no longer needed: the module serves path', async () => {
    app = await boot(
      {
        imports: [
          MetricsModule.forRoot({
            path: '/internal/metrics',
            defaultMetrics: false,
          }),
        ],
        controllers: [ItemsController],
      },
      adapter,
    );
    await request(app.getHttpServer()).get('/items').expect(200);
    const samples = await scrape(app, '/internal/metrics');
    expect(sum(samples, 'requests_total', { route: '/items' })).toBe(1);
    await request(app.getHttpServer()).get('/metrics').expect(404);
  });

  it("nestjs-otel's MetricService and @OtelMethodCounter → MetricsService, @Counted and @Timed", async () => {
    @Injectable()
    class PaymentsService {
      private readonly refunds;
      constructor(private readonly metrics: MetricsService) {
        this.refunds = this.metrics.counter('refunds_total', {
          help: 'Refunds issued.',
          labelNames: ['reason'],
        });
      }

      @Counted('payments_total', { help: 'Payments taken.' })
      @Timed('payment_duration_seconds', { help: 'Time to take a payment.' })
      async pay(): Promise<string> {
        return 'paid';
      }

      refund(reason: string): void {
        this.refunds.inc({ reason });
        this.metrics
          .histogram('refund_amount_euros', {
            help: 'Refund amounts.',
            buckets: [5, 50],
          })
          .observe(20);
      }
    }
    app = await boot(
      {
        imports: [MetricsModule.forRoot({ defaultMetrics: false })],
        providers: [PaymentsService],
      },
      adapter,
    );
    const payments = app.get(PaymentsService);
    await payments.pay();
    await payments.pay();
    payments.refund('damaged');
    const samples = await scrape(app);
    expect(sum(samples, 'payments_total')).toBe(2);
    expect(sum(samples, 'payment_duration_seconds_count')).toBe(2);
    expect(sum(samples, 'refunds_total', { reason: 'damaged' })).toBe(1);
    expect(sum(samples, 'refund_amount_euros_bucket', { le: '50' })).toBe(1);
  });
});

describe('Migration: tokens', () => {
  // @willsoto/nestjs-prometheus 6 uses `PROM_METRIC_${name.toUpperCase()}` (its dist/metrics/utils.js);
  // ours are namespaced, so both packages can provide "orders_total" in one app.
  it('getMetricToken namespaces the name', () => {
    expect(getMetricToken('orders_total')).toBe(
      'nestjs-metrics:metric:orders_total',
    );
    expect(getMetricToken('orders_total')).not.toBe('PROM_METRIC_ORDERS_TOTAL');
  });
});

/** A real, separately loaded copy of prom-client 15 (its own module instances and classes). */
function secondPromClient(): typeof import('prom-client') {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const own = createRequire(join(root, 'package.json'));
  const source = dirname(own.resolve('prom-client/package.json'));
  const into = join(
    mkdtempSync(join(tmpdir(), 'nestjs-metrics-prom-copy-')),
    'node_modules',
  );
  cpSync(source, join(into, 'prom-client'), { recursive: true });
  const { dependencies = {} } = JSON.parse(
    readFileSync(join(source, 'package.json'), 'utf8'),
  ) as { dependencies?: Record<string, string> };
  for (const name of Object.keys(dependencies)) {
    const installed = join(root, 'node_modules', name);
    if (!existsSync(installed)) continue;
    mkdirSync(dirname(join(into, name)), { recursive: true });
    symlinkSync(realpathSync(installed), join(into, name));
  }
  return own(
    join(into, 'prom-client/index.js'),
  ) as typeof import('prom-client');
}

describe('The registry option and other Prometheus clients', () => {
  it('accepts a Registry of a second copy of prom-client 15 and serves its metrics', async () => {
    const copy = secondPromClient();
    const registry = new copy.Registry();
    new copy.Counter({
      name: 'from_the_copy_total',
      help: 'x',
      registers: [registry],
    }).inc(3);
    const app = await createApp({
      imports: [MetricsModule.forRoot({ registry, defaultMetrics: false })],
      controllers: [ItemsController],
    });
    try {
      await request(app.getHttpServer()).get('/items').expect(200);
      const samples = await scrape(app);
      expect(sum(samples, 'from_the_copy_total')).toBe(3);
      expect(sum(samples, 'requests_total', { route: '/items' })).toBe(1);
    } finally {
      await app.close();
    }
  });
});

/**
 * The real @prometheus-io/client (a dev dependency; it loads on Node 20 though it declares Node
 * 22+). PROMETHEUS_IO_CLIENT_DIR points at another install of it, for a checkout installed before
 * it was added.
 */
function prometheusIoClient(): typeof import('prom-client') | undefined {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const own = createRequire(join(root, 'package.json'));
  const at = process.env.PROMETHEUS_IO_CLIENT_DIR ?? '@prometheus-io/client';
  try {
    return own(at) as typeof import('prom-client');
  } catch (error) {
    if (process.env.CI) throw error;
    console.warn(
      '@prometheus-io/client is not installed (npm ci): its registry test skipped',
    );
    return undefined;
  }
}

const prometheusIo = prometheusIoClient();

(prometheusIo ? describe : describe.skip)(
  'A registry from @prometheus-io/client',
  () => {
    it.each([
      ['a new Registry', () => new prometheusIo!.Registry()],
      ['its global registry', () => prometheusIo!.register],
      [
        'a ClusterRegistry',
        () =>
          new (
            prometheusIo as unknown as { ClusterRegistry: new () => object }
          ).ClusterRegistry(),
      ],
    ])(
      '%s fails start-up, naming the option and the package',
      async (_what, make) => {
        const registry = make() as never;
        await expect(
          createApp({
            imports: [MetricsModule.forRoot({ registry })],
            controllers: [ItemsController],
          }),
        ).rejects.toThrow(
          'nestjs-metrics: option "registry" must be a prom-client 15 Registry; got a Registry of @prometheus-io/client, which this version does not support (its metrics are prom-client 15\'s). Pass a Registry from "prom-client" (import { Registry } from \'prom-client\'), or leave "registry" out.',
        );
      },
    );
  },
);

describe('When prom-client no longer keeps Registry#_metrics as a plain object', () => {
  beforeEach(() => forgetRegistryShapeCheck());
  afterEach(() => {
    jest.restoreAllMocks();
    forgetRegistryShapeCheck();
    forgetReportedDegradations();
  });

  it('warns once, still accepts a second copy of prom-client and still refuses @prometheus-io/client', async () => {
    const warn = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation(() => {});
    expect(ownRegistryKeepsPlainObject(() => ({ _metrics: new Map() }))).toBe(
      false,
    );
    const copy = secondPromClient();
    expect(registryPackage(new copy.Registry())).toBe(
      'prom-client (another copy)',
    );
    expect(registryPackage(new copy.AggregatorRegistry())).toBe(
      'prom-client (another copy)',
    );
    if (prometheusIo) {
      expect(registryPackage(new prometheusIo.Registry())).toBe(
        '@prometheus-io/client',
      );
    }
    expect(registryPackage({ registerMetric() {}, metrics() {} })).toBe(
      'unknown',
    );
    expect(warn.mock.calls.map(([message]) => message)).toEqual([
      `nestjs-metrics: ${REGISTRY_METRICS.internal} is not as this version expects; ${REGISTRY_METRICS.loss}. Everything else is measured as usual.`,
    ]);
  });
});
