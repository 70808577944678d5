import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Controller, Get, Logger, type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Registry } from 'prom-client';
import {
  LogErrorMetrics,
  METRICS_REGISTRY,
  MetricsModule,
  type LogPushOptions,
} from '../lib/index.js';
import { inLibraryCall } from '../lib/client/library-calls.js';
import {
  LogErrorEvents,
  type LogErrorRecord,
} from '../lib/logs/log-error-events.js';
import { resolveOptions } from '../lib/metrics.options.js';
import { CaptureLogger } from './helpers/capture-logger.js';
import { createApp } from './helpers/create-app.js';
import { freePort } from './helpers/free-port.js';
import { eventually, scrape, sum } from './helpers/metrics-text.js';
import { requireBinary } from './helpers/requirements.js';

const TOKEN = 'secret-token-4b1d';

/** What one test server saw: every record, in order of arrival, and every upgrade request. */
interface PushedMessage {
  type: string;
  batch: {
    timestamp: number;
    service: string;
    metric_name: string;
    metric_type: string;
    value: number;
    tags: Record<string, string>;
  }[];
  auth_token: string;
}

interface ServerSettings {
  /** Refuse upgrades whose `authorization` header is not `Bearer <this>` (`refusal`, e.g. 401). */
  headerToken?: string;
  /** Close (code `refusal`, e.g. 1008) a connection whose first message carries another `auth_token`. */
  payloadToken?: string;
  refusal?: number;
  /** Kill the server (every socket destroyed, listener closed) on this message. */
  killOnMessage?: number;
  tls?: { key: Buffer; cert: Buffer };
}

/** A real `ws` server on loopback that records what arrives. */
class PushServer {
  readonly messages: PushedMessage[] = [];
  upgrades = 0;
  readonly closeCodes: number[] = [];
  private stalled = false;
  private readonly sockets = new Set<Socket>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private server: Server | undefined;
  /** Resolves when `killOnMessage` struck. */
  killed: Promise<void>;
  private onKilled: () => void = () => undefined;

  constructor(private readonly settings: ServerSettings = {}) {
    this.killed = new Promise((resolve) => (this.onKilled = resolve));
  }

  /** The ids (logger names) of every record received, in order, duplicates included. */
  get ids(): string[] {
    return this.messages.flatMap((m) => m.batch.map((r) => r.tags.logger_name));
  }

  async listen(port = 0): Promise<number> {
    const server = this.settings.tls
      ? createTlsServer(this.settings.tls)
      : createServer();
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('upgrade', (request: IncomingMessage, socket: Socket, head) => {
      this.upgrades += 1;
      const expected = this.settings.headerToken;
      if (
        expected !== undefined &&
        request.headers.authorization !== `Bearer ${expected}`
      ) {
        socket.end(
          `HTTP/1.1 ${this.settings.refusal} Refused\r\nContent-Length: 0\r\n\r\n`,
        );
        return;
      }
      this.wss.handleUpgrade(request, socket, head, (ws) =>
        this.accept(ws, socket),
      );
    });
    this.server = server;
    await new Promise<void>((resolve) =>
      server.listen(port, '127.0.0.1', resolve),
    );
    return (server.address() as AddressInfo).port;
  }

  /** Stops reading every socket, now and for every new connection. */
  stall(): void {
    this.stalled = true;
    for (const socket of this.sockets) socket.pause();
  }

  resume(): void {
    this.stalled = false;
    for (const socket of this.sockets) socket.resume();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private accept(ws: WebSocket, socket: Socket): void {
    if (this.stalled) socket.pause();
    let first = true;
    ws.on('close', (code) => this.closeCodes.push(code));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as PushedMessage;
      const expected = this.settings.payloadToken;
      if (first && expected !== undefined && message.auth_token !== expected) {
        ws.close(this.settings.refusal, 'invalid token');
        return;
      }
      first = false;
      this.messages.push(message);
      if (this.messages.length === this.settings.killOnMessage) {
        void this.stop().then(this.onKilled);
      }
    });
  }
}

/** `count` records whose logger names are `r<from>` … : the ids the assertions compare. */
function records(from: number, count: number): LogErrorRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    timestamp: 1_696_781_234_567 + from + i,
    level: 'error' as const,
    category: 'database',
    logger: `r${from + i}`,
    exceptionType: 'QueryFailedError',
  }));
}

function ids(from: number, count: number): string[] {
  return records(from, count).map((r) => r.logger);
}

function emit(app: INestApplication, from: number, count: number): void {
  const events = app.get(LogErrorEvents);
  for (const record of records(from, count)) events.emit(record);
}

async function startApp(
  logPush: Partial<LogPushOptions> & { url: string },
  logger = new CaptureLogger(),
  configure?: (app: INestApplication) => void,
): Promise<INestApplication> {
  return createApp(
    {
      imports: [
        MetricsModule.forRoot({
          defaultMetrics: false,
          logPush: {
            authToken: TOKEN,
            service: 'orders-api',
            flushIntervalSeconds: 0.05,
            timeoutSeconds: 1,
            ...logPush,
          },
        }),
      ],
    },
    configure,
    'express',
    { logger },
  );
}

interface Figures {
  sent: number;
  dropped: number;
  reconnects: number;
  connected: number;
  queued: number;
}

async function figures(app: INestApplication): Promise<Figures> {
  const samples = await scrape(app);
  return {
    sent: sum(samples, 'log_push_sent_total'),
    dropped: sum(samples, 'log_push_dropped_total'),
    reconnects: sum(samples, 'log_push_reconnects_total'),
    connected: sum(samples, 'log_push_connected'),
    queued: sum(samples, 'log_push_queued'),
  };
}

/** Closing figures of each fault test, printed once at the end (for the change's notes). */
const closing: Record<string, Figures> = {};
afterAll(() => {
  console.log(`log push closing figures: ${JSON.stringify(closing)}`);
});

/** Waits `ms`: only to let a backoff play out before counting attempts (never asserted on). */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('log push over WebSocket', () => {
  let app: INestApplication | undefined;
  const servers: PushServer[] = [];
  const server = (settings?: ServerSettings) => {
    const made = new PushServer(settings);
    servers.push(made);
    return made;
  };

  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const s of servers.splice(0)) await s.stop();
  });

  it('sends each record in the service format, token in the payload, with the module registry figures', async () => {
    const push = server();
    const port = await push.listen();
    app = await startApp({
      url: `ws://127.0.0.1:${port}/ingest`,
      version: '1.4.0',
      tags: { region: 'eu-west-1' },
    });
    app.get(LogErrorEvents).emit({
      timestamp: 1696781234567,
      level: 'error',
      category: 'database',
      logger: 'OrdersService',
      exceptionType: 'QueryFailedError',
    });
    await eventually(() => expect(push.messages).toHaveLength(1));
    expect(push.messages[0]).toEqual({
      type: 'metrics',
      batch: [
        {
          timestamp: 1696781234567,
          service: 'orders-api',
          metric_name: 'log_error_count',
          metric_type: 'counter',
          value: 1,
          tags: {
            error_level: 'error',
            error_category: 'database',
            logger_name: 'OrdersService',
            app_version: '1.4.0',
            exception_type: 'QueryFailedError',
            region: 'eu-west-1',
          },
        },
      ],
      auth_token: TOKEN,
    });
    await eventually(async () =>
      expect(await figures(app!)).toEqual({
        sent: 1,
        dropped: 0,
        reconnects: 0,
        connected: 1,
        queued: 0,
      }),
    );
  });

  it('batches: batchSize records go out together, the rest after flushIntervalSeconds', async () => {
    const push = server();
    const port = await push.listen();
    app = await startApp({
      url: `ws://127.0.0.1:${port}`,
      batchSize: 4,
      flushIntervalSeconds: 0.3,
    });
    await eventually(async () =>
      expect((await figures(app!)).connected).toBe(1),
    );
    emit(app, 0, 10);
    await eventually(() => expect(push.messages).toHaveLength(3));
    expect(push.messages.map((m) => m.batch.length)).toEqual([4, 4, 2]);
    expect(push.ids).toEqual(ids(0, 10));
  });

  it('server absent at start: records queue, then arrive once it listens', async () => {
    const port = await freePort();
    const logger = new CaptureLogger();
    app = await startApp({ url: `ws://127.0.0.1:${port}` }, logger);
    emit(app, 0, 12);
    await eventually(async () => {
      const now = await figures(app!);
      expect(now).toMatchObject({ sent: 0, connected: 0, queued: 12 });
      expect(now.reconnects).toBeGreaterThanOrEqual(1);
    });
    const push = server();
    await push.listen(port);
    await eventually(() => expect(push.ids).toHaveLength(12));
    expect(push.ids).toEqual(ids(0, 12));
    const after = await eventually(async () => {
      const now = await figures(app!);
      expect(now).toMatchObject({ sent: 12, dropped: 0, queued: 0 });
      return now;
    });
    closing['server absent at start'] = after;
    // One line per failure streak, at debug level, and one when it is over.
    expect(logger.matching(/^Log push to /).map((l) => l.level)).toEqual([
      'debug',
      'debug',
    ]);
    expect(logger.messagesAt('debug')[1]).toMatch(
      /connected again after \d+ failed attempt\(s\); 0 record\(s\) were dropped meanwhile$/,
    );
  });

  it('server killed mid-stream and restarted on the same port: every record arrives', async () => {
    const first = server({ killOnMessage: 2 });
    const port = await first.listen();
    app = await startApp({ url: `ws://127.0.0.1:${port}`, batchSize: 10 });
    await eventually(async () =>
      expect((await figures(app!)).connected).toBe(1),
    );
    emit(app, 0, 25);
    await first.killed;
    // The server read batches 1 and 2, then died: batch 2's pong never left it, batch 1's may
    // have (both were on the wire at once). What was not acknowledged stays queued.
    expect(first.ids).toEqual(ids(0, 20));
    emit(app, 25, 15);
    const down = await eventually(async () => {
      const now = await figures(app!);
      expect(now.connected).toBe(0);
      expect([0, 10]).toContain(now.sent);
      expect(now.queued).toBe(40 - now.sent);
      return now;
    });
    const second = server();
    await second.listen(port);
    await eventually(async () =>
      expect(await figures(app!)).toMatchObject({ sent: 40, queued: 0 }),
    );
    const received = [...first.ids, ...second.ids];
    expect(new Set(received)).toEqual(new Set(ids(0, 40)));
    // At least once: exactly the batches the server read but never acknowledged came again.
    expect(second.ids).toEqual(ids(down.sent, 40 - down.sent));
    const after = await figures(app);
    expect(after).toMatchObject({ dropped: 0, connected: 1 });
    expect(after.reconnects).toBeGreaterThanOrEqual(1);
    closing['server killed and restarted'] = after;
  });

  it('a server that stops reading: the queue stays at maxQueue and the drops are counted exactly', async () => {
    const push = server();
    const port = await push.listen();
    app = await startApp({
      url: `ws://127.0.0.1:${port}`,
      batchSize: 10,
      maxQueue: 100,
      timeoutSeconds: 0.3,
      maxBackoffSeconds: 0.5,
    });
    await eventually(async () =>
      expect((await figures(app!)).connected).toBe(1),
    );
    emit(app, 0, 10);
    await eventually(async () => expect((await figures(app!)).sent).toBe(10));
    push.stall();
    emit(app, 10, 5000);
    // Wait for at least one lost connection (no pong) while stalled.
    await eventually(async () =>
      expect((await figures(app!)).reconnects).toBeGreaterThanOrEqual(1),
    );
    const stalled = await figures(app);
    expect(stalled).toMatchObject({ sent: 10, dropped: 4900, queued: 100 });
    closing['server stops reading'] = stalled;
    // The newest 100 survived; once the server reads again they arrive.
    push.resume();
    await eventually(async () =>
      expect(await figures(app!)).toMatchObject({ sent: 110, queued: 0 }),
    );
    expect(new Set(push.ids)).toEqual(
      new Set([...ids(0, 10), ...ids(4910, 100)]),
    );
    expect((await figures(app)).dropped).toBe(4900);
  });

  it('queue overflow: the oldest are dropped, exactly the overflow is counted, the newest arrive', async () => {
    const port = await freePort();
    app = await startApp({
      url: `ws://127.0.0.1:${port}`,
      batchSize: 10,
      maxQueue: 50,
    });
    emit(app, 0, 80);
    expect(await figures(app)).toMatchObject({
      sent: 0,
      dropped: 30,
      queued: 50,
    });
    const push = server();
    await push.listen(port);
    await eventually(async () =>
      expect(await figures(app!)).toMatchObject({ sent: 50, queued: 0 }),
    );
    expect(push.ids).toEqual(ids(30, 50));
    closing['queue overflow'] = await figures(app);
  });

  it('shutdown flushes what waits, then closes the socket normally', async () => {
    const push = server();
    const port = await push.listen();
    app = await startApp({
      url: `ws://127.0.0.1:${port}`,
      batchSize: 100,
      flushIntervalSeconds: 60,
    });
    await eventually(async () =>
      expect((await figures(app!)).connected).toBe(1),
    );
    emit(app, 0, 25);
    expect((await figures(app)).queued).toBe(25);
    expect(push.messages).toHaveLength(0);
    await app.close();
    app = undefined;
    expect(push.ids).toEqual(ids(0, 25));
    await eventually(() => expect(push.closeCodes).toEqual([1000]));
  });

  it('shutdown with the server down ends within timeoutSeconds and says what was dropped', async () => {
    const port = await freePort();
    const logger = new CaptureLogger();
    app = await startApp(
      { url: `ws://127.0.0.1:${port}`, timeoutSeconds: 0.3 },
      logger,
    );
    const registry = app.get<Registry>(METRICS_REGISTRY);
    emit(app, 0, 5);
    await app.close();
    app = undefined;
    const dropped = await registry
      .getSingleMetric('log_push_dropped_total')!
      .get();
    expect(dropped.values.map((v) => v.value)).toEqual([5]);
    expect(logger.matching(/record\(s\) not acknowledged/)).toEqual([
      {
        level: 'warn',
        message: expect.stringMatching(
          /^Log push to ws:\/\/127\.0\.0\.1:\d+\/: 5 record\(s\) not acknowledged within 300 ms of the shutdown \(logPush\.timeoutSeconds\) were dropped \(.*ECONNREFUSED.*\)$/,
        ),
      },
    ]);
  });

  describe('TLS with a self-signed certificate', () => {
    const openssl = requireBinary('openssl', 'openssl', 'the wss:// tests');
    let dir = '';
    let tls: { key: Buffer; cert: Buffer };
    beforeAll(() => {
      if (openssl === undefined) return;
      dir = mkdtempSync(path.join(tmpdir(), 'log-push-tls-'));
      execFileSync(
        openssl,
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          path.join(dir, 'key.pem'),
          '-out',
          path.join(dir, 'cert.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      tls = {
        key: readFileSync(path.join(dir, 'key.pem')),
        cert: readFileSync(path.join(dir, 'cert.pem')),
      };
    });
    afterAll(() => {
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    });

    (openssl ? it : it.skip)(
      'trusts the certificate given in tls.ca',
      async () => {
        const push = server({ tls });
        const port = await push.listen();
        app = await startApp({
          url: `wss://localhost:${port}`,
          tls: { ca: tls.cert },
        });
        emit(app, 0, 3);
        await eventually(() => expect(push.ids).toEqual(ids(0, 3)));
        closing['wss with tls.ca'] = await eventually(async () => {
          const now = await figures(app!);
          expect(now).toMatchObject({ sent: 3, dropped: 0, queued: 0 });
          return now;
        });
      },
    );

    (openssl ? it : it.skip)(
      'refuses it without tls.ca: nothing is sent, one debug line says why',
      async () => {
        const push = server({ tls });
        const port = await push.listen();
        const logger = new CaptureLogger();
        app = await startApp({ url: `wss://localhost:${port}` }, logger);
        emit(app, 0, 3);
        await eventually(() =>
          expect(logger.matching(/^Log push to /)).toHaveLength(1),
        );
        const [line] = logger.matching(/^Log push to /);
        expect(line.level).toBe('debug');
        expect(line.message).toMatch(/self-signed certificate/);
        expect(push.messages).toHaveLength(0);
        expect((await figures(app)).queued).toBe(3);
      },
    );
  });

  describe.each([
    ['on the upgrade (401)', { headerToken: 'right', refusal: 401 }, '401'],
    [
      'after the payload (close 1008)',
      { payloadToken: 'right', refusal: 1008 },
      '1008',
    ],
  ] as const)('a wrong token refused %s', (_name, settings, shown) => {
    it('is logged once, never shows the token, and attempts follow the backoff', async () => {
      const push = server(settings);
      const port = await push.listen();
      // Counts warn/error lines as the log-error wrapper would: the sink's own lines come back.
      const logger = new (class extends CaptureLogger {
        events: LogErrorEvents | undefined;
        emitted = 0;
        override warn(message: unknown) {
          super.warn(message);
          this.emitted += 1;
          this.events?.emit(records(9000, 1)[0]);
        }
      })();
      app = await startApp(
        {
          // A token in the query too: log lines show no query.
          url: `ws://127.0.0.1:${port}/ingest?key=${TOKEN}`,
          authHeader: 'authorization',
        },
        logger,
        (made) => (logger.events = made.get(LogErrorEvents)),
      );
      emit(app, 0, 3);
      await sleep(2200);
      // Attempts at 0, then after at least 250 ms, 500 ms, 1 s (half of 0.5, 1, 2 s): at most 4.
      expect(push.upgrades).toBeGreaterThanOrEqual(2);
      expect(push.upgrades).toBeLessThanOrEqual(4);
      await eventually(async () =>
        expect((await figures(app!)).reconnects).toBe(push.upgrades - 1),
      );
      const lines = logger.matching(/^Log push to /);
      expect(lines).toHaveLength(1);
      expect(lines[0].level).toBe('warn');
      expect(lines[0].message).toContain('refused by the server');
      expect(lines[0].message).toMatch(
        new RegExp(
          `^Log push to ws://127\\.0\\.0\\.1:\\d+/ingest was refused by the server \\(.*${shown}\\)`,
        ),
      );
      expect(logger.lines.some((l) => l.message.includes(TOKEN))).toBe(false);
      // The warning went through the counting logger once; its record was not queued.
      expect(logger.emitted).toBe(1);
      const now = await figures(app);
      expect(now).toMatchObject({ sent: 0, queued: 3 });
      closing[`wrong token ${shown}`] = now;
    });
  });

  it.each([
    [{ headerToken: 'right', refusal: 403 }, '403'],
    [{ payloadToken: 'right', refusal: 4001 }, '4001'],
    [{ payloadToken: 'right', refusal: 4003 }, '4003'],
    [{ payloadToken: 'right', refusal: 4401 }, '4401'],
    [{ payloadToken: 'right', refusal: 4403 }, '4403'],
  ])('a refusal by %j is logged as one', async (settings, shown) => {
    const push = server(settings);
    const port = await push.listen();
    const logger = new CaptureLogger();
    app = await startApp(
      {
        url: `ws://127.0.0.1:${port}`,
        authHeader: 'authorization',
        timeoutSeconds: 0.3,
      },
      logger,
    );
    emit(app, 0, 3);
    await eventually(() =>
      expect(logger.matching(/^Log push to /)).toEqual([
        {
          level: 'warn',
          message: expect.stringMatching(
            new RegExp(`was refused by the server \\(.*${shown}\\)`),
          ),
        },
      ]),
    );
  });

  it('with enabled: false, nothing listens and nothing connects', async () => {
    const push = server();
    const port = await push.listen();
    app = await createApp({
      imports: [
        MetricsModule.forRoot({
          enabled: false,
          logPush: {
            url: `ws://127.0.0.1:${port}`,
            authToken: TOKEN,
            service: 's',
          },
        }),
      ],
    });
    expect(app.get(LogErrorEvents).listened).toBe(false);
    expect(push.upgrades).toBe(0);
  });

  it('opens its socket as a library call (left out of the outbound HTTP metrics)', async () => {
    const seen: boolean[] = [];
    const listener = () => seen.push(inLibraryCall());
    subscribe('http.client.request.start', listener);
    try {
      const push = server();
      const port = await push.listen();
      app = await startApp({ url: `ws://127.0.0.1:${port}` });
      await eventually(() => expect(push.upgrades).toBe(1));
      expect(seen).toEqual([true]);
    } finally {
      unsubscribe('http.client.request.start', listener);
    }
  });
});

describe('logPush options', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) {
      if (key.startsWith('METRICS_LOG_PUSH_')) delete process.env[key];
    }
    Object.assign(process.env, saved);
  });

  it('fills in the defaults', () => {
    expect(
      resolveOptions({
        logPush: { url: 'wss://m.example/x', authToken: TOKEN, service: 's' },
      }).logPush,
    ).toEqual({
      url: new URL('wss://m.example/x'),
      authToken: TOKEN,
      service: 's',
      version: 'unknown',
      batchSize: 10,
      flushIntervalSeconds: 5,
      maxQueue: 1000,
      tags: {},
      authHeader: undefined,
      timeoutSeconds: 5,
      maxBackoffSeconds: 30,
      ca: undefined,
    });
  });

  it('reads every field from METRICS_LOG_PUSH_*, code winning field by field', () => {
    Object.assign(process.env, {
      METRICS_LOG_PUSH_URL: 'ws://env.example:81/',
      METRICS_LOG_PUSH_AUTH_TOKEN: TOKEN,
      METRICS_LOG_PUSH_SERVICE: 'from-env',
      METRICS_LOG_PUSH_VERSION: '2.0.0',
      METRICS_LOG_PUSH_BATCH_SIZE: '20',
      METRICS_LOG_PUSH_FLUSH_INTERVAL_SECONDS: '1.5',
      METRICS_LOG_PUSH_MAX_QUEUE: '200',
      METRICS_LOG_PUSH_TAGS: 'region=eu, zone = b',
      METRICS_LOG_PUSH_AUTH_HEADER: 'X-Token',
      METRICS_LOG_PUSH_TIMEOUT_SECONDS: '3',
      METRICS_LOG_PUSH_MAX_BACKOFF_SECONDS: '60',
    });
    expect(resolveOptions({}).logPush).toMatchObject({
      url: new URL('ws://env.example:81/'),
      authToken: TOKEN,
      service: 'from-env',
      version: '2.0.0',
      batchSize: 20,
      flushIntervalSeconds: 1.5,
      maxQueue: 200,
      tags: { region: 'eu', zone: 'b' },
      authHeader: 'x-token',
      timeoutSeconds: 3,
      maxBackoffSeconds: 60,
    });
    expect(
      resolveOptions({
        logPush: { url: 'ws://code.example/', service: 'from-code' } as never,
      }).logPush,
    ).toMatchObject({
      url: new URL('ws://code.example/'),
      authToken: TOKEN,
      service: 'from-code',
      batchSize: 20,
    });
    expect(resolveOptions({ logPush: false }).logPush).toBeUndefined();
  });

  it('reads the PEM file METRICS_LOG_PUSH_CA_FILE names, at start-up', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'log-push-ca-'));
    try {
      const file = path.join(dir, 'ca.pem');
      writeFileSync(file, 'PEM TEXT');
      Object.assign(process.env, {
        METRICS_LOG_PUSH_URL: 'wss://env.example/',
        METRICS_LOG_PUSH_AUTH_TOKEN: TOKEN,
        METRICS_LOG_PUSH_SERVICE: 's',
        METRICS_LOG_PUSH_CA_FILE: file,
      });
      expect(String(resolveOptions({}).logPush?.ca)).toBe('PEM TEXT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [{ METRICS_LOG_PUSH_BATCH_SIZE: '0' }, 'METRICS_LOG_PUSH_BATCH_SIZE'],
    [{ METRICS_LOG_PUSH_MAX_QUEUE: 'many' }, 'METRICS_LOG_PUSH_MAX_QUEUE'],
    [
      { METRICS_LOG_PUSH_FLUSH_INTERVAL_SECONDS: '-1' },
      'METRICS_LOG_PUSH_FLUSH_INTERVAL_SECONDS',
    ],
    [{ METRICS_LOG_PUSH_TAGS: 'novalue' }, 'METRICS_LOG_PUSH_TAGS'],
    [
      { METRICS_LOG_PUSH_CA_FILE: '/nonexistent.pem' },
      'METRICS_LOG_PUSH_CA_FILE',
    ],
  ])('an invalid %j fails naming the variable', (env, variable) => {
    Object.assign(process.env, env);
    expect(() => resolveOptions({})).toThrow(
      `environment variable ${variable} must be`,
    );
  });

  it.each([
    [{ url: 'http://x/' }, 'logPush.url'],
    [{ authToken: '' }, 'logPush.authToken'],
    [{ service: '' }, 'logPush.service'],
    [{ batchSize: 1.5 }, 'logPush.batchSize'],
    [{ batchSize: 20, maxQueue: 10 }, 'logPush.maxQueue'],
    [{ tags: { logger_name: 'x' } }, 'logPush.tags.logger_name'],
    [{ tls: { ca: 3 } }, 'logPush.tls.ca'],
    [{ authHeader: 'bad header' }, 'logPush.authHeader'],
    [{ retries: 3 }, 'logPush.retries'],
  ])('an invalid %j fails naming the option', (field, option) => {
    const logPush = {
      url: 'ws://x/',
      authToken: TOKEN,
      service: 's',
      ...field,
    } as LogPushOptions;
    expect(() => resolveOptions({ logPush })).toThrow(`option "${option}"`);
  });

  it('never shows the token or the URL in an error', () => {
    expect(() =>
      resolveOptions({
        logPush: {
          url: `https://user:${TOKEN}@x/`,
          authToken: TOKEN,
          service: 's',
        },
      }),
    ).toThrow(/option "logPush.url" must be a ws:\/\/ or wss:\/\/ URL/);
    let message = '';
    try {
      resolveOptions({
        logPush: {
          url: `https://user:${TOKEN}@x/`,
          authToken: TOKEN,
          service: 's',
        },
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toContain(TOKEN);
    try {
      resolveOptions({
        logPush: { url: 'ws://x/', authToken: 42, service: 's' } as never,
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'nestjs-metrics: option "logPush.authToken" must be a non-empty string (or set METRICS_LOG_PUSH_AUTH_TOKEN); got a number (value not shown).',
    );
  });
});

@Controller('orders')
class FailingOrdersController {
  @Get('boom')
  boom(): never {
    throw new TypeError('price is undefined');
  }

  @Get('db')
  db(): string {
    const error = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    error.name = 'QueryFailedError';
    new Logger('OrdersService').error(error);
    return 'logged';
  }
}

describe('log push of errors counted from the app logger', () => {
  it('pushes what the wrapped logger counts, with its labels as tags', async () => {
    const server = new PushServer();
    const port = await server.listen();
    const app = await createApp(
      {
        imports: [
          MetricsModule.forRoot({
            defaultMetrics: false,
            logPush: {
              url: `ws://127.0.0.1:${port}`,
              authToken: TOKEN,
              service: 'orders-api',
              version: '1.4.0',
              batchSize: 2,
              flushIntervalSeconds: 0.05,
            },
          }),
        ],
        controllers: [FailingOrdersController],
      },
      (created) =>
        created.useLogger(
          created.get(LogErrorMetrics).wrap(new CaptureLogger()),
        ),
    );
    try {
      await request(app.getHttpServer()).get('/orders/boom').expect(500);
      await request(app.getHttpServer()).get('/orders/db').expect(200);
      await eventually(() =>
        expect(server.messages.flatMap((m) => m.batch)).toHaveLength(2),
      );
      const batch = server.messages.flatMap((m) => m.batch);
      expect(batch.map(({ tags }) => tags)).toEqual([
        {
          error_level: 'error',
          error_category: 'general',
          logger_name: 'ExceptionsHandler',
          app_version: '1.4.0',
          exception_type: 'TypeError',
        },
        {
          error_level: 'error',
          error_category: 'database',
          logger_name: 'OrdersService',
          app_version: '1.4.0',
          exception_type: 'QueryFailedError',
        },
      ]);
      for (const record of batch)
        expect(record).toMatchObject({
          service: 'orders-api',
          metric_name: 'log_error_count',
          metric_type: 'counter',
          value: 1,
        });
      const scraped = await scrape(app);
      expect(sum(scraped, 'log_errors_total')).toBe(2);
      expect(sum(scraped, 'log_push_sent_total')).toBe(2);
    } finally {
      await app.close();
      await server.stop();
    }
  });
});
