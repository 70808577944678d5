import 'reflect-metadata';
import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  MetricsModule,
  MetricsServer,
  MetricsService,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { environmentOptions } from '../lib/metrics.environment.js';
import { createApp } from './helpers/create-app.js';
import { find, parseSamples, sum } from './helpers/metrics-text.js';

const VARIABLES = [
  'METRICS_ENABLED',
  'METRICS_PATH',
  'METRICS_PORT',
  'METRICS_PREFIX',
] as const;

@Controller('ping')
class PingController {
  @Get()
  ping() {
    return 'pong';
  }
}

describe('Configuration from the environment', () => {
  const saved = new Map<string, string | undefined>();
  let app: INestApplication | undefined;

  beforeEach(() => {
    for (const name of VARIABLES) {
      saved.set(name, process.env[name]);
      delete process.env[name];
    }
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const start = async (
    options: MetricsModuleOptions = {},
  ): Promise<INestApplication> => {
    app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false, ...options })],
      controllers: [PingController],
    });
    return app;
  };
  const ping = (target: INestApplication) =>
    request(target.getHttpServer()).get('/ping').expect(200);
  const exposition = async (target: INestApplication, path: string) =>
    parseSamples(
      (await request(target.getHttpServer()).get(path).expect(200)).text,
    );

  it('METRICS_PATH moves the metrics endpoint', async () => {
    process.env.METRICS_PATH = '/internal/metrics';
    const target = await start();
    await ping(target);
    await request(target.getHttpServer()).get('/metrics').expect(404);
    const samples = await exposition(target, '/internal/metrics');
    expect(sum(samples, 'requests_total', { route: '/ping' })).toBe(1);
  });

  it('METRICS_PREFIX prefixes every metric name', async () => {
    process.env.METRICS_PREFIX = 'shop_';
    const target = await start();
    await ping(target);
    const samples = await exposition(target, '/metrics');
    expect(sum(samples, 'shop_requests_total', { route: '/ping' })).toBe(1);
    expect(find(samples, 'requests_total')).toHaveLength(0);
    expect(samples.every((s) => s.name.startsWith('shop_'))).toBe(true);
  });

  it.each(['false', '0', 'FALSE', ' false '])(
    'METRICS_ENABLED=%p turns the module off',
    async (value) => {
      process.env.METRICS_ENABLED = value;
      const target = await start();
      await ping(target);
      await request(target.getHttpServer()).get('/metrics').expect(404);
      const text = await target.get(MetricsService).metrics();
      expect(text).not.toContain('requests_total');
    },
  );

  it.each(['true', '1', 'True'])(
    'METRICS_ENABLED=%p keeps it on',
    async (value) => {
      process.env.METRICS_ENABLED = value;
      const target = await start();
      await ping(target);
      const samples = await exposition(target, '/metrics');
      expect(sum(samples, 'requests_total', { route: '/ping' })).toBe(1);
    },
  );

  it('empty variables set nothing', async () => {
    for (const name of VARIABLES) process.env[name] = '';
    const target = await start();
    await ping(target);
    const samples = await exposition(target, '/metrics');
    expect(sum(samples, 'requests_total', { route: '/ping' })).toBe(1);
  });

  it('options given in code win over the environment', async () => {
    process.env.METRICS_PATH = '/env-metrics';
    process.env.METRICS_PREFIX = 'env_';
    process.env.METRICS_ENABLED = 'false';
    const target = await start({
      path: '/code-metrics',
      prefix: 'code_',
      enabled: true,
    });
    await ping(target);
    await request(target.getHttpServer()).get('/env-metrics').expect(404);
    const samples = await exposition(target, '/code-metrics');
    expect(sum(samples, 'code_requests_total', { route: '/ping' })).toBe(1);
    expect(samples.some((s) => s.name.startsWith('env_'))).toBe(false);
  });

  it('an option left undefined in code (an unset config key) keeps the environment value', async () => {
    process.env.METRICS_PREFIX = 'env_';
    app = await createApp({
      imports: [
        MetricsModule.forRootAsync({
          useFactory: () => ({ defaultMetrics: false, prefix: undefined }),
        }),
      ],
      controllers: [PingController],
    });
    await ping(app);
    const samples = await exposition(app, '/metrics');
    expect(sum(samples, 'env_requests_total', { route: '/ping' })).toBe(1);
  });

  it('reads the environment when the module starts, not when it is imported', async () => {
    const module = MetricsModule.forRoot({ defaultMetrics: false });
    process.env.METRICS_PATH = '/late-metrics';
    app = await createApp({ imports: [module], controllers: [PingController] });
    await exposition(app, '/late-metrics');
  });

  it.each<[string, string, string]>([
    [
      'METRICS_ENABLED',
      'yes please',
      'environment variable METRICS_ENABLED must be true, false, 1 or 0; got "yes please".',
    ],
    [
      'METRICS_PATH',
      'metrics',
      'environment variable METRICS_PATH must be a path that starts with "/"',
    ],
    ['METRICS_PATH', '/', 'environment variable METRICS_PATH must be'],
    [
      'METRICS_PREFIX',
      'my-app_',
      'environment variable METRICS_PREFIX must be a string of [a-zA-Z0-9_:]',
    ],
    [
      'METRICS_PORT',
      '70000',
      'environment variable METRICS_PORT must be an integer from 0 to 65535; got "70000".',
    ],
    ['METRICS_PORT', '-1', 'environment variable METRICS_PORT must be'],
    ['METRICS_PORT', '9464.5', 'environment variable METRICS_PORT must be'],
    ['METRICS_PORT', 'http', 'environment variable METRICS_PORT must be'],
  ])(
    '%s=%p fails start-up naming the variable',
    async (name, value, message) => {
      process.env[name] = value;
      const failure = await Test.createTestingModule({
        imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      })
        .compile()
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toBeInstanceOf(TypeError);
      expect((failure as Error).message).toContain(message);
    },
  );

  it('METRICS_PORT is read as the port option', () => {
    expect(environmentOptions({ METRICS_PORT: '9464' })).toEqual({
      port: 9464,
    });
    expect(environmentOptions({ METRICS_PORT: '0' })).toEqual({ port: 0 });
    expect(environmentOptions({ METRICS_PORT: ' 65535 ' })).toEqual({
      port: 65535,
    });
    expect(
      environmentOptions({
        METRICS_ENABLED: '1',
        METRICS_PATH: '/m',
        METRICS_PREFIX: 'a_',
        METRICS_PORT: '8080',
        UNRELATED: 'x',
      }),
    ).toEqual({ enabled: true, path: '/m', prefix: 'a_', port: 8080 });
    expect(environmentOptions({})).toEqual({});
  });

  it('METRICS_PORT moves the metrics path to the dedicated metrics server', async () => {
    process.env.METRICS_PORT = '0';
    const target = await start();
    await ping(target);
    await request(target.getHttpServer()).get('/metrics').expect(404);
    const port = target.get(MetricsServer).port;
    expect(port).toBeGreaterThan(0);
    const samples = parseSamples(
      await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
    );
    expect(sum(samples, 'requests_total', { route: '/ping' })).toBe(1);
  });

  it('the port given in code wins over METRICS_PORT', async () => {
    process.env.METRICS_PORT = '1';
    const target = await start({ port: 0 });
    const port = target.get(MetricsServer).port;
    expect(port).toBeGreaterThan(1);
  });
});
