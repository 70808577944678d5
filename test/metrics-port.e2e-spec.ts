import 'reflect-metadata';
import { createServer, type Server } from 'node:net';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  MetricsModule,
  MetricsServer,
  MetricsService,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { createApp } from './helpers/create-app.js';
import { parseSamples, sum } from './helpers/metrics-text.js';

const LOCALHOST = '127.0.0.1';

/** A raw request to the metrics port. */
function get(port: number, path: string, method = 'GET') {
  return fetch(`http://${LOCALHOST}:${port}${path}`, { method });
}

/** Resolves when something can listen on `port` again. */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, LOCALHOST, () => server.close(() => resolve(true)));
  });
}

function occupyPort(): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, LOCALHOST, () => resolve(server));
  });
}

@Injectable()
class JobCounter {
  constructor(private readonly metrics: MetricsService) {}

  countJob(): void {
    this.metrics.counter('worker_jobs_total', { help: 'Jobs.' }).inc();
  }
}

describe('metrics port in a process without HTTP', () => {
  @Module({
    imports: [
      MetricsModule.forRoot({
        port: 0,
        host: LOCALHOST,
        defaultMetrics: false,
      }),
    ],
    providers: [JobCounter],
  })
  class WorkerModule {}

  it('serves the metrics path on its own port and frees it on close', async () => {
    const app = await NestFactory.createApplicationContext(WorkerModule, {
      logger: false,
      abortOnError: false,
    });
    const port = app.get(MetricsServer).port!;
    expect(port).toBeGreaterThan(0);
    expect(app.get(MetricsServer).address()?.address).toBe(LOCALHOST);
    try {
      app.get(JobCounter).countJob();
      app.get(JobCounter).countJob();

      const response = await get(port, '/metrics');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const samples = parseSamples(await response.text());
      expect(sum(samples, 'worker_jobs_total')).toBe(2);
      expect(sum(samples, 'uptime_seconds')).toBeGreaterThan(0);

      const withQuery = await get(port, '/metrics?x=1');
      expect(withQuery.status).toBe(200);
      await withQuery.text();

      const head = await get(port, '/metrics', 'HEAD');
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');

      const other = await get(port, '/other');
      expect(other.status).toBe(404);
      await other.text();

      const post = await get(port, '/metrics', 'POST');
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
      await post.text();
    } finally {
      await app.close();
    }
    expect(app.get(MetricsServer).port).toBeUndefined();
    await expect(get(port, '/metrics')).rejects.toThrow();
    expect(await canListen(port)).toBe(true);
  });
});

describe('metrics port beside the app HTTP server', () => {
  @Controller('ping')
  class PingController {
    @Get()
    ping() {
      return 'pong';
    }
  }

  it('serves metrics only on the port: the app answers 404 on the metrics path', async () => {
    const app = await createApp({
      imports: [
        MetricsModule.forRoot({
          port: 0,
          host: LOCALHOST,
          path: '/internal/metrics',
          defaultMetrics: false,
        }),
      ],
      controllers: [PingController],
    });
    try {
      const port = app.get(MetricsServer).port!;
      await request(app.getHttpServer()).get('/ping').expect(200);
      await request(app.getHttpServer()).get('/internal/metrics').expect(404);

      const response = await get(port, '/internal/metrics');
      expect(response.status).toBe(200);
      const samples = parseSamples(await response.text());
      expect(
        sum(samples, 'requests_total', {
          transport: 'http',
          method: 'GET',
          route: '/ping',
          status: '200',
        }),
      ).toBe(1);
      // Requests for the metrics path are never measured, served or not.
      expect(sum(samples, 'requests_total', { transport: 'http' })).toBe(1);
      const defaultPath = await get(port, '/metrics');
      expect(defaultPath.status).toBe(404);
      await defaultPath.text();
    } finally {
      await app.close();
    }
  });

  it('without port, the app serves the metrics path itself', async () => {
    const app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      controllers: [PingController],
    });
    try {
      expect(app.get(MetricsServer).port).toBeUndefined();
      await request(app.getHttpServer()).get('/metrics').expect(200);
    } finally {
      await app.close();
    }
  });
});

describe('metrics port start-up failures', () => {
  it('fails start-up naming the port and the option when the port is taken', async () => {
    const taken = await occupyPort();
    const port = (taken.address() as { port: number }).port;
    const moduleRef = await Test.createTestingModule({
      imports: [
        MetricsModule.forRoot({ port, host: LOCALHOST, defaultMetrics: false }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    try {
      await expect(app.init()).rejects.toThrow(
        new RegExp(`option "port": port ${port} is already in use`),
      );
    } finally {
      await app.close();
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it.each<[string, MetricsModuleOptions, RegExp]>([
    ['port', { port: -1 }, /option "port" must be an integer from 0 to 65535/],
    ['port', { port: 65536 }, /option "port" must be an integer from 0/],
    ['port', { port: 91.5 }, /option "port" must be an integer from 0/],
    ['port', { port: Number.NaN }, /option "port" must be an integer from 0/],
    [
      'port',
      { port: '9100' as unknown as number },
      /option "port" must be an integer from 0 to 65535 .*; got "9100"/,
    ],
    ['host', { port: 0, host: '' }, /option "host" must be a host name/],
    ['host', { port: 0, host: 'a b' }, /option "host" must be a host name/],
    [
      'host',
      { port: 0, host: 127 as unknown as string },
      /option "host" must be a host name/,
    ],
    [
      'host',
      { host: LOCALHOST },
      /option "host" must be given together with "port"/,
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
});
