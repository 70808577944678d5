// The version matrix's end-to-end check, in plain JavaScript so that each cell's Node runs it as it
// is. main.cjs (require) and main.mjs (import) load the packages and pass them in, so the one body
// of checks runs against the library as a CommonJS app and as an ESM app loads it.
//
// One Nest app on the chosen HTTP adapter, hybrid with a TCP microservice, a WebSocket gateway
// (WsAdapter) and a BullMQ processor on Redis (127.0.0.1:6379), plus a provider with @Timed and
// @Counted. The same process then acts as client and checks exact counts in its own /metrics.
'use strict';
/* global require, module, fetch, setTimeout */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS file */

const net = require('node:net');

const REDIS = { host: '127.0.0.1', port: 6379 };
const HTTP_CALLS = 5;
const RPC_MESSAGES = 3;
const RPC_EVENTS = 2;
const WS_MESSAGES = 4;
const JOBS_OK = 3;

/** A free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Applies decorators the way TypeScript's emitted `__decorate` does. */
function decorateMethod(prototype, name, decorators) {
  const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
  const result = Reflect.decorate(decorators, prototype, name, descriptor);
  Object.defineProperty(prototype, name, result ?? descriptor);
}

/** Parses the text exposition into `{ name, labels, value }` samples. */
function parseSamples(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparsable exposition line: ${line}`);
    const labels = {};
    for (const pair of (match[2] ?? '').matchAll(
      /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g,
    ))
      labels[pair[1]] = pair[2].replace(/\\(.)/g, (_m, c) =>
        c === 'n' ? '\n' : c,
      );
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of the samples of `name` whose labels include `labels`. */
function total(samples, name, labels) {
  return samples
    .filter((s) => s.name === name)
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Polls `read()` until `done(value)`; fails after `tries` polls 100 ms apart, with `what`. */
async function waitFor(what, read, done, tries = 200) {
  let value;
  for (let i = 0; i < tries; i++) {
    value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `timed out waiting for ${what} (last: ${JSON.stringify(value)})`,
  );
}

module.exports = async function scenario(m, { adapter, format }) {
  const { Controller, Get, Inject, Injectable, Module, Param } = m.common;
  const {
    MessagePattern,
    EventPattern,
    Payload,
    Transport,
    ClientProxyFactory,
  } = m.microservices;
  const { WebSocketGateway, SubscribeMessage, MessageBody } = m.websockets;
  const { MetricsModule, Timed, Counted } = m.metrics;
  const { BullModule, Processor, WorkerHost } = m.nestBullmq;

  const rpcPort = await freePort();
  const queueName = `matrix-${format}-${adapter}-${process.pid}-${Date.now().toString(36)}`;

  class ItemsService {
    find(id) {
      return { id: Number(id) };
    }
  }
  decorateMethod(ItemsService.prototype, 'find', [Timed(), Counted()]);
  Reflect.decorate([Injectable()], ItemsService);

  class ItemsController {
    constructor(items) {
      this.items = items;
    }
    find(id) {
      return this.items.find(id);
    }
  }
  decorateMethod(ItemsController.prototype, 'find', [Get(':id')]);
  Param('id')(ItemsController.prototype, 'find', 0);
  Inject(ItemsService)(ItemsController, undefined, 0);
  Reflect.decorate([Controller('items')], ItemsController);

  let eventsSeen = 0;
  class RpcController {
    sum(numbers) {
      return numbers.reduce((a, b) => a + b, 0);
    }
    noted() {
      eventsSeen += 1;
    }
  }
  decorateMethod(RpcController.prototype, 'sum', [MessagePattern('sum')]);
  Payload()(RpcController.prototype, 'sum', 0);
  decorateMethod(RpcController.prototype, 'noted', [EventPattern('noted')]);
  Reflect.decorate([Controller()], RpcController);

  class EchoGateway {
    echo(data) {
      return { event: 'echo', data };
    }
  }
  decorateMethod(EchoGateway.prototype, 'echo', [SubscribeMessage('echo')]);
  MessageBody()(EchoGateway.prototype, 'echo', 0);
  Reflect.decorate([WebSocketGateway()], EchoGateway);

  class JobsProcessor extends WorkerHost {
    async process(job) {
      if (job.name === 'fail') throw new Error('the job failed');
      return { built: job.data };
    }
  }
  Reflect.decorate([Processor(queueName)], JobsProcessor);

  class AppModule {}
  Reflect.decorate(
    [
      Module({
        imports: [
          MetricsModule.forRoot({ defaultMetrics: false }),
          BullModule.forRoot({ connection: REDIS }),
          BullModule.registerQueue({ name: queueName }),
        ],
        controllers: [ItemsController, RpcController],
        providers: [ItemsService, EchoGateway, JobsProcessor],
      }),
    ],
    AppModule,
  );

  const app =
    adapter === 'fastify'
      ? await m.core.NestFactory.create(
          AppModule,
          new m.platformFastify.FastifyAdapter(),
          {
            logger: ['error'],
          },
        )
      : await m.core.NestFactory.create(AppModule, { logger: ['error'] });
  app.useWebSocketAdapter(new m.platformWs.WsAdapter(app));
  app.connectMicroservice({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port: rpcPort },
  });
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const port = app.getHttpServer().address().port;
  const base = `http://127.0.0.1:${port}`;

  const client = ClientProxyFactory.create({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port: rpcPort },
  });
  const queue = new m.bullmq.Queue(queueName, { connection: REDIS });
  try {
    // HTTP: N matched requests and one unmatched.
    for (let i = 1; i <= HTTP_CALLS; i++) {
      const res = await fetch(`${base}/items/${i}`);
      if (res.status !== 200) throw new Error(`GET /items/${i}: ${res.status}`);
      await res.text();
    }
    const missing = await fetch(`${base}/missing`);
    await missing.text();

    // rpc over TCP: messages answered, events delivered.
    await client.connect();
    for (let i = 0; i < RPC_MESSAGES; i++) {
      const sum = await new Promise((resolve, reject) =>
        client.send('sum', [i, 1]).subscribe({ next: resolve, error: reject }),
      );
      if (sum !== i + 1) throw new Error(`rpc sum: ${sum}`);
    }
    for (let i = 0; i < RPC_EVENTS; i++)
      await new Promise((resolve, reject) =>
        client.emit('noted', i).subscribe({ complete: resolve, error: reject }),
      );
    await waitFor(
      'rpc events',
      () => eventsSeen,
      (n) => n === RPC_EVENTS,
    );

    // ws: each message answered before the next.
    const socket = new m.ws.WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    for (let i = 0; i < WS_MESSAGES; i++) {
      const reply = new Promise((resolve) =>
        socket.once('message', (d) => resolve(String(d))),
      );
      socket.send(JSON.stringify({ event: 'echo', data: i }));
      const parsed = JSON.parse(await reply);
      if (parsed.data !== i)
        throw new Error(`ws echo: ${JSON.stringify(parsed)}`);
    }
    socket.close();

    // BullMQ: jobs that succeed and one that fails (one attempt each).
    for (let i = 0; i < JOBS_OK; i++) await queue.add('build', { i });
    await queue.add('fail', {}, { attempts: 1 });
    await waitFor(
      'jobs to finish',
      async () => await queue.getJobCounts('completed', 'failed'),
      (c) => c.completed === JOBS_OK && c.failed === 1,
    );

    // The scrape: exact counts, once every attempt is recorded.
    const scrape = async () => {
      const res = await fetch(`${base}/metrics`);
      if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
      const type = res.headers.get('content-type') ?? '';
      if (!type.startsWith('text/plain'))
        throw new Error(`content-type ${type}`);
      return parseSamples(await res.text());
    };
    const samples = await waitFor(
      'queue attempts in /metrics',
      scrape,
      (s) => total(s, 'requests_total', { transport: 'queue' }) === JOBS_OK + 1,
    );
    const expect = [
      [
        'requests_total',
        {
          transport: 'http',
          method: 'GET',
          route: '/items/:id',
          status: '200',
        },
        HTTP_CALLS,
      ],
      [
        'requests_total',
        { transport: 'http', route: 'UNMATCHED', status: '404' },
        1,
      ],
      [
        'errors_total',
        { transport: 'http', route: 'UNMATCHED', error_type: 'not_found' },
        1,
      ],
      [
        'request_duration_seconds_count',
        { transport: 'http', route: '/items/:id' },
        HTTP_CALLS,
      ],
      [
        'requests_total',
        { transport: 'rpc', method: 'message', route: 'sum', status: 'ok' },
        RPC_MESSAGES,
      ],
      [
        'requests_total',
        { transport: 'rpc', method: 'event', route: 'noted', status: 'ok' },
        RPC_EVENTS,
      ],
      [
        'requests_total',
        { transport: 'ws', method: 'message', route: 'echo', status: 'ok' },
        WS_MESSAGES,
      ],
      [
        'requests_total',
        { transport: 'queue', method: 'build', route: queueName, status: 'ok' },
        JOBS_OK,
      ],
      [
        'requests_total',
        {
          transport: 'queue',
          method: 'fail',
          route: queueName,
          status: 'error',
        },
        1,
      ],
      [
        'method_calls_total',
        { class: 'ItemsService', method: 'find' },
        HTTP_CALLS,
      ],
      [
        'method_duration_seconds_count',
        { class: 'ItemsService', method: 'find' },
        HTTP_CALLS,
      ],
      ['concurrent_requests', { transport: 'http' }, 0],
    ];
    const failures = [];
    for (const [name, labels, want] of expect) {
      const got = total(samples, name, labels);
      const line = `${name}${JSON.stringify(labels)} = ${got}`;
      if (got === want) console.log(`  ok   ${line}`);
      else failures.push(`${line}, expected ${want}`);
    }
    if (failures.length)
      throw new Error(`wrong counts:\n  ${failures.join('\n  ')}`);
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await client.close();
    await app.close();
  }
};
