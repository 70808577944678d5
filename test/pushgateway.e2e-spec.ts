import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { MetricsModule, type MetricsModuleOptions } from '../lib/index.js';
import { HttpFixtureModule } from './fixtures/http-fixture.module.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { freePort } from './helpers/free-port.js';
import { eventually, parseSamples, sum } from './helpers/metrics-text.js';
import {
  PUSHGATEWAY_BINARY,
  PushgatewayProcess,
} from './helpers/pushgateway-process.js';
import { findSystemBinary } from './helpers/system-binary.js';

const available =
  findSystemBinary(
    PUSHGATEWAY_BINARY,
    'prometheus-pushgateway',
    'the Pushgateway tests',
  ) !== undefined;

// Disjoint on purpose: the recovery line itself says "after N failed attempt(s)".
const FAILED = /^Pushing metrics to \S+ failed \(/;
const RECOVERED =
  /^Pushing metrics to \S+ works again after \d+ failed attempt\(s\)$/;
/** Generous bound for waits on another process or on a timer, on a loaded machine. */
const WAIT_MS = 10_000;

async function startApp(
  pushgateway: MetricsModuleOptions['pushgateway'],
  logger = new CaptureLogger(),
): Promise<{ app: INestApplication; logger: CaptureLogger }> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      MetricsModule.forRoot({ defaultMetrics: false, pushgateway }),
      HttpFixtureModule,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.init();
  return { app, logger };
}

async function pushedRequests(
  gateway: PushgatewayProcess,
  labels: Record<string, string>,
): Promise<number> {
  return sum(parseSamples(await gateway.metrics()), 'requests_total', labels);
}

/** The Pushgateway lines logged so far, in order, as 'failed' / 'recovered' (or the message). */
function pushLog(logger: CaptureLogger): string[] {
  return logger.lines
    .filter((line) => line.message.startsWith('Pushing metrics to '))
    .map((line) =>
      FAILED.test(line.message)
        ? 'failed'
        : RECOVERED.test(line.message)
          ? 'recovered'
          : line.message,
    );
}

/** A server that accepts pushes and never answers; counts them and how many were open at once. */
async function silentServer(): Promise<{
  server: Server;
  url: string;
  received: () => number;
  mostOpenAtOnce: () => number;
}> {
  let received = 0;
  let open = 0;
  let mostOpen = 0;
  const server = createServer((req) => {
    received += 1;
    open += 1;
    mostOpen = Math.max(mostOpen, open);
    req.socket.once('close', () => (open -= 1));
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    received: () => received,
    mostOpenAtOnce: () => mostOpen,
  };
}

(available ? describe : describe.skip)('Pushgateway', () => {
  let gateway: PushgatewayProcess;

  beforeAll(async () => {
    gateway = await PushgatewayProcess.start();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it('pushes the values on the interval, with the job and groupings as labels', async () => {
    const { app, logger } = await startApp({
      url: gateway.url,
      jobName: 'orders_batch',
      groupings: { instance: 'host/1', shard: 'eu' },
      intervalSeconds: 0.1,
    });
    try {
      const server = app.getHttpServer();
      for (let i = 0; i < 3; i++)
        await request(server).get('/items').expect(200);
      const labels = {
        job: 'orders_batch',
        instance: 'host/1',
        shard: 'eu',
        route: '/items',
        status: '200',
      };
      await eventually(
        async () => expect(await pushedRequests(gateway, labels)).toBe(3),
        WAIT_MS,
      );
      await request(server).get('/items').expect(200);
      await eventually(
        async () => expect(await pushedRequests(gateway, labels)).toBe(4),
        WAIT_MS,
      );
      expect(logger.matching(FAILED)).toHaveLength(0);
    } finally {
      await app.close();
    }
  });

  it('pushes once more on app.close(), before close resolves', async () => {
    const { app } = await startApp({
      url: gateway.url,
      jobName: 'cli_run',
      intervalSeconds: 3600,
    });
    const server = app.getHttpServer();
    await request(server).get('/items').expect(200);
    await request(server).get('/items/7').expect(200);
    const labels = { job: 'cli_run', status: '200' };
    expect(await pushedRequests(gateway, labels)).toBe(0);
    await app.close();
    expect(await pushedRequests(gateway, labels)).toBe(2);
    expect(
      await pushedRequests(gateway, { job: 'cli_run', route: '/items/:id' }),
    ).toBe(1);
  });

  it('replaces the group on each push (PUT), so a series is never counted twice', async () => {
    const first = await startApp({
      url: gateway.url,
      jobName: 'replaced',
      intervalSeconds: 3600,
    });
    await request(first.app.getHttpServer()).get('/items').expect(200);
    await request(first.app.getHttpServer()).get('/items').expect(200);
    await first.app.close();
    const second = await startApp({
      url: gateway.url,
      jobName: 'replaced',
      intervalSeconds: 3600,
    });
    await request(second.app.getHttpServer()).get('/items/1').expect(200);
    await second.app.close();
    const samples = parseSamples(await gateway.metrics());
    expect(sum(samples, 'requests_total', { job: 'replaced' })).toBe(1);
    expect(
      sum(samples, 'requests_total', { job: 'replaced', route: '/items' }),
    ).toBe(0);
  });

  it('keeps serving while the gateway is down, logs once per failure streak and once on recovery', async () => {
    const port = await freePort();
    const { app, logger } = await startApp({
      url: `http://127.0.0.1:${port}`,
      jobName: 'flaky',
      intervalSeconds: 0.05,
    });
    let revived: PushgatewayProcess | undefined;
    let closed = false;
    try {
      const server = app.getHttpServer();
      await eventually(
        () => expect(logger.matching(FAILED)).toHaveLength(1),
        WAIT_MS,
      );
      // Many attempts fail while requests are served; the streak stays one line.
      for (let i = 0; i < 20; i++) {
        await request(server).get('/items').expect(200);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(pushLog(logger)).toEqual(['failed']);
      expect(logger.matching(FAILED)[0].level).toBe('warn');
      expect(logger.matching(FAILED)[0].message).toMatch(/ECONNREFUSED/);

      revived = await PushgatewayProcess.start(port);
      await eventually(
        async () =>
          expect(
            await pushedRequests(revived!, { job: 'flaky', route: '/items' }),
          ).toBe(20),
        WAIT_MS,
      );
      // The gateway shows a push once it has read it; the pusher logs once it has read the answer.
      await eventually(
        () => expect(logger.matching(RECOVERED)).toHaveLength(1),
        WAIT_MS,
      );
      expect(logger.matching(RECOVERED)[0].level).toBe('log');
      expect(pushLog(logger)).toEqual(['failed', 'recovered']);

      await revived.stop();
      await eventually(
        () => expect(logger.matching(FAILED)).toHaveLength(2),
        WAIT_MS,
      );
      expect(logger.matching(FAILED)[1].level).toBe('warn');
      await request(server).get('/items').expect(200);
      // The final push on close fails too: more attempts of the same streak, no new line.
      closed = true;
      await app.close();
      expect(pushLog(logger)).toEqual(['failed', 'recovered', 'failed']);
    } finally {
      if (!closed) await app.close();
      await revived?.stop();
    }
  });

  it('finishes close within the timeout when the gateway never answers, and never overlaps pushes', async () => {
    const silent = await silentServer();
    const { app, logger } = await startApp({
      url: silent.url,
      jobName: 'stuck',
      intervalSeconds: 0.05,
      timeoutSeconds: 0.3,
    });
    try {
      await eventually(
        () => expect(silent.received()).toBeGreaterThan(2),
        WAIT_MS,
      );
      await request(app.getHttpServer()).get('/items').expect(200);
      expect(silent.mostOpenAtOnce()).toBe(1);
      await app.close();
      expect(logger.matching(FAILED)).toHaveLength(1);
      expect(logger.matching(FAILED)[0].message).toMatch(/no answer within/);
    } finally {
      silent.server.closeAllConnections();
      await new Promise((resolve) => silent.server.close(resolve));
    }
  });

  it.each<[string, unknown, RegExp]>([
    ['url', { jobName: 'j' }, /option "pushgateway.url" must be/],
    [
      'url',
      { url: 'ftp://x', jobName: 'j' },
      /option "pushgateway.url" must be/,
    ],
    [
      'jobName',
      { url: 'http://127.0.0.1:9091', jobName: '' },
      /option "pushgateway.jobName" must be/,
    ],
    [
      'groupings',
      { url: 'http://127.0.0.1:9091', jobName: 'j', groupings: { 'a-b': 'x' } },
      /option "pushgateway.groupings.a-b" must be/,
    ],
    [
      'intervalSeconds',
      { url: 'http://127.0.0.1:9091', jobName: 'j', intervalSeconds: 0 },
      /option "pushgateway.intervalSeconds" must be/,
    ],
    [
      'unknown',
      { url: 'http://127.0.0.1:9091', jobName: 'j', interval: 5 },
      /option "pushgateway.interval" must be one of/,
    ],
  ])(
    'rejects a wrong pushgateway %s at start-up, naming the option',
    async (_name, pushgateway, message) => {
      await expect(
        Test.createTestingModule({
          imports: [
            MetricsModule.forRoot({
              pushgateway: pushgateway as MetricsModuleOptions['pushgateway'],
            }),
          ],
        }).compile(),
      ).rejects.toThrow(message);
    },
  );

  it('refuses pushgateway together with cluster at start-up, naming both', async () => {
    const failure = await Test.createTestingModule({
      imports: [
        MetricsModule.forRoot({
          pushgateway: {
            url: 'http://user:secret@127.0.0.1:9091',
            jobName: 'j',
          },
          cluster: true,
        }),
      ],
    })
      .compile()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failure).toBeInstanceOf(Error);
    const { message } = failure as Error;
    expect(message).toMatch(
      /option "pushgateway" must be left out when "cluster" is on/,
    );
    expect(message).not.toMatch(/secret/);
  });
});
