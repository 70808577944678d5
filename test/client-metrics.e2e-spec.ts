import 'reflect-metadata';
import diagnosticsChannel from 'node:diagnostics_channel';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HttpModule, HttpService } from '@nestjs/axios';
import type { INestApplication } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { firstValueFrom } from 'rxjs';
import {
  MetricsModule,
  MetricsService,
  type MetricsModuleOptions,
} from '../lib/index.js';
import { runAsLibraryCall } from '../lib/client/library-calls.js';
import { createApp } from './helpers/create-app.js';
import { freePort } from './helpers/free-port.js';
import {
  eventually,
  find,
  parseSamples,
  sum,
  type Sample,
} from './helpers/metrics-text.js';
import {
  PUSHGATEWAY_BINARY,
  PushgatewayProcess,
} from './helpers/pushgateway-process.js';
import { findSystemBinary } from './helpers/system-binary.js';

/** A local server with one route per outcome. `/slow` answers only when the server closes. */
class TargetServer {
  private readonly sockets = new Set<Socket>();
  private readonly waiting = new Set<ServerResponse>();
  private constructor(private readonly server: Server) {}

  static async start(): Promise<TargetServer> {
    const target = new TargetServer(
      createServer((req, res) => target.answer(req, res)),
    );
    target.server.on('connection', (socket) => {
      target.sockets.add(socket);
      socket.on('close', () => target.sockets.delete(socket));
    });
    await new Promise<void>((resolve) =>
      target.server.listen(0, '127.0.0.1', resolve),
    );
    return target;
  }

  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  url(path: string): string {
    return `http://${this.host}${path}`;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    switch (req.url?.split('?')[0]) {
      case '/ok':
        res.end('hello');
        return;
      case '/missing':
        res.statusCode = 404;
        res.end('not here');
        return;
      case '/broken':
        res.statusCode = 500;
        res.end('broken');
        return;
      case '/redirect':
        res.writeHead(302, { location: '/ok' });
        res.end();
        return;
      case '/slow':
        this.waiting.add(res);
        return;
      case '/reset':
        // The headers and part of the body, then the connection is gone.
        res.writeHead(200, { 'content-length': '1000' });
        res.write('partial', () => setTimeout(() => req.socket.destroy(), 20));
        return;
      default:
        res.statusCode = 400;
        res.end();
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

type Outcome = 'ok' | 'missing' | 'broken' | 'timeout' | 'refused' | 'reset';

/** One way the app makes calls: each call settles (resolves or rejects) once the call ended. */
interface Client {
  name: string;
  call(app: INestApplication, url: string, timeoutMs?: number): Promise<void>;
}

const CLIENTS: Client[] = [
  {
    name: 'fetch',
    async call(_app, url, timeoutMs) {
      const response = await fetch(url, {
        signal:
          timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
      });
      await response.text();
    },
  },
  {
    name: 'http.request',
    call(_app, url, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const req = httpRequest(url, { timeout: timeoutMs }, (res) => {
          res.resume();
          res.on('end', resolve);
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error('timed out')));
        req.on('error', reject);
        req.end();
      });
    },
  },
  {
    name: 'HttpService',
    async call(app, url, timeoutMs) {
      await firstValueFrom(
        app.get(HttpService).get(url, {
          timeout: timeoutMs,
          validateStatus: () => true,
          responseType: 'text',
        }),
      );
    },
  },
];

const REQUESTS = 'client_requests_total';
const DURATION_COUNT = 'client_request_duration_seconds_count';
const ERRORS = 'client_errors_total';

async function samples(app: INestApplication): Promise<Sample[]> {
  // Read in process: a scrape over HTTP would be an outbound call of this process itself.
  return parseSamples(await app.get(MetricsService).metrics());
}

async function startApp(
  options: MetricsModuleOptions = {},
): Promise<INestApplication> {
  return createApp({
    imports: [
      MetricsModule.forRoot({
        defaultMetrics: false,
        clientMetrics: true,
        ...options,
      }),
      HttpModule,
    ],
  });
}

let target: TargetServer;
let closedPort: number;

beforeAll(async () => {
  target = await TargetServer.start();
  closedPort = await freePort();
});

afterAll(() => target.close());

describe.each(CLIENTS)('outbound calls with $name', (client) => {
  let app: INestApplication;

  beforeEach(async () => {
    app = await startApp();
  });

  afterEach(() => app.close());

  /** Makes one call and waits until it is recorded. */
  async function callFor(outcome: Outcome): Promise<string> {
    const host =
      outcome === 'refused' ? `127.0.0.1:${closedPort}` : target.host;
    const url =
      outcome === 'refused'
        ? `http://${host}/ok`
        : target.url(`/${outcome === 'timeout' ? 'slow' : outcome}`);
    await client
      .call(app, url, outcome === 'timeout' ? 150 : undefined)
      .catch(() => undefined);
    await eventually(async () =>
      expect(sum(await samples(app), REQUESTS)).toBe(1),
    );
    return host;
  }

  const cases: [Outcome, string, string | undefined][] = [
    ['ok', '200', undefined],
    ['missing', '404', 'client_error'],
    ['broken', '500', 'internal'],
    ['timeout', 'error', 'timeout'],
    ['refused', 'error', 'connection'],
    ['reset', '200', 'connection'],
  ];

  it.each(cases)(
    'a call that ends %s counts once with status %s and error_type %s',
    async (outcome, status, errorType) => {
      const host = await callFor(outcome);
      const found = await samples(app);
      const labels = { transport: 'http_client', method: 'GET', host };
      expect(find(found, REQUESTS)).toEqual([
        { name: REQUESTS, labels: { ...labels, status }, value: 1 },
      ]);
      expect(sum(found, DURATION_COUNT, { ...labels, status })).toBe(1);
      expect(find(found, ERRORS)).toEqual(
        errorType === undefined
          ? []
          : [
              {
                name: ERRORS,
                labels: { ...labels, error_type: errorType },
                value: 1,
              },
            ],
      );
    },
  );
});

describe('which calls are counted', () => {
  it('never the path: POSTs to three URLs of one host are one series', async () => {
    const app = await startApp();
    try {
      for (const path of ['/ok', '/ok?id=1', '/ok?id=2'])
        await fetch(target.url(path), { method: 'POST', body: 'x' }).then(
          (response) => response.text(),
        );
      await eventually(async () =>
        expect(sum(await samples(app), REQUESTS)).toBe(3),
      );
      expect(find(await samples(app), REQUESTS)).toEqual([
        {
          name: REQUESTS,
          labels: {
            transport: 'http_client',
            method: 'POST',
            host: target.host,
            status: '200',
          },
          value: 3,
        },
      ]);
    } finally {
      await app.close();
    }
  });

  it('a followed redirect is two calls', async () => {
    const app = await startApp();
    try {
      await fetch(target.url('/redirect')).then((r) => r.text());
      await firstValueFrom(app.get(HttpService).get(target.url('/redirect')));
      await eventually(async () =>
        expect(sum(await samples(app), REQUESTS)).toBe(4),
      );
      const found = await samples(app);
      expect(sum(found, REQUESTS, { status: '302' })).toBe(2);
      expect(sum(found, REQUESTS, { status: '200' })).toBe(2);
      expect(find(found, ERRORS)).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('a call the caller aborts is cancelled (fetch and HttpService)', async () => {
    const app = await startApp();
    try {
      const fetching = new AbortController();
      const fetched = fetch(target.url('/slow'), { signal: fetching.signal });
      const requesting = new AbortController();
      const requested = firstValueFrom(
        app
          .get(HttpService)
          .get(target.url('/slow'), { signal: requesting.signal }),
      );
      await delay(100);
      fetching.abort();
      requesting.abort();
      await expect(fetched).rejects.toThrow();
      await expect(requested).rejects.toThrow();
      await eventually(async () =>
        expect(sum(await samples(app), REQUESTS)).toBe(2),
      );
      expect(
        find(await samples(app), ERRORS).map((s) => [
          s.labels.error_type,
          s.value,
        ]),
      ).toEqual([['cancelled', 2]]);
    } finally {
      await app.close();
    }
  });

  it('a host that does not resolve is a connection error', async () => {
    const app = await startApp();
    try {
      await fetch('http://no-such-host.invalid/').catch(() => undefined);
      await eventually(async () =>
        expect(find(await samples(app), ERRORS)).toEqual([
          {
            name: ERRORS,
            labels: {
              transport: 'http_client',
              method: 'GET',
              host: 'no-such-host.invalid',
              error_type: 'connection',
            },
            value: 1,
          },
        ]),
      );
    } finally {
      await app.close();
    }
  });

  it('a method outside the standard list reads _OTHER', async () => {
    const app = await startApp();
    try {
      await fetch(target.url('/ok'), { method: 'PURGE' }).then((r) => r.text());
      await eventually(async () =>
        expect(
          sum(await samples(app), REQUESTS, {
            method: '_OTHER',
            status: '200',
          }),
        ).toBe(1),
      );
    } finally {
      await app.close();
    }
  });

  it('calls run as the library’s own (runAsLibraryCall) are not counted', async () => {
    const app = await startApp();
    try {
      await runAsLibraryCall(() =>
        fetch(target.url('/ok')).then((r) => r.text()),
      );
      await runAsLibraryCall(
        () =>
          new Promise<void>((resolve) =>
            httpRequest(target.url('/ok'), (res) => {
              res.resume();
              res.on('close', resolve);
            }).end(),
          ),
      );
      await fetch(target.url('/missing')).then((r) => r.text());
      await eventually(async () =>
        expect(sum(await samples(app), REQUESTS, { status: '404' })).toBe(1),
      );
      expect(sum(await samples(app), REQUESTS)).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('hosts go through the cardinality guard (maxSeries)', async () => {
    const app = await startApp({ maxSeries: 2 });
    try {
      const ports = [await freePort(), await freePort(), await freePort()];
      for (const port of ports)
        await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
      await eventually(async () =>
        expect(sum(await samples(app), REQUESTS)).toBe(3),
      );
      const found = await samples(app);
      expect(find(found, REQUESTS).map((s) => s.labels.host)).toEqual([
        `127.0.0.1:${ports[0]}`,
        `127.0.0.1:${ports[1]}`,
        'OVERFLOW',
      ]);
    } finally {
      await app.close();
    }
  });

  it('off by default: no client families and no channel subscription', async () => {
    const app = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
    });
    try {
      await fetch(target.url('/ok')).then((r) => r.text());
      const text = await app.get(MetricsService).metrics();
      expect(text).not.toContain('client_requests_total');
      expect(diagnosticsChannel.hasSubscribers('undici:request:create')).toBe(
        false,
      );
    } finally {
      await app.close();
    }
  });
});

describe('METRICS_CLIENT_METRICS', () => {
  afterEach(() => {
    delete process.env.METRICS_CLIENT_METRICS;
  });

  it('turns the option on from the environment; code wins over it', async () => {
    process.env.METRICS_CLIENT_METRICS = 'TRUE';
    const fromEnvironment = await createApp({
      imports: [MetricsModule.forRoot({ defaultMetrics: false })],
    });
    process.env.METRICS_CLIENT_METRICS = '1';
    const fromCode = await startApp({ clientMetrics: false });
    try {
      await fetch(target.url('/ok')).then((r) => r.text());
      await eventually(async () =>
        expect(sum(await samples(fromEnvironment), REQUESTS)).toBe(1),
      );
      expect(await fromCode.get(MetricsService).metrics()).not.toContain(
        REQUESTS,
      );
    } finally {
      await fromEnvironment.close();
      await fromCode.close();
    }
  });

  it('an invalid value fails start-up naming the variable', async () => {
    process.env.METRICS_CLIENT_METRICS = 'sometimes';
    await expect(
      createApp({
        imports: [MetricsModule.forRoot({ defaultMetrics: false })],
      }),
    ).rejects.toThrow(
      'nestjs-metrics: environment variable METRICS_CLIENT_METRICS must be true, false, 1 or 0; got "sometimes".',
    );
  });
});

describe('two apps in one process', () => {
  const CHANNELS = [
    'http.client.request.start',
    'http.client.response.finish',
    'undici:request:create',
    'undici:request:trailers',
  ];

  it('each counts every call once while open, and app.close() leaves the channels', async () => {
    const first = await startApp();
    const second = await startApp();
    let secondClosed = false;
    try {
      await fetch(target.url('/ok')).then((r) => r.text());
      await eventually(async () => {
        expect(sum(await samples(first), REQUESTS)).toBe(1);
        expect(sum(await samples(second), REQUESTS)).toBe(1);
      });
      await first.close();
      expect(
        CHANNELS.map((name) => diagnosticsChannel.hasSubscribers(name)),
      ).toEqual([true, true, true, true]);
      await fetch(target.url('/ok')).then((r) => r.text());
      await eventually(async () =>
        expect(sum(await samples(second), REQUESTS)).toBe(2),
      );
      expect(sum(await samples(first), REQUESTS)).toBe(1);
      await second.close();
      secondClosed = true;
      expect(
        CHANNELS.map((name) => diagnosticsChannel.hasSubscribers(name)),
      ).toEqual([false, false, false, false]);
    } finally {
      await first.close();
      if (!secondClosed) await second.close();
    }
  });
});

const gatewayAvailable =
  findSystemBinary(
    PUSHGATEWAY_BINARY,
    'prometheus-pushgateway',
    'the Pushgateway part of the outbound call tests',
  ) !== undefined;

(gatewayAvailable ? describe : describe.skip)('the library’s own calls', () => {
  let gateway: PushgatewayProcess;

  beforeAll(async () => {
    gateway = await PushgatewayProcess.start();
  });

  afterAll(() => gateway.stop());

  it('Pushgateway pushes are not counted; the test’s own reads of the gateway are', async () => {
    const jobName = `client-metrics-${process.pid}-${Date.now()}`;
    const app = await startApp({
      pushgateway: { url: gateway.url, jobName, intervalSeconds: 0.1 },
    });
    try {
      let reads = 0;
      // Several pushes have landed: the gateway shows the app's push time for the job.
      await eventually(async () => {
        reads += 1;
        const text = await gateway.metrics();
        expect(
          text.split('\n').filter((line) => line.includes(`job="${jobName}"`))
            .length,
        ).toBeGreaterThan(0);
      });
      const gatewayHost = new URL(gateway.url).host;
      await eventually(async () =>
        expect(sum(await samples(app), REQUESTS, { host: gatewayHost })).toBe(
          reads,
        ),
      );
      expect(find(await samples(app), REQUESTS, { method: 'PUT' })).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
