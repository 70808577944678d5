import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WebSocketServer } from 'ws';
import type { LogErrorEvents as LogErrorEventsClass } from '../lib/logs/log-error-events.js';
import type { LoadSummary } from './ipc.js';
import { loadDist, type Library } from './library.js';
import { LoadGenerator, SERVER_CORE, startNode } from './processes.js';

// The log push under load: request latency of a route that logs one error per request, with no
// sink, with the sink's server down, and with it up. `npm run bench -- --log-push [--quick]`.
// Also run as `node log-push.js serve <mode>` (one bench server) and `node log-push.js micro`.

type Mode = 'none' | 'down' | 'up';
const MODES: readonly Mode[] = ['none', 'down', 'up'];
const LABELS: Record<Mode, string> = {
  none: 'no log push',
  down: 'log push, server down',
  up: 'log push, server up',
};

type LogErrorEventsModule = {
  LogErrorEvents: typeof LogErrorEventsClass;
};

function record(i: number) {
  return {
    timestamp: Date.now(),
    level: 'error' as const,
    category: 'database',
    logger: 'OrdersService',
    exceptionType: `E${i & 7}`,
  };
}

async function createApp(mode: Mode, url: string): Promise<INestApplication> {
  const { MetricsModule } = await loadDist<Library>('index.js');
  const { LogErrorEvents } = await loadDist<LogErrorEventsModule>(
    'logs/log-error-events.js',
  );
  const sink: { events?: LogErrorEventsClass } = {};
  let count = 0;

  @Controller()
  class FailingController {
    @Get('fail')
    fail(): { ok: boolean } {
      // What the log-error wrapper does for each logger.error(…): one emit.
      sink.events!.emit(record(count++));
      return { ok: false };
    }
  }

  @Module({
    imports: [
      MetricsModule.forRoot({
        defaultMetrics: false,
        ...(mode === 'none'
          ? {}
          : {
              logPush: {
                url,
                authToken: 'bench',
                service: 'bench',
                timeoutSeconds: 1,
              },
            }),
      }),
    ],
    controllers: [FailingController],
  })
  class LogPushBenchModule {}

  const app = await NestFactory.create(LogPushBenchModule, { logger: false });
  sink.events = app.get(LogErrorEvents);
  return app;
}

/** One bench server: reports its port, answers CPU questions, exits when told. */
async function serve(mode: Mode, url: string): Promise<void> {
  const app = await createApp(mode, url);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  process.on('message', (command: { type: string; id?: number }) => {
    if (command.type === 'usage') {
      const cpu = process.cpuUsage();
      process.send?.({
        type: 'usage',
        id: command.id,
        cpuMicros: cpu.user + cpu.system,
      });
    } else if (command.type === 'exit') {
      void app.close().finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ type: 'ready', port });
}

/**
 * ns per emit of one log error record, with no listener and with the sink (server down, so
 * past `maxQueue` every record also drops the oldest): the best of 5 alternating rounds.
 */
async function micro(quick: boolean): Promise<void> {
  const url = `ws://127.0.0.1:${await closedPort()}`;
  const { LogErrorEvents } = await loadDist<LogErrorEventsModule>(
    'logs/log-error-events.js',
  );
  const n = quick ? 200_000 : 2_000_000;
  const records = Array.from({ length: 1024 }, (_, i) => record(i));
  const apps = new Map<'none' | 'down', INestApplication>();
  for (const mode of ['none', 'down'] as const) {
    const app = await createApp(mode, url);
    await app.init();
    apps.set(mode, app);
  }
  const best: Record<string, number> = { none: Infinity, down: Infinity };
  for (let round = 0; round < 5; round++) {
    for (const [mode, app] of apps) {
      const events = app.get(LogErrorEvents);
      const started = process.hrtime.bigint();
      for (let i = 0; i < n; i++) events.emit(records[i & 1023]);
      const ns = Number(process.hrtime.bigint() - started) / n;
      best[mode] = Math.min(best[mode], ns);
    }
  }
  for (const app of apps.values()) await app.close();
  process.stdout.write(`${JSON.stringify(best)}\n`);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function message<T>(child: ChildProcess, accept: (m: unknown) => boolean) {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`exited (${code})`));
    const onMessage = (m: unknown) => {
      if (!accept(m)) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m as T);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

class Server {
  private nextId = 1;
  private constructor(
    readonly mode: Mode,
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(mode: Mode, pushUrl: string): Promise<Server> {
    const child = startNode(
      'log-push.js',
      ['serve', mode, pushUrl],
      SERVER_CORE,
    );
    const ready = await message<{ port: number }>(
      child,
      (m) => (m as { type?: string }).type === 'ready',
    );
    return new Server(mode, child, `http://127.0.0.1:${ready.port}`);
  }

  async cpuMicros(): Promise<number> {
    const id = this.nextId++;
    this.child.send({ type: 'usage', id });
    const answer = await message<{ cpuMicros: number }>(
      this.child,
      (m) => (m as { id?: number }).id === id,
    );
    return answer.cpuMicros;
  }

  async metric(name: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? NaN : Number(line.split(' ')[1]);
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'exit' });
    await exited;
  }
}

interface Row {
  mode: Mode;
  requestsPerSecond: number[];
  p50Ms: number[];
  p99Ms: number[];
  cpuMicrosPerRequest: number[];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** Runs the comparison and returns it as markdown. */
export async function logPushBench(quick: boolean): Promise<string> {
  const rounds = quick ? 3 : 5;
  const duration = quick ? 1 : 5;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // The sink's server for "up": in this process, reading every message.
  const wsServer = createServer();
  const wss = new WebSocketServer({ server: wsServer });
  let received = 0;
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      received += (JSON.parse(String(data)) as { batch: unknown[] }).batch
        .length;
    }),
  );
  await new Promise<void>((r) => wsServer.listen(0, '127.0.0.1', r));
  const upUrl = `ws://127.0.0.1:${(wsServer.address() as AddressInfo).port}`;
  const downUrl = `ws://127.0.0.1:${await closedPort()}`;
  const loader = await LoadGenerator.start();
  const servers = new Map<Mode, Server>();
  for (const mode of MODES) {
    servers.set(
      mode,
      await Server.start(mode, mode === 'up' ? upUrl : downUrl),
    );
  }
  const rows = new Map<Mode, Row>(
    MODES.map((mode) => [
      mode,
      {
        mode,
        requestsPerSecond: [],
        p50Ms: [],
        p99Ms: [],
        cpuMicrosPerRequest: [],
      },
    ]),
  );
  const window = async (server: Server, seconds: number) => {
    const before = await server.cpuMicros();
    const load: LoadSummary = await loader.run({
      url: server.url,
      connections: 10,
      duration: seconds,
      requests: [{ method: 'GET', path: '/fail' }],
    });
    const after = await server.cpuMicros();
    if (load.statuses['200'] !== load.requests) {
      throw new Error(`${server.mode}: ${JSON.stringify(load.statuses)}`);
    }
    return { load, cpu: (after - before) / load.requests };
  };
  let requests = 0;
  try {
    for (const server of servers.values()) await window(server, duration);
    for (let round = 0; round < rounds; round++) {
      const shift = round % MODES.length;
      for (const mode of [...MODES.slice(shift), ...MODES.slice(0, shift)]) {
        const { load, cpu } = await window(servers.get(mode)!, duration);
        if (mode === 'up') requests += load.requests;
        const row = rows.get(mode)!;
        row.requestsPerSecond.push(load.requests / load.durationSeconds);
        row.p50Ms.push(load.latencyMs.p50);
        row.p99Ms.push(load.latencyMs.p99);
        row.cpuMicrosPerRequest.push(cpu);
        log(
          `  round ${round + 1}/${rounds} ${LABELS[mode].padEnd(22)} ${(load.requests / load.durationSeconds).toFixed(0).padStart(6)} req/s p99 ${load.latencyMs.p99.toFixed(2)} ms`,
        );
      }
    }
    const down = servers.get('down')!;
    const up = servers.get('up')!;
    const figures = {
      downDropped: await down.metric('log_push_dropped_total'),
      downQueued: await down.metric('log_push_queued'),
      downReconnects: await down.metric('log_push_reconnects_total'),
      upSent: await up.metric('log_push_sent_total'),
      upDropped: await up.metric('log_push_dropped_total'),
    };
    for (const server of servers.values()) await server.stop();
    const microResult = await new Promise<Record<string, number>>(
      (resolve, reject) => {
        const child = startNode(
          'log-push.js',
          ['micro', ...(quick ? ['--quick'] : [])],
          SERVER_CORE,
          [],
          'pipe',
        );
        let out = '';
        child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
        child.once('exit', (code) =>
          code === 0
            ? resolve(JSON.parse(out.trim().split('\n').pop()!))
            : reject(new Error(`micro exited ${code}`)),
        );
      },
    );
    const lines = [
      `## Log push under load (${rounds} rounds of ${duration} s, 10 connections, GET /fail logs one error per request; medians)`,
      '',
      '| variant | req/s | p50 ms | p99 ms | CPU µs/req |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...MODES.map((mode) => {
        const row = rows.get(mode)!;
        return `| ${LABELS[mode]} | ${median(row.requestsPerSecond).toFixed(0)} | ${median(row.p50Ms).toFixed(3)} | ${median(row.p99Ms).toFixed(3)} | ${median(row.cpuMicrosPerRequest).toFixed(1)} |`;
      }),
      '',
      `Server down: ${figures.downDropped} records dropped, ${figures.downQueued} queued (maxQueue 1000), ${figures.downReconnects} reconnects. Server up: ${figures.upSent} records acknowledged, ${figures.upDropped} dropped, ${received} received by the server (${requests} requests in measured windows).`,
      '',
      `Cost of one logged error in the log call (one emit, in-process, best of 5 rounds, ns): no sink ${microResult.none.toFixed(0)}, sink with the server down ${microResult.down.toFixed(0)}.`,
    ];
    return lines.join('\n');
  } finally {
    loader.stop();
    for (const client of wss.clients) client.terminate();
    wsServer.close();
  }
}

if (process.argv[2] === 'serve') {
  await serve(process.argv[3] as Mode, process.argv[4]);
} else if (process.argv[2] === 'micro') {
  await micro(process.argv.includes('--quick'));
}
