import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import {
  ArgumentsHost,
  CallHandler,
  CanActivate,
  Catch,
  Controller,
  ExceptionFilter,
  ForbiddenException,
  Get,
  HttpException,
  Injectable,
  Module,
  NestInterceptor,
  VersioningType,
  type INestApplication,
  type ModuleMetadata,
  type ExecutionContext,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import type { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Registry, register as globalRegistry } from 'prom-client';
import request from 'supertest';
import { TimeoutError } from 'rxjs';
import {
  METRICS_REGISTRY,
  MetricsInterceptor,
  MetricsModule,
  MetricsService,
  type ExchangeOutcome,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { HttpFixtureModule } from './fixtures/http-fixture.module.js';
import { ADAPTERS, createApp } from './helpers/create-app.js';
import { find, parseSamples, scrape, sum } from './helpers/metrics-text.js';
import { findSystemBinary } from './helpers/system-binary.js';

@Controller({ path: 'things', version: '1' })
class VersionedController {
  @Get(':id')
  get() {
    return { ok: true };
  }
}

@Controller('health')
class HealthController {
  @Get()
  health() {
    return { status: 'up' };
  }
}

describe('MetricsModule options', () => {
  it.each<[string, MetricsModuleOptions, RegExp]>([
    ['path', { path: 'metrics' }, /option "path" must be/],
    ['path', { path: '/' }, /option "path" must be/],
    ['prefix', { prefix: '1bad' }, /option "prefix" must be/],
    ['prefix', { prefix: 'my-app_' }, /option "prefix" must be/],
    [
      'defaultLabels',
      { defaultLabels: { 'bad-name': 'x' } },
      /option "defaultLabels.bad-name" must be/,
    ],
    [
      'defaultLabels',
      { defaultLabels: { service: 3 as unknown as string } },
      /option "defaultLabels.service" must be a string/,
    ],
    ['buckets', { buckets: [] }, /option "buckets" must be/],
    ['buckets', { buckets: [0.1, 0.05] }, /option "buckets" must be/],
    ['buckets', { buckets: [0.1, Infinity] }, /option "buckets" must be/],
    [
      'defaultMetrics',
      { defaultMetrics: 'yes' as unknown as boolean },
      /option "defaultMetrics" must be true, false or an object of prom-client default metrics settings/,
    ],
    [
      'registry',
      { registry: {} as Registry },
      /option "registry" must be a prom-client Registry/,
    ],
    [
      'excludePaths',
      { excludePaths: ['health'] },
      /option "excludePaths" must be/,
    ],
    [
      'enabled',
      { enabled: 1 as unknown as boolean },
      /option "enabled" must be true or false/,
    ],
    [
      'unknown',
      { pth: '/m' } as MetricsModuleOptions,
      /option "pth" must be one of/,
    ],
  ])(
    'rejects a wrong %s at start-up, naming the option',
    async (_name, options, message) => {
      await expect(
        Test.createTestingModule({
          imports: [MetricsModule.forRoot(options)],
        }).compile(),
      ).rejects.toThrow(message);
    },
  );

  it('rejects wrong options from forRootAsync at start-up too', async () => {
    const compile = Test.createTestingModule({
      imports: [
        MetricsModule.forRootAsync({
          useFactory: async () => ({ buckets: [-1] }),
        }),
      ],
    }).compile();
    await expect(compile).rejects.toThrow(/option "buckets" must be/);
  });
});

describe.each(ADAPTERS)('MetricsModule options over HTTP on %s', (adapter) => {
  const boot = (
    metadata: ModuleMetadata,
    configure?: (app: INestApplication) => void,
  ) => createApp(metadata, configure, adapter);

  it('takes options from an async factory with injected providers', async () => {
    @Injectable()
    class Config {
      readonly metricsPath = '/internal/metrics';
    }
    @Module({ providers: [Config], exports: [Config] })
    class ConfigModule {}

    const app = await boot({
      imports: [
        MetricsModule.forRootAsync({
          imports: [ConfigModule],
          inject: [Config],
          useFactory: async (config: Config) => ({
            path: config.metricsPath,
            prefix: 'svc_',
          }),
        }),
        HttpFixtureModule,
      ],
    });
    try {
      await request(app.getHttpServer()).get('/items').expect(200);
      await request(app.getHttpServer()).get('/metrics').expect(404);
      const samples = await scrape(app, '/internal/metrics');
      expect(
        sum(samples, 'svc_requests_total', { route: '/items', status: '200' }),
      ).toBe(1);
      expect(
        sum(samples, 'svc_requests_total', {
          route: 'UNMATCHED',
          status: '404',
        }),
      ).toBe(1);
      expect(find(samples, 'requests_total')).toHaveLength(0);
    } finally {
      await app.close();
    }
  });

  it('applies prefix, defaultLabels, buckets and excludePaths', async () => {
    const app = await boot({
      imports: [
        MetricsModule.forRoot({
          prefix: 'shop_',
          defaultLabels: { service: 'api' },
          buckets: [0.1, 1],
          excludePaths: ['/health', '/items/:id'],
        }),
        HttpFixtureModule,
      ],
      controllers: [HealthController],
    });
    try {
      await request(app.getHttpServer()).get('/items').expect(200);
      await request(app.getHttpServer()).get('/items/4').expect(200);
      await request(app.getHttpServer()).get('/health').expect(200);
      const response = await request(app.getHttpServer())
        .get('/metrics')
        .expect(200);
      const samples = parseSamples(response.text);
      expect(
        sum(samples, 'shop_requests_total', {
          route: '/items',
          service: 'api',
        }),
      ).toBe(1);
      expect(sum(samples, 'shop_requests_total')).toBe(1);
      const buckets = find(samples, 'shop_request_duration_seconds_bucket').map(
        (s) => s.labels.le,
      );
      expect(buckets).toEqual(['0.1', '1', '+Inf']);
      expect(samples.every((s) => s.labels.service === 'api')).toBe(true);
      // The prefix is the app's: prom-client's default metrics keep their standard names.
      expect(sum(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
      expect(find(samples, 'shop_process_cpu_user_seconds_total')).toEqual([]);
      expect(response.text).not.toMatch(/^requests_total/m);
    } finally {
      await app.close();
    }
  });

  it('exports prom-client default metrics unless defaultMetrics is false', async () => {
    const withDefaults = await boot({
      imports: [MetricsModule.forRoot()],
    });
    const without = await boot({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
    });
    try {
      const on = await scrape(withDefaults);
      const off = await scrape(without);
      expect(find(on, 'process_cpu_user_seconds_total')).toHaveLength(1);
      expect(find(on, 'nodejs_heap_size_used_bytes')).toHaveLength(1);
      expect(find(on, 'nodejs_active_handles_total')).toHaveLength(0);
      expect(
        off.filter(
          (s) => s.name.startsWith('process_') || s.name.startsWith('nodejs_'),
        ),
      ).toHaveLength(0);
    } finally {
      await withDefaults.close();
      await without.close();
    }
  });

  it('records nothing and serves nothing when enabled is false', async () => {
    const app = await boot({
      imports: [MetricsModule.forRoot({ enabled: false }), HttpFixtureModule],
    });
    try {
      await request(app.getHttpServer()).get('/items').expect(200);
      await request(app.getHttpServer()).get('/metrics').expect(404);
      const text = await app.get(MetricsService).metrics();
      expect(text).not.toContain('requests_total');
      // MetricsService metrics record nothing either (see test/collector.e2e-spec.ts).
      app.get(MetricsService).counter('not_recorded_total').inc();
      expect(await app.get(MetricsService).metrics()).not.toContain(
        'not_recorded_total',
      );
    } finally {
      await app.close();
    }
  });

  it('uses a registry the user passes in', async () => {
    const registry = new Registry();
    const app = await boot({
      imports: [
        MetricsModule.forRoot({ registry, defaultMetrics: false }),
        HttpFixtureModule,
      ],
    });
    try {
      expect(app.get(METRICS_REGISTRY)).toBe(registry);
      await request(app.getHttpServer()).get('/items').expect(200);
      expect(await registry.metrics()).toMatch(
        /^requests_total\{transport="http",method="GET",route="\/items",status="200"\} 1$/m,
      );
    } finally {
      await app.close();
    }
  });

  it('includes the global prefix and the version in the route and serves metrics at the unprefixed path', async () => {
    const app = await boot(
      {
        imports: [MetricsModule.forRoot({ defaultMetrics: false })],
        controllers: [VersionedController],
      },
      (nest) => {
        nest.setGlobalPrefix('api');
        nest.enableVersioning({ type: VersioningType.URI });
      },
    );
    try {
      await request(app.getHttpServer()).get('/api/v1/things/42').expect(200);
      await request(app.getHttpServer()).get('/api/metrics').expect(404);
      const samples = await scrape(app);
      expect(
        sum(samples, 'requests_total', {
          route: '/api/v1/things/:id',
          status: '200',
        }),
      ).toBe(1);
      expect(
        sum(samples, 'requests_total', { route: 'UNMATCHED', status: '404' }),
      ).toBe(1);
      expect(sum(samples, 'requests_total')).toBe(2);
    } finally {
      await app.close();
    }
  });
});

describe.each(ADAPTERS)('Isolation on %s', (adapter) => {
  const boot = (
    metadata: ModuleMetadata,
    configure?: (app: INestApplication) => void,
  ) => createApp(metadata, configure, adapter);

  it('gives two apps in one process their own registries and counts', async () => {
    const first = await boot({
      imports: [MetricsModule.forRoot(), HttpFixtureModule],
    });
    const second = await boot({
      imports: [MetricsModule.forRoot(), HttpFixtureModule],
    });
    try {
      await request(first.getHttpServer()).get('/items').expect(200);
      await request(second.getHttpServer()).get('/items').expect(200);
      await request(second.getHttpServer()).get('/items').expect(200);
      first.get(MetricsService).counter('orders_total').inc(3);

      const a = await scrape(first);
      const b = await scrape(second);
      expect(sum(a, 'requests_total', { route: '/items' })).toBe(1);
      expect(sum(b, 'requests_total', { route: '/items' })).toBe(2);
      expect(sum(a, 'orders_total')).toBe(3);
      expect(find(b, 'orders_total')).toHaveLength(0);
      expect(first.get(METRICS_REGISTRY)).not.toBe(
        second.get(METRICS_REGISTRY),
      );
      expect(first.get(METRICS_REGISTRY)).not.toBe(globalRegistry);
      expect(await globalRegistry.metrics()).not.toContain('requests_total');
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe.each(ADAPTERS)('Exposition on %s', (adapter) => {
  const boot = (
    metadata: ModuleMetadata,
    configure?: (app: INestApplication) => void,
  ) => createApp(metadata, configure, adapter);

  const promtool = findSystemBinary(
    'promtool',
    'prometheus',
    'the promtool check',
  );

  it('serves the Prometheus text content type', async () => {
    const app = await boot({ imports: [MetricsModule.forRoot()] });
    try {
      const response = await request(app.getHttpServer())
        .get('/metrics')
        .expect(200);
      expect(response.headers['content-type']).toBe(
        'text/plain; version=0.0.4; charset=utf-8',
      );
    } finally {
      await app.close();
    }
  });

  (promtool ? it : it.skip)(
    'passes promtool check metrics after traffic of every kind',
    async () => {
      const app = await boot({
        imports: [
          MetricsModule.forRoot({ defaultLabels: { service: 'api' } }),
          HttpFixtureModule,
        ],
      });
      try {
        const server = app.getHttpServer();
        await request(server).get('/items/1').expect(200);
        await request(server).get('/nope').expect(404);
        await request(server).get('/admin').expect(401);
        await request(server).get('/boom').expect(500);
        await request(server)
          .post('/items')
          .send({ name: 'x', quantity: 0 })
          .expect(400);
        app
          .get(MetricsService)
          .histogram('job_seconds', { labelNames: ['job'] })
          .observe({ job: 'a"b\\c' }, 1);
        const text = (await request(server).get('/metrics').expect(200)).text;
        const output = execFileSync(promtool!, ['check', 'metrics'], {
          input: text,
          encoding: 'utf8',
        });
        expect(output).toBe('');
      } finally {
        await app.close();
      }
    },
  );
});

describe.each(ADAPTERS)('Metrics path on %s', (adapter) => {
  const boot = (
    metadata: ModuleMetadata,
    configure?: (app: INestApplication) => void,
  ) => createApp(metadata, configure, adapter);

  it('is served past a global guard that rejects every route', async () => {
    @Injectable()
    class DenyAll implements CanActivate {
      canActivate(): boolean {
        throw new ForbiddenException();
      }
    }
    const app = await boot({
      imports: [
        MetricsModule.forRoot({ defaultMetrics: false }),
        HttpFixtureModule,
      ],
      providers: [{ provide: APP_GUARD, useClass: DenyAll }],
    });
    try {
      await request(app.getHttpServer()).get('/items').expect(403);
      const samples = await scrape(app);
      expect(
        sum(samples, 'requests_total', { route: '/items', status: '403' }),
      ).toBe(1);
      expect(
        sum(samples, 'errors_total', {
          route: '/items',
          error_type: 'forbidden',
        }),
      ).toBe(1);
    } finally {
      await app.close();
    }
  });
  it('is not seen by global interceptors', async () => {
    let intercepted = 0;
    @Injectable()
    class Counting implements NestInterceptor {
      intercept(_context: ExecutionContext, next: CallHandler) {
        intercepted += 1;
        return next.handle();
      }
    }
    const app = await boot({
      imports: [
        MetricsModule.forRoot({ defaultMetrics: false }),
        HttpFixtureModule,
      ],
      providers: [{ provide: APP_INTERCEPTOR, useClass: Counting }],
    });
    try {
      await scrape(app);
      await request(app.getHttpServer()).get('/metrics/').expect(200);
      expect(intercepted).toBe(0);
      await request(app.getHttpServer()).get('/items').expect(200);
      expect(intercepted).toBe(1);
      expect(
        sum(await scrape(app), 'requests_total', { route: '/items' }),
      ).toBe(1);
      expect(intercepted).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('is served with the metrics credentials past a global deny-all guard, and never reaches the app pipeline', async () => {
    const seen: string[] = [];
    @Injectable()
    class DenyAll implements CanActivate {
      canActivate(): boolean {
        seen.push('guard');
        throw new ForbiddenException();
      }
    }
    @Injectable()
    class Spy implements NestInterceptor {
      intercept(_context: ExecutionContext, next: CallHandler) {
        seen.push('interceptor');
        return next.handle();
      }
    }
    @Catch()
    class CatchAll implements ExceptionFilter {
      catch(_error: unknown, host: ArgumentsHost) {
        seen.push('filter');
        host.switchToHttp().getResponse().status(418).end();
      }
    }
    const app = await createApp({
      imports: [
        MetricsModule.forRoot({
          defaultMetrics: false,
          auth: { bearer: 'scrape-token' },
        }),
        HttpFixtureModule,
      ],
      providers: [
        { provide: APP_GUARD, useClass: DenyAll },
        { provide: APP_INTERCEPTOR, useClass: Spy },
        { provide: APP_FILTER, useClass: CatchAll },
      ],
    });
    try {
      await request(app.getHttpServer()).get('/items').expect(418);
      expect(seen).toEqual(['guard', 'filter']);
      seen.length = 0;
      const ok = await request(app.getHttpServer())
        .get('/metrics')
        .set('Authorization', 'Bearer scrape-token')
        .expect(200);
      expect(
        sum(parseSamples(ok.text), 'requests_total', {
          route: '/items',
          status: '418',
        }),
      ).toBe(1);
      const refused = await request(app.getHttpServer())
        .get('/metrics')
        .set('Authorization', 'Bearer wrong');
      expect(refused.status).toBe(401);
      expect(refused.text).toBe('unauthorized\n');
      expect(seen).toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describe('Fastify adapter', () => {
  it('keeps running a request hook the app set on the adapter, before Nest middleware', async () => {
    const seen: string[] = [];
    const app = await createApp(
      {
        imports: [
          MetricsModule.forRoot({ defaultMetrics: false }),
          HttpFixtureModule,
        ],
      },
      (nest) =>
        (nest.getHttpAdapter() as unknown as FastifyAdapter).setOnRequestHook(
          (request, _reply, done) => {
            seen.push(request.raw.url ?? '');
            done();
          },
        ),
      'fastify',
    );
    try {
      await request(app.getHttpServer()).get('/items/1').expect(200);
      await request(app.getHttpServer()).get('/blocked').expect(429);
      expect(seen).toEqual(['/items/1', '/blocked']);
      const samples = await scrape(app);
      expect(
        sum(samples, 'requests_total', { route: '/items/:id', status: '200' }),
      ).toBe(1);
      expect(
        sum(samples, 'requests_total', { route: '/blocked', status: '429' }),
      ).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('leaves the metrics path to an app route at the same path, as on Express', async () => {
    @Controller('metrics')
    class OwnMetricsController {
      @Get()
      own() {
        return 'own';
      }
    }
    const app = await createApp(
      {
        imports: [MetricsModule.forRoot({ defaultMetrics: false })],
        controllers: [OwnMetricsController],
      },
      undefined,
      'fastify',
    );
    try {
      const response = await request(app.getHttpServer())
        .get('/metrics')
        .expect(200);
      expect(response.text).toBe('own');
    } finally {
      await app.close();
    }
  });
});

describe.each(ADAPTERS)('Module extras on %s', (adapter) => {
  const boot = (
    metadata: ModuleMetadata,
    configure?: (app: INestApplication) => void,
  ) => createApp(metadata, configure, adapter);

  it('registers a MetricsInterceptor subclass given as interceptor in place of the default', async () => {
    class TimeoutAwareInterceptor extends MetricsInterceptor {
      protected override onError(
        exchange: ExchangeOutcome,
        error: unknown,
        context: ExecutionContext,
      ): void {
        const unwrapped =
          error instanceof HttpException && error.getStatus() === 418
            ? new TimeoutError()
            : error;
        super.onError(exchange, unwrapped, context);
      }
    }
    const app = await boot({
      imports: [
        MetricsModule.forRoot({
          defaultMetrics: false,
          interceptor: TimeoutAwareInterceptor,
        }),
        HttpFixtureModule,
      ],
    });
    try {
      await request(app.getHttpServer()).get('/boom').expect(500);
      await request(app.getHttpServer()).get('/teapot').expect(418);
      const samples = await scrape(app);
      expect(
        sum(samples, 'errors_total', {
          route: '/boom',
          error_type: 'internal',
        }),
      ).toBe(1);
      expect(
        sum(samples, 'errors_total', {
          route: '/teapot',
          error_type: 'timeout',
        }),
      ).toBe(1);
      expect(sum(samples, 'errors_total')).toBe(2);
    } finally {
      await app.close();
    }
  });

  it('fails forRoot() naming interceptor when it is not a MetricsInterceptor class', () => {
    class Unrelated {}
    for (const interceptor of [Unrelated, {}, 'MetricsInterceptor']) {
      expect(() =>
        MetricsModule.forRoot({
          interceptor: interceptor as unknown as typeof MetricsInterceptor,
        }),
      ).toThrow(/option "interceptor" must be MetricsInterceptor or a class/);
    }
  });

  it('keeps isGlobal out of the options and still works when not global', async () => {
    const app = await boot({
      imports: [MetricsModule.forRoot({ isGlobal: false }), HttpFixtureModule],
    });
    try {
      await request(app.getHttpServer()).get('/items').expect(200);
      expect(
        sum(await scrape(app), 'requests_total', { route: '/items' }),
      ).toBe(1);
    } finally {
      await app.close();
    }
  });
});
